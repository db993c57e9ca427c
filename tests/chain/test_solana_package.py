"""eterna.adapters.solana serves a real cluster too, so it never imports the local chain or
LiteSVM."""

from __future__ import annotations

import ast
from pathlib import Path

import eterna.adapters.solana

SOLANA_PACKAGE = Path(eterna.adapters.solana.__file__).parent


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_module_of_eterna_solana_imports_litesvm_or_the_local_chain() -> None:
    modules = sorted(SOLANA_PACKAGE.glob("*.py"))
    assert len(modules) >= 5
    for module in modules:
        for name in _imports(module):
            assert not name.startswith(("solders.litesvm", "eterna.adapters.localchain")), (
                module,
                name,
            )

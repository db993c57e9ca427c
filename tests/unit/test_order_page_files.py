"""The order page's files: the vendored client is the one noted, and no script writes markup."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "eterna" / "adapters" / "web" / "static"
OUR_SCRIPTS = sorted(p for p in WEB.glob("*.js") if p.name != "graphql-ws.js")


def test_the_vendored_graphql_ws_is_the_noted_version_and_file() -> None:
    note = (WEB / "VENDOR.md").read_text()
    version = re.search(r"\| graphql-ws \(npm\) \| (\d+\.\d+\.\d+) \|", note)
    digest = re.search(r"sha256 of `graphql-ws.js`: `([0-9a-f]{64})`", note)
    assert version, note
    assert digest, note
    assert hashlib.sha256((WEB / "graphql-ws.js").read_bytes()).hexdigest() == digest.group(1)
    assert "MIT License" in (WEB / "graphql-ws.LICENSE.md").read_text()
    assert "GRAPHQL_TRANSPORT_WS_PROTOCOL" in (WEB / "graphql-ws.js").read_text()


def test_the_page_has_its_scripts() -> None:
    assert {p.name for p in OUR_SCRIPTS} >= {"order-page.js", "api.js", "book.js", "cards.js"}


@pytest.mark.parametrize("script", OUR_SCRIPTS, ids=lambda p: p.name)
def test_no_script_turns_data_into_markup(script: Path) -> None:
    source = script.read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in source, f"{script.name} uses {sink}"

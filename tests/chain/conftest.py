"""The local chain for tests: the real program binaries, checked, in an in-process LiteSVM.

Nothing here is skipped: when the binaries are missing the chain tests fail with the typed
error's one-line message, which names the fix.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from eterna.adapters.localchain.programs import (
    PROGRAMS_DIR_ENV,
    ProgramFile,
    ProgramsError,
    locate_programs,
)
from eterna.adapters.localchain.svm import LocalChain


@pytest.fixture(scope="session")
def program_files() -> list[ProgramFile]:
    """The three DEX programs' binaries, found and hash-checked once per session."""
    configured = os.environ.get(PROGRAMS_DIR_ENV)
    try:
        return locate_programs(Path(configured) if configured else None)
    except ProgramsError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture
def chain(program_files: list[ProgramFile]) -> LocalChain:
    """A fresh local chain with the three programs loaded."""
    return LocalChain(program_files)

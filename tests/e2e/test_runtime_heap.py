"""A stopped runtime leaves nothing frozen: starting runtimes again does not keep the old ones."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from eterna.entrypoints.config import Settings
from tests.e2e.conftest import _running

pytestmark = pytest.mark.anyio


async def test_the_startup_heap_is_frozen_while_running_and_released_on_stop(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path, chain_slot_ms=0)
    async with _running(settings):
        assert gc.get_freeze_count() > 0  # start-up's objects stay out of the GC's scans
    assert gc.get_freeze_count() == 0  # and are the GC's again once the runtime stopped

"""A migrated database per test: a SQLite file, or a fresh Postgres database."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from eterna.entrypoints.bootstrap import close_database, open_database
from eterna.entrypoints.config import Settings
from tests.conftest import fresh_pg_database


@pytest.fixture(params=["sqlite", "postgres"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """Yield the URL of a migrated database of each kind."""
    async with contextlib.AsyncExitStack() as stack:
        if request.param == "postgres":
            url = await stack.enter_async_context(fresh_pg_database())
        else:
            url = f"sqlite://{tmp_path / 'test.sqlite3'}"
        await open_database(Settings(database_url=url), run_migrations=True)
        try:
            yield url
        finally:
            await close_database()

"""The store's connections go back to its pool without a reset round trip, still without a
transaction left open."""

from __future__ import annotations

import pytest

from models.postgres import open_postgres_store

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]


async def test_a_released_connection_skips_the_reset_query(pg_database: str) -> None:
    store = await open_postgres_store(pg_database, pool_size=1)
    pool = store.pool
    try:
        # One connection in the pool: every query below runs on the same session.
        await pool.execute("SET application_name = 'eterna-probe'")
        # asyncpg's default reset (RESET ALL on release) would have cleared it.
        assert await pool.fetchval("SELECT current_setting('application_name')") == "eterna-probe"
    finally:
        await store.close()


async def test_a_transaction_left_open_is_still_rolled_back_on_release(pg_database: str) -> None:
    store = await open_postgres_store(pg_database, pool_size=1)
    pool = store.pool
    try:
        await pool.execute("CREATE TABLE probe (n int)")
        raw = await pool.acquire()
        await raw.execute("BEGIN")
        await raw.execute("INSERT INTO probe VALUES (1)")
        await pool.release(raw)
        assert await pool.fetchval("SELECT count(*) FROM probe") == 0
    finally:
        await store.close()

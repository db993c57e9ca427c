"""Connections go back to the pool without a reset round trip, and still without a transaction."""

from __future__ import annotations

import pytest
from tortoise import Tortoise

from eterna.entrypoints.bootstrap import close_database
from models.config import tortoise_config

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]


async def test_a_released_connection_skips_the_reset_query(pg_database: str) -> None:
    await Tortoise.init(config=tortoise_config(pg_database, pool_size=1))
    try:
        conn = Tortoise.get_connection("default")
        # One connection in the pool: every query below runs on the same session.
        await conn.execute_script("SET application_name = 'eterna-probe'")
        _, rows = await conn.execute_query("SELECT current_setting('application_name') AS name")
        # asyncpg's default reset (RESET ALL on release) would have cleared it.
        assert rows[0]["name"] == "eterna-probe"
    finally:
        await close_database()


async def test_a_transaction_left_open_is_still_rolled_back_on_release(pg_database: str) -> None:
    await Tortoise.init(config=tortoise_config(pg_database, pool_size=1))
    try:
        conn = Tortoise.get_connection("default")
        await conn.execute_script("CREATE TABLE probe (n int)")
        pool = conn._pool
        raw = await pool.acquire()
        await raw.execute("BEGIN")
        await raw.execute("INSERT INTO probe VALUES (1)")
        await pool.release(raw)
        _, rows = await conn.execute_query("SELECT count(*) AS n FROM probe")
        assert rows[0]["n"] == 0
    finally:
        await close_database()

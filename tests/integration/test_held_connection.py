"""A batch writer's kept connection: reused while statements follow closely, given back idle."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from tortoise import Tortoise
from tortoise.exceptions import IntegrityError, OperationalError

from eterna.entrypoints.bootstrap import close_database, open_database
from eterna.entrypoints.config import Settings
from models.postgres import HeldConnection, postgres_client
from tests.conftest import fresh_pg_database

pytestmark = pytest.mark.anyio

PID = "SELECT pg_backend_pid() AS pid"


async def _open(url: str, *, migrate: bool) -> None:
    """Open the database and make Tortoise create its pool (it does so on first use)."""
    await open_database(Settings(database_url=url, db_pool_size=4), run_migrations=migrate)
    await _client().execute_query("SELECT 1")


@pytest.fixture
async def pg() -> AsyncIterator[str]:
    async with fresh_pg_database() as url:
        await _open(url, migrate=True)
        try:
            yield url
        finally:
            await close_database()


def _client() -> Any:
    client = postgres_client()
    assert client is not None
    return client


async def _pid(held: HeldConnection) -> int:
    rows = await held.fetch(_client(), PID, [])
    pid: int = rows[0]["pid"]
    return pid


async def test_statements_in_a_row_share_one_connection(pg: str) -> None:
    held = HeldConnection(hold_seconds=1)
    pids = {await _pid(held) for _ in range(20)}
    assert len(pids) == 1
    assert held.holding()


async def test_an_idle_writer_gives_its_connection_back(pg: str) -> None:
    held = HeldConnection(hold_seconds=0.05)
    await _pid(held)
    assert held.holding()
    pool = _client()._pool
    free_while_held = pool._queue.qsize()
    await asyncio.sleep(0.3)
    assert not held.holding()
    assert pool._queue.qsize() == free_while_held + 1


async def test_closing_the_pool_waits_only_for_the_idle_hand_back(pg: str) -> None:
    held = HeldConnection(hold_seconds=0.1)
    await _pid(held)
    started = time.perf_counter()
    await asyncio.wait_for(Tortoise.close_connections(), 5)
    assert time.perf_counter() - started < 2
    assert not held.holding()


async def test_an_error_gives_the_connection_back_and_is_translated(pg: str) -> None:
    held = HeldConnection(hold_seconds=1)
    first = await _pid(held)
    with pytest.raises(OperationalError):
        await held.fetch(_client(), "SELECT no_such_column FROM orders", [])
    assert not held.holding()
    await _client().execute_script(
        "CREATE TABLE held_unique (k int PRIMARY KEY); INSERT INTO held_unique VALUES (1)"
    )
    with pytest.raises(IntegrityError):
        await held.fetch(_client(), "INSERT INTO held_unique VALUES ($1) RETURNING k", [1])
    rows = await held.fetch(_client(), "INSERT INTO held_unique VALUES ($1) RETURNING k", [2])
    assert rows == [{"k": 2}]
    assert held.holding()
    assert isinstance(first, int)


async def test_a_statement_while_one_runs_takes_its_own_connection(pg: str) -> None:
    held = HeldConnection(hold_seconds=1)
    slow = asyncio.create_task(held.fetch(_client(), "SELECT pg_sleep(0.2), " + PID[7:], []))
    await asyncio.sleep(0.05)
    other = await _pid(held)
    rows = await slow
    assert rows[0]["pid"] != other


async def test_a_cancelled_statement_leaves_the_connection_usable(pg: str) -> None:
    held = HeldConnection(hold_seconds=1)
    task = asyncio.create_task(held.fetch(_client(), "SELECT pg_sleep(5)", []))
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not held.holding()
    assert await _pid(held) > 0


async def test_a_new_pool_is_used_after_tortoise_is_opened_again(pg: str) -> None:
    held = HeldConnection(hold_seconds=0.05)
    before = await _pid(held)
    await close_database()
    await _open(pg, migrate=False)
    after = await _pid(held)
    assert before != after


async def test_a_busy_writer_does_not_keep_a_closing_pool_open(pg: str) -> None:
    held = HeldConnection(hold_seconds=1)
    refused: list[BaseException] = []

    async def write() -> None:
        while True:
            try:
                await _pid(held)
            except Exception as exc:  # the pool is closing or gone: what any statement gets
                refused.append(exc)
                return
            await asyncio.sleep(0.01)

    writer = asyncio.create_task(write())
    await asyncio.sleep(0.1)
    assert held.holding()
    started = time.perf_counter()
    await asyncio.wait_for(Tortoise.close_connections(), 5)
    assert time.perf_counter() - started < 0.5
    await asyncio.wait_for(writer, 5)
    assert refused
    assert not held.holding()


async def test_a_writer_gives_its_connection_back_when_the_pool_has_none_left(pg: str) -> None:
    held = HeldConnection(hold_seconds=5)
    pool = _client()._pool
    others = [await pool.acquire() for _ in range(pool.get_max_size() - 1)]
    try:
        await _pid(held)  # takes the last one
        assert not held.holding()
        await asyncio.sleep(0.05)
        assert pool.get_idle_size() == 1
    finally:
        for conn in others:
            await pool.release(conn)
    await _pid(held)
    assert held.holding()


async def test_statements_are_in_tortoises_statement_log(
    pg: str, caplog: pytest.LogCaptureFixture
) -> None:
    held = HeldConnection(hold_seconds=1)
    with caplog.at_level(logging.DEBUG, logger=_client().log.name):
        await _pid(held)
    assert any(PID in record.getMessage() for record in caplog.records)

"""A batch writer's kept connection: reused while statements follow closely, given back idle."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import asyncpg
import pytest

from models.held_connection import HeldConnection
from models.postgres import asyncpg_dsn

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]

PID = "SELECT pg_backend_pid() AS pid"


@pytest.fixture
async def pool(pg_database: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool of up to four connections to a fresh database."""
    connections = await asyncpg.create_pool(asyncpg_dsn(pg_database), min_size=0, max_size=4)
    try:
        yield connections
    finally:
        await asyncio.wait_for(connections.close(), 10)


async def _pid(held: HeldConnection) -> int:
    rows = await held.fetch(PID, [])
    pid: int = rows[0]["pid"]
    return pid


async def test_statements_in_a_row_share_one_connection(pool: asyncpg.Pool) -> None:
    held = HeldConnection(pool, hold_seconds=1)
    pids = {await _pid(held) for _ in range(20)}
    assert len(pids) == 1
    assert held.holding()
    await held.close()


async def test_an_idle_writer_gives_its_connection_back(pool: asyncpg.Pool) -> None:
    held = HeldConnection(pool, hold_seconds=0.05)
    await _pid(held)
    assert held.holding()
    free_while_held = pool.get_idle_size()
    await asyncio.sleep(0.3)
    assert not held.holding()
    assert pool.get_idle_size() == free_while_held + 1


async def test_closing_the_pool_waits_only_for_the_idle_hand_back(pool: asyncpg.Pool) -> None:
    held = HeldConnection(pool, hold_seconds=0.1)
    await _pid(held)
    started = time.perf_counter()
    await asyncio.wait_for(pool.close(), 5)
    assert time.perf_counter() - started < 2
    assert not held.holding()


async def test_an_error_gives_the_connection_back_and_the_next_statement_runs(
    pool: asyncpg.Pool,
) -> None:
    held = HeldConnection(pool, hold_seconds=1)
    await _pid(held)
    with pytest.raises(asyncpg.UndefinedTableError):
        await held.fetch("SELECT no_such_column FROM no_such_table", [])
    assert not held.holding()
    await pool.execute(
        "CREATE TABLE held_unique (k int PRIMARY KEY); INSERT INTO held_unique VALUES (1)"
    )
    with pytest.raises(asyncpg.UniqueViolationError):
        await held.fetch("INSERT INTO held_unique VALUES ($1) RETURNING k", [1])
    rows = await held.fetch("INSERT INTO held_unique VALUES ($1) RETURNING k", [2])
    assert [dict(r) for r in rows] == [{"k": 2}]
    assert held.holding()
    await held.close()


async def test_a_statement_while_one_runs_takes_its_own_connection(pool: asyncpg.Pool) -> None:
    held = HeldConnection(pool, hold_seconds=1)
    slow = asyncio.create_task(held.fetch("SELECT pg_sleep(0.2), " + PID[7:], []))
    await asyncio.sleep(0.05)
    other = await _pid(held)
    rows = await slow
    assert rows[0]["pid"] != other
    await held.close()


async def test_a_cancelled_statement_leaves_the_connection_usable(pool: asyncpg.Pool) -> None:
    held = HeldConnection(pool, hold_seconds=1)
    task = asyncio.create_task(held.fetch("SELECT pg_sleep(5)", []))
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not held.holding()
    assert await _pid(held) > 0
    await held.close()


async def test_a_busy_writer_does_not_keep_a_closing_pool_open(pool: asyncpg.Pool) -> None:
    held = HeldConnection(pool, hold_seconds=1)
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
    await asyncio.wait_for(pool.close(), 5)
    assert time.perf_counter() - started < 0.5
    await asyncio.wait_for(writer, 5)
    assert refused
    assert not held.holding()


async def test_a_writer_gives_its_connection_back_when_the_pool_has_none_left(
    pool: asyncpg.Pool,
) -> None:
    held = HeldConnection(pool, hold_seconds=5)
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
    await held.close()

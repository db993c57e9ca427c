"""Lanes in Redis keep the in-memory lanes' contract, for concurrent consumers too."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from eterna.core.fair_queue import FairQueue
from tasks.lanes import Lanes, MemoryLanes, RedisLanes
from tests.conftest import REDIS_URL

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def lanes(request: pytest.FixtureRequest, redis_prefix: str) -> AsyncIterator[Lanes]:
    if request.param == "memory":
        yield MemoryLanes()
        return
    client = aioredis.from_url(REDIS_URL)
    try:
        yield RedisLanes(client, f"{redis_prefix}:lanes")
    finally:
        await client.aclose()


def _items(owners: str) -> list[tuple[str, bytes]]:
    return [(user, f"{user}{i}".encode()) for i, user in enumerate(owners)]


async def test_takes_follow_the_in_memory_model(lanes: Lanes) -> None:
    owners = "aaaaabbcaab"
    model: FairQueue[bytes] = FairQueue()
    model.push(_items(owners))
    await lanes.push(_items(owners))
    assert await lanes.depth() == len(owners)
    for size in (1, 3, 2, 4, 5):
        assert await lanes.pop(size) == model.pop(size)
    assert await lanes.depth() == 0
    assert await lanes.pop(3) == []


async def test_handed_back_items_come_first_in_their_order(lanes: Lanes) -> None:
    await lanes.push(_items("aab"))
    taken = await lanes.pop(3)
    assert taken == [("a", b"a0"), ("b", b"b2"), ("a", b"a1")]
    await lanes.push([("a", b"late")])
    await lanes.push_front(taken)
    assert await lanes.depth() == 4
    assert await lanes.pop(10) == [*taken, ("a", b"late")]
    assert await lanes.depth() == 0


async def test_a_push_wakes_a_waiting_consumer(lanes: Lanes) -> None:
    await lanes.push([("a", b"x")])
    await lanes.pop(1)
    waiting = asyncio.create_task(lanes.wait(30))
    await asyncio.sleep(0.05)
    await lanes.wait(0.01)  # a consumer that finds nothing returns at its timeout
    await lanes.push([("b", b"y")])
    await asyncio.wait_for(waiting, 5)
    assert await lanes.pop(1) == [("b", b"y")]


@pytest.mark.redis
async def test_concurrent_consumers_take_each_item_once_and_leave_no_keys(
    redis_prefix: str,
) -> None:
    client = aioredis.from_url(REDIS_URL)
    name = f"{redis_prefix}:lanes"
    try:
        producer = RedisLanes(client, name)
        owners = "abcd" * 50 + "a" * 200
        await producer.push(_items(owners))
        consumers = [RedisLanes(client, name) for _ in range(4)]

        async def consume(lanes: RedisLanes) -> list[tuple[str, bytes]]:
            got: list[tuple[str, bytes]] = []
            while taken := await lanes.pop(3):
                got += taken
                await asyncio.sleep(0)
            return got

        results = await asyncio.gather(*(consume(c) for c in consumers))
        taken = [item for result in results for item in result]
        assert sorted(taken) == sorted(_items(owners))
        left: Any = [key async for key in client.scan_iter(f"{name}:lane:*")]
        assert left == []
        assert await client.llen(f"{name}:ring") == 0
    finally:
        await client.aclose()


async def test_a_cancelled_wait_ends_at_once_while_its_read_runs_out(lanes: Lanes) -> None:
    waiting = asyncio.create_task(lanes.wait(30))
    await asyncio.sleep(0.05)  # blocked on the wake list
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(waiting, 5)  # not the 30 s the read may still take
    await lanes.push([("a", b"x")])
    assert await lanes.pop(1) == [("a", b"x")]

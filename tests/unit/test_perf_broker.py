"""The order stream broker sweeps for stranded messages now and then, not after every read."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis
from taskiq import AckableMessage
from taskiq.message import BrokerMessage

from eterna.coalesce import Coalescer
from eterna.config import Settings
from tasks.broker import OrderStreamBroker, build_broker
from tests.conftest import REDIS_URL

pytestmark = [pytest.mark.anyio, pytest.mark.redis]


def _broker(prefix: str, **kwargs: float) -> OrderStreamBroker:
    return OrderStreamBroker(
        REDIS_URL,
        queue_name=f"{prefix}:orders",
        consumer_group_name=f"{prefix}:workers",
        consumer_name=f"c-{uuid.uuid4().hex[:6]}",
        xread_count=1,
        xread_block=100,
        unacknowledged_lock_timeout=10,
        **kwargs,
    )


async def _kick(broker: OrderStreamBroker, text: str) -> None:
    await broker.kick(BrokerMessage(task_id=text, task_name="t", message=text.encode(), labels={}))


async def _take(messages: AsyncIterator[AckableMessage], n: int) -> list[bytes]:
    got = []
    for _ in range(n):
        message = await asyncio.wait_for(anext(messages), 5)
        got.append(message.data)
    return got


async def _ack(message: AckableMessage) -> None:
    done = message.ack()
    if done is not None:
        await done


def test_the_distributed_mode_uses_it() -> None:
    settings = Settings(redis_url=REDIS_URL, database_url="postgres://unused/db")
    assert isinstance(build_broker(settings), OrderStreamBroker)


async def test_a_stranded_message_is_still_reclaimed(redis_prefix: str) -> None:
    dead = _broker(redis_prefix)
    alive = _broker(redis_prefix, idle_timeout=1, sweep_seconds=0.0)
    await dead.startup()
    await alive.startup()
    try:
        await _kick(dead, "stranded")
        assert await _take(dead.listen(), 1) == [b"stranded"]  # read, never acknowledged
        await asyncio.sleep(0.05)
        await _kick(alive, "fresh")
        # As with taskiq-redis: the sweep after a read hands over what the dead one held.
        assert await _take(alive.listen(), 2) == [b"fresh", b"stranded"]
    finally:
        await dead.shutdown()
        await alive.shutdown()


async def test_sweeps_are_at_most_one_per_interval(redis_prefix: str) -> None:
    broker = _broker(redis_prefix, sweep_seconds=3600.0)
    await broker.startup()
    sweeps = 0
    sweep = broker._sweep

    def counting(redis_conn: Redis) -> AsyncGenerator[AckableMessage, None]:
        nonlocal sweeps
        sweeps += 1
        return sweep(redis_conn)

    broker._sweep = counting  # type: ignore[method-assign]
    try:
        for i in range(5):
            await _kick(broker, f"m{i}")
        assert await _take(broker.listen(), 5) == [f"m{i}".encode() for i in range(5)]
        assert sweeps == 1
    finally:
        await broker.shutdown()


async def test_acks_made_together_go_out_in_one_xack(redis_prefix: str) -> None:
    broker = _broker(redis_prefix, sweep_seconds=3600.0)
    await broker.startup()
    runs: list[int] = []
    ack_all = broker._ack_all

    async def counting(acks: Any) -> Any:
        runs.append(len(acks))
        return await ack_all(acks)

    broker._acks = Coalescer(counting, name="acks")
    messages = broker.listen()
    try:
        for i in range(6):
            await _kick(broker, f"m{i}")
        taken = [await asyncio.wait_for(anext(messages), 5) for _ in range(6)]
        async with Redis.from_url(REDIS_URL) as redis:
            pending = await redis.xpending(f"{redis_prefix}:orders", f"{redis_prefix}:workers")
            assert pending["pending"] == 6
            await _ack(taken[0])
            await asyncio.gather(*(_ack(m) for m in taken[1:]))
            pending = await redis.xpending(f"{redis_prefix}:orders", f"{redis_prefix}:workers")
            assert pending["pending"] == 0
        assert runs == [1, 5]
    finally:
        await messages.aclose()
        await broker.shutdown()


async def test_what_was_read_ahead_goes_back_to_the_queue_at_shutdown(redis_prefix: str) -> None:
    stopping = _broker(redis_prefix, sweep_seconds=3600.0)
    stopping.count = 8
    other = _broker(redis_prefix, sweep_seconds=3600.0)
    await stopping.startup()
    await other.startup()
    try:
        for i in range(5):
            await _kick(stopping, f"m{i}")
        messages = stopping.listen()
        assert await _take(messages, 1) == [b"m0"]  # one read took all five
        await messages.aclose()
        assert await stopping.hand_back_read_ahead() == 4
        assert await stopping.hand_back_read_ahead() == 0
        async with Redis.from_url(REDIS_URL) as redis:
            pending = await redis.xpending(f"{redis_prefix}:orders", f"{redis_prefix}:workers")
            assert pending["pending"] == 1  # only m0, which was handed out and not acked
        assert await _take(other.listen(), 4) == [b"m1", b"m2", b"m3", b"m4"]
    finally:
        await stopping.shutdown()
        await other.shutdown()

"""Batched publishing around the Redis Stream publisher, against the real Redis."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from typing import Any

import pytest
import redis.asyncio as aioredis

from eterna.adapters.events.batching import BatchingPublisher
from eterna.adapters.events.codec import event_to_json
from eterna.adapters.events.transport import RedisStreamPublisher
from eterna.domain.orders import OrderEvent
from tests.conftest import REDIS_URL
from tests.support.events import pending_event as _event

pytestmark = [pytest.mark.anyio, pytest.mark.redis]


@pytest.fixture
async def client() -> AsyncIterator[aioredis.Redis]:
    redis = aioredis.from_url(REDIS_URL)
    try:
        yield redis
    finally:
        await redis.aclose()


class Counted:
    """The Redis publisher, counting its appends and holding them while the gate is closed."""

    def __init__(self, inner: RedisStreamPublisher) -> None:
        self.inner = inner
        self.appends = 0
        self.gate = asyncio.Event()
        self.gate.set()

    async def publish(self, events: Sequence[OrderEvent]) -> None:
        self.appends += 1
        await self.gate.wait()
        await self.inner.publish(events)


async def test_concurrent_publishes_share_appends_and_return_once_appended(
    client: aioredis.Redis, redis_prefix: str
) -> None:
    stream = f"{redis_prefix}:events"
    counted = Counted(RedisStreamPublisher(client, stream))
    publisher = BatchingPublisher(counted)

    async def steps(user: str) -> None:
        order = _event(user)
        for seq in range(1, 21):
            event = replace(order, seq=seq)
            await publisher.publish([event])
            rows: Any = await client.xrevrange(stream)
            # Back from publish: the event is in the stream.
            assert any(json.loads(f[b"e"]) == event_to_json(event) for _, f in rows)

    await asyncio.gather(*(steps(f"user{i}") for i in range(8)))
    rows: Any = await client.xrange(stream)
    seqs: dict[str, list[int]] = {}
    for _, fields in rows:
        data = json.loads(fields[b"e"])
        seqs.setdefault(fields[b"u"].decode(), []).append(data["seq"])
    assert seqs == {f"user{i}": list(range(1, 21)) for i in range(8)}
    assert counted.appends < 160  # calls in flight together went out in shared appends


async def test_a_cancelled_publish_neither_stalls_nor_loses_events(
    client: aioredis.Redis, redis_prefix: str
) -> None:
    stream = f"{redis_prefix}:events"
    counted = Counted(RedisStreamPublisher(client, stream))
    publisher = BatchingPublisher(counted)
    counted.gate.clear()
    leader = asyncio.create_task(publisher.publish([_event("a")]))
    await asyncio.sleep(0.01)
    doomed = asyncio.create_task(publisher.publish([_event("b")]))
    follower = asyncio.create_task(publisher.publish([_event("c")]))
    await asyncio.sleep(0.01)
    doomed.cancel()
    counted.gate.set()
    await asyncio.wait_for(asyncio.gather(leader, follower), 5)
    await asyncio.wait_for(publisher.publish([_event("d")]), 5)
    rows: Any = await client.xrange(stream)
    # The cancelled caller's events went out with the append after the one in flight.
    assert [f[b"u"] for _, f in rows] == [b"a", b"b", b"c", b"d"]
    assert counted.appends == 3


async def test_an_unreachable_redis_is_logged_and_not_raised(
    redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    gone = aioredis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    try:
        publisher = BatchingPublisher(RedisStreamPublisher(gone, f"{redis_prefix}:events"))
        await asyncio.gather(publisher.publish([_event("a")]), publisher.publish([_event("b")]))
    finally:
        await gone.aclose()
    assert "could not publish" in caplog.text

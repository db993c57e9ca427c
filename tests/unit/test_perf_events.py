"""The event stream names each entry's order and owner; a dispatcher decodes what it needs."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
import redis.asyncio as aioredis

from eterna.adapters.events.codec import event_to_json
from eterna.adapters.events.transport import RedisStreamDispatcher, RedisStreamPublisher
from eterna.application.events.hub import EventHub
from eterna.domain.orders import OrderEvent, OrderStatus
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


async def test_entries_carry_order_and_user(client: aioredis.Redis, redis_prefix: str) -> None:
    stream = f"{redis_prefix}:events"
    one, two = _event("alice"), _event("bob", 2)
    await RedisStreamPublisher(client, stream).publish([one])
    await RedisStreamPublisher(client, stream).publish([two, one])
    rows: Any = await client.xrange(stream)
    fields: list[dict[bytes, bytes]] = [f for _, f in rows]
    assert [(f[b"o"].decode(), f[b"u"].decode()) for f in fields] == [
        (str(one.order_id), "alice"),
        (str(two.order_id), "bob"),
        (str(one.order_id), "alice"),
    ]
    assert json.loads(fields[1][b"e"]) == event_to_json(two)


async def test_a_dispatcher_hands_over_only_what_its_listeners_want(
    client: aioredis.Redis, redis_prefix: str
) -> None:
    stream = f"{redis_prefix}:events"
    hub = EventHub()
    dispatcher = RedisStreamDispatcher(client, stream, hub, block_ms=100)
    await dispatcher.start()
    try:
        mine, theirs, legacy = (
            _event("alice"),
            _event("bob"),
            _event("alice", 2),
        )
        with hub.listen_user("alice") as by_user, hub.listen_order(theirs.order_id) as by_order:
            assert hub.wants(mine.order_id, "alice")
            assert hub.wants(theirs.order_id, "carol")
            assert not hub.wants(uuid.uuid4(), "carol")
            await RedisStreamPublisher(client, stream).publish([mine, theirs, _event("carol")])
            # An entry from an older publisher (no o and u) is still decoded.
            await client.xadd(stream, {"e": json.dumps(event_to_json(legacy))})
            got_user = [await by_user.next(5), await by_user.next(5)]
            got_order = await by_order.next(5)
            assert got_user == [mine, legacy]
            assert got_order == theirs
            await asyncio.sleep(0.2)
            assert await by_user.next(0.01) is None
    finally:
        await dispatcher.stop()


def test_a_listener_of_every_event_wants_them_all() -> None:
    hub = EventHub()
    assert not hub.wants(uuid.uuid4(), "carol")
    with hub.listen_all():
        assert hub.wants(uuid.uuid4(), "carol")
    assert not hub.wants(uuid.uuid4(), "carol")


def test_a_filtered_listener_of_every_event_gets_what_it_wants() -> None:
    hub = EventHub()
    waiting = _event("carol", 2)
    waiting = replace(waiting, status=OrderStatus.WAITING)
    routed = replace(_event("carol", 2), status=OrderStatus.ROUTING)
    with hub.listen_all(where=lambda _, status: status is OrderStatus.WAITING) as listener:
        assert hub.wants(waiting.order_id, "carol", OrderStatus.WAITING)
        assert not hub.wants(routed.order_id, "carol", OrderStatus.ROUTING)
        assert hub.wants(routed.order_id, "carol")  # an entry that does not say its status
        hub.dispatch(routed)
        hub.dispatch(waiting)
        assert listener.drain() == [waiting]


async def test_the_dispatcher_skips_statuses_no_listener_wants(
    client: aioredis.Redis, redis_prefix: str
) -> None:
    stream = f"{redis_prefix}:events"
    hub = EventHub()
    dispatcher = RedisStreamDispatcher(client, stream, hub, block_ms=100)
    decoded: list[OrderEvent] = []
    dispatch = hub.dispatch

    def counting(event: OrderEvent) -> None:
        decoded.append(event)
        dispatch(event)

    hub.dispatch = counting  # type: ignore[method-assign]
    await dispatcher.start()
    try:
        pending = _event("dave")
        resting = replace(_event("erin", 2), status=OrderStatus.WAITING)
        with hub.listen_all(where=lambda _, s: s is OrderStatus.WAITING) as listener:
            await RedisStreamPublisher(client, stream).publish([pending, resting])
            assert await listener.next(5) == resting
            await asyncio.sleep(0.2)
        assert decoded == [resting]
        rows: Any = await client.xrange(stream)
        assert [f[b"s"] for _, f in rows] == [b"PENDING", b"WAITING"]
    finally:
        await dispatcher.stop()


async def test_a_side_stream_gets_the_events_it_selects_as_well(
    client: aioredis.Redis, redis_prefix: str
) -> None:
    stream, side = f"{redis_prefix}:events", f"{redis_prefix}:side"
    publisher = RedisStreamPublisher(
        client, stream, side=(side, lambda e: e.status is OrderStatus.WAITING)
    )
    pending, resting = (
        _event("a"),
        replace(_event("b", 2), status=OrderStatus.WAITING),
    )
    await publisher.publish([pending])
    await publisher.publish([pending, resting])
    everything: Any = await client.xrange(stream)
    selected: Any = await client.xrange(side)
    assert [f[b"u"] for _, f in everything] == [b"a", b"a", b"b"]
    assert [json.loads(f[b"e"]) for _, f in selected] == [event_to_json(resting)]


async def test_an_event_the_encoder_refuses_is_logged_and_the_next_ones_go_out(
    client: aioredis.Redis, redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    stream = f"{redis_prefix}:events"
    publisher = RedisStreamPublisher(client, stream)
    refused = replace(_event("a"), details={1: "not a JSON object key"})  # type: ignore[dict-item]
    await publisher.publish([refused])
    assert "could not publish 1 events" in caplog.text
    await publisher.publish([_event("b")])
    rows: Any = await client.xrange(stream)
    assert [f[b"u"] for _, f in rows] == [b"b"]


async def test_events_right_behind_one_another_share_a_read(
    client: aioredis.Redis, redis_prefix: str
) -> None:
    stream = f"{redis_prefix}:events"
    hub = EventHub()
    reads: list[int] = []
    xread = client.xread

    async def counting(*args: Any, **kwargs: Any) -> Any:
        reply: Any = await xread(*args, **kwargs)
        reads.append(sum(len(entries) for _, entries in (reply or [])))
        return reply

    client.xread = counting  # type: ignore[method-assign]
    dispatcher = RedisStreamDispatcher(client, stream, hub, block_ms=100, linger_seconds=0.05)
    await dispatcher.start()
    appender = aioredis.from_url(REDIS_URL)
    publisher = RedisStreamPublisher(appender, stream)
    try:
        events = [_event("frank", seq) for seq in range(1, 6)]
        with hub.listen_user("frank") as listener:
            await asyncio.sleep(0.15)  # the dispatcher blocks in a read of a quiet stream
            reads.clear()
            for event in events:  # one append each, a few milliseconds apart
                await publisher.publish([event])
                await asyncio.sleep(0.005)
            got = [await listener.next(5) for _ in events]
        assert got == events
        found = [n for n in reads if n]
        # The first comes alone, the moment it is appended; the rest wait out the pause.
        assert found[0] == 1
        assert sum(found) == len(events)
        assert len(found) <= 3
    finally:
        await dispatcher.stop()
        await appender.aclose()

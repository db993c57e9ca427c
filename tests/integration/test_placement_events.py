"""Placing orders publishes each one's first event (seq 1) before the order is queued."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from eterna.adapters.events.codec import event_to_json
from eterna.adapters.events.transport import RedisStreamPublisher
from eterna.application import service as service_module
from eterna.application.service import OrderRequest
from eterna.domain.orders import Order, OrderStatus, OrderType
from eterna.entrypoints.bootstrap import close_database, events_stream, open_database, open_runtime
from eterna.entrypoints.config import Settings
from tasks.lanes import RedisLanes
from tests.conftest import REDIS_URL

pytestmark = [pytest.mark.anyio, pytest.mark.postgres, pytest.mark.redis]

REQUEST = OrderRequest(
    type=OrderType.MARKET, token_in="SOL", token_out="USDC", amount_in=Decimal("0.1")
)


async def _migrated(pg_database: str, redis_prefix: str, tmp_path: Path) -> Settings:
    """Return distributed settings over a migrated database (a release step in this mode)."""
    settings = Settings(
        database_url=pg_database,
        redis_url=REDIS_URL,
        redis_prefix=redis_prefix,
        jwt_secret="placement-events-secret-0123456789abcdef",
        data_dir=tmp_path,
        chain_slot_ms=0,
    )
    await open_database(settings, run_migrations=True)
    await close_database()
    return settings


def _hold_publishing(monkeypatch: pytest.MonkeyPatch) -> asyncio.Event:
    """Make every event append wait until the returned event is set."""
    gate = asyncio.Event()
    publish = RedisStreamPublisher.publish

    async def held_publish(self: RedisStreamPublisher, events: Any) -> None:
        await gate.wait()
        await publish(self, events)

    monkeypatch.setattr(RedisStreamPublisher, "publish", held_publish)
    return gate


async def test_placed_orders_are_heard_at_seq_1_before_any_worker_runs_them(
    pg_database: str, redis_prefix: str, tmp_path: Path
) -> None:
    settings = await _migrated(pg_database, redis_prefix, tmp_path)
    async with open_runtime(settings, "api") as runtime:  # no worker: nothing runs them
        placed = await runtime.service.place("alice", [REQUEST] * 3)
        orders = [o for o in placed if isinstance(o, Order)]
        stored = [(await runtime.repo.events(o.id))[0] for o in orders]
    client = aioredis.from_url(REDIS_URL)
    try:
        rows: Any = await client.xrange(events_stream(settings))
    finally:
        await client.aclose()
    assert len(orders) == 3
    assert [e.status for e in stored] == [OrderStatus.PENDING] * 3
    assert [json.loads(fields[b"e"]) for _, fields in rows] == [event_to_json(e) for e in stored]


async def test_a_placement_answers_once_stored_then_publishes_and_queues_in_order(
    pg_database: str, redis_prefix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = await _migrated(pg_database, redis_prefix, tmp_path)
    gate = _hold_publishing(monkeypatch)
    client = aioredis.from_url(REDIS_URL)
    try:
        async with open_runtime(settings, "api") as runtime:
            queue = runtime.broker.lanes
            # It answers while seq 1 cannot go out yet.
            (order,) = await asyncio.wait_for(runtime.service.place("alice", [REQUEST]), 5)
            assert isinstance(order, Order)
            # Answered: stored, while neither seq 1 nor the queue message went out yet.
            assert await runtime.repo.get(order.id) == order
            assert await client.xlen(events_stream(settings)) == 0
            assert await queue.depth() == 0
            assert not await runtime.service.settle(0.05)
            gate.set()
            assert await runtime.service.settle(5)
            assert await client.xlen(events_stream(settings)) == 1
            assert await queue.depth() == 1
            # A stop waits for what is in flight.
            gate.clear()
            (last,) = await runtime.service.place("alice", [REQUEST])
            assert isinstance(last, Order)
            asyncio.get_running_loop().call_later(0.2, gate.set)
        rows: Any = await client.xrange(events_stream(settings))
        assert [json.loads(f[b"e"])["orderId"] for _, f in rows] == [str(order.id), str(last.id)]
        assert await RedisLanes(client, f"{settings.redis_prefix}:orders").depth() == 2
    finally:
        await client.aclose()


async def test_with_too_many_announcements_in_flight_a_placement_waits_for_its_own(
    pg_database: str, redis_prefix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = await _migrated(pg_database, redis_prefix, tmp_path)
    gate = _hold_publishing(monkeypatch)
    monkeypatch.setattr(service_module, "MAX_ANNOUNCING", 2)
    async with open_runtime(settings, "api") as runtime:
        for _ in range(2):
            await asyncio.wait_for(runtime.service.place("alice", [REQUEST]), 5)
        third = asyncio.create_task(runtime.service.place("alice", [REQUEST]))
        await asyncio.sleep(0.3)
        assert not third.done()  # Redis "away": this one waits for its own announcement
        gate.set()
        (order,) = await asyncio.wait_for(third, 5)
        assert isinstance(order, Order)
        assert await runtime.service.settle(5)

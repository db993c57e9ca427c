"""Placing orders publishes each one's first event (seq 1) before the order is queued."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from eterna.bootstrap import close_database, events_stream, open_database, open_runtime
from eterna.config import Settings
from eterna.events.codec import event_to_json
from eterna.orders import Order, OrderStatus, OrderType
from eterna.service import OrderRequest
from tests.conftest import REDIS_URL

pytestmark = [pytest.mark.anyio, pytest.mark.postgres, pytest.mark.redis]


async def test_placed_orders_are_heard_at_seq_1_before_any_worker_runs_them(
    pg_database: str, redis_prefix: str, tmp_path: Path
) -> None:
    settings = Settings(
        database_url=pg_database,
        redis_url=REDIS_URL,
        redis_prefix=redis_prefix,
        jwt_secret="placement-events-secret-0123456789abcdef",
        data_dir=tmp_path,
        sandbox_slot_ms=0,
    )
    await open_database(settings, run_migrations=True)  # a release step in this mode
    await close_database()
    requests = [
        OrderRequest(
            type=OrderType.MARKET, token_in="SOL", token_out="USDC", amount_in=Decimal("0.1")
        )
        for _ in range(3)
    ]
    async with open_runtime(settings, "api") as runtime:  # no worker: nothing runs them
        placed = await runtime.service.place("alice", requests)
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

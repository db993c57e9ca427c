"""The global orders-per-minute budget, shared through the real Redis."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
import redis.asyncio as aioredis

from eterna.application.ratelimit import RateLimit, RedisRateLimiter
from eterna.domain.orders import Order
from tasks.throttle import ThrottledEngine
from tests.conftest import REDIS_URL

pytestmark = pytest.mark.anyio


class CountingEngine:
    def __init__(self) -> None:
        self.started: list[float] = []

    async def execute(self, order_id: uuid.UUID, user_id: str = "") -> Order | None:
        self.started.append(time.monotonic())
        return None


async def test_two_workers_share_one_global_budget(redis_prefix: str) -> None:
    client = aioredis.from_url(REDIS_URL)
    try:
        rate = RateLimit(20, period_seconds=10.0)  # 2 per second, bursts of 20
        engines = [CountingEngine(), CountingEngine()]
        workers = [
            ThrottledEngine(e, RedisRateLimiter(client, rate, prefix=redis_prefix))  # type: ignore[arg-type]
            for e in engines
        ]
        begin = time.monotonic()
        await asyncio.gather(*(w.execute(uuid.uuid4()) for w in workers for _ in range(12)))
        elapsed = time.monotonic() - begin
    finally:
        await client.aclose()
    assert sum(len(e.started) for e in engines) == 24
    # About 20 start at once from the shared burst; the rest wait 0.5 s each for a refill,
    # which two private budgets (40 in all) would never make them do.
    assert elapsed >= 1.0

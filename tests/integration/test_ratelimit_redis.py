"""The Redis rate limiter against the real Redis: one budget shared by every API process."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from eterna.application.ratelimit import RateLimit, RedisRateLimiter
from tests.conftest import REDIS_URL

pytestmark = [pytest.mark.anyio, pytest.mark.redis]


@pytest.fixture
async def clients() -> AsyncIterator[tuple[aioredis.Redis, aioredis.Redis]]:
    """Two connections, as two API processes would hold."""
    a = aioredis.from_url(REDIS_URL)
    b = aioredis.from_url(REDIS_URL)
    try:
        yield a, b
    finally:
        await a.aclose()
        await b.aclose()


async def test_two_limiters_share_one_budget_per_user(
    clients: tuple[aioredis.Redis, aioredis.Redis], redis_prefix: str
) -> None:
    rate = RateLimit(4, period_seconds=60)
    api_a = RedisRateLimiter(clients[0], rate, prefix=redis_prefix)
    api_b = RedisRateLimiter(clients[1], rate, prefix=redis_prefix)

    decisions = [await (api_a if i % 2 else api_b).hit("alice") for i in range(4)]
    assert all(d.allowed for d in decisions)
    over_a = await api_a.hit("alice")
    over_b = await api_b.hit("alice")

    assert not over_a.allowed
    assert not over_b.allowed
    assert 0 < over_a.retry_after_seconds <= 15.0
    assert (await api_b.hit("bob")).allowed


async def test_concurrent_hits_from_two_limiters_never_exceed_the_budget(
    clients: tuple[aioredis.Redis, aioredis.Redis], redis_prefix: str
) -> None:
    rate = RateLimit(10, period_seconds=60)
    limiters = [RedisRateLimiter(c, rate, prefix=redis_prefix) for c in clients]
    decisions = await asyncio.gather(*(limiters[i % 2].hit("alice") for i in range(40)))
    assert sum(d.allowed for d in decisions) == 10


async def test_refused_caller_passes_again_after_retry_after(
    clients: tuple[aioredis.Redis, aioredis.Redis], redis_prefix: str
) -> None:
    limiter = RedisRateLimiter(clients[0], RateLimit(2, period_seconds=0.4), prefix=redis_prefix)
    assert (await limiter.hit("alice")).allowed
    assert (await limiter.hit("alice")).allowed
    refused = await limiter.hit("alice")
    assert not refused.allowed
    assert 0.1 < refused.retry_after_seconds <= 0.2
    await asyncio.sleep(refused.retry_after_seconds + 0.02)
    assert (await limiter.hit("alice")).allowed


async def test_limiter_state_lives_under_the_prefix_and_expires(
    clients: tuple[aioredis.Redis, aioredis.Redis], redis_prefix: str
) -> None:
    limiter = RedisRateLimiter(clients[0], RateLimit(3, period_seconds=60), prefix=redis_prefix)
    await limiter.hit("alice")
    keys = [k.decode() async for k in clients[0].scan_iter(f"{redis_prefix}:*")]
    assert keys == [f"{redis_prefix}:ratelimit:alice"]
    ttl_ms = await clients[0].pttl(keys[0])
    assert 0 < ttl_ms <= 20_000  # one interval: the bucket is full again after it


async def test_unreachable_redis_fails_open_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    dead = aioredis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    try:
        limiter = RedisRateLimiter(dead, RateLimit(1), prefix="nowhere")
        with caplog.at_level(logging.WARNING, logger="eterna.application.ratelimit"):
            decisions = [await limiter.hit("alice") for _ in range(3)]
    finally:
        await dead.aclose()
    assert all(d.allowed for d in decisions)
    assert any("rate limiter unavailable" in r.getMessage() for r in caplog.records)

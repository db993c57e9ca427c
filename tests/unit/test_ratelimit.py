"""The GCRA rate limiter: bursts, refill, isolation per key, failing open."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from eterna.application.ratelimit import (
    InMemoryRateLimiter,
    NoRateLimit,
    RateDecision,
    RateLimit,
    RedisRateLimiter,
    RefusalMemo,
    gcra,
)

pytestmark = pytest.mark.anyio


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_gcra_allows_a_burst_of_limit_then_refuses_for_one_interval() -> None:
    rate = RateLimit(3, period_seconds=60)
    tat: float | None = None
    for _ in range(3):
        decision, tat = gcra(tat, 0.0, rate)
        assert decision.allowed
    refused, unchanged = gcra(tat, 0.0, rate)
    assert refused == RateDecision(allowed=False, retry_after_seconds=20.0)
    assert unchanged is None


@pytest.mark.parametrize(("limit", "period"), [(0, 60.0), (5, 0.0)])
def test_rate_limit_refuses_a_meaningless_rate(limit: int, period: float) -> None:
    with pytest.raises(ValueError, match="rate limit"):
        RateLimit(limit, period_seconds=period)


async def test_in_memory_limiter_refuses_over_budget_and_says_when_to_retry() -> None:
    clock = FakeClock()
    limiter = InMemoryRateLimiter(RateLimit(2, period_seconds=60), clock=clock)
    assert (await limiter.hit("alice")).allowed
    assert (await limiter.hit("alice")).allowed
    refused = await limiter.hit("alice")
    assert not refused.allowed
    assert refused.retry_after_seconds == pytest.approx(30.0)

    clock.now += refused.retry_after_seconds - 0.001
    assert not (await limiter.hit("alice")).allowed
    clock.now += 0.001
    assert (await limiter.hit("alice")).allowed


async def test_in_memory_limiter_keeps_one_budget_per_key() -> None:
    limiter = InMemoryRateLimiter(RateLimit(1, period_seconds=60), clock=FakeClock())
    assert (await limiter.hit("alice")).allowed
    assert not (await limiter.hit("alice")).allowed
    assert (await limiter.hit("bob")).allowed


async def test_in_memory_limiter_refusals_do_not_consume_budget() -> None:
    clock = FakeClock()
    limiter = InMemoryRateLimiter(RateLimit(1, period_seconds=10), clock=clock)
    await limiter.hit("alice")
    for _ in range(50):
        assert not (await limiter.hit("alice")).allowed
    clock.now += 10
    assert (await limiter.hit("alice")).allowed


async def test_in_memory_limiter_forgets_full_buckets_when_it_has_too_many_keys() -> None:
    clock = FakeClock()
    limiter = InMemoryRateLimiter(RateLimit(5, period_seconds=1), clock=clock, max_keys=10)
    for i in range(10):
        await limiter.hit(f"user-{i}")
    clock.now += 2  # every bucket is full again
    await limiter.hit("newcomer")
    assert len(limiter._tat) == 1


async def test_no_rate_limit_allows_everything() -> None:
    limiter = NoRateLimit()
    assert all([(await limiter.hit("alice")).allowed for _ in range(1000)])


class BrokenRedis:
    """A Redis client whose scripts always fail, as when the server is down."""

    def __init__(self) -> None:
        self.calls = 0

    def register_script(self, script: str) -> Callable[..., Awaitable[Any]]:
        async def run(**_: Any) -> Any:
            self.calls += 1
            raise ConnectionError("connection refused")

        return run


async def test_redis_limiter_fails_open_and_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    broken = BrokenRedis()
    limiter = RedisRateLimiter(broken, RateLimit(1), prefix="p")
    with caplog.at_level(logging.WARNING, logger="eterna.application.ratelimit"):
        decisions = [await limiter.hit("alice") for _ in range(5)]
    assert all(d.allowed for d in decisions)
    assert broken.calls == 5
    warnings = [r for r in caplog.records if r.name == "eterna.application.ratelimit"]
    assert len(warnings) == 1
    assert "allowing requests" in warnings[0].getMessage()


@pytest.mark.parametrize("now", [0.1, 0.3, 12_345.678_9, 1e6 + 0.7])
def test_gcra_lets_a_full_bucket_through_whatever_the_clock_reads(now: float) -> None:
    """(now + 60) - 60 is not always now in floating point; a first request must pass."""
    decision, tat = gcra(None, now, RateLimit(1, 60.0))
    assert decision.allowed
    assert tat is not None
    refused, _ = gcra(tat, now + 1, RateLimit(1, 60.0))
    assert not refused.allowed
    assert refused.retry_after_seconds == pytest.approx(59, abs=1e-6)


async def test_a_refusal_is_remembered_until_the_moment_it_names() -> None:
    now = [100.0]
    inner = InMemoryRateLimiter(RateLimit(1, 60), clock=lambda: now[0])
    memo = RefusalMemo(inner, clock=lambda: now[0])
    assert (await memo.hit("a")).allowed
    assert memo.refused_for("a") is None  # allowed: nothing remembered
    refused = await memo.hit("a")
    assert not refused.allowed
    assert memo.refused_for("a") == pytest.approx(60)
    assert memo.refused_for("b") is None
    now[0] += 59.5
    assert memo.refused_for("a") == pytest.approx(0.5)
    now[0] += 0.5
    assert memo.refused_for("a") is None  # over: the next request asks the limiter again
    assert (await memo.hit("a")).allowed


async def test_the_memo_holds_at_most_its_keys() -> None:
    now = [0.0]
    memo = RefusalMemo(InMemoryRateLimiter(RateLimit(1, 60)), clock=lambda: now[0], max_keys=2)
    for key in ("a", "b", "c"):
        await memo.hit(key)
        await memo.hit(key)
    assert [memo.refused_for(k) is not None for k in ("a", "b", "c")] == [True, True, False]

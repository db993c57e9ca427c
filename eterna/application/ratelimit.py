"""Per-user rate limits: a port, an in-process limiter and one shared through Redis.

Both implementations run the same algorithm, GCRA (the generic cell rate algorithm): a
token bucket holding ``limit`` tokens, refilled at ``limit`` per ``period``. A caller may burst
``limit`` requests, then one every ``period / limit``; a refused request learns exactly when
the next one will pass. The state per key is one number, the "theoretical arrival time"
(TAT): the moment the bucket will be full again.

The Redis limiter runs the algorithm in one Lua script on the Redis clock, so every API
process shares one budget per user and no two processes race on it. When Redis does not
answer, it **fails open** (allows the request and logs a warning at most once a minute): the
limit protects capacity, not ownership, and an outage of the limiter should not stop trading.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from eterna.domain.errors import RejectedError, RejectionCode

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RateDecision:
    """Whether a request may proceed and, if not, how long until one will."""

    allowed: bool
    retry_after_seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class RateLimit:
    """``limit`` requests per ``period_seconds``, in bursts of up to ``limit``."""

    limit: int
    period_seconds: float = 60.0

    def __post_init__(self) -> None:
        if self.limit < 1 or self.period_seconds <= 0:
            raise ValueError("a rate limit needs limit >= 1 and a positive period")

    @property
    def interval(self) -> float:
        """Return the seconds one request adds to the theoretical arrival time."""
        return self.period_seconds / self.limit


class RateLimiter(Protocol):
    """Count a request against a key's budget."""

    async def hit(self, key: str, cost: int = 1) -> RateDecision:
        """Record a request worth ``cost`` units for the key; say whether it may proceed.

        A request proceeds whole or not at all; one worth more than the whole budget is
        counted as the whole budget.
        """
        ...


class RateLimitedError(RejectedError):
    """The caller sent more requests than their budget allows."""

    def __init__(self, retry_after_seconds: float) -> None:
        super().__init__(
            RejectionCode.RATE_LIMITED,
            f"too many requests: retry in {retry_after_seconds:.1f} s",
        )
        self.retry_after_seconds = retry_after_seconds


# Times closer than this are equal (the Redis script counts whole microseconds).
_RESOLUTION_SECONDS = 1e-6


def gcra(
    tat: float | None, now: float, rate: RateLimit, cost: int = 1
) -> tuple[RateDecision, float | None]:
    """Decide one request of ``cost`` units; return the decision and the new TAT (or None)."""
    start = now if tat is None else max(tat, now)
    new_tat = start + rate.interval * min(max(cost, 1), rate.limit)
    allow_at = new_tat - rate.limit * rate.interval
    # (now + x) - x may exceed now by a rounding step: a full bucket must not refuse by it.
    if allow_at - now > _RESOLUTION_SECONDS:
        return RateDecision(allowed=False, retry_after_seconds=allow_at - now), None
    return RateDecision(allowed=True), new_tat


class NoRateLimit:
    """Allow everything (rate limiting switched off)."""

    async def hit(self, key: str, cost: int = 1) -> RateDecision:
        """Allow the request."""
        return RateDecision(allowed=True)


class RefusalMemo:
    """A limiter that remembers, in this process, until when each key is refused.

    GCRA never lets a refused request change a key's state, and other processes sharing the
    budget can only push its next allowed moment later: a key refused until T is refused
    whatever it sends before T. :meth:`refused_for` says so without asking the limiter, so a
    caller flooding past their limit can be answered before any of the request's work is
    done. Keys are forgotten once their refusal has passed (at most ``max_keys`` remembered).
    """

    def __init__(
        self,
        inner: RateLimiter,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 10_000,
    ) -> None:
        self._inner = inner
        self._clock = clock
        self._max_keys = max_keys
        self._until: dict[str, float] = {}

    async def hit(self, key: str, cost: int = 1) -> RateDecision:
        """Ask the limiter; remember a refusal until the moment it names."""
        decision = await self._inner.hit(key, cost)
        if not decision.allowed:
            now = self._clock()
            if key not in self._until and len(self._until) >= self._max_keys:
                self._until = {k: t for k, t in self._until.items() if t > now}
            if len(self._until) < self._max_keys:
                self._until[key] = now + decision.retry_after_seconds
        return decision

    def refused_for(self, key: str) -> float | None:
        """Return the seconds the key stays refused, or None when it may be allowed."""
        until = self._until.get(key)
        if until is None:
            return None
        left = until - self._clock()
        if left <= 0:
            del self._until[key]
            return None
        return left


class InMemoryRateLimiter:
    """Limit requests within this process (the embedded mode has only one)."""

    def __init__(
        self,
        rate: RateLimit,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self._rate = rate
        self._clock = clock
        self._max_keys = max_keys
        self._tat: dict[str, float] = {}

    async def hit(self, key: str, cost: int = 1) -> RateDecision:
        """Record a request of ``cost`` units for the key and say whether it may proceed."""
        now = self._clock()
        decision, new_tat = gcra(self._tat.get(key), now, self._rate, cost)
        if new_tat is not None:
            if key not in self._tat and len(self._tat) >= self._max_keys:
                self._forget_full_buckets(now)
            self._tat[key] = new_tat
        return decision

    def _forget_full_buckets(self, now: float) -> None:
        # A key whose TAT has passed has a full bucket: forgetting it changes nothing.
        self._tat = {k: t for k, t in self._tat.items() if t > now}


# KEYS[1] = the key; ARGV = interval in microseconds, burst, cost. Times are integer microseconds
# from Redis's own clock, so API processes with skewed clocks still share one budget.
_GCRA_LUA = """
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3] or 1)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval * cost
local allow_at = new_tat - burst * interval
if now < allow_at then
  return {0, allow_at - now}
end
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
return {1, 0}
"""


class ScriptHost(Protocol):
    """What the limiter needs of a Redis client (``redis.asyncio.Redis`` is one)."""

    def register_script(self, script: str) -> Callable[..., Awaitable[Any]]:
        """Return a callable that runs the Lua script (EVALSHA, loading it when needed)."""
        ...


class RedisRateLimiter:
    """Limit requests across every API process through one Redis key per caller.

    The client is taken structurally, so the core imports nothing from redis; any failure of
    the call (connection refused, timeout, a server error) fails open.
    """

    def __init__(
        self,
        redis: ScriptHost,
        rate: RateLimit,
        *,
        prefix: str,
        timeout_seconds: float = 1.0,
        warn_every_seconds: float = 60.0,
    ) -> None:
        self._redis = redis
        self._rate = rate
        self._prefix = prefix
        self._timeout = timeout_seconds
        self._warn_every = warn_every_seconds
        self._last_warning = -math.inf
        self._script = redis.register_script(_GCRA_LUA)

    async def hit(self, key: str, cost: int = 1) -> RateDecision:
        """Record a request of ``cost`` units for the key; allow it when Redis does not answer."""
        interval_us = max(1, round(self._rate.interval * 1_000_000))
        units = min(max(cost, 1), self._rate.limit)
        try:
            async with asyncio.timeout(self._timeout):
                allowed, wait_us = await self._script(
                    keys=[f"{self._prefix}:ratelimit:{key}"],
                    args=[interval_us, self._rate.limit, units],
                )
        except Exception as exc:  # fail open on any failure of the store
            self._warn(exc)
            return RateDecision(allowed=True)
        if allowed:
            return RateDecision(allowed=True)
        return RateDecision(allowed=False, retry_after_seconds=int(wait_us) / 1_000_000)

    def _warn(self, exc: BaseException) -> None:
        now = time.monotonic()
        if now - self._last_warning >= self._warn_every:
            self._last_warning = now
            log.warning("rate limiter unavailable, allowing requests: %s", type(exc).__name__)

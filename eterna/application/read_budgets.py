"""Budgets of reads: every read without a token, and every ``quote``.

Reads that need no token (``quote``, ``tokens``, ``venues``) are what a stranger can send
in floods; without a token they are counted per client address
(``ETERNA_ANONYMOUS_RATE_LIMIT_PER_MINUTE``; the address as
:mod:`eterna.adapters.web.client_address`
resolves it). A ``quote`` routes the amount across every venue and route family, the most
expensive read there is, so with a token it is counted per user
(``ETERNA_QUOTE_RATE_LIMIT_PER_MINUTE``); ``tokens`` and ``venues`` with a token are not
counted (a list in memory).

Each field counts, aliases too: fifteen aliased quotes in one document cost fifteen routes.
The budgets use the mutation limiter's GCRA (:mod:`eterna.application.ratelimit`): in Redis in the
distributed mode, so every API process spends from one budget per key, and failing open
when Redis does not answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from eterna.application.ratelimit import (
    InMemoryRateLimiter,
    NoRateLimit,
    RateLimit,
    RateLimitedError,
    RateLimiter,
    RedisRateLimiter,
    ScriptHost,
)


def per_minute_limiter(per_minute: int, redis: ScriptHost | None, *, prefix: str) -> RateLimiter:
    """Return a limiter of ``per_minute`` (in bursts as large), in Redis when there is one."""
    if per_minute <= 0:
        return NoRateLimit()
    rate = RateLimit(per_minute, period_seconds=60.0)
    if redis is not None:
        return RedisRateLimiter(redis, rate, prefix=prefix)
    return InMemoryRateLimiter(rate)


@dataclass(frozen=True, slots=True)
class ReadBudgets:
    """The budgets of anonymous reads (per client address) and of quotes (per user)."""

    anonymous: RateLimiter = field(default_factory=NoRateLimit)
    quotes: RateLimiter = field(default_factory=NoRateLimit)

    async def spend(self, *, user_id: str | None, client_key: str, quote: bool) -> None:
        """Count one read field of the caller (no user: by address).

        :raises RateLimitedError: over the budget, saying when the next read will pass.
        """
        if user_id is None:
            decision = await self.anonymous.hit(client_key)
        elif quote:
            decision = await self.quotes.hit(user_id)
        else:
            return
        if not decision.allowed:
            raise RateLimitedError(decision.retry_after_seconds)


def read_budgets(
    redis: ScriptHost | None, *, prefix: str, anonymous_per_minute: int, quotes_per_minute: int
) -> ReadBudgets:
    """Return the read budgets of the settings, shared through Redis when there is one."""
    return ReadBudgets(
        anonymous=per_minute_limiter(
            anonymous_per_minute, redis, prefix=f"{prefix}:reads:anonymous"
        ),
        quotes=per_minute_limiter(quotes_per_minute, redis, prefix=f"{prefix}:reads:quote"),
    )

"""Budgets of reads: anonymous reads per client address, quotes per user, shared in Redis.

Every test drives the real app in-process over HTTP; the distributed one spends from the
real Redis.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from eterna.application.ratelimit import RateLimitedError
from eterna.application.read_budgets import read_budgets
from eterna.entrypoints.config import Settings
from tests.conftest import REDIS_URL
from tests.e2e.conftest import Api, _running

pytestmark = pytest.mark.anyio

QUOTE = '{ quote(tokenIn: "SOL", tokenOut: "USDC", amountIn: "1") { __typename %s } }'
REJECTED = "... on QuoteRejected { code message retryAfterSeconds }"
TOKENS = "{ tokens { symbol } }"
VENUES = "{ venues { name } }"
SECRET = "read-budgets-e2e-secret-that-is-long-enough-for-hs256-0123"


@contextlib.asynccontextmanager
async def running(data_dir: Path, **overrides: Any) -> AsyncIterator[Api]:
    settings = Settings(data_dir=data_dir, chain_slot_ms=0, **overrides)
    async with _running(settings) as api:
        yield api


async def _read(
    api: Api, query: str, *, user: str | None = None, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    sent = dict(headers or {})
    if user:
        sent["Authorization"] = f"Bearer {api.token(user)}"
    response = await api.client.post("/graphql", json={"query": query}, headers=sent)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _limited(body: dict[str, Any]) -> bool:
    """Tell whether a read was refused RATE_LIMITED (as an error or a QuoteRejected)."""
    quote = (body.get("data") or {}).get("quote") or {}
    if quote.get("code") == "RATE_LIMITED":
        assert quote["retryAfterSeconds"] > 0
        return True
    errors = body.get("errors") or []
    for error in errors:
        assert error["extensions"]["code"] == "RATE_LIMITED", error
        assert error["extensions"]["retryAfterSeconds"] > 0
    return bool(errors)


async def test_anonymous_reads_share_one_budget_per_address_and_each_alias_counts(
    data_dir: Path,
) -> None:
    async with running(data_dir, anonymous_rate_limit_per_minute=4) as api:
        three = await _read(api, "{ a: tokens { symbol } b: venues { name } c: tokens { mint } }")
        quote = await _read(api, QUOTE % REJECTED)
        over = [await _read(api, q) for q in (TOKENS, VENUES, QUOTE % REJECTED)]
        bad_token = await _read(api, TOKENS, headers={"Authorization": "Bearer not-a-token"})
        with_token = [await _read(api, q, user="alice") for q in (TOKENS, VENUES)]
    assert "errors" not in three
    assert len(three["data"]["a"]) > 1
    assert quote["data"]["quote"]["__typename"] == "RouteQuote"
    assert [_limited(b) for b in over] == [True, True, True]
    assert over[2]["data"]["quote"]["message"].startswith("too many requests: retry in")
    assert _limited(bad_token)  # an invalid token is no token
    assert not any(_limited(b) for b in with_token)  # tokens and venues: free with a token


async def test_quotes_with_a_token_are_counted_per_user(data_dir: Path) -> None:
    limits = {"quote_rate_limit_per_minute": 2, "anonymous_rate_limit_per_minute": 1}
    async with running(data_dir, **limits) as api:
        aliased = await _read(
            api,
            '{ a: quote(tokenIn: "SOL", tokenOut: "USDC", amountIn: "1") '
            '{ __typename } b: quote(tokenIn: "SOL", tokenOut: "USDC", amountIn: "2") '
            "{ __typename } }",
            user="alice",
        )
        alice_over = await _read(api, QUOTE % REJECTED, user="alice")
        bob = await _read(api, QUOTE % REJECTED, user="bob")
        tokens = await _read(api, TOKENS, user="alice")
    assert {q["__typename"] for q in aliased["data"].values()} == {"RouteQuote"}
    assert _limited(alice_over)
    assert bob["data"]["quote"]["__typename"] == "RouteQuote"
    assert not _limited(tokens)


@pytest.mark.parametrize(("trusted", "separate"), [("", False), ("127.0.0.1", True)])
async def test_forwarded_clients_have_budgets_of_their_own_only_behind_a_trusted_proxy(
    data_dir: Path, trusted: str, *, separate: bool
) -> None:
    limits = {"anonymous_rate_limit_per_minute": 1, "trusted_proxies": trusted}
    async with running(data_dir, **limits) as api:
        first = await _read(api, TOKENS, headers={"X-Forwarded-For": "198.51.100.1"})
        second = await _read(api, TOKENS, headers={"X-Forwarded-For": "198.51.100.2"})
        spoofed = await _read(api, TOKENS, headers={"X-Forwarded-For": "6.6.6.6, 198.51.100.1"})
    assert not _limited(first)
    assert _limited(second) is not separate
    assert _limited(spoofed)  # the same right-most address: the same budget


@pytest.mark.redis
async def test_the_anonymous_budget_is_shared_through_redis_by_every_api_process(
    data_dir: Path, pg_database: str, redis_prefix: str
) -> None:
    settings = {
        "database_url": pg_database,
        "redis_url": REDIS_URL,
        "redis_prefix": redis_prefix,
        "jwt_secret": SECRET,
        "anonymous_rate_limit_per_minute": 2,
    }
    other_process = aioredis.from_url(REDIS_URL)
    try:
        # What another API process on the same Redis builds from the same settings.
        other = read_budgets(
            other_process, prefix=redis_prefix, anonymous_per_minute=2, quotes_per_minute=0
        )
        async with running(data_dir, **settings) as api:
            await other.spend(user_id=None, client_key="127.0.0.1", quote=False)
            allowed = await _read(api, TOKENS)
            refused = await _read(api, TOKENS)
            with pytest.raises(RateLimitedError):
                await other.spend(user_id=None, client_key="127.0.0.1", quote=False)
            await other.spend(user_id=None, client_key="198.51.100.1", quote=False)
        keys = [k.decode() async for k in other_process.scan_iter(f"{redis_prefix}:*")]
    finally:
        await other_process.aclose()
    assert not _limited(allowed)
    assert _limited(refused)
    assert f"{redis_prefix}:reads:anonymous:ratelimit:127.0.0.1" in keys

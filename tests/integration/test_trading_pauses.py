"""Trading pauses in the distributed mode: kept in Redis, so every API process sees them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from eterna.application.audit import Caller
from eterna.application.service import OrderRequest
from eterna.domain.errors import RejectedError
from eterna.domain.orders import OrderType
from eterna.entrypoints.administration import trading_pauses
from eterna.entrypoints.bootstrap import Runtime, close_database, open_database, open_runtime
from eterna.entrypoints.config import Settings
from tests.conftest import REDIS_URL

pytestmark = [pytest.mark.anyio, pytest.mark.postgres, pytest.mark.redis]

MARKET = OrderRequest(
    type=OrderType.MARKET, token_in="SOL", token_out="USDC", amount_in=Decimal("0.1")
)
ROOT = Caller("root", client_address="10.0.0.1", user_agent="ops")


@pytest.fixture
def settings(pg_database: str, redis_prefix: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=pg_database,
        redis_url=REDIS_URL,
        redis_prefix=redis_prefix,
        jwt_secret="trading-pauses-secret-0123456789abcdef0123",
        data_dir=tmp_path,
        chain_slot_ms=0,
    )


@pytest.fixture
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    await open_database(settings, run_migrations=True)
    await close_database()
    async with open_runtime(settings, "api") as running:
        yield running


async def test_a_pause_holds_for_another_process_reading_redis(
    runtime: Runtime, settings: Settings
) -> None:
    assert runtime.admin is not None
    await runtime.admin.pause(ROOT, "SOL/USDC")
    # What another API process holds: its own client and its own pauses object.
    other = aioredis.from_url(REDIS_URL)
    try:
        seen = await trading_pauses(settings, other).paused()
        assert seen == await runtime.service.pauses.paused()
        assert len(seen) == 1
        [refused] = await runtime.service.place("alice", [MARKET])
        assert isinstance(refused, RejectedError)
        assert refused.code.value == "TRADING_PAUSED"
        await trading_pauses(settings, other).resume(next(iter(seen)))
        [placed] = await runtime.service.place("alice", [MARKET])
        assert not isinstance(placed, RejectedError)
    finally:
        await other.aclose()
    trail = await runtime.service.audit.recent(limit=10, actor="root")
    assert [e.action for e in trail] == ["admin.paused"]
    assert trail[0].client_address == "10.0.0.1"


async def test_placements_are_audited_in_postgres(runtime: Runtime) -> None:
    caller = Caller("alice", client_address="192.0.2.7", user_agent="bot/2")
    [order] = await runtime.service.place("alice", [MARKET], caller=caller)
    assert not isinstance(order, RejectedError)
    assert await runtime.service.settle()
    [entry] = await runtime.service.audit.recent(limit=5, subject=str(order.id))
    assert (entry.actor, entry.action, entry.client_address, entry.user_agent) == (
        "alice",
        "order.placed",
        "192.0.2.7",
        "bot/2",
    )

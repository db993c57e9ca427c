"""Per-user caps and order budget at placement, and where new orders go.

An API process of the distributed mode with no worker: placed orders stay where they were
put, so the caps count exactly what each test placed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from eterna.application.ports import take_step
from eterna.application.ratelimit import RateLimitedError
from eterna.application.service import OrderRequest
from eterna.core.clock import utcnow
from eterna.domain import steps
from eterna.domain.errors import RejectedError
from eterna.domain.orders import Order, OrderType
from eterna.entrypoints.bootstrap import Runtime, close_database, open_database, open_runtime
from eterna.entrypoints.config import Settings
from tasks.intake import LanesIntake
from tasks.lanes import RedisLanes
from tests.conftest import REDIS_URL

pytestmark = [pytest.mark.anyio, pytest.mark.postgres, pytest.mark.redis]

MARKET = OrderRequest(
    type=OrderType.MARKET, token_in="SOL", token_out="USDC", amount_in=Decimal("0.1")
)
LIMIT = replace(MARKET, type=OrderType.LIMIT, limit_price=Decimal(1_000))


@pytest.fixture
async def runtime(
    request: pytest.FixtureRequest, pg_database: str, redis_prefix: str, tmp_path: Path
) -> AsyncIterator[Runtime]:
    limits: dict[str, Any] = getattr(request, "param", {})
    settings = Settings(
        database_url=pg_database,
        redis_url=REDIS_URL,
        redis_prefix=redis_prefix,
        jwt_secret="placement-caps-secret-0123456789abcdef012",
        data_dir=tmp_path,
        chain_slot_ms=0,
        **limits,
    )
    await open_database(settings, run_migrations=True)
    await close_database()
    async with open_runtime(settings, "api") as running:
        yield running


def caps(**limits: int) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("runtime", [limits], indirect=True)


def codes(results: Sequence[Order | RejectedError]) -> list[str]:
    return ["placed" if isinstance(r, Order) else r.code.value for r in results]


@caps(max_orders_in_flight_per_user=3)
async def test_orders_over_the_in_flight_cap_are_refused_in_input_order(runtime: Runtime) -> None:
    results = await runtime.service.place("alice", [MARKET] * 5)
    assert codes(results) == ["placed"] * 3 + ["TOO_MANY_ORDERS_IN_FLIGHT"] * 2
    assert codes(await runtime.service.place("alice", [MARKET])) == ["TOO_MANY_ORDERS_IN_FLIGHT"]
    assert codes(await runtime.service.place("bob", [MARKET] * 3)) == ["placed"] * 3


@caps(max_orders_in_flight_per_user=10, max_open_orders_per_user=4)
async def test_waiting_orders_count_as_open_but_not_in_flight(runtime: Runtime) -> None:
    placed = await runtime.service.place("alice", [LIMIT] * 3)
    for order in placed:
        assert isinstance(order, Order)
        now = utcnow()
        await take_step(
            runtime.repo,
            order,
            steps.Rested(message="resting"),
            owner=None,
            now=now,
            lease_until=now,
        )
    counts = await runtime.repo.open_orders("alice")
    assert (counts.in_flight, counts.waiting, counts.conditional) == (0, 3, 3)
    assert codes(await runtime.service.place("alice", [MARKET] * 2)) == [
        "placed",
        "TOO_MANY_OPEN_ORDERS",
    ]


@caps(max_resting_orders_per_user=2)
async def test_limit_orders_over_the_resting_cap_are_refused_market_ones_not(
    runtime: Runtime,
) -> None:
    results = await runtime.service.place("alice", [LIMIT, MARKET, LIMIT, LIMIT, MARKET])
    assert codes(results) == ["placed", "placed", "placed", "TOO_MANY_RESTING_ORDERS", "placed"]
    refused = results[3]
    assert isinstance(refused, RejectedError)
    assert refused.field == "type"


@caps(max_orders_in_flight_per_user=1)
async def test_a_repeated_client_order_id_at_the_cap_returns_the_order_placed_first(
    runtime: Runtime,
) -> None:
    keyed = replace(MARKET, client_order_id="bot-1")
    (first,) = await runtime.service.place("alice", [keyed])
    assert isinstance(first, Order)
    again, other = await runtime.service.place("alice", [keyed, MARKET])
    assert isinstance(again, Order)
    assert again.id == first.id
    assert codes([other]) == ["TOO_MANY_ORDERS_IN_FLIGHT"]


@caps(orders_per_minute=10)
async def test_each_order_of_a_batch_spends_the_order_budget_all_or_none(
    runtime: Runtime,
) -> None:
    assert codes(await runtime.service.place("alice", [MARKET] * 8)) == ["placed"] * 8
    refused = await runtime.service.place("alice", [MARKET] * 3)
    assert codes(refused) == ["RATE_LIMITED"] * 3
    assert isinstance(refused[0], RateLimitedError)
    assert 0 < refused[0].retry_after_seconds <= 60
    assert codes(await runtime.service.place("alice", [MARKET] * 2)) == ["placed"] * 2
    assert codes(await runtime.service.place("bob", [MARKET] * 10)) == ["placed"] * 10


async def test_limit_orders_go_to_the_watchers_intake_and_market_ones_to_the_workers(
    runtime: Runtime,
) -> None:
    market, limit = await runtime.service.place("alice", [MARKET, LIMIT])
    assert isinstance(market, Order)
    assert isinstance(limit, Order)
    assert await runtime.service.settle(5)
    assert await runtime.broker.lanes.depth() == 1
    assert runtime.redis is not None
    prefix = runtime.settings.redis_prefix
    (taken,) = await LanesIntake(RedisLanes(runtime.redis, f"{prefix}:intake")).take(5)
    assert taken.order_id == limit.id
    assert taken.user_id == "alice"


async def test_a_limit_order_without_expiry_rests_at_most_the_horizon(runtime: Runtime) -> None:
    before = utcnow()
    (order,) = await runtime.service.place("alice", [LIMIT])
    assert isinstance(order, Order)
    assert order.expires_at is not None
    horizon = timedelta(days=runtime.settings.max_expiry_horizon_days)
    assert before + horizon <= order.expires_at <= utcnow() + horizon
    (market,) = await runtime.service.place("alice", [MARKET])
    assert isinstance(market, Order)
    assert market.expires_at is None

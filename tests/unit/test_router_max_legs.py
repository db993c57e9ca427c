"""The router's cap on legs: a chain whose transaction holds only so many swaps."""

from __future__ import annotations

from decimal import Decimal

import pytest

from eterna.domain.errors import NoRouteError
from eterna.domain.routes import RouteKind
from eterna.domain.tokens import BONK, JUP, SOL, USDC
from eterna.routing.router import Router
from tests.support.genesis import genesis_market
from tests.support.venue import ModelVenue

pytestmark = pytest.mark.anyio


def _router(max_legs: int | None) -> Router:
    market = genesis_market(7, slot_ms=0)
    return Router([ModelVenue(market, v) for v in market.venues()], max_legs=max_legs)


async def test_a_split_over_three_pools_is_made_over_two_under_a_cap_of_two() -> None:
    free = (await _router(None).route(SOL, USDC, Decimal(300_000), slippage_bps=50)).route
    capped = (await _router(2).route(SOL, USDC, Decimal(300_000), slippage_bps=50)).route

    assert len(free.legs) == 3
    assert capped.kind is RouteKind.SPLIT
    assert len(capped.legs) == 2
    assert {leg.pool for leg in capped.legs} < {leg.pool for leg in free.legs}
    assert sum(leg.amount_in for leg in capped.legs) == Decimal(300_000)
    assert free.amount_out >= capped.amount_out


async def test_a_two_hop_under_a_cap_of_two_is_one_pool_per_hop() -> None:
    free = (await _router(None).route(BONK, JUP, Decimal(50_000_000_000), slippage_bps=50)).route
    capped = (await _router(2).route(BONK, JUP, Decimal(50_000_000_000), slippage_bps=50)).route

    assert len(free.legs) > 2
    assert capped.kind is RouteKind.TWO_HOP
    first, second = capped.legs
    assert second.amount_in == first.amount_out
    assert free.amount_out >= capped.amount_out


async def test_a_cap_of_one_leaves_single_pools_only() -> None:
    route = (await _router(1).route(SOL, USDC, Decimal(300_000), slippage_bps=50)).route

    assert route.kind is RouteKind.SINGLE
    with pytest.raises(NoRouteError):
        await _router(1).route(BONK, JUP, Decimal(1_000), slippage_bps=50)


def test_a_cap_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one leg"):
        _router(0)

from decimal import Decimal

import pytest

from eterna.errors import NoRouteError, VenueUnavailableError
from eterna.routing import Router, min_amount_out
from eterna.sandbox.genesis import genesis_market
from eterna.tokens import BONK, JUP, SOL, USDC, Token
from eterna.venues.base import PoolQuote, VenueInfo
from eterna.venues.sandbox import SandboxVenue

pytestmark = pytest.mark.anyio


class DownVenue:
    name = "down"

    async def info(self) -> VenueInfo:
        return VenueInfo("down", "test", 0)

    async def quote(self, token_in: Token, token_out: Token, amount_in: int) -> list[PoolQuote]:
        raise VenueUnavailableError("timeout")


def _router() -> Router:
    market = genesis_market(7, slot_ms=0)
    return Router([SandboxVenue(market, v) for v in market.venues()])


async def test_router_picks_the_venue_paying_most_and_reports_every_venue() -> None:
    decision = await _router().route(SOL, USDC, Decimal(1), slippage_bps=50)
    venues = {q.venue for q in decision.quotes}
    assert venues == {"raydium", "meteora"}
    best = max(q.amount_out for q in decision.pool_quotes)
    assert decision.route.amount_out == USDC.from_base_units(best)
    assert decision.route.legs[0].venue == max(decision.quotes, key=lambda q: q.amount_out).venue


async def test_min_amount_out_follows_slippage_rounded_down() -> None:
    decision = await _router().route(SOL, USDC, Decimal(2), slippage_bps=100)
    out_units = USDC.to_base_units(decision.route.amount_out)
    assert USDC.to_base_units(decision.route.min_amount_out) == out_units * 9900 // 10000
    assert min_amount_out(10_001, 50) == 9_950


async def test_unknown_pair_has_no_route() -> None:
    with pytest.raises(NoRouteError):
        await _router().route(BONK, JUP, Decimal(1000), slippage_bps=50)


async def test_a_down_venue_is_skipped_but_all_down_is_transient() -> None:
    market = genesis_market(7, slot_ms=0)
    router = Router([SandboxVenue(market, "raydium"), DownVenue()])
    decision = await router.route(SOL, USDC, Decimal(1), slippage_bps=50)
    assert decision.route.legs[0].venue == "raydium"
    with pytest.raises(VenueUnavailableError):
        await Router([DownVenue()]).route(SOL, USDC, Decimal(1), slippage_bps=50)


async def test_max_price_impact_filters_routes() -> None:
    with pytest.raises(NoRouteError, match="moves the price"):
        await _router().route(SOL, USDC, Decimal(50_000), slippage_bps=50, max_price_impact_bps=1)

from collections.abc import Sequence
from decimal import Decimal

import pytest

from eterna.domain.errors import NoRouteError, VenueUnavailableError
from eterna.domain.routes import Route, RouteKind
from eterna.domain.tokens import BONK, JUP, RAY, SOL, USDC, USDT, Token
from eterna.routing import candidates, split
from eterna.routing.router import Router, min_amount_out
from eterna.routing.venues import PoolQuote, VenueInfo
from tests.support.genesis import genesis_market
from tests.support.venue import ModelVenue

pytestmark = pytest.mark.anyio

UNLISTED = Token("9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin", "NOPE", 6)


class DownVenue:
    name = "down"

    async def info(self) -> VenueInfo:
        return VenueInfo("down", "test", 0)

    async def quote(self, token_in: Token, token_out: Token, amount_in: int) -> list[PoolQuote]:
        raise VenueUnavailableError("timeout")

    async def quote_amounts(
        self, token_in: Token, token_out: Token, amounts: Sequence[int]
    ) -> list[PoolQuote]:
        raise VenueUnavailableError("timeout")


def _router() -> Router:
    market = genesis_market(7, slot_ms=0)
    return Router([ModelVenue(market, v) for v in market.venues()])


async def test_router_picks_the_pool_paying_most_and_reports_every_venue() -> None:
    decision = await _router().route(SOL, USDC, Decimal(1), slippage_bps=50)
    assert {q.venue for q in decision.quotes} == {"raydium", "meteora", "orca"}
    best = max(decision.pool_quotes, key=lambda q: q.amount_out)
    assert decision.route.kind is RouteKind.SINGLE
    assert decision.route.amount_out == USDC.from_base_units(best.amount_out)
    assert decision.route.legs[0].pool == best.pool
    assert decision.route.legs[0].venue == max(decision.quotes, key=lambda q: q.amount_out).venue


async def test_min_amount_out_follows_slippage_rounded_down() -> None:
    decision = await _router().route(SOL, USDC, Decimal(2), slippage_bps=100)
    out_units = USDC.to_base_units(decision.route.amount_out)
    assert USDC.to_base_units(decision.route.min_amount_out) == out_units * 9900 // 10000
    assert min_amount_out(10_001, 50) == 9_950


async def test_token_without_any_pool_has_no_route() -> None:
    with pytest.raises(NoRouteError):
        await _router().route(BONK, UNLISTED, Decimal(1000), slippage_bps=50)


async def test_pair_without_a_direct_pool_routes_in_two_hops_through_a_hub() -> None:
    decision = await _router().route(BONK, JUP, Decimal(10_000_000), slippage_bps=50)
    route = decision.route
    assert decision.pool_quotes == ()
    assert decision.quotes == ()
    assert route.kind is RouteKind.TWO_HOP
    first, second = route.legs
    assert (first.token_in, second.token_out) == (BONK, JUP)
    assert first.token_out == second.token_in
    assert first.token_out in {SOL, USDC}
    assert second.amount_in == first.amount_out
    assert route.amount_out == second.amount_out


async def test_a_large_order_is_split_across_distinct_pools() -> None:
    decision = await _router().route(SOL, USDC, Decimal(50_000), slippage_bps=50)
    route = decision.route
    assert route.kind is RouteKind.SPLIT
    assert len({leg.pool for leg in route.legs}) == len(route.legs) > 1
    assert sum(leg.amount_in for leg in route.legs) == route.amount_in
    assert route.amount_out == sum(leg.amount_out for leg in route.legs)
    assert USDC.to_base_units(route.amount_out) > max(q.amount_out for q in decision.pool_quotes)


async def test_venue_calls_stay_within_the_documented_bound() -> None:
    router = _router()
    venues, hubs = len(router.venues), 2
    # Three venues, two hubs: 15 calls of candidates, 15 per refinement (3) and for the
    # exact first hops, 6 for the exact second hops.
    assert router.venue_call_bound(hubs) == venues * (1 + 2 * hubs) * 5 + venues * hubs == 81
    assert Router(router.venues, refinements=-1).venue_call_bound(hubs) == 15
    for token_in, token_out, amount in (
        (SOL, USDC, Decimal(1)),
        (SOL, USDT, Decimal("1234.567891234")),
        (BONK, JUP, Decimal(10_000_000)),
        (RAY, BONK, Decimal(4_000_000)),
        (SOL, JUP, Decimal(60_000)),
    ):
        decision = await router.route(token_in, token_out, amount, slippage_bps=50)
        assert 0 < decision.venue_calls <= router.venue_call_bound(hubs)


async def test_a_down_venue_is_skipped_but_all_down_is_transient() -> None:
    market = genesis_market(7, slot_ms=0)
    router = Router([ModelVenue(market, "raydium"), DownVenue()])
    decision = await router.route(SOL, USDC, Decimal(1), slippage_bps=50)
    assert decision.route.legs[0].venue == "raydium"
    with pytest.raises(VenueUnavailableError):
        await Router([DownVenue()]).route(SOL, USDC, Decimal(1), slippage_bps=50)


async def test_nothing_routing_while_a_venue_is_down_is_transient() -> None:
    market = genesis_market(7, slot_ms=0)
    router = Router([ModelVenue(market, "raydium"), DownVenue()])
    with pytest.raises(VenueUnavailableError, match="calls failed"):
        await router.route(BONK, UNLISTED, Decimal(1), slippage_bps=50)


async def test_max_price_impact_filters_routes() -> None:
    with pytest.raises(NoRouteError, match="moves the price"):
        await _router().route(SOL, USDC, Decimal(50_000), slippage_bps=50, max_price_impact_bps=1)


async def test_max_price_impact_keeps_a_route_under_the_limit() -> None:
    router = _router()
    free = await router.route(SOL, USDC, Decimal(50_000), slippage_bps=50)
    limit = free.route.price_impact_bps
    capped = await router.route(
        SOL, USDC, Decimal(50_000), slippage_bps=50, max_price_impact_bps=limit
    )
    assert capped.route.price_impact_bps <= limit
    assert capped.route == free.route


def _quote(pool: str, amount_in: int, amount_out: int, impact: int = 0) -> PoolQuote:
    return PoolQuote("v", pool, SOL, USDC, amount_in, amount_out, 0, impact)


def test_equal_output_goes_to_the_route_with_fewer_legs() -> None:
    one = candidates.single(_quote("a", 100, 500, impact=9))
    two = candidates.split([_quote("b", 60, 300), _quote("c", 40, 200)])
    assert max([two, one], key=candidates.Candidate.rank) is one


def test_split_and_two_hop_impacts_combine_the_legs() -> None:
    chunked = candidates.split([_quote("a", 75, 1, impact=10), _quote("b", 25, 1, impact=30)])
    assert chunked.price_impact_bps == 15
    first = PoolQuote("v", "a", BONK, SOL, 100, 7, 0, 100)
    second = PoolQuote("v", "b", SOL, USDC, 7, 9, 0, 200)
    # 1 - 0.99 * 0.98 = 2.98 %, rounded up
    assert candidates.two_hop([first], [second]).price_impact_bps == 298
    with pytest.raises(ValueError, match="at most once"):
        candidates.split([_quote("a", 1, 1), _quote("a", 2, 2)])


def test_greedy_allocation_matches_brute_force_on_concave_outputs() -> None:
    chunks = 6
    outputs: dict[str, list[int | None]] = {
        "deep": [100 * n - n * n for n in range(1, chunks + 1)],
        "shallow": [120 * n - 15 * n * n for n in range(1, chunks + 1)],
        "empty": [None] * chunks,
    }

    def value(counts: dict[str, int]) -> int:
        return sum(outputs[pool][n - 1] or 0 for pool, n in counts.items() if n)

    allocation = split.allocate(outputs, chunks)
    best = max(value({"deep": n, "shallow": chunks - n}) for n in range(chunks + 1))
    assert value(allocation) == best
    assert allocation == {"deep": 5, "shallow": 1}


def test_allocation_is_empty_when_the_pools_cannot_absorb_every_chunk() -> None:
    assert split.allocate({"a": [5, 9, None], "b": [4, None, None]}, 3) == {"a": 2, "b": 1}
    assert split.allocate({"a": [5, None, None], "b": [4, None, None]}, 3) == {}


def test_leg_amounts_add_up_exactly_and_stay_on_the_quoted_ladder() -> None:
    amount, chunks = 1_000_003, 20
    amounts = split.leg_amounts(amount, {"a": 13, "b": 7}, chunks)
    assert sum(amounts.values()) == amount
    assert amounts["b"] == 7 * (amount // chunks)
    assert set(amounts.values()) <= set(split.ladder(amount, chunks))
    assert split.points(amount, chunks)[-1] == amount
    assert split.points(19, 20) == split.ladder(19, 20) == (19,)


def test_route_kind_is_read_from_legs_and_old_json_reads_back() -> None:
    split_route = Route(
        token_in=SOL,
        token_out=USDC,
        amount_in=Decimal(3),
        amount_out=Decimal(450),
        min_amount_out=Decimal(440),
        price_impact_bps=3,
        legs=candidates.split(
            [_quote("a", 2 * 10**9, 300 * 10**6), _quote("b", 10**9, 150 * 10**6)]
        )
        .to_route(50)
        .legs,
    )
    data = split_route.to_json()
    assert data["kind"] == "split"
    old = {k: v for k, v in data.items() if k != "kind"}
    assert Route.from_json(old) == split_route == Route.from_json(data)


async def test_thousand_sol_split_at_seed_7_pays_more_than_the_best_single_venue() -> None:
    decision = await _router().route(SOL, USDC, Decimal(1_000), slippage_bps=50)
    best_single = max(q.amount_out for q in decision.pool_quotes)
    assert decision.route.kind is RouteKind.SPLIT
    assert USDC.to_base_units(decision.route.amount_out) > best_single

"""The joint allocation: its concave merge, and the router with it against the candidates alone.

Properties on random orders of the genesis market: the joint route never pays less than
the router without it (the greedy candidates: best single pool, split, two-hop) nor than
any single pool; every leg is a real quote of its amount and the legs add up exactly; the
venue calls stay within the stated bound; and a leg bound is kept.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eterna.domain.errors import NoRouteError
from eterna.domain.routes import Quote, Route, RouteKind
from eterna.domain.tokens import BONK, JUP, RAY, SOL, USDC, USDT, Token
from eterna.routing import joint
from eterna.routing.candidates import all_in_cost_bps
from eterna.routing.router import Router
from eterna.routing.venues import SwapInstruction, SwapRequest, TxState
from tests.support.genesis import REFERENCE_USD, genesis_market
from tests.support.market import ModelMarket
from tests.support.venue import ModelVenue

pytestmark = pytest.mark.anyio

PROPERTIES = settings(max_examples=30, deadline=None)
TOKENS = (SOL, USDC, USDT, BONK, JUP, RAY)


def _routers(max_legs: int | None = None) -> tuple[ModelMarket, Router, Router]:
    market = genesis_market(7, slot_ms=0)
    venues = [ModelVenue(market, v) for v in market.venues()]
    return (
        market,
        Router(venues, max_legs=max_legs),
        Router(venues, max_legs=max_legs, refinements=-1),
    )


@st.composite
def orders(draw: st.DrawFn) -> tuple[Token, Token, Decimal]:
    token_in = draw(st.sampled_from(TOKENS))
    token_out = draw(st.sampled_from([t for t in TOKENS if t != token_in]))
    usd = int(10 ** (draw(st.integers(min_value=0, max_value=600)) / 100))  # $1 .. $1M
    units = int(usd / REFERENCE_USD[token_in] * 10**token_in.decimals)
    return token_in, token_out, token_in.from_base_units(max(units, 1))


def _out(route: Route) -> int:
    return route.token_out.to_base_units(route.amount_out)


# -- the concave merge ----------------------------------------------------------------


def test_the_merge_equalises_marginal_outputs_to_the_brute_force_optimum() -> None:
    # Two concave pools: out = 100x - x^2 and 60x - x^2/2 on integer points 0..50.
    a = {x: 100 * x - x * x for x in range(1, 51)}
    b = {x: 60 * x - x * x // 2 for x in range(1, 51)}
    for amount in (1, 7, 30, 55, 99):
        split = joint.split_exact(amount, {"a": a, "b": b})
        assert split is not None
        assert sum(split.values()) == amount
        brute = max(
            a.get(x, 0) + b.get(amount - x, 0)
            for x in range(max(0, amount - 50), min(50, amount) + 1)
        )
        assert a.get(split.get("a", 0), 0) + b.get(split.get("b", 0), 0) == brute


def test_a_curve_is_the_upper_hull_of_its_points_and_never_pays_less_for_more() -> None:
    pieces = joint.segments("p", {10: 100, 20: 150, 15: 120, 30: 150, 40: 149})
    # (15, 120) lies below the chord from (10, 100) to (20, 150); 30 and 40 pay no more.
    assert [(dx, dy) for _, dx, dy, _ in pieces] == [(10, 100), (10, 50)]


def test_a_hub_path_composes_its_hops_and_the_top_merge_mixes_families() -> None:
    hop1 = {"p1": {x: 2 * x - x * x // 400 for x in range(10, 201, 10)}}
    hop2 = {"p2": {m: 3 * m - m * m // 600 for m in range(20, 401, 20)}}
    direct = {"d": {x: 5 * x - x * x // 60 for x in range(10, 201, 10)}}
    alloc = joint.solve(150, direct, {"hub": (hop1, hop2)})
    assert alloc is not None
    assert alloc.direct["d"] + sum(alloc.first["hub"].values()) == 150
    assert sum(alloc.second["hub"].values()) == alloc.middle["hub"]
    # Neither family alone pays as much as the mix.
    alone = joint.solve(150, direct, {})
    assert alone is not None
    assert alloc.expected_out > alone.expected_out


def test_no_allocation_when_the_families_cannot_take_the_amount() -> None:
    assert joint.solve(1_000, {"d": {10: 20, 20: 30}}, {}) is None
    assert joint.split_exact(0, {"d": {10: 20}}) is None


def test_a_split_past_what_its_points_cover_gives_the_excess_to_the_largest_leg() -> None:
    split = joint.split_exact(100, {"a": {40: 80}, "b": {10: 15}})
    assert split == {"a": 90, "b": 10}


# -- all-in cost ------------------------------------------------------------------------


def test_all_in_cost_counts_everything_below_the_mid_rounded_up() -> None:
    assert all_in_cost_bps(10_000, 9_974, Fraction(1)) == 26
    assert all_in_cost_bps(10_000, 9_973_5 // 10, Fraction(1)) == 27
    assert all_in_cost_bps(1_000, 2_001, Fraction(2)) == 0  # better than the mid: 0
    assert all_in_cost_bps(1_000, 900, None) is None


async def test_all_in_cost_sits_beside_price_impact_on_the_route_and_quotes() -> None:
    _, router, _ = _routers()
    decision = await router.route(SOL, USDC, Decimal(1_000), slippage_bps=50)
    route = decision.route
    assert route.all_in_cost_bps is not None
    # Fees (0.04 % to 0.25 % here) are in the all-in cost, not in the impact.
    assert route.all_in_cost_bps > route.price_impact_bps
    for quote in decision.quotes:
        assert quote.all_in_cost_bps is not None
        assert quote.all_in_cost_bps >= quote.price_impact_bps
    assert Route.from_json(route.to_json()) == route
    assert Quote.from_json(decision.quotes[0].to_json()) == decision.quotes[0]
    # Routes and quotes recorded before the field existed read back without it.
    old = route.to_json()
    del old["allInCostBps"]
    assert Route.from_json(old).all_in_cost_bps is None


# -- the router with the joint allocation ----------------------------------------------


@PROPERTIES
@given(order=orders())
async def test_never_worse_than_the_candidates_alone_nor_any_single_pool(
    order: tuple[Token, Token, Decimal],
) -> None:
    _, router, greedy = _routers()
    token_in, token_out, amount = order
    decision = await router.route(token_in, token_out, amount, slippage_bps=50)
    before = await greedy.route(token_in, token_out, amount, slippage_bps=50)
    assert _out(decision.route) >= _out(before.route)
    assert all(_out(decision.route) >= q.amount_out for q in decision.pool_quotes)
    assert 0 < decision.venue_calls <= router.venue_call_bound(2)


@PROPERTIES
@given(order=orders())
async def test_every_leg_is_a_quote_of_its_amount_and_the_amounts_add_up(
    order: tuple[Token, Token, Decimal],
) -> None:
    market, router, _ = _routers()
    token_in, token_out, amount = order
    route = (await router.route(token_in, token_out, amount, slippage_bps=50)).route
    assert sum(leg.amount_in for leg in route.legs if leg.token_in == token_in) == amount
    paid = 0
    for leg in route.legs:
        units = leg.token_in.to_base_units(leg.amount_in)
        (pool,) = [p for p in market.pools() if p.address == leg.pool]
        result, _ = market.quote(pool.address, leg.token_in.mint, units)
        assert leg.token_out.to_base_units(leg.amount_out) == result.amount_out
        if leg.token_out == token_out:
            paid += result.amount_out
    assert paid == _out(route)


@PROPERTIES
@given(order=orders(), max_legs=st.integers(min_value=1, max_value=3))
async def test_a_leg_bound_is_kept_and_the_refined_route_still_pays_as_much(
    order: tuple[Token, Token, Decimal], max_legs: int
) -> None:
    _, router, greedy = _routers(max_legs=max_legs)
    token_in, token_out, amount = order
    try:
        before = await greedy.route(token_in, token_out, amount, slippage_bps=50)
    except NoRouteError:  # none within the bound: the joint allocation finds none either
        with pytest.raises(NoRouteError):
            await router.route(token_in, token_out, amount, slippage_bps=50)
        return
    decision = await router.route(token_in, token_out, amount, slippage_bps=50)
    assert len(decision.route.legs) <= max_legs
    assert _out(decision.route) >= _out(before.route)


async def test_a_large_two_hop_order_splits_across_both_hubs() -> None:
    _, router, greedy = _routers()
    decision = await router.route(RAY, BONK, Decimal(4_000_000), slippage_bps=50)
    before = await greedy.route(RAY, BONK, Decimal(4_000_000), slippage_bps=50)
    route = decision.route
    assert route.kind is RouteKind.MULTI
    assert {leg.token_out for leg in route.legs} - {BONK} == {SOL, USDC}
    # Hundreds of bps more than the best single hub path.
    assert _out(route) * 10_000 > _out(before.route) * 10_100


async def test_a_multi_route_executes_exactly_its_quote_on_an_unmoved_market() -> None:
    market, router, _ = _routers()
    route = (await router.route(SOL, JUP, Decimal(60_000), slippage_bps=50)).route
    assert route.kind is RouteKind.MULTI
    request = SwapRequest(
        memo="multi",
        payer="alice",
        mint_in=SOL.mint,
        mint_out=JUP.mint,
        swaps=SwapInstruction.for_route(route),
        min_amount_out=JUP.to_base_units(route.min_amount_out),
    )
    status = market.send(market.build(request))
    assert status.state is TxState.CONFIRMED
    assert status.amount_out == _out(route)


async def test_small_orders_take_the_candidates_calls_only() -> None:
    _, router, greedy = _routers()
    for token_in, token_out, amount in ((SOL, USDC, Decimal(1)), (BONK, JUP, Decimal(50_000))):
        decision = await router.route(token_in, token_out, amount, slippage_bps=50)
        before = await greedy.route(token_in, token_out, amount, slippage_bps=50)
        assert decision.venue_calls == before.venue_calls
        assert decision.route == before.route


def _dense_optimum(market: ModelMarket, token_in: Token, token_out: Token, units: int) -> int:
    """Return the marginal optimum on 1,000 chords per pool, quoted exactly (the bench's)."""

    def points(pool: str, token: Token, top: int) -> dict[int, int]:
        amounts = [top * k // 1_000 for k in range(1, 1_001)]
        answers = market.quote_amounts(pool, token.mint, amounts)
        return {a: r[0].amount_out for a, r in zip(amounts, answers, strict=True) if r}

    def of(a: Token, b: Token) -> list[str]:
        return [p.address for p in market.pools() if p.direction(a.mint, b.mint) is not None]

    def pay(token: Token, split: dict[str, int]) -> int:
        return sum(
            market.quote(pool, token.mint, amount)[0].amount_out for pool, amount in split.items()
        )

    direct = {p: points(p, token_in, units) for p in of(token_in, token_out)}
    hubs = {}
    for hub in (SOL, USDC):
        if hub in (token_in, token_out):
            continue
        first = {p: points(p, token_in, units) for p in of(token_in, hub)}
        top = joint.Merged.of(first).values[-1]
        hubs[hub.mint] = (first, {p: points(p, hub, top) for p in of(hub, token_out)})
    alloc = joint.solve(units, direct, hubs)
    assert alloc is not None
    total = pay(token_in, alloc.direct)
    for mint, split in alloc.first.items():
        onward = joint.split_exact(pay(token_in, split), hubs[mint][1])
        assert onward is not None
        total += pay(SOL if mint == SOL.mint else USDC, onward)
    return total


@pytest.mark.parametrize(
    ("token_in", "token_out", "usd"),
    [(JUP, RAY, 1_000_000), (USDC, BONK, 10_000_000), (RAY, BONK, 10_000_000)],
)
async def test_large_orders_come_within_a_bps_of_the_marginal_optimum(
    token_in: Token, token_out: Token, usd: int
) -> None:
    market, router, _ = _routers()
    units = int(usd / REFERENCE_USD[token_in] * 10**token_in.decimals)
    route = (
        await router.route(token_in, token_out, token_in.from_base_units(units), slippage_bps=50)
    ).route
    best = _dense_optimum(market, token_in, token_out, units)
    assert _out(route) * 10_000 >= best * 9_999

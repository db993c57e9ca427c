"""Router invariants on the real genesis market (seed 7), checked with hypothesis."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eterna.domain.routes import Route, RouteKind
from eterna.domain.tokens import BONK, JUP, RAY, SOL, USDC, USDT, Token
from eterna.routing.router import Router, RoutingDecision
from eterna.routing.venues import SwapInstruction, SwapRequest, TxState
from tests.support.genesis import REFERENCE_USD, genesis_market
from tests.support.market import ModelMarket
from tests.support.venue import ModelVenue

pytestmark = pytest.mark.anyio

SEED = 7
PROPERTIES = settings(max_examples=40, deadline=None)
DIRECT = ((SOL, USDC), (SOL, USDT), (USDC, USDT), (BONK, SOL), (JUP, USDC), (RAY, USDC))
NO_DIRECT_POOL = ((BONK, JUP), (JUP, RAY), (RAY, BONK))
PAIRS = tuple(p for a, b in DIRECT + NO_DIRECT_POOL for p in ((a, b), (b, a)))


@dataclass(frozen=True)
class Order:
    token_in: Token
    token_out: Token
    amount_in: Decimal

    @property
    def units(self) -> int:
        return self.token_in.to_base_units(self.amount_in)


@st.composite
def orders(draw: st.DrawFn) -> Order:
    """An order worth between a cent and about three million dollars."""
    token_in, token_out = draw(st.sampled_from(PAIRS))
    cents = draw(st.integers(min_value=1, max_value=9_999)) * 10 ** draw(st.integers(0, 4))
    units = int(cents * 10**token_in.decimals / (REFERENCE_USD[token_in] * 100))
    return Order(token_in, token_out, token_in.from_base_units(max(units, 1)))


def _setup() -> tuple[ModelMarket, Router]:
    market = genesis_market(SEED, slot_ms=0)
    return market, Router([ModelVenue(market, v) for v in market.venues()])


async def _route(router: Router, order: Order) -> RoutingDecision:
    return await router.route(order.token_in, order.token_out, order.amount_in, slippage_bps=50)


def _units_out(route: Route) -> int:
    return route.token_out.to_base_units(route.amount_out)


@PROPERTIES
@given(order=orders())
async def test_chosen_route_pays_at_least_every_single_pool(order: Order) -> None:
    _, router = _setup()
    decision = await _route(router, order)
    singles = [q.amount_out for q in decision.pool_quotes]
    assert all(_units_out(decision.route) >= out for out in singles)
    if decision.route.kind is RouteKind.SPLIT:
        # Equal output would have gone to the single pool: fewer legs win ties.
        assert all(_units_out(decision.route) > out for out in singles)


@PROPERTIES
@given(order=orders())
async def test_two_hop_wins_only_when_it_pays_more_than_every_direct_route(order: Order) -> None:
    _, router = _setup()
    decision = await _route(router, order)
    route = decision.route
    through_hubs = {RouteKind.TWO_HOP, RouteKind.MULTI}
    direct = [_units_out(r) for r in decision.considered if r.kind not in through_hubs]
    direct += [q.amount_out for q in decision.pool_quotes]
    if not decision.pool_quotes:
        assert route.kind in through_hubs
    if route.kind in through_hubs:
        # More legs win only by paying more; a hub path or a mix of paths alike.
        assert all(_units_out(route) > out for out in direct)
        middles = {leg.token_out for leg in route.legs} - {route.token_out}
        assert middles
        assert middles <= {SOL, USDC}
    else:
        hops = [_units_out(r) for r in decision.considered if r.kind in through_hubs]
        assert all(out <= _units_out(route) for out in hops)


@PROPERTIES
@given(order=orders())
async def test_no_route_pays_more_than_its_pools_hold(order: Order) -> None:
    market, router = _setup()
    decision = await _route(router, order)
    last = decision.route.legs[-1].token_out
    held_by_last_hop = 0
    for leg in decision.route.legs:
        pool = market.pool(leg.pool)
        reserve = pool.math.reserve_a if pool.token_a == leg.token_out else pool.math.reserve_b
        assert leg.token_out.to_base_units(leg.amount_out) <= reserve
        if leg.token_out == last:
            held_by_last_hop += reserve
    assert _units_out(decision.route) <= held_by_last_hop


@PROPERTIES
@given(order=orders(), bump=st.integers(min_value=0, max_value=10_000))
async def test_output_grows_with_input(order: Order, bump: int) -> None:
    _, router = _setup()
    # Each amount cuts its own chunk grid, so amounts closer than 0.1 % may trade places by
    # a rounding unit; single pools and two-hops are monotonic to the unit.
    larger = order.units + max(1, order.units // 1_000) * (1 + bump)
    small = await _route(router, order)
    large = await _route(
        router, Order(order.token_in, order.token_out, order.token_in.from_base_units(larger))
    )
    assert _units_out(large.route) >= _units_out(small.route)


@PROPERTIES
@given(order=orders())
async def test_legs_add_up_to_the_input_and_never_reuse_a_pool(order: Order) -> None:
    _, router = _setup()
    route = (await _route(router, order)).route
    legs = route.legs
    assert len({leg.pool for leg in legs}) == len(legs)
    assert all(leg.amount_in > 0 and leg.amount_out > 0 for leg in legs)
    # Every hop is one pool or a split of its pair. The legs spending tokenIn spend exactly
    # the route's input, those paying tokenOut pay exactly its output, and the legs spending
    # a hub come after those paying it and spend exactly what they paid.
    assert sum(leg.amount_in for leg in legs if leg.token_in == route.token_in) == route.amount_in
    assert all(leg.token_in == route.token_in or leg.token_out == route.token_out for leg in legs)
    paid_out = sum(leg.amount_out for leg in legs if leg.token_out == route.token_out)
    assert paid_out == route.amount_out
    for hub in {leg.token_out for leg in legs} - {route.token_out}:
        paying = [i for i, leg in enumerate(legs) if leg.token_out == hub]
        spending = [i for i, leg in enumerate(legs) if leg.token_in == hub]
        assert spending
        assert max(paying) < min(spending)
        paid = sum(legs[i].amount_out for i in paying)
        assert sum(legs[i].amount_in for i in spending) == paid
    if route.kind is RouteKind.TWO_HOP:
        assert len({leg.token_out for leg in legs}) == 2


@PROPERTIES
@given(order=orders())
async def test_an_unmoved_market_executes_exactly_the_quote_once(order: Order) -> None:
    market, router = _setup()
    route = (await _route(router, order)).route
    request = SwapRequest(
        memo="order",
        payer="alice",
        mint_in=order.token_in.mint,
        mint_out=order.token_out.mint,
        swaps=SwapInstruction.for_route(route),
        min_amount_out=route.token_out.to_base_units(route.min_amount_out),
    )
    tx = market.build(request)
    status = market.send(tx)
    again = market.send(tx)
    assert status.state is TxState.CONFIRMED
    assert status.amount_out == _units_out(route)
    assert again == status
    (landed,) = market.ledger("order")
    assert (landed.signature, landed.amount_in) == (tx.signature, order.units)

"""Adaptive slippage: the choice rule's bounds and widening, the pool moves a worker keeps,
and the engine choosing, saying and widening each attempt's tolerance."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eterna.application.slippage import (
    MOVE_WINDOW,
    MOVES_KEPT,
    AdaptiveSlippage,
    PoolMoves,
    move_bps,
    route_move_bps,
    tolerance_of,
)
from eterna.domain.errors import VenueUnavailableError
from eterna.domain.orders import Order, OrderStatus, OrderType
from eterna.domain.routes import Route, RouteLeg
from eterna.domain.slippage import (
    FLOOR_BPS,
    MARGIN_BPS,
    SlippageInputs,
    adverse_move_bps,
    choose_tolerance,
    floor_bps,
)
from eterna.domain.tokens import BONK, SOL, USDC
from eterna.domain.triggers import MarketUpdate, PoolState
from eterna.routing.router import RoutingDecision
from eterna.routing.venues import PoolQuote
from tests.unit.test_engine import World, landed, slipped

pytestmark = pytest.mark.anyio

T0 = datetime(2030, 1, 1, tzinfo=UTC)

caps = st.integers(min_value=1, max_value=5_000)
bps = st.integers(min_value=0, max_value=20_000)


@given(
    cap=caps,
    impact=bps,
    move=bps,
    failed=st.none() | bps,
    previous=st.none() | bps,
    failures=st.integers(min_value=0, max_value=5),
    adverse=bps,
)
def test_the_choice_is_never_above_the_cap_nor_below_the_floor(
    *,
    cap: int,
    impact: int,
    move: int,
    failed: int | None,
    previous: int | None,
    failures: int,
    adverse: int,
) -> None:
    choice = choose_tolerance(
        SlippageInputs(cap, impact, move, failed, previous, failures, adverse)
    )
    assert floor_bps(cap) <= choice.bps <= cap
    assert floor_bps(cap) == min(FLOOR_BPS, cap)


@given(cap=caps, impact=bps, move=bps, adverse=st.lists(bps, min_size=1, max_size=6))
def test_each_slippage_retry_widens_until_the_cap(
    cap: int, impact: int, move: int, adverse: list[int]
) -> None:
    chosen = choose_tolerance(SlippageInputs(cap, impact, move)).bps
    for n, seen in enumerate(adverse, start=1):
        again = choose_tolerance(
            SlippageInputs(
                cap, impact, move, previous_bps=chosen, slippage_failures=n, adverse_move_bps=seen
            )
        ).bps
        assert again >= chosen
        assert again == cap or again >= 2 * chosen  # strictly wider until held at the cap
        chosen = again


@given(cap=caps, impact=bps, move=bps, previous=st.integers(min_value=0, max_value=5_000))
def test_a_retry_after_another_failure_never_narrows(
    cap: int, impact: int, move: int, previous: int
) -> None:
    previous = min(previous, cap)
    chosen = choose_tolerance(SlippageInputs(cap, impact, move, previous_bps=previous)).bps
    assert chosen >= previous


def test_the_first_attempt_takes_half_the_impact_and_the_largest_recent_move() -> None:
    choice = choose_tolerance(SlippageInputs(cap_bps=150, impact_bps=7, recent_move_bps=30))
    assert choice.bps == MARGIN_BPS + 4 + 30
    assert choice.reason == "depth 7 bps impact; recent moves up to 30 bps"
    assert choice.to_json()["chosenBps"] == 44
    assert choice.to_json()["maxSlippageBps"] == 150


def test_a_recent_failure_starts_above_the_tolerance_that_failed() -> None:
    choice = choose_tolerance(SlippageInputs(150, 0, 0, failed_tolerance_bps=60))
    assert choice.bps == 60 + MARGIN_BPS
    assert "a recent slippage failure at 60 bps" in choice.reason


def test_a_slippage_retry_adds_the_adverse_move_when_that_is_more_than_doubling() -> None:
    doubled = choose_tolerance(SlippageInputs(150, 0, 0, previous_bps=40, slippage_failures=1))
    assert doubled.bps == 80
    moved = choose_tolerance(
        SlippageInputs(150, 0, 0, previous_bps=20, slippage_failures=1, adverse_move_bps=80)
    )
    assert moved.bps == 20 + 80 + MARGIN_BPS
    held = choose_tolerance(
        SlippageInputs(150, 0, 0, previous_bps=110, slippage_failures=2, adverse_move_bps=80)
    )
    assert held.bps == 150
    assert "held at the cap 150 bps (wanted 220)" in held.reason


def test_a_cap_below_the_floor_is_the_tolerance() -> None:
    assert choose_tolerance(SlippageInputs(cap_bps=3, impact_bps=0)).bps == 3
    with pytest.raises(ValueError, match="at least 1"):
        choose_tolerance(SlippageInputs(cap_bps=0, impact_bps=0))


def test_the_adverse_move_is_how_much_less_the_same_amount_buys() -> None:
    assert adverse_move_bps(1_000_000, 992_000) == 80
    assert adverse_move_bps(1_000_000, 991_999) == 81  # rounded up
    assert adverse_move_bps(1_000_000, 1_000_001) == 0
    assert adverse_move_bps(0, 5) == 0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def test_pool_moves_keep_the_recent_absolute_changes_bounded_and_windowed() -> None:
    clock = Clock()
    moves = PoolMoves(clock)
    moves.observe("p", Fraction(150))
    assert moves.largest_move("p") == 0  # one price is no move
    moves.observe("p", Fraction(15120, 100))  # +80 bps
    moves.observe("p", Fraction(150))  # about -79.4 bps, rounded up
    moves.observe("p", None)  # a pool without a spot price changes nothing
    assert moves.largest_move("p") == 80
    assert move_bps(Fraction(15120, 100), Fraction(150)) == 80
    clock.now += MOVE_WINDOW + timedelta(seconds=1)
    assert moves.largest_move("p") == 0  # too old
    price = Fraction(150)
    for _ in range(MOVES_KEPT + 5):
        price += Fraction(1, 100)
        moves.observe("q", price)
    assert len(moves._moves["q"]) == MOVES_KEPT


def _leg(pool: str, token_in: object, token_out: object) -> RouteLeg:
    return RouteLeg("v", pool, token_in, token_out, Decimal(1), Decimal(1), Decimal(0))  # type: ignore[arg-type]


def test_a_two_hop_route_is_exposed_to_both_hops_moves_a_split_to_its_largest() -> None:
    clock = Clock()
    moves = PoolMoves(clock)
    for pool, move in (("a", 30), ("b", 50), ("c", 20)):
        moves.observe(pool, Fraction(10_000))
        moves.observe(pool, Fraction(10_000 + move))
    split = Route(
        SOL,
        USDC,
        Decimal(2),
        Decimal(2),
        Decimal(2),
        0,
        (_leg("a", SOL, USDC), _leg("b", SOL, USDC)),
    )
    hop = Route(
        SOL,
        BONK,
        Decimal(1),
        Decimal(1),
        Decimal(1),
        0,
        (_leg("a", SOL, USDC), _leg("c", USDC, BONK)),
    )
    assert route_move_bps(moves, split) == 50
    assert route_move_bps(moves, hop) == 50  # 30 then 20


def test_a_routes_tolerance_is_read_back_from_its_floor() -> None:
    route = Route(SOL, USDC, Decimal(1), Decimal(150), Decimal("148.8"), 0, ())
    assert tolerance_of(route) == 80


@pytest.fixture
def world() -> World:
    return World()


async def _routing_details(world: World, order_id: uuid.UUID) -> list[dict[str, Any]]:
    events = await world.store.events(order_id)
    return [e.details["slippage"] for e in events if e.status is OrderStatus.ROUTING]


async def test_an_adaptive_order_widens_on_each_slippage_failure_and_says_why(
    world: World,
) -> None:
    world.gateway.script = [slipped(), slipped(), landed()]
    order = await world.place(slippage_bps=30, max_slippage_bps=30)
    done = await world.engine().execute(order.id, "alice")
    assert done is not None
    assert done.status is OrderStatus.CONFIRMED
    chosen = [d["chosenBps"] for d in await _routing_details(world, order.id)]
    # No impact, no moves seen: the floor; then doubled; then held at the cap.
    assert chosen == [10, 20, 30]
    # 1 SOL at 150 USDC: each transaction's minimum out is the chosen tolerance's floor.
    assert [tx.min_amount_out for tx in world.gateway.built] == [
        150_000_000 * (10_000 - c) // 10_000 for c in chosen
    ]
    events = await world.store.events(order.id)
    routed = [e for e in events if e.status is OrderStatus.ROUTING]
    assert "slippage 10 bps of at most 30" in routed[0].message
    assert "widened after a slippage failure at 10 bps" in routed[1].message
    assert "held at the cap 30 bps (wanted 40)" in routed[2].message


async def test_a_recent_slippage_failure_on_the_pool_starts_the_next_order_wider(
    world: World,
) -> None:
    world.gateway.script = [slipped(), landed(), landed()]
    engine = world.engine()
    first = await world.place(max_slippage_bps=150, slippage_bps=150)
    await engine.execute(first.id, "alice")
    second = await world.place(max_slippage_bps=150, slippage_bps=150)
    await engine.execute(second.id, "alice")
    (detail,) = await _routing_details(world, second.id)
    assert detail["recentFailureBps"] == 10
    assert detail["chosenBps"] == 10 + MARGIN_BPS


async def test_a_fixed_slippage_order_keeps_its_tolerance_on_every_attempt(world: World) -> None:
    world.gateway.script = [slipped(), landed()]
    order = await world.place(slippage_bps=50)
    await world.engine().execute(order.id, "alice")
    assert [tx.min_amount_out for tx in world.gateway.built] == [149_250_000] * 2
    events = await world.store.events(order.id)
    assert all("slippage" not in e.details for e in events)


async def test_an_adaptive_limit_keeps_its_limit_floor_when_that_is_higher(world: World) -> None:
    world.gateway.script = [landed()]
    order = await world.place(
        OrderType.LIMIT, limit_price=Decimal("149.9"), slippage_bps=150, max_slippage_bps=150
    )
    await world.engine().execute(order.id, "alice")
    assert world.gateway.built[0].min_amount_out == 149_900_000


async def test_the_engine_follows_no_market_without_market_data(world: World) -> None:
    slippage = AdaptiveSlippage(Clock())
    slippage.follow(None)
    await slippage.close()
    assert slippage.moves.largest_move("pool-1") == 0


def _decision(pool: str, quotes: dict[str, int]) -> RoutingDecision:
    leg = RouteLeg("v", pool, SOL, USDC, Decimal(1), Decimal(quotes[pool]) / 10**6, Decimal(0))
    route = Route(SOL, USDC, Decimal(1), leg.amount_out, leg.amount_out, 0, (leg,))
    whole = tuple(PoolQuote("v", p, SOL, USDC, 10**9, out, 0, 0) for p, out in quotes.items())
    return RoutingDecision(route=route, quotes=(), pool_quotes=whole)


def test_a_retry_sees_the_move_of_the_pool_it_failed_on_even_when_it_routes_elsewhere() -> None:
    clock = Clock()
    slippage = AdaptiveSlippage(clock)
    order = Order(
        id=uuid.uuid4(),
        user_id="alice",
        type=OrderType.MARKET,
        status=OrderStatus.PENDING,
        token_in=SOL,
        token_out=USDC,
        amount_in=Decimal(1),
        slippage_bps=150,
        created_at=T0,
        updated_at=T0,
        last_seq=1,
        max_slippage_bps=150,
    )
    first = slippage.adapt(order, _decision("a", {"a": 150_000_000, "b": 149_900_000}), 150)
    assert first.choice.bps == FLOOR_BPS
    order.route, order.attempts = first.route, 1
    slippage.slipped(order)
    # Pool a moved 80 bps against the order; the router now prefers pool b, which did not.
    second = slippage.adapt(order, _decision("b", {"a": 148_800_000, "b": 149_900_000}), 150)
    assert second.choice.inputs.adverse_move_bps == 80
    assert second.choice.bps == FLOOR_BPS + 80 + MARGIN_BPS
    assert second.route.min_amount_out == Decimal(149_900_000 * (10_000 - 100) // 10_000) / 10**6
    assert slippage.moves.largest_move("a") == 80  # the next order through a starts wider
    assert slippage.moves.largest_failure({"a"}) == FLOOR_BPS
    slippage.forget(order.id)
    order.route = second.route
    third = slippage.adapt(order, _decision("b", {"a": 148_800_000, "b": 149_900_000}), 150)
    assert third.choice.inputs.slippage_failures == 0  # forgotten: only never narrower
    assert third.choice.bps == 100


class Market:
    """Market data whose feed first fails, then shows pool-1 moving 80 bps, then waits."""

    def __init__(self) -> None:
        self.looks = 0

    async def pools_of(self, mint: str) -> list[PoolState]:
        return []

    async def cursor(self) -> int:
        self.looks += 1
        if self.looks == 1:
            raise VenueUnavailableError("market down")
        return 0

    async def updates(self, after: int) -> AsyncIterator[MarketUpdate]:
        for seq, price in enumerate((Fraction(150), Fraction(15120, 100)), start=1):
            pool = PoolState("fake", "pool-1", SOL, USDC, 1, 1, price)
            yield MarketUpdate(seq, "changed", pool)
        await asyncio.Event().wait()


async def test_the_worker_follows_the_market_after_an_outage_and_keeps_its_moves() -> None:
    slippage = AdaptiveSlippage(Clock(), retry_seconds=0)
    market = Market()
    slippage.follow(market)
    slippage.follow(market)  # once
    for _ in range(20):
        await asyncio.sleep(0)
    await slippage.close()
    assert market.looks == 2
    assert slippage.moves.largest_move("pool-1") == 80


async def test_a_fixed_orders_slippage_failure_starts_the_next_adaptive_order_wider(
    world: World,
) -> None:
    world.gateway.script = [slipped(), landed(), landed()]
    engine = world.engine()
    fixed = await world.place(slippage_bps=40)
    await engine.execute(fixed.id, "alice")
    adaptive = await world.place(max_slippage_bps=150, slippage_bps=150)
    await engine.execute(adaptive.id, "alice")
    (detail,) = await _routing_details(world, adaptive.id)
    assert detail["recentFailureBps"] == 40
    assert detail["chosenBps"] == 40 + MARGIN_BPS

"""Partial fills: the largest part meeting a limit, the least fill, cumulative amounts."""

from __future__ import annotations

import uuid
from dataclasses import replace
from decimal import ROUND_DOWN, Decimal
from typing import cast

import pytest

from eterna.application.triggers.pretrade import Go, PreTrade, Rest, Verdict
from eterna.core.clock import utcnow
from eterna.domain import steps
from eterna.domain.fills import MAX_FILL_QUOTES, default_min_fill, largest_fill
from eterna.domain.orders import Order, OrderEvent, OrderStatus, OrderType, PlaceOrder
from eterna.domain.tokens import BONK, SOL, USDC, format_amount, price_of
from eterna.routing.router import Router, RoutingDecision
from tests.support import steps as make

pytestmark = pytest.mark.anyio

RESERVE_SOL = Decimal(50_000)
RESERVE_USDC = Decimal(7_500_000)


def pool_pays(amount: Decimal) -> Decimal:
    """A constant-product pool with a 0.25 % fee, paying whole micro-USDC."""
    net = amount * Decimal("0.9975")
    return (RESERVE_USDC * net / (RESERVE_SOL + net)).quantize(
        Decimal("0.000001"), rounding=ROUND_DOWN
    )


def exact_largest(limit: Decimal, most: Decimal) -> Decimal:
    low, high = Decimal(0), most
    while high - low > Decimal("0.000001"):
        middle = (low + high) / 2
        if pool_pays(middle) >= middle * limit:
            low = middle
        else:
            high = middle
    return low


@pytest.mark.parametrize("limit", ["149.4", "149", "147", "140", "120"])
async def test_the_part_found_meets_the_limit_and_is_within_the_tolerance(limit: str) -> None:
    quotes: list[Decimal] = []

    async def output(amount: Decimal) -> Decimal | None:
        quotes.append(amount)
        return pool_pays(amount)

    most = Decimal(6_600)
    price = Decimal(limit)
    part = await largest_fill(Decimal(66), most, limit=price, token_in=SOL, output=output)
    best = exact_largest(price, most)
    assert part is not None
    assert pool_pays(part) >= part * price  # it meets the limit on its own quote
    assert part >= best / Decimal("1.002")
    assert part <= best + Decimal("0.000001")
    assert part == part.quantize(Decimal("0.000000001"))  # whole lamports
    assert len(quotes) <= 13  # 1 + log2(ln(100) / ln(1.002)), rounded up
    assert len(quotes) <= MAX_FILL_QUOTES


async def test_no_part_when_the_least_fill_misses_the_limit() -> None:
    async def output(amount: Decimal) -> Decimal | None:
        return pool_pays(amount)

    part = await largest_fill(
        Decimal(500), Decimal(6_600), limit=Decimal(149), token_in=SOL, output=output
    )
    assert part is None  # 500 SOL pays about 148.5 per SOL


async def test_a_route_paying_one_price_then_falling_off_is_found_as_fast() -> None:
    quotes: list[Decimal] = []

    async def output(amount: Decimal) -> Decimal | None:  # one DLMM bin, then a cliff
        quotes.append(amount)
        flat = min(amount, Decimal("654.4")) * Decimal("150.0000005")
        return flat + max(amount - Decimal("654.4"), Decimal(0)) * 50

    part = await largest_fill(
        Decimal("6.6"), Decimal(660), limit=Decimal(150), token_in=SOL, output=output
    )
    assert part is not None
    assert Decimal("654.4") / Decimal("1.002") <= part <= Decimal("654.4")
    assert len(quotes) <= 13


async def test_a_whole_amount_nothing_routes_is_bracketed_by_halving() -> None:
    async def output(amount: Decimal) -> Decimal | None:
        return None if amount > 3_000 else pool_pays(amount)  # an impact filter, say

    part = await largest_fill(
        Decimal(1), Decimal(6_600), limit=Decimal(100), token_in=SOL, output=output
    )
    assert part is not None
    assert Decimal(2_990) <= part <= Decimal(3_000)


def test_the_default_least_fill_is_a_share_rounded_up_to_a_base_unit() -> None:
    assert default_min_fill(Decimal(6_600), SOL, 100) == Decimal(66)
    assert default_min_fill(Decimal("0.000000150"), SOL, 100) == Decimal("0.000000002")
    assert default_min_fill(Decimal("0.000000001"), SOL, 100) == Decimal("0.000000001")
    assert default_min_fill(Decimal(3), BONK, 10_000) == Decimal(3)


def limit_order(min_fill: str | None = "1") -> PlaceOrder:
    return PlaceOrder(
        user_id="alice",
        type=OrderType.LIMIT,
        token_in=SOL,
        token_out=USDC,
        amount_in=Decimal(10),
        limit_price=Decimal(150),
        min_fill=None if min_fill is None else Decimal(min_fill),
    )


def trade(
    order_min_fill: str | None, parts: list[tuple[str, str]]
) -> list[tuple[Order, OrderEvent]]:
    now = utcnow()
    order, _ = limit_order(order_min_fill).open(uuid.uuid4(), now)
    seen: list[tuple[Order, OrderEvent]] = []
    for n, (part, out) in enumerate(parts):
        routed = replace(make.routed(), route=make.route(amount_in=part, amount_out=out))
        for step in (routed, make.built(), make.submitted(signature=f"sig-{n}")):
            order, _ = order.apply(step, now)
        rest = order.remaining_in - Decimal(part)
        fill: steps.Step
        if rest > 0:
            fill = steps.PartlyFilled(
                message="part",
                tx_signature=f"sig-{n}",
                amount_in=Decimal(part),
                amount_out=Decimal(out),
                executed_price=price_of(Decimal(part), Decimal(out)),
            )
        else:
            fill = steps.Confirmed(
                message="rest",
                tx_signature=f"sig-{n}",
                amount_in=Decimal(part),
                amount_out=Decimal(out),
                executed_price=price_of(Decimal(part), Decimal(out)),
            )
        order, event = order.apply(fill, now)
        seen.append((order, event))
        if rest > 0:
            order, _ = order.apply(steps.Fired(message="fired"), now)
    return seen


def test_fills_add_up_and_the_last_part_confirms() -> None:
    (first, first_event), (second, second_event) = trade("1", [("4", "604"), ("6", "901")])

    assert first.status is OrderStatus.WAITING
    assert first.attempts == 0  # the next firing gets the whole retry budget
    assert (first.filled_in, first.remaining_in, first.least_fill_in) == (
        Decimal(4),
        Decimal(6),
        Decimal(1),
    )
    assert first_event.amount_out == Decimal(604)
    assert first.executed_price == Decimal(151)
    assert second.status is OrderStatus.CONFIRMED
    assert (second.filled_in, second.remaining_in) == (Decimal(10), Decimal(0))
    assert second.amount_out == Decimal(1505)
    assert second.executed_price == Decimal("150.5")
    assert second_event.amount_out == Decimal(1505)
    assert [(f.amount_in, f.tx_signature, f.seq) for f in second.fills] == [
        (Decimal(4), "sig-0", 5),
        (Decimal(6), "sig-1", 10),
    ]


def test_the_least_fill_is_what_remains_when_less_is_left() -> None:
    ((order, _),) = trade("3", [("8", "1200")])
    assert order.remaining_in == Decimal(2)
    assert order.least_fill_in == Decimal(2)


def test_an_all_or_none_order_confirms_as_before_without_recorded_fills() -> None:
    now = utcnow()
    order, _ = limit_order(None).open(uuid.uuid4(), now)
    for step in (make.routed(), make.built(), make.submitted()):
        order, _ = order.apply(step, now)
    order, event = order.apply(make.confirmed(amount_out="1500", price="150"), now)
    assert order.status is OrderStatus.CONFIRMED
    assert (order.filled_in, order.amount_out, order.executed_price) == (
        Decimal(10),
        Decimal(1500),
        Decimal(150),
    )
    assert order.fills == ()
    assert event.amount_out == Decimal(1500)


class PoolRouter:
    """A router over the constant-product pool of pool_pays, for the pre-trade check."""

    def __init__(self) -> None:
        self.amounts: list[Decimal] = []

    async def route(
        self,
        token_in: object,
        token_out: object,
        amount: Decimal,
        *,
        slippage_bps: int,
        max_price_impact_bps: int | None = None,
    ) -> RoutingDecision:
        self.amounts.append(amount)
        return RoutingDecision(
            route=make.route(amount_in=str(amount), amount_out=str(pool_pays(amount))),
            quotes=(),
            pool_quotes=(),
        )


async def check(min_fill: str, amount: str, limit: str) -> tuple[Verdict, PoolRouter]:
    router = PoolRouter()
    command = replace(limit_order(min_fill), amount_in=Decimal(amount), limit_price=Decimal(limit))
    order, _ = command.open(uuid.uuid4(), utcnow())
    return await PreTrade(cast("Router", router), None).check(order, utcnow()), router


async def test_the_pre_trade_check_trades_the_largest_part_and_leaves_no_dust() -> None:
    verdict, router = await check("66", "6600", "149")
    assert isinstance(verdict, Go)
    part = verdict.decision.route.amount_in
    assert exact_largest(Decimal(149), Decimal(6_600)) / Decimal("1.002") <= part
    assert verdict.decision.route.min_amount_out >= part * 149  # the part's limit floor
    assert verdict.details["restingAmountIn"] == format_amount(Decimal(6_600) - part)
    assert len(router.amounts) <= 2 + 13  # the whole, the most a part may be, the search

    # Nearly all of it meets the limit: the part stops a least fill short of the whole.
    verdict, _ = await check("66", "6600", "132.3")
    assert isinstance(verdict, Go)
    assert verdict.decision.route.amount_in == Decimal(6_534)


async def test_less_than_two_least_fills_trades_whole_or_waits() -> None:
    verdict, router = await check("66", "100", "149.5")
    assert isinstance(verdict, Rest)
    assert "less than two least fills of 66" in verdict.message
    assert router.amounts == [Decimal(100)]

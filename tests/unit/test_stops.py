"""Stop-loss, take-profit and trailing stops: when they fire, over random price paths too."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eterna.application.ports import take_step
from eterna.application.service import OrderRequest, OrderService
from eterna.application.triggers.checks import Cause, Firing, TriggerChecks
from eterna.application.triggers.pretrade import Go, PreTrade, Refuse, Rest
from eterna.domain import steps
from eterna.domain.errors import LeaseLostError, RejectedError, RejectionCode
from eterna.domain.failures import FailureKind
from eterna.domain.orders import Order, OrderEvent, OrderStatus, OrderType
from eterna.domain.stops import observe, trail_trigger
from eterna.domain.tokens import SOL, USDC
from eterna.domain.triggers import RestingBook, RestingOrder
from models.memory import MemoryOrderStore
from tests.unit.test_service import T0
from tests.unit.test_service import World as ServiceWorld
from tests.unit.test_watcher import World, now, quiet, running, until

pytestmark = pytest.mark.anyio

STOPS = [OrderType.STOP_LOSS, OrderType.TAKE_PROFIT, OrderType.TRAILING_STOP]


# -- the rule ------------------------------------------------------------------------------


def test_stop_loss_fires_at_or_below_its_trigger_and_take_profit_at_or_above() -> None:
    sl, tp = OrderType.STOP_LOSS, OrderType.TAKE_PROFIT
    assert not observe(sl, Decimal("100.01"), trigger_price=Decimal(100)).fires
    assert observe(sl, Decimal(100), trigger_price=Decimal(100)).fires
    assert not observe(tp, Decimal("119.99"), trigger_price=Decimal(120)).fires
    assert observe(tp, Decimal(120), trigger_price=Decimal(120)).fires


def test_trailing_trigger_is_trail_bps_below_the_best_rounded_down() -> None:
    assert trail_trigger(Decimal(150), 100) == Decimal("148.5")
    assert trail_trigger(Decimal(1) / 3, 1) == Decimal("0.333299999999999999")
    first = observe(OrderType.TRAILING_STOP, Decimal(150), trail_bps=100)
    assert (first.best, first.raised, first.fires) == (Decimal(150), True, False)
    lower = observe(OrderType.TRAILING_STOP, Decimal(149), trail_bps=100, best=Decimal(150))
    assert (lower.best, lower.raised, lower.fires) == (Decimal(150), False, False)
    fired = observe(OrderType.TRAILING_STOP, Decimal("148.5"), trail_bps=100, best=Decimal(150))
    assert fired.fires


def test_observing_an_order_that_is_not_a_stop_or_lacks_its_field_is_refused() -> None:
    with pytest.raises(ValueError, match="not a stop"):
        observe(OrderType.LIMIT, Decimal(1), trigger_price=Decimal(1))
    with pytest.raises(ValueError, match="needs a triggerPrice"):
        observe(OrderType.STOP_LOSS, Decimal(1))
    with pytest.raises(ValueError, match="needs trailBps"):
        observe(OrderType.TRAILING_STOP, Decimal(1))


# -- 1,000 random price paths through the watcher's check ---------------------------------

# Prices in cents, so the fake venue (1 SOL in, USDC out, 6 decimals) pays them exactly.
prices = st.integers(min_value=5_000, max_value=20_000).map(lambda c: Decimal(c) / 100)


def drive(
    kind: OrderType, path: list[Decimal], knob: Decimal | int
) -> tuple[int | None, list[Decimal]]:
    """Run the stop check once per market update of the path, as the watcher does.

    Return the update at which the order fired (None: never) and, for a trailing stop, the
    trigger after every update up to then.
    """

    async def run() -> tuple[int | None, list[Decimal]]:
        world = World()
        checks = TriggerChecks(world.router, world.market, concurrency=4)
        fields: dict[str, object] = {"type": kind, "last_seq": 2, "limit_price": None}
        if kind is OrderType.TRAILING_STOP:
            fields["trail_bps"] = knob
        else:
            fields["trigger_price"] = knob
        order = world.repo.rest(**fields)
        fired: list[int] = []
        triggers: list[Decimal] = []
        # One book across the path, as the watcher keeps it: the index holds the best price.
        book, pair = RestingBook(), (SOL.mint, USDC.mint)
        book.add(RestingOrder.of(order))
        # Stops of a smaller and a larger amount that never fire: the order's group is then
        # one the checks may skip when the ends' prices bound it away from its trigger.
        companions = {
            o.id: o
            for o in (
                world.repo.rest(
                    type=OrderType.STOP_LOSS,
                    trigger_price=Decimal("0.01"),
                    amount_in=amount,
                    limit_price=None,
                )
                for amount in (Decimal("0.5"), Decimal(2))
            )
        }
        for companion in companions.values():
            book.add(RestingOrder.of(companion))
        for i, price in enumerate(path):
            world.price(str(price))

            async def fire(firing: Firing, i: int = i, seen: Decimal = price) -> None:
                assert Decimal(firing.details["price"]) == seen
                fired.append(i)

            async def raised(marks: list[tuple[uuid.UUID, Decimal]]) -> None:
                nonlocal order
                ((_, best),) = marks
                order = replace(order, trail_best=best)

            await checks.stops(
                (SOL, USDC),
                book.stop_groups(pair),
                ({order.id: order} | companions).get,
                cause=Cause("update"),
                fire=fire,
                raised=raised,
            )
            if order.trail_best is not None and order.trail_bps is not None:
                triggers.append(trail_trigger(order.trail_best, order.trail_bps))
            if fired:
                return fired[0], triggers
        return None, triggers

    return asyncio.run(run())


@settings(max_examples=1_000, deadline=None)
@given(
    st.sampled_from([OrderType.STOP_LOSS, OrderType.TAKE_PROFIT]),
    st.lists(prices, min_size=1, max_size=30),
    prices,
)
def test_a_stop_fires_at_the_first_update_that_crosses_its_trigger_never_before(
    kind: OrderType, path: list[Decimal], trigger: Decimal
) -> None:
    fired, _ = drive(kind, path, trigger)
    if kind is OrderType.STOP_LOSS:
        crossed = [i for i, p in enumerate(path) if p <= trigger]
    else:
        crossed = [i for i, p in enumerate(path) if p >= trigger]
    assert fired == (crossed[0] if crossed else None)


@settings(max_examples=1_000, deadline=None)
@given(st.lists(prices, min_size=1, max_size=30), st.integers(min_value=1, max_value=5_000))
def test_a_trailing_stop_never_lowers_its_trigger_and_fires_at_the_first_fall_below_it(
    path: list[Decimal], trail: int
) -> None:
    fired, triggers = drive(OrderType.TRAILING_STOP, path, trail)
    assert triggers == sorted(triggers)  # the trigger never moves down
    expected, best = None, Decimal(0)
    for i, price in enumerate(path):
        best = max(best, price)
        if price <= trail_trigger(best, trail):
            expected = i
            break
    assert fired == expected


@settings(max_examples=200, deadline=None)
@given(st.booleans(), st.integers(min_value=0, max_value=3))
def test_a_firing_and_a_cancel_racing_on_one_stop_end_in_exactly_one_outcome(
    cancel_first: bool, head_start: int
) -> None:
    async def race() -> list[OrderEvent]:
        store = MemoryOrderStore()
        world = World()
        world.repo = store  # type: ignore[assignment]
        at = now()
        order = Order(
            id=uuid.uuid4(),
            user_id="alice",
            type=OrderType.STOP_LOSS,
            status=OrderStatus.WAITING,
            token_in=SOL,
            token_out=USDC,
            amount_in=Decimal(1),
            slippage_bps=50,
            created_at=at,
            updated_at=at,
            last_seq=2,
            trigger_price=Decimal(100),
        )
        history = [OrderEvent(order.id, "alice", s, OrderStatus.WAITING, at, 0, "") for s in (1, 2)]
        store.put(order, history)

        async def write(step: steps.Step, delay: int) -> bool:
            for _ in range(delay):
                await asyncio.sleep(0)
            try:
                await take_step(store, order, step, owner=None, now=at, lease_until=at)
            except LeaseLostError:
                return False
            return True

        fire = write(steps.Fired(message="fired"), 0 if not cancel_first else head_start)
        cancel = write(steps.Cancelled(message="cancelled"), head_start if not cancel_first else 0)
        won = await asyncio.gather(fire, cancel)
        assert sum(won) == 1
        return await store.events(order.id, after_seq=2)

    events = asyncio.run(race())
    assert len(events) == 1
    assert events[0].status in (OrderStatus.PENDING, OrderStatus.CANCELLED)


# -- the watcher --------------------------------------------------------------------------


@pytest.fixture
def world() -> World:
    return World()


async def test_stop_loss_fires_on_the_update_its_price_falls_to_the_trigger(world: World) -> None:
    world.price("150")
    order = world.repo.rest(type=OrderType.STOP_LOSS, trigger_price=Decimal(140))
    async with running(world.watcher()):
        world.price("141")
        world.move()
        await quiet()
        assert world.out.queued == []
        world.price("139.5")
        world.move()
        await until(lambda: world.out.queued == [order.id])
    (fire,) = world.repo.fires()
    assert world.repo.orders[order.id].fired_at == fire.at
    assert fire.details["trigger"] == "stopLoss"
    assert fire.details["price"] == "139.5"
    assert fire.details["triggerPrice"] == "140"
    assert fire.details["pool"] == "pool-sol"
    assert "stop loss 140 reached" in fire.message


async def test_take_profit_fires_when_its_price_rises_and_not_when_it_falls(world: World) -> None:
    world.price("150")
    order = world.repo.rest(type=OrderType.TAKE_PROFIT, trigger_price=Decimal(160))
    async with running(world.watcher()):
        world.price("120")
        world.move()
        await quiet()
        assert world.out.queued == []
        world.price("160")
        world.move()
        await until(lambda: world.out.queued == [order.id])


async def stored_best(world: World, order_id: uuid.UUID, best: Decimal) -> None:
    """Wait until the store holds this best price for the trailing stop."""
    for _ in range(400):
        stored = await world.repo.get(order_id)
        if stored is not None and stored.trail_best == best:
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"best price {best} not stored in time")


async def test_trailing_best_survives_a_watcher_restart_and_the_stop_fires_below_it(
    world: World,
) -> None:
    world.price("150")
    order = world.repo.rest(type=OrderType.TRAILING_STOP, trail_bps=1_000)
    async with running(world.watcher()):
        await stored_best(world, order.id, Decimal(150))
        world.price("200")
        world.move()
        await stored_best(world, order.id, Decimal(200))
    world.price("185")  # a new watcher that forgot the best would trail 10 % below 185
    async with running(world.watcher()):
        await quiet()
        assert world.out.queued == []
        world.price("179")  # below 200 - 10 %, far above 185 - 10 %
        world.move()
        await until(lambda: world.out.queued == [order.id])
    fire = world.repo.fires()[-1]
    assert fire.details["trigger"] == "trailingStop"
    assert fire.details["bestPrice"] == "200"
    assert fire.details["triggerPrice"] == "180"
    assert fire.details["price"] == "179"


async def test_trailing_best_is_never_lowered_in_the_store(world: World) -> None:
    order = world.repo.rest(type=OrderType.TRAILING_STOP, trail_bps=100)
    await world.repo.raise_trail_best([(order.id, Decimal(150))])
    await world.repo.raise_trail_best([(order.id, Decimal(140))])
    stored = await world.repo.get(order.id)
    assert stored is not None
    assert stored.trail_best == Decimal(150)


async def test_cancel_landing_before_a_stop_fires_wins_and_nothing_is_queued(
    world: World,
) -> None:
    world.price("150")
    order = world.repo.rest(type=OrderType.STOP_LOSS, trigger_price=Decimal(140))

    def cancel_first(target: Order, event: OrderEvent) -> None:
        assert event.status is OrderStatus.PENDING
        world.repo.write(world.repo.orders[target.id], steps.Cancelled(message="cancelled"), now())

    world.repo.before_apply = cancel_first
    watcher = world.watcher()
    async with running(watcher):
        world.price("130")
        world.move()
        await until(lambda: world.repo.before_apply is None)
        await quiet()
    assert world.out.queued == []
    assert [e.status for e in world.repo.written] == [OrderStatus.CANCELLED]
    assert order.id not in watcher.book


# -- before trading -----------------------------------------------------------------------


async def test_a_new_stop_rests_unless_its_trigger_already_holds(world: World) -> None:
    world.price("150")
    pretrade = PreTrade(world.router, world.market)
    above = world.repo.rest(
        type=OrderType.STOP_LOSS, status=OrderStatus.PENDING, last_seq=1, trigger_price=Decimal(140)
    )
    beyond = world.repo.rest(
        type=OrderType.STOP_LOSS, status=OrderStatus.PENDING, last_seq=1, trigger_price=Decimal(155)
    )
    trailing = world.repo.rest(
        type=OrderType.TRAILING_STOP, status=OrderStatus.PENDING, last_seq=1, trail_bps=50
    )
    # Its first look failed to quote and was retried: it never fired, so it is checked.
    retried = world.repo.rest(
        type=OrderType.STOP_LOSS,
        status=OrderStatus.PENDING,
        last_seq=2,
        attempts=1,
        trigger_price=Decimal(140),
    )
    assert isinstance(await pretrade.check(retried, now()), Rest)
    rest = await pretrade.check(above, now())
    assert isinstance(rest, Rest)
    assert "the stop-loss fires at 140" in rest.message
    assert isinstance(await pretrade.check(beyond, now()), Go)
    assert isinstance(await pretrade.check(trailing, now()), Rest)


async def test_a_fired_stop_trades_above_its_limit_floor_or_fails_with_nothing_sent(
    world: World,
) -> None:
    world.price("130")
    pretrade = PreTrade(world.router, world.market)
    fired = {
        "type": OrderType.STOP_LOSS,
        "status": OrderStatus.PENDING,
        "last_seq": 3,
        "fired_at": now(),
    }
    plain = world.repo.rest(**fired, trigger_price=Decimal(140))
    floored = world.repo.rest(**fired, trigger_price=Decimal(140), limit_price=Decimal("129.9"))
    below = world.repo.rest(**fired, trigger_price=Decimal(140), limit_price=Decimal("135"))

    go = await pretrade.check(plain, now())  # fired: no trigger check even if it recovered
    assert isinstance(go, Go)
    assert go.decision.route.min_amount_out == Decimal("129.35")  # the 50 bps slippage floor
    raised = await pretrade.check(floored, now())
    assert isinstance(raised, Go)
    assert raised.decision.route.min_amount_out == Decimal("129.9")
    refused = await pretrade.check(below, now())
    assert isinstance(refused, Refuse)
    assert refused.failure is FailureKind.BELOW_LIMIT_PRICE
    world.price("150")  # a fired stop does not go back to WAITING when the price recovers
    assert isinstance(await pretrade.check(plain, now()), Go)


# -- placement ----------------------------------------------------------------------------


def service() -> OrderService:
    return ServiceWorld().service()


@pytest.mark.parametrize(
    ("fields", "field", "text"),
    [
        ({"type": OrderType.STOP_LOSS}, "triggerPrice", "needs a triggerPrice"),
        ({"type": OrderType.TAKE_PROFIT}, "triggerPrice", "needs a triggerPrice"),
        (
            {"type": OrderType.STOP_LOSS, "trigger_price": Decimal(0)},
            "triggerPrice",
            "must be positive",
        ),
        (
            {"type": OrderType.STOP_LOSS, "trigger_price": Decimal("1.0000000000000000001")},
            "triggerPrice",
            "at most 18 decimals",
        ),
        ({"type": OrderType.TRAILING_STOP}, "trailBps", "needs trailBps"),
        ({"type": OrderType.TRAILING_STOP, "trail_bps": 0}, "trailBps", "between 1 and 5000"),
        ({"type": OrderType.TRAILING_STOP, "trail_bps": 5_001}, "trailBps", "between 1 and 5000"),
        (
            {"type": OrderType.TRAILING_STOP, "trail_bps": 10, "trigger_price": Decimal(1)},
            "triggerPrice",
            "only for STOP_LOSS and TAKE_PROFIT",
        ),
        (
            {"type": OrderType.STOP_LOSS, "trigger_price": Decimal(1), "trail_bps": 10},
            "trailBps",
            "only for TRAILING_STOP",
        ),
        (
            {
                "type": OrderType.STOP_LOSS,
                "trigger_price": Decimal(140),
                "limit_price": Decimal(141),
            },
            "limitPrice",
            "above triggerPrice",
        ),
        (
            {
                "type": OrderType.TAKE_PROFIT,
                "trigger_price": Decimal(160),
                "limit_price": Decimal(161),
            },
            "limitPrice",
            "above triggerPrice",
        ),
        ({"type": OrderType.LIMIT, "limit_price": Decimal(1), "trail_bps": 5}, "trailBps", "only"),
        ({"type": OrderType.MARKET, "trigger_price": Decimal(5)}, "triggerPrice", "only"),
    ],
)
def test_stop_fields_are_refused_with_the_field_named(
    fields: dict[str, Any], field: str, text: str
) -> None:
    base = OrderRequest(
        type=OrderType.MARKET, token_in="SOL", token_out="USDC", amount_in=Decimal(1)
    )
    request = replace(base, **fields)
    with pytest.raises(RejectedError) as caught:
        service().validate("alice", request)
    assert caught.value.code is RejectionCode.INVALID_INPUT
    assert caught.value.field == field
    assert text in str(caught.value)


@pytest.mark.parametrize("kind", STOPS)
def test_a_valid_stop_is_accepted_and_expires_at_the_horizon_by_default(kind: OrderType) -> None:
    knobs: dict[str, Any] = (
        {"trail_bps": 250, "limit_price": Decimal(100)}
        if kind is OrderType.TRAILING_STOP
        else {"trigger_price": Decimal(140), "limit_price": Decimal(130)}
    )
    base = OrderRequest(type=kind, token_in="SOL", token_out="USDC", amount_in=Decimal(1))
    request = replace(base, **knobs)
    command = service().validate("alice", request)
    assert command.type is kind
    assert command.expires_at == T0 + timedelta(days=30)
    assert (command.trigger_price, command.trail_bps) == (
        knobs.get("trigger_price"),
        knobs.get("trail_bps"),
    )

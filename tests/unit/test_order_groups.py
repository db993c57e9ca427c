"""OCO groups: placing them, and the first leg to fire cancelling the other, exactly once.

The property test drives a group through 1,000 random price paths on the fake market of the
watcher's tests: the worker's first look at both legs (the engine, concurrently), then the
trigger watcher's checks at every market update (both legs' checks concurrently), each leg
that fires executed by the engine to CONFIRMED on a scripted chain, with a user's cancel and
an expiry thrown in at random updates.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eterna.application.engine import EngineConfig, ExecutionEngine
from eterna.application.ports import take_step
from eterna.application.service import OrderRequest, ServiceLimits
from eterna.application.triggers.checks import Cause
from eterna.domain import steps
from eterna.domain.errors import LeaseLostError, RejectedError, RejectionCode
from eterna.domain.groups import SIBLING_FIRED, StepWrite, cancel_sibling
from eterna.domain.orders import Order, OrderEvent, OrderStatus, OrderType, PlaceOrder
from eterna.domain.stops import trail_trigger
from eterna.domain.tokens import SOL, USDC
from eterna.routing.venues import Transaction, TxState, TxStatus
from tests.unit.test_engine import Gateway
from tests.unit.test_service import World as ServiceWorld
from tests.unit.test_watcher import World, now

pytestmark = pytest.mark.anyio

TAKE_PROFIT = OrderRequest(
    OrderType.TAKE_PROFIT, "SOL", "USDC", Decimal(1), trigger_price=Decimal(170)
)
STOP_LOSS = replace(TAKE_PROFIT, type=OrderType.STOP_LOSS, trigger_price=Decimal(130))


# -- placing ---------------------------------------------------------------------------------


async def test_a_group_stores_both_legs_with_one_group_id_and_hands_them_to_the_watcher() -> None:
    world = ServiceWorld()
    service = world.service()
    group = await service.place_group("alice", [TAKE_PROFIT, STOP_LOSS])
    assert not isinstance(group, RejectedError)
    assert [o.type for o in group.orders] == [OrderType.TAKE_PROFIT, OrderType.STOP_LOSS]
    assert {o.group_id for o in group.orders} == {group.id}
    assert await service.settle(1)
    assert sorted(q.order_id for q in world.out.taken_in) == sorted(o.id for o in group.orders)
    assert world.out.queued == []
    read = await service.get_group("alice", str(group.id))
    assert read is not None
    assert sorted(o.id for o in read.orders) == sorted(o.id for o in group.orders)
    assert await service.get_group("bob", str(group.id)) is None  # not yours: no such group
    assert await service.get_group("alice", "not-a-uuid") is None


@pytest.mark.parametrize(
    ("legs", "code", "field"),
    [
        ([TAKE_PROFIT], RejectionCode.INVALID_INPUT, "legs"),
        ([TAKE_PROFIT, STOP_LOSS, STOP_LOSS], RejectionCode.INVALID_INPUT, "legs"),
        (
            [TAKE_PROFIT, replace(STOP_LOSS, type=OrderType.MARKET, trigger_price=None)],
            RejectionCode.INVALID_INPUT,
            "legs[1].type",
        ),
        (
            [replace(TAKE_PROFIT, type=OrderType.SNIPER, trigger_price=None), STOP_LOSS],
            RejectionCode.INVALID_INPUT,
            "legs[0].type",
        ),
        (
            [TAKE_PROFIT, replace(STOP_LOSS, trigger_price=None)],
            RejectionCode.INVALID_INPUT,
            "legs[1].triggerPrice",
        ),
        (
            [TAKE_PROFIT, replace(STOP_LOSS, token_in="USDC", token_out="SOL")],
            RejectionCode.INVALID_INPUT,
            "legs[1].tokenIn",
        ),
        (
            [replace(TAKE_PROFIT, amount_in=Decimal("0.0000000001")), STOP_LOSS],
            RejectionCode.INVALID_AMOUNT,
            "legs[0].amountIn",
        ),
        (
            [TAKE_PROFIT, replace(STOP_LOSS, client_order_id="sl-1")],
            RejectionCode.INVALID_INPUT,
            "legs[1].clientOrderId",
        ),
        (
            [replace(TAKE_PROFIT, client_order_id="k"), replace(STOP_LOSS, client_order_id="k")],
            RejectionCode.INVALID_INPUT,
            "legs[1].clientOrderId",
        ),
    ],
)
async def test_a_bad_group_is_refused_whole_naming_the_leg(
    legs: list[OrderRequest], code: RejectionCode, field: str
) -> None:
    world = ServiceWorld()
    refused = await world.service().place_group("alice", legs)
    assert isinstance(refused, RejectedError)
    assert (refused.code, refused.field) == (code, field)
    assert (await world.store.open_orders("alice")).open == 0  # neither leg was stored


async def test_placing_a_keyed_group_again_returns_the_first_and_announces_nothing() -> None:
    world = ServiceWorld()
    service = world.service()
    keyed = [
        replace(TAKE_PROFIT, client_order_id="tp-1"),
        replace(STOP_LOSS, client_order_id="sl-1"),
    ]
    first = await service.place_group("alice", keyed)
    assert not isinstance(first, RejectedError)
    assert await service.settle(1)
    announced = len(world.out.taken_in)
    again = await service.place_group("alice", keyed)
    assert not isinstance(again, RejectedError)
    assert again.id == first.id
    assert [o.id for o in again.orders] == [o.id for o in first.orders]
    assert await service.settle(1)
    assert len(world.out.taken_in) == announced
    assert (await world.store.open_orders("alice")).open == 2
    # A key another order holds: refused, naming the leg.
    (plain,) = await service.place("alice", [replace(TAKE_PROFIT, client_order_id="solo")])
    assert not isinstance(plain, RejectedError)
    clash = [
        replace(TAKE_PROFIT, client_order_id="tp-2"),
        replace(STOP_LOSS, client_order_id="solo"),
    ]
    refused = await service.place_group("alice", clash)
    assert isinstance(refused, RejectedError)
    assert (refused.code, refused.field) == (RejectionCode.INVALID_INPUT, "legs[1].clientOrderId")
    mixed = [
        replace(TAKE_PROFIT, client_order_id="tp-1"),
        replace(STOP_LOSS, client_order_id="x"),
    ]
    refused = await service.place_group("alice", mixed)
    assert isinstance(refused, RejectedError)
    assert refused.field == "legs[0].clientOrderId"


async def test_a_group_counts_as_two_orders_against_the_caps_and_is_refused_whole() -> None:
    world = ServiceWorld()
    service = world.service(ServiceLimits(max_notional_usd=Decimal(0), max_open=3))
    (alone,) = await service.place("alice", [TAKE_PROFIT])
    assert not isinstance(alone, RejectedError)
    first = await service.place_group("alice", [TAKE_PROFIT, STOP_LOSS])
    assert not isinstance(first, RejectedError)
    refused = await service.place_group("alice", [TAKE_PROFIT, STOP_LOSS])
    assert isinstance(refused, RejectedError)
    assert refused.code is RejectionCode.TOO_MANY_OPEN_ORDERS
    assert (await world.store.open_orders("alice")).open == 3  # no leg of it was stored


async def test_cancelling_a_group_cancels_its_open_legs_and_then_refuses() -> None:
    world = ServiceWorld()
    service = world.service()
    group = await service.place_group("alice", [TAKE_PROFIT, STOP_LOSS])
    assert not isinstance(group, RejectedError)
    with pytest.raises(RejectedError) as missing:
        await service.cancel_group("bob", str(group.id))
    assert missing.value.code is RejectionCode.NOT_FOUND
    cancelled = await service.cancel_group("alice", str(group.id))
    assert [o.status for o in cancelled.orders] == [OrderStatus.CANCELLED] * 2
    with pytest.raises(RejectedError) as again:
        await service.cancel_group("alice", str(group.id))
    assert again.value.code is RejectionCode.NOT_CANCELLABLE


# -- the joined write ------------------------------------------------------------------------


async def _resting_group(world: World, *legs: dict[str, object]) -> list[Order]:
    """Place a group on the watcher's store and rest its legs (WAITING, seq 2)."""
    group_id = uuid.uuid4()
    commands = [
        PlaceOrder(
            user_id="alice",
            type=OrderType(str(leg.get("type", OrderType.STOP_LOSS.value))),
            token_in=SOL,
            token_out=USDC,
            amount_in=Decimal(1),
            group_id=group_id,
            expires_at=now() + timedelta(days=1),
            **{k: v for k, v in leg.items() if k != "type"},  # type: ignore[arg-type]
        )
        for leg in legs
    ]
    placed = [p.order for p in await world.repo.place(commands, now())]
    rested = []
    for order in placed:
        after, _ = await take_step(
            world.repo,
            order,
            steps.Rested(message="waiting"),
            owner=None,
            now=now(),
            lease_until=now(),
        )
        rested.append(after)
    return rested


async def test_both_legs_firing_in_one_update_fire_one_and_cancel_the_other() -> None:
    world = World()
    world.price("150")
    tp, sl = await _resting_group(
        world,
        {"type": "TAKE_PROFIT", "trigger_price": Decimal(140)},
        {"type": "LIMIT", "limit_price": Decimal(145)},
    )
    watcher = world.watcher()
    cause = Cause("update", {"pool": "pool-sol", "venue": "fake"})
    await watcher._load(cause)
    pair = (SOL.mint, USDC.mint)
    await asyncio.gather(watcher._check_stops(pair, cause), watcher._check_pair(pair, cause))
    orders = {o.id: o for o in [await world.repo.get(tp.id), await world.repo.get(sl.id)] if o}
    fired = [o for o in orders.values() if o.status is OrderStatus.PENDING]
    cancelled = [o for o in orders.values() if o.status is OrderStatus.CANCELLED]
    assert len(fired) == 1
    assert len(cancelled) == 1
    assert world.out.queued == [fired[0].id]
    (cancel,) = [e for e in world.repo.all_events() if e.status is OrderStatus.CANCELLED]
    assert cancel.details["reason"] == SIBLING_FIRED
    assert cancel.details["siblingId"] == str(fired[0].id)
    assert f"OCO sibling {fired[0].id} fired" in cancel.message
    assert cancelled[0].id not in watcher.book


async def test_a_leg_whose_sibling_fired_first_cannot_fire() -> None:
    world = World()
    a, b = await _resting_group(
        world,
        {"type": "STOP_LOSS", "trigger_price": Decimal(100)},
        {"type": "TAKE_PROFIT", "trigger_price": Decimal(200)},
    )
    at = now()
    fired_a, event_a = a.apply(steps.Fired(message="fired"), at)
    joined = cancel_sibling(b, a, at)
    assert joined is not None
    await world.repo.record_joined(
        [StepWrite(a, fired_a, event_a), joined], owner=None, lease_until=at
    )
    # b's own firing, with what it read before a fired: its guard is broken, nothing written.
    fired_b, event_b = b.apply(steps.Fired(message="fired"), at)
    back = a.apply(steps.Cancelled(message="x"), at)
    with pytest.raises(LeaseLostError):
        await world.repo.record_joined(
            [StepWrite(b, fired_b, event_b), StepWrite(a, *back)], owner=None, lease_until=at
        )
    # And a fresh read says the sibling fired: cancelling it is refused up front.
    with pytest.raises(LeaseLostError):
        cancel_sibling(fired_a, joined.after, at)
    assert [e.status for e in await world.repo.events(b.id)][-1] is OrderStatus.CANCELLED


# -- 1,000 random price paths ----------------------------------------------------------------

# Prices in cents, so the fake venue (1 SOL in, USDC out, 6 decimals) pays them exactly.
prices = st.integers(min_value=5_000, max_value=20_000).map(lambda c: Decimal(c) / 100)
LEG_KINDS = [OrderType.STOP_LOSS, OrderType.TAKE_PROFIT, OrderType.TRAILING_STOP, OrderType.LIMIT]


@st.composite
def legs(draw: st.DrawFn) -> dict[str, object]:
    kind = draw(st.sampled_from(LEG_KINDS))
    if kind is OrderType.TRAILING_STOP:
        return {"type": kind.value, "trail_bps": draw(st.integers(1, 3_000))}
    if kind is OrderType.LIMIT:
        return {"type": kind.value, "limit_price": draw(prices)}
    return {"type": kind.value, "trigger_price": draw(prices)}


def first_hold(leg: dict[str, object], path: list[Decimal]) -> int | None:
    """Return the update at which the leg's condition first holds, computed on its own."""
    best = Decimal(0)
    for i, price in enumerate(path):
        kind = OrderType(str(leg["type"]))
        if kind is OrderType.STOP_LOSS and price <= leg["trigger_price"]:  # type: ignore[operator]
            return i
        if kind is OrderType.TAKE_PROFIT and price >= leg["trigger_price"]:  # type: ignore[operator]
            return i
        if kind is OrderType.LIMIT and price >= leg["limit_price"]:  # type: ignore[operator]
            return i
        if kind is OrderType.TRAILING_STOP:
            best = max(best, price)
            if i > 0 and price <= trail_trigger(best, int(leg["trail_bps"])):  # type: ignore[call-overload]
                return i
    return None


class Chain(Gateway):
    """A chain on which every transaction lands, paying its minimum output."""

    async def status(self, tx: Transaction) -> TxStatus:
        return TxStatus(TxState.CONFIRMED, slot=7, amount_out=tx.min_amount_out)


def run_group(
    *,
    leg_a: dict[str, object],
    leg_b: dict[str, object],
    path: list[Decimal],
    cancel_at: int | None,
    cancel_leg: int,
    expire_at: int | None,
) -> tuple[list[Order], list[OrderEvent]]:
    async def run() -> tuple[list[Order], list[OrderEvent]]:
        world = World()
        world.price(str(path[0]))
        group_id = uuid.uuid4()
        commands = [
            PlaceOrder(
                user_id="alice",
                type=OrderType(str(leg["type"])),
                token_in=SOL,
                token_out=USDC,
                amount_in=Decimal(1),
                group_id=group_id,
                expires_at=now() + timedelta(days=1),
                **{k: v for k, v in leg.items() if k != "type"},  # type: ignore[arg-type]
            )
            for leg in (leg_a, leg_b)
        ]
        ids = [p.order.id for p in await world.repo.place(commands, now())]

        async def no_sleep(seconds: float) -> None:
            await asyncio.sleep(0)

        engines = [
            ExecutionEngine(
                world.repo,
                world.router,
                Chain(),
                world.out,
                EngineConfig(confirm_poll_ms=1),
                owner=f"w{i}",
                clock=now,
                sleep=no_sleep,
            )
            for i in range(2)
        ]
        # The workers' first look at both new legs, at once (each may fire there).
        await asyncio.gather(*(e.execute(i, "alice") for e, i in zip(engines, ids, strict=True)))
        watcher = world.watcher()
        pair = (SOL.mint, USDC.mint)
        executed: set[uuid.UUID] = set()
        for i, price in enumerate(path):
            world.price(str(price))
            cause = Cause("update", {"pool": "pool-sol", "venue": "fake"})
            await watcher._load(cause)  # the book as the order events would keep it
            racing = [watcher._check_stops(pair, cause), watcher._check_pair(pair, cause)]
            if cancel_at == i:
                racing.append(cancel(world, ids[cancel_leg]))
            await asyncio.gather(*racing)
            for queued in world.out.queued:
                if queued not in executed:
                    executed.add(queued)
                    await engines[0].execute(queued, "alice")
            if expire_at == i:
                await expire(world, ids)
        await expire(world, ids)  # the path ends at the legs' expiry
        orders = [o for i in ids if (o := await world.repo.get(i)) is not None]
        return orders, world.repo.all_events()

    return asyncio.run(run())


async def cancel(world: World, order_id: uuid.UUID) -> None:
    """The owner's cancel, read then written guarded by last_seq, as the service does."""
    await asyncio.sleep(0)
    order = await world.repo.get(order_id)
    if order is None or order.status not in (OrderStatus.PENDING, OrderStatus.WAITING):
        return
    try:
        await take_step(
            world.repo,
            order,
            steps.Cancelled(message="cancelled by its owner"),
            owner=None,
            now=now(),
            lease_until=now(),
        )
    except LeaseLostError:
        return


async def expire(world: World, ids: list[uuid.UUID]) -> None:
    for order_id in ids:
        order = await world.repo.get(order_id)
        if order is not None and order.status is OrderStatus.WAITING:
            await take_step(
                world.repo,
                order,
                steps.Expired(message="expired"),
                owner=None,
                now=now(),
                lease_until=now(),
            )


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, object]:
    """Two legs, a path of market updates, and when an owner's cancel and an expiry land."""
    return {
        "leg_a": draw(legs()),
        "leg_b": draw(legs()),
        "path": draw(st.lists(prices, min_size=1, max_size=12)),
        "cancel_at": draw(st.one_of(st.none(), st.integers(0, 11))),
        "cancel_leg": draw(st.integers(0, 1)),
        "expire_at": draw(st.one_of(st.none(), st.integers(0, 11))),
    }


@settings(max_examples=1_000, deadline=None)
@given(scenarios())
def test_every_group_ends_with_one_leg_filled_or_none_never_two(
    scenario: dict[str, object],
) -> None:
    leg_a: dict[str, object] = scenario["leg_a"]  # type: ignore[assignment]
    leg_b: dict[str, object] = scenario["leg_b"]  # type: ignore[assignment]
    path: list[Decimal] = scenario["path"]  # type: ignore[assignment]
    cancel_at: int | None = scenario["cancel_at"]  # type: ignore[assignment]
    expire_at: int | None = scenario["expire_at"]  # type: ignore[assignment]
    orders, events = run_group(**scenario)  # type: ignore[arg-type]
    statuses = [o.status for o in orders]
    assert all(
        s in (OrderStatus.CONFIRMED, OrderStatus.CANCELLED, OrderStatus.EXPIRED) for s in statuses
    ), statuses
    assert statuses.count(OrderStatus.CONFIRMED) <= 1
    fires = {e.order_id for e in events if e.status is OrderStatus.PENDING and e.seq > 1}
    assert len(fires) <= 1  # never did both legs fire
    if fires:
        (winner,) = fires
        (fired,) = [o for o in orders if o.id == winner]
        assert fired.status is OrderStatus.CONFIRMED or cancel_at is not None
    for event in events:
        if event.status is OrderStatus.CANCELLED and event.details.get("reason") == SIBLING_FIRED:
            assert event.details["siblingId"] in {str(i) for i in fires}
    # Untouched by a cancel or an early expiry: the leg whose condition held first filled.
    holds = [first_hold(leg_a, path), first_hold(leg_b, path)]
    interfered = [x for x in (cancel_at, expire_at) if x is not None]
    reached = [h for h in holds if h is not None]
    if not reached or (interfered and min(interfered) <= min(reached)):
        if not reached:
            assert OrderStatus.CONFIRMED not in statuses
        return
    if interfered:
        return  # a cancel or an expiry after the first hold: covered by the invariants above
    first = min(reached)
    winners = {i for i, h in enumerate(holds) if h == first}
    confirmed = [i for i, o in enumerate(orders) if o.status is OrderStatus.CONFIRMED]
    assert len(confirmed) == 1
    assert confirmed[0] in winners
    (loser,) = [o for i, o in enumerate(orders) if i != confirmed[0]]
    assert loser.status is OrderStatus.CANCELLED


def test_a_user_cancel_racing_both_firings_still_ends_in_one_outcome() -> None:
    # Both legs hold at the first update and the owner cancels one of them at that moment.
    for cancel_leg in (0, 1):
        orders, _ = run_group(
            leg_a={"type": "TAKE_PROFIT", "trigger_price": Decimal(100)},
            leg_b={"type": "LIMIT", "limit_price": Decimal(100)},
            path=[Decimal(90), Decimal(150)],
            cancel_at=1,
            cancel_leg=cancel_leg,
            expire_at=None,
        )
        statuses = sorted(o.status.value for o in orders)
        # The cancel lands first (the other leg fills), or on the leg that fired (both end
        # cancelled, nothing sent), or too late on the sibling the firing cancelled.
        assert statuses in (["CANCELLED", "CONFIRMED"], ["CANCELLED", "CANCELLED"]), statuses


def test_a_leg_placed_beyond_its_trigger_fires_on_the_first_look_and_cancels_its_sibling() -> None:
    orders, events = run_group(
        leg_a={"type": "STOP_LOSS", "trigger_price": Decimal(160)},
        leg_b={"type": "TAKE_PROFIT", "trigger_price": Decimal(200)},
        path=[Decimal(150)],
        cancel_at=None,
        cancel_leg=0,
        expire_at=None,
    )
    assert [o.status for o in orders] == [OrderStatus.CONFIRMED, OrderStatus.CANCELLED]
    first_look = [e for e in events if e.order_id == orders[0].id]
    assert [e.status for e in first_look][:3] == [
        OrderStatus.PENDING,
        OrderStatus.PENDING,
        OrderStatus.ROUTING,
    ]
    assert first_look[1].details["trigger"] == "stopLoss"

"""TWAP orders: the exact split, the schedule, the moves, and the scheduler on the memory store.

The scheduler tests drive a clock by hand and finish slices the way a worker would (steps on
the store), so each shows what the parent stores and says at every moment; "crashes" are a
scheduler thrown away mid-run and a new one started on the same store.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eterna.application.ports import QueuedOrder, take_step
from eterna.application.twap import TwapScheduler
from eterna.domain.errors import LeaseLostError
from eterna.domain.failures import FailureKind
from eterna.domain.orders import Order, OrderEvent, OrderStatus, OrderType, PlaceOrder, TwapPlan
from eterna.domain.steps import Cancelled, Completed, Progressed, Rested
from eterna.domain.tokens import SOL, USDC
from eterna.domain.twap import (
    Place,
    TwapProgress,
    child_id,
    next_move,
    slice_command,
    slice_due,
    split_amount,
)
from models.memory import MemoryOrderStore
from tests.support import steps as make

pytestmark = pytest.mark.anyio

T0 = datetime(2030, 1, 1, tzinfo=UTC)


# -- the split and the schedule -------------------------------------------------------------


@given(
    units=st.integers(min_value=1, max_value=2**64 - 1),
    slices=st.integers(min_value=1, max_value=100),
)
def test_split_adds_up_to_the_amount_to_the_base_unit(units: int, slices: int) -> None:
    amount = SOL.from_base_units(units)
    if units < slices:
        with pytest.raises(ValueError, match="cannot make"):
            split_amount(amount, SOL, slices)
        return
    parts = split_amount(amount, SOL, slices)
    assert len(parts) == slices
    assert sum(parts) == amount
    base = [SOL.to_base_units(p) for p in parts]
    assert len(set(base[:-1])) <= 1  # all equal but the last,
    assert base[-1] - base[0] == units % slices  # which takes the remainder


def test_split_of_one_million_usdc_in_ten_is_exact() -> None:
    assert split_amount(Decimal(1_000_000), USDC, 10) == [Decimal(100_000)] * 10
    parts = split_amount(Decimal("1.000001"), USDC, 3)
    assert parts == [Decimal("0.333333"), Decimal("0.333333"), Decimal("0.333335")]


def test_slices_are_due_evenly_without_jitter() -> None:
    plan = TwapPlan(slices=4, duration_seconds=60)
    parent = uuid.uuid4()
    due = [slice_due(plan, T0, parent, k) for k in range(4)]
    assert due == [T0 + timedelta(seconds=15 * k) for k in range(4)]


@given(
    slices=st.integers(min_value=2, max_value=50),
    jitter=st.integers(min_value=1, max_value=5000),
    seed=st.uuids(),
)
def test_jitter_stays_within_its_share_keeps_order_and_is_reproducible(
    slices: int, jitter: int, seed: uuid.UUID
) -> None:
    plan = TwapPlan(slices=slices, duration_seconds=600, jitter_bps=jitter)
    interval = timedelta(seconds=600) / slices
    due = [slice_due(plan, T0, seed, k) for k in range(slices)]
    assert due == [slice_due(plan, T0, seed, k) for k in range(slices)]  # same after a restart
    assert due[0] >= T0
    assert due == sorted(due)
    for k, at in enumerate(due):
        assert abs(at - (T0 + interval * k)) <= interval * jitter / 10_000 + timedelta(
            microseconds=1
        )


def test_child_ids_are_one_per_parent_and_index() -> None:
    parent, other = uuid.uuid4(), uuid.uuid4()
    assert child_id(parent, 3) == child_id(parent, 3)
    assert len({child_id(parent, k) for k in range(100)}) == 100
    assert child_id(parent, 0) != child_id(other, 0)


def test_plan_refuses_out_of_bounds() -> None:
    for bad in (
        {"slices": 0, "duration_seconds": 1},
        {"slices": 101, "duration_seconds": 1},
        {"slices": 2, "duration_seconds": 0},
        {"slices": 2, "duration_seconds": 10, "jitter_bps": 5001},
    ):
        with pytest.raises(ValueError, match="between"):
            TwapPlan(**bad)


# -- the moves ------------------------------------------------------------------------------


def _parent(slices: int = 3, seconds: int = 3, amount: str = "1", **kw: object) -> Order:
    command = PlaceOrder(
        user_id="alice",
        type=OrderType.TWAP,
        token_in=SOL,
        token_out=USDC,
        amount_in=Decimal(amount),
        twap=TwapPlan(slices=slices, duration_seconds=seconds),
        **kw,  # type: ignore[arg-type]
    )
    order, _ = command.open(uuid.uuid4(), T0)
    return order


def test_a_slice_is_a_market_order_naming_its_parent_with_its_floor() -> None:
    parent = _parent(amount="1.000000001", limit_price=Decimal(140), max_slippage_bps=300)
    last = slice_command(parent, 2)
    assert last.max_slippage_bps == 300
    assert last.type is OrderType.MARKET
    assert (last.parent_id, last.slice_index) == (parent.id, 2)
    assert last.amount_in == Decimal("0.333333335")
    assert last.limit_price == Decimal(140)
    assert last.expires_at is None


def test_next_move_starts_places_reports_and_completes() -> None:
    parent = _parent()
    start = next_move(parent, [], T0)
    assert isinstance(start, Rested)
    parent, _ = parent.apply(start, T0)
    place = next_move(parent, [], T0)
    assert isinstance(place, Place)
    assert place.child.slice_index == 0
    assert place.step.next_slice == 1
    assert place.step.next_at == T0 + timedelta(seconds=1)
    parent, _ = parent.apply(place.step, T0)
    child, _ = place.child.open(place.child_id, T0)
    assert next_move(parent, [child], T0 + timedelta(milliseconds=500)) is None
    filled, _ = child.apply(make.routed(), T0)
    for step in (make.built(), make.submitted(), make.confirmed(amount_out="50", price="150")):
        filled, _ = filled.apply(step, T0)
    report = next_move(parent, [filled], T0 + timedelta(milliseconds=600))
    assert isinstance(report, Progressed)
    assert (report.next_slice, report.reported, report.amount_out) == (1, 1, Decimal(50))
    assert report.details["twap"]["slicesDone"] == 1


def test_a_twap_whose_slices_all_failed_fails_on_their_most_common_kind() -> None:
    parent = _parent(slices=2)
    parent, _ = parent.apply(Rested(message="working"), T0)
    children: list[Order] = []
    for k in range(2):
        move = next_move(parent, children, T0 + timedelta(seconds=k * 2))
        assert isinstance(move, Place)
        parent, _ = parent.apply(move.step, T0)
        child, _ = move.child.open(move.child_id, T0)
        child, _ = child.apply(make.failed(kind=FailureKind.BELOW_LIMIT_PRICE), T0)
        children.append(child)
    kinds = [FailureKind.BELOW_LIMIT_PRICE, FailureKind.BELOW_LIMIT_PRICE]
    end = next_move(parent, children, T0 + timedelta(seconds=5), kinds)
    after, event = parent.apply(end, T0)  # type: ignore[arg-type]
    assert after.status is OrderStatus.FAILED
    assert event.failure is FailureKind.BELOW_LIMIT_PRICE


# -- the scheduler --------------------------------------------------------------------------


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Recorder:
    """A publisher and a queue that keep what they were given."""

    events: list[OrderEvent] = field(default_factory=list)
    queued: list[QueuedOrder] = field(default_factory=list)

    async def publish(self, events: Sequence[OrderEvent]) -> None:
        self.events.extend(events)

    async def enqueue(self, orders: Sequence[QueuedOrder]) -> None:
        self.queued.extend(orders)


async def _placed(store: MemoryOrderStore, **kw: object) -> Order:
    command = PlaceOrder(
        user_id="alice",
        type=OrderType.TWAP,
        token_in=SOL,
        token_out=USDC,
        amount_in=Decimal(kw.pop("amount", "1")),  # type: ignore[arg-type]
        twap=TwapPlan(slices=3, duration_seconds=3),
        **kw,  # type: ignore[arg-type]
    )
    (placement,) = await store.place([command], T0)
    return placement.order


def _scheduler(store: MemoryOrderStore, clock: Clock, recorder: Recorder) -> TwapScheduler:
    return TwapScheduler(store, publisher=recorder, queue=recorder, clock=clock)


async def _fill(store: MemoryOrderStore, order_id: uuid.UUID, out: str) -> None:
    """Take a slice from PENDING to CONFIRMED as a worker would, paying ``out`` USDC."""
    order = await store.get(order_id)
    assert order is not None
    for step in (make.routed(), make.built(), make.submitted(), make.confirmed(amount_out=out)):
        order, _ = await take_step(store, order, step, owner=None, now=T0, lease_until=T0)


async def test_scheduler_places_each_slice_on_time_and_completes_with_the_average() -> None:
    store, clock, recorder = MemoryOrderStore(), Clock(), Recorder()
    parent = await _placed(store)
    scheduler = _scheduler(store, clock, recorder)
    placed: list[uuid.UUID] = []
    for second, out in ((0, "50"), (1, "49"), (2, "48")):
        clock.now = T0 + timedelta(seconds=second)
        await scheduler.tick()
        children = (await store.children_of([parent.id]))[parent.id]
        assert len(children) == second + 1  # one more slice, none early
        placed.append(children[-1].id)
        await scheduler.tick()
        assert len((await store.children_of([parent.id]))[parent.id]) == second + 1
        await _fill(store, children[-1].id, out)
    clock.now = T0 + timedelta(seconds=3)
    await scheduler.tick()
    done = await store.get(parent.id)
    assert done is not None
    assert done.status is OrderStatus.CONFIRMED
    assert done.amount_out == Decimal(147)
    assert done.executed_price == Decimal(147)  # 147 USDC for 1 SOL
    assert [q.order_id for q in recorder.queued] == placed
    assert placed == [child_id(parent.id, k) for k in range(3)]
    children = (await store.children_of([parent.id]))[parent.id]
    assert sum(c.amount_in for c in children) == Decimal(1)
    events = await store.events(parent.id)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[-1].details["twap"]["slicesFilled"] == 3


async def test_a_crash_between_ticks_neither_loses_nor_doubles_a_slice() -> None:
    store, clock, recorder = MemoryOrderStore(), Clock(), Recorder()
    parent = await _placed(store)
    await _scheduler(store, clock, recorder).tick()
    # The scheduler dies; another (a takeover) starts later, past two slices' times.
    clock.now = T0 + timedelta(seconds=2.5)
    second = _scheduler(store, clock, recorder)
    assert await second.requeue_placed() == 1  # slice 0 queued again: it had not started
    for _ in range(3):
        await second.tick()
    children = (await store.children_of([parent.id]))[parent.id]
    assert [c.slice_index for c in children] == [0, 1, 2]


async def test_two_schedulers_overlapping_place_each_slice_once() -> None:
    store, clock = MemoryOrderStore(), Clock(T0 + timedelta(seconds=10))
    parent = await _placed(store)
    one, two = (_scheduler(store, clock, Recorder()) for _ in range(2))
    for _ in range(4):
        await asyncio.gather(one.tick(), two.tick())
    children = (await store.children_of([parent.id]))[parent.id]
    assert [c.slice_index for c in children] == [0, 1, 2]
    events = await store.events(parent.id)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))


async def test_a_cancelled_twap_places_no_further_slice() -> None:
    store, clock, recorder = MemoryOrderStore(), Clock(), Recorder()
    parent = await _placed(store)
    scheduler = _scheduler(store, clock, recorder)
    await scheduler.tick()
    current = await store.get(parent.id)
    assert current is not None
    await take_step(
        store, current, Cancelled(message="cancelled"), owner=None, now=T0, lease_until=T0
    )
    clock.now = T0 + timedelta(seconds=5)
    await scheduler.tick()
    assert len((await store.children_of([parent.id]))[parent.id]) == 1


async def test_a_slice_stored_only_with_its_parents_step() -> None:
    store = MemoryOrderStore()
    parent = await _placed(store)
    started, _ = parent.apply(Rested(message="working"), T0)
    move = next_move(started, [], T0)
    assert isinstance(move, Place)
    after, event = started.apply(move.step, T0)
    child, child_event = move.child.open(move.child_id, T0)
    # The parent is still PENDING in the store (seq 1): the guard refuses, nothing is stored.
    with pytest.raises(LeaseLostError):
        await store.place_child(started, after, event, child, child_event)
    assert await store.get(child.id) is None


def test_progress_counts_cancelled_and_failed_slices_as_done_unfilled() -> None:
    parent = _parent()
    kids = []
    for k in range(3):
        child, _ = slice_command(parent, k).open(child_id(parent.id, k), T0)
        kids.append(child)
    kids[0], _ = kids[0].apply(make.cancelled(), T0)
    kids[1], _ = kids[1].apply(make.failed(), T0)
    progress = TwapProgress.of(3, kids)
    assert (progress.done, progress.filled, progress.failed, progress.remaining) == (2, 0, 2, 1)
    assert progress.average_price is None


def test_completed_moves_the_totals_onto_the_parent() -> None:
    parent = _parent()
    parent, _ = parent.apply(Rested(message="working"), T0)
    step = Completed(
        message="done", amount_out=Decimal(150), executed_price=Decimal(150), reported=3
    )
    after, event = parent.apply(step, T0)
    assert after.status is OrderStatus.CONFIRMED
    assert (after.amount_out, event.amount_out, after.twap_reported) == (
        Decimal(150),
        Decimal(150),
        3,
    )

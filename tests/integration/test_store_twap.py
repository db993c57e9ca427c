"""The TWAP part of the store contract, on every order store (the contract suite's fixture).

A slice and its parent's step are stored together or not at all, a slice's id can be
stored once only, and the scheduler's reads (working TWAPs, children by index) and the
schedule's columns round-trip exactly.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest

from eterna.application.ports import OrderStore, take_step
from eterna.application.twap import TwapScheduler
from eterna.core.clock import utcnow
from eterna.domain.errors import LeaseLostError
from eterna.domain.orders import Order, OrderStatus, OrderType, PlaceOrder, TwapPlan
from eterna.domain.steps import Cancelled, Rested
from eterna.domain.tokens import SOL, USDC
from eterna.domain.twap import Place, child_id, next_move
from tests.integration import test_store_contract as contract
from tests.unit.test_twap import Clock, Recorder

pytestmark = pytest.mark.anyio

store = contract.store  # every order store, as the contract suite makes them


def _twap(slices: int = 3, amount: str = "1.000000001", jitter: int = 2500) -> PlaceOrder:
    return PlaceOrder(
        user_id="alice",
        type=OrderType.TWAP,
        token_in=SOL,
        token_out=USDC,
        amount_in=Decimal(amount),
        limit_price=Decimal("140.5"),
        twap=TwapPlan(slices=slices, duration_seconds=30, jitter_bps=jitter),
    )


async def _working(store: OrderStore) -> Order:
    (placed,) = await store.place([_twap()], utcnow())
    now = utcnow()
    order, _ = await take_step(
        store, placed.order, Rested(message="working"), owner=None, now=now, lease_until=now
    )
    return order


async def _place_next(store: OrderStore, parent: Order) -> tuple[Order, Order]:
    now = utcnow()
    move = next_move(parent, [], now + timedelta(days=1))
    assert isinstance(move, Place)
    after, event = parent.apply(move.step, now)
    child, child_event = move.child.open(move.child_id, now)
    await store.place_child(parent, after, event, child, child_event)
    return after, child


async def test_a_twap_and_its_schedule_round_trip(store: OrderStore) -> None:
    (placed,) = await store.place([_twap()], utcnow())
    loaded = await store.get(placed.order.id)
    assert loaded is not None
    assert loaded.twap == TwapPlan(slices=3, duration_seconds=30, jitter_bps=2500)
    assert loaded.twap_next_slice == 0
    assert loaded.twap_next_at == placed.order.created_at  # the first slice is due at once
    assert [o.id for o in await store.active_twaps()] == [loaded.id]


async def test_a_slice_is_stored_with_its_parents_step(store: OrderStore) -> None:
    parent = await _working(store)
    after, child = await _place_next(store, parent)
    stored = await store.get(parent.id)
    assert stored is not None
    assert (stored.last_seq, stored.twap_next_slice) == (3, 1)
    assert stored.twap_next_at == after.twap_next_at
    kid = await store.get(child.id)
    assert kid is not None
    assert (kid.type, kid.status, kid.last_seq) == (OrderType.MARKET, OrderStatus.PENDING, 1)
    assert (kid.parent_id, kid.slice_index, kid.id) == (parent.id, 0, child_id(parent.id, 0))
    assert kid.amount_in == Decimal("0.333333333")
    assert kid.limit_price == Decimal("140.5")
    events = await store.events(parent.id)
    assert events[-1].details["twap"]["sliceIndex"] == 0
    assert [e.seq for e in await store.events(child.id)] == [1]


async def test_a_stale_parent_stores_neither_the_step_nor_the_slice(store: OrderStore) -> None:
    parent = await _working(store)
    now = utcnow()
    await take_step(store, parent, Cancelled(message="x"), owner=None, now=now, lease_until=now)
    with pytest.raises(LeaseLostError):
        await _place_next(store, parent)  # it read the parent before the cancel
    assert await store.get(child_id(parent.id, 0)) is None
    assert (await store.children_of([parent.id]))[parent.id] == []
    assert await store.active_twaps() == []


async def test_one_slice_cannot_be_stored_twice(store: OrderStore) -> None:
    parent = await _working(store)
    after, _ = await _place_next(store, parent)
    # A writer that read the parent after the slice, yet tries index 0 again (a bug, or data
    # from another version): the child's primary key refuses it, and the step with it.
    now = utcnow()
    move = next_move(parent, [], now + timedelta(days=1))
    assert isinstance(move, Place)
    again, event = after.apply(move.step, now)
    child, child_event = move.child.open(move.child_id, now)
    with pytest.raises(LeaseLostError):
        await store.place_child(after, again, event, child, child_event)
    stored = await store.get(parent.id)
    assert stored is not None
    assert stored.last_seq == after.last_seq
    assert len((await store.children_of([parent.id]))[parent.id]) == 1


async def test_children_come_by_index_per_parent(store: OrderStore) -> None:
    first, second = await _working(store), await _working(store)
    for _ in range(3):
        first, _ = await _place_next(store, first)
    second, _ = await _place_next(store, second)
    found = await store.children_of([first.id, second.id, uuid.uuid4()])
    assert [c.slice_index for c in found[first.id]] == [0, 1, 2]
    assert sum(c.amount_in for c in found[first.id]) == Decimal("1.000000001")
    assert [c.id for c in found[second.id]] == [child_id(second.id, 0)]
    assert len(found) == 3


async def test_schedulers_racing_on_one_store_place_every_slice_once(store: OrderStore) -> None:
    (placed,) = await store.place([_twap(slices=5, jitter=0)], utcnow())
    clock = Clock(utcnow() + timedelta(minutes=1))  # every slice is due
    racers = [
        TwapScheduler(store, publisher=r, queue=r, clock=clock) for r in (Recorder(), Recorder())
    ]
    for _ in range(4):
        await asyncio.gather(*(r.tick() for r in racers))
    children = (await store.children_of([placed.order.id]))[placed.order.id]
    assert [c.slice_index for c in children] == [0, 1, 2, 3, 4]
    events = await store.events(placed.order.id)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))

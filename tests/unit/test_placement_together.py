"""Placements of one user queued behind the user's lock are stored together, each call
answered as it would have been alone."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

import pytest

from eterna.application.events.hub import EventHub
from eterna.application.ports import OpenOrders, Placement
from eterna.application.service import OrderRequest, OrderService, ServiceLimits
from eterna.domain.errors import RejectedError, RejectionCode, StorageUnavailableError
from eterna.domain.orders import Order, OrderType, PlaceOrder
from eterna.domain.tokens import SOL, USDC, TokenRegistry
from eterna.routing.router import Router
from models.memory import MemoryOrderStore
from tests.unit.test_service import T0, Outbox

pytestmark = pytest.mark.anyio

MARKET = OrderRequest(OrderType.MARKET, "SOL", "USDC", Decimal("1.5"))


class _GatedStore(MemoryOrderStore):
    """The memory store; the first insert waits at a gate; reads and inserts are counted."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.inserts: list[int] = []
        self.counts = 0
        self.fail = False
        self.second = asyncio.Event()  # the second insert began

    async def open_orders(self, user_id: str) -> OpenOrders:
        self.counts += 1
        return await super().open_orders(user_id)

    async def place(self, commands: Sequence[PlaceOrder], now: datetime) -> list[Placement]:
        self.inserts.append(len(commands))
        if len(self.inserts) == 1:
            await self.gate.wait()
        if len(self.inserts) == 2:
            self.second.set()
        if self.fail:
            raise StorageUnavailableError("the database went away")
        return await super().place(commands, now)


def _service(store: MemoryOrderStore, max_in_flight: int = 0) -> OrderService:
    out = Outbox()
    return OrderService(
        store,
        out,
        tokens=TokenRegistry([SOL, USDC]),
        router=Router([]),
        hub=EventHub(),
        publisher=out,
        limits=ServiceLimits(max_notional_usd=Decimal(0), max_in_flight=max_in_flight),
        clock=lambda: T0,
        intake=out,
    )


async def _queued(
    service: OrderService, calls: list[list[OrderRequest]]
) -> list[asyncio.Task[list[Order | RejectedError]]]:
    """Start the first call (its insert held at the gate), then the others behind it."""
    tasks = [asyncio.create_task(service.place("alice", calls[0]))]
    for _ in range(5):
        await asyncio.sleep(0)
    tasks += [asyncio.create_task(service.place("alice", c)) for c in calls[1:]]
    for _ in range(5):
        await asyncio.sleep(0)
    return tasks


async def test_calls_queued_behind_one_are_stored_in_one_insert_as_if_one_by_one() -> None:
    store = _GatedStore()
    service = _service(store, max_in_flight=4)
    keyed = replace(MARKET, client_order_id="k1")
    calls = [[MARKET], [keyed, MARKET], [MARKET], [replace(keyed, amount_in=Decimal(9))], [MARKET]]
    tasks = await _queued(service, calls)
    assert store.inserts == [1]  # the first holds the lock; the rest wait for it
    store.gate.set()
    answers = await asyncio.gather(*tasks)
    assert store.inserts == [1, 3]  # the waiting calls' admitted orders in one insert
    assert store.counts == 2  # and one count of the open orders for them
    first, (second_a, second_b), (third,), (repeat,), (fifth,) = answers[0], *answers[1:]
    assert isinstance(first[0], Order)
    assert isinstance(second_a, Order)
    assert isinstance(second_b, Order)
    assert isinstance(third, Order)
    # The cap of 4 unfinished orders is full after the third call, as one by one;
    # the repeated clientOrderId still returns the order placed first.
    assert isinstance(repeat, Order)
    assert repeat.id == second_a.id
    assert repeat.amount_in == MARKET.amount_in
    assert isinstance(fifth, RejectedError)
    assert fifth.code is RejectionCode.TOO_MANY_ORDERS_IN_FLIGHT
    assert len(store._orders) == 4
    assert await service.settle(1)


async def test_storage_failing_refuses_every_call_stored_together() -> None:
    store = _GatedStore()
    service = _service(store)
    tasks = await _queued(service, [[MARKET], [MARKET], [MARKET, MARKET]])
    store.fail = True
    store.gate.set()
    answers = await asyncio.gather(*tasks)
    assert store.inserts == [1, 3]
    for answer in answers:
        codes = [r.code if isinstance(r, RejectedError) else None for r in answer]
        assert codes == [RejectionCode.UNAVAILABLE] * len(answer)
    assert store._orders == {}


async def test_a_call_given_up_while_waiting_is_not_stored_and_its_batch_is() -> None:
    store = _GatedStore()
    service = _service(store)
    tasks = await _queued(service, [[MARKET], [MARKET], [MARKET]])
    tasks[1].cancel()  # gave up in the queue: never stored
    await asyncio.sleep(0)
    store.gate.set()
    first, second, third = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(second, asyncio.CancelledError)
    assert store.inserts == [1, 1]
    assert len(store._orders) == 2
    assert isinstance(first, list)
    assert isinstance(third, list)
    assert {o.id for o in [*first, *third] if isinstance(o, Order)} == set(store._orders)


async def test_the_caller_that_stores_a_batch_giving_up_does_not_lose_the_others() -> None:
    store = _GatedStore()
    service = _service(store)
    tasks = await _queued(service, [[MARKET], [MARKET], [MARKET]])
    store.gate.set()
    await asyncio.sleep(0)
    # The second call takes the lock once the first is stored, and stores itself and the
    # third; it gives up meanwhile: the third's order is stored and answered all the same.
    await store.second.wait()
    tasks[1].cancel()
    _, second, third = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(second, asyncio.CancelledError)
    assert store.inserts == [1, 2]
    assert isinstance(third, list)
    assert isinstance(third[0], Order)
    assert third[0].id in store._orders
    assert len(store._orders) == 3  # the second's was stored too, as a commit would be

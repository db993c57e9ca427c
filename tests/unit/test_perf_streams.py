"""Subscriptions read the database less, and deliver exactly what they did."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import cast

import pytest

from eterna.application.events.hub import EventHub
from eterna.application.events.streams import user_event_stream
from eterna.domain.orders import Order, OrderEvent, OrderStatus, OrderType
from eterna.domain.tokens import SOL, USDC
from models.memory import MemoryOrderStore

pytestmark = pytest.mark.anyio

T0 = datetime(2030, 1, 1, tzinfo=UTC)
STATUSES = [
    OrderStatus.PENDING,
    OrderStatus.ROUTING,
    OrderStatus.BUILDING,
    OrderStatus.SUBMITTED,
    OrderStatus.CONFIRMED,
]


class _Repo(MemoryOrderStore):
    """The in-memory store, counting the reads a subscription makes."""

    def __init__(self) -> None:
        super().__init__()
        self.reads: list[str] = []
        self.since: list[datetime] = []

    def add(self, event: OrderEvent) -> None:
        """Store the event as the order's latest (the order is what its events say)."""
        history = [*self._events.get(event.order_id, []), event]
        first = history[0]
        order = Order(
            id=event.order_id,
            user_id=event.user_id,
            type=OrderType.MARKET,
            status=event.status,
            token_in=SOL,
            token_out=USDC,
            amount_in=Decimal(1),
            slippage_bps=50,
            created_at=first.at,
            updated_at=event.at,
            last_seq=event.seq,
        )
        self.put(order, history)

    async def events(self, order_id: uuid.UUID, after_seq: int = 0) -> list[OrderEvent]:
        self.reads.append("events")
        return await super().events(order_id, after_seq)

    async def events_of_orders(
        self, order_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[OrderEvent]]:
        self.reads.append("events_of_orders")
        return await super().events_of_orders(order_ids)

    async def user_orders_updated_since(self, user_id: str, since: datetime) -> list[Order]:
        self.reads.append("orders")
        self.since.append(since)
        return await super().user_orders_updated_since(user_id, since)


def _event(order_id: uuid.UUID, seq: int, at: datetime) -> OrderEvent:
    return OrderEvent(
        order_id=order_id,
        user_id="alice",
        seq=seq,
        status=STATUSES[seq - 1],
        at=at,
        attempt=0,
        message=f"step {seq}",
    )


async def _take(stream: AsyncIterator[OrderEvent], n: int) -> list[tuple[uuid.UUID, int]]:
    got = []
    for _ in range(n):
        event = await asyncio.wait_for(anext(stream), 5)
        got.append((event.order_id, event.seq))
    return got


async def test_an_unpublished_first_step_costs_one_read_not_two() -> None:
    hub, repo = EventHub(), _Repo()
    stream = user_event_stream(hub, repo, "alice", now=lambda: T0)
    first = asyncio.create_task(_take(stream, 3))
    await asyncio.sleep(0.05)  # the stream registers its listener
    order = uuid.uuid4()
    pending, routing, building = (_event(order, s, T0 + timedelta(seconds=s)) for s in (1, 2, 3))
    for event in (pending, routing, building):
        repo.add(event)
    hub.dispatch(routing)  # PENDING was stored, never published
    hub.dispatch(building)
    assert await first == [(order, 1), (order, 2), (order, 3)]
    assert repo.reads == ["events"]
    await cast("AsyncGenerator[OrderEvent, None]", stream).aclose()


async def test_an_idle_stream_reads_nothing_and_a_nudge_reads_only_orders_behind() -> None:
    hub, repo = EventHub(), _Repo()
    clock = [T0]
    stream = user_event_stream(hub, repo, "alice", now=lambda: clock[0])
    done, behind = uuid.uuid4(), uuid.uuid4()
    first = asyncio.create_task(_take(stream, 2))
    await asyncio.sleep(0.05)  # the stream registers its listener
    for seq in (1, 2):
        event = _event(done, seq, T0 + timedelta(seconds=seq))
        repo.add(event)
        hub.dispatch(event)
    assert await first == [(done, 1), (done, 2)]
    # Idle: no timer, no read of the database however long it waits.
    repo.reads.clear()
    clock[0] = T0 + timedelta(seconds=10)
    idle = asyncio.create_task(_take(stream, 2))
    await asyncio.sleep(0.2)
    assert repo.reads == []
    # Events whose publish was lost: the nudge (from the sweep) names when the order
    # changed; the stream reads the orders changed since then, and events of those behind.
    for seq in (1, 2):
        repo.add(_event(behind, seq, T0 + timedelta(seconds=10 + seq)))
    hub.nudge(behind, "alice", T0 + timedelta(seconds=12))
    assert sorted(await idle) == [(behind, 1), (behind, 2)]
    assert repo.reads == ["orders", "events_of_orders"]
    assert repo.since == [T0 + timedelta(seconds=12)]
    await cast("AsyncGenerator[OrderEvent, None]", stream).aclose()


async def test_an_overflowed_stream_reads_from_its_last_read_even_when_nudged() -> None:
    hub, repo = EventHub(queue_size=2), _Repo()
    clock = [T0]
    stream = user_event_stream(hub, repo, "alice", now=lambda: clock[0])
    order = uuid.uuid4()
    first = asyncio.create_task(_take(stream, 5))
    await asyncio.sleep(0.05)  # the stream registers its listener
    events = [_event(order, seq, T0 + timedelta(seconds=seq)) for seq in range(1, 6)]
    for event in events:  # the stream does not run meanwhile: three of five overflow
        repo.add(event)
        hub.dispatch(event)
    hub.nudge(order, "alice", T0 + timedelta(seconds=4))
    assert await first == [(order, s) for s in range(1, 6)]
    assert repo.since == [T0]  # from where the stream started, not from the nudge
    await cast("AsyncGenerator[OrderEvent, None]", stream).aclose()


async def test_a_finished_order_is_forgotten_and_its_late_copies_dropped() -> None:
    hub, repo = EventHub(), _Repo()
    clock = [T0]
    stream = user_event_stream(hub, repo, "alice", now=lambda: clock[0])
    finished, running = uuid.uuid4(), uuid.uuid4()
    first = asyncio.create_task(_take(stream, 7))
    await asyncio.sleep(0.05)  # the stream registers its listener
    events = [_event(finished, seq, T0 + timedelta(seconds=seq)) for seq in range(1, 6)]
    events += [_event(running, seq, T0 + timedelta(seconds=seq)) for seq in (1, 2)]
    for event in events:
        repo.add(event)
        hub.dispatch(event)
    assert await first == [(finished, s) for s in range(1, 6)] + [(running, 1), (running, 2)]
    # A late copy of the finished order's terminal event, then a nudge that has the stream
    # see the finished order among the recently updated ones: nothing is delivered twice.
    hub.dispatch(events[4])
    clock[0] = T0 + timedelta(seconds=1)
    later = _event(running, 3, T0 + timedelta(seconds=20))
    repo.add(later)
    hub.dispatch(later)
    assert await _take(stream, 1) == [(running, 3)]
    # The stream waits for its next event; a nudge has it re-read the database meanwhile.
    waiting = asyncio.create_task(_take(stream, 1))
    await asyncio.sleep(0.05)
    repo.reads.clear()
    hub.nudge(running, "alice", T0)
    await asyncio.sleep(0.1)
    assert repo.reads == ["orders"]  # every order it sees is up to date: no events read
    assert not waiting.done()
    clock[0] = T0 + timedelta(seconds=30)
    last = _event(running, 4, T0 + timedelta(seconds=31))
    repo.add(last)
    hub.dispatch(last)
    assert await waiting == [(running, 4)]
    await cast("AsyncGenerator[OrderEvent, None]", stream).aclose()


def test_delivered_orders_leave_the_running_map_and_finished_ones_are_bounded() -> None:
    from eterna.application.events.streams import _Delivered

    last = _Delivered(finished_limit=3)
    orders = [uuid.uuid4() for _ in range(5)]
    for order in orders:
        for seq in range(1, 6):
            last.delivered(_event(order, seq, T0))
            if seq < 5:
                assert last[order] == seq
    assert dict(last) == {}
    assert list(last.finished) == orders[2:]

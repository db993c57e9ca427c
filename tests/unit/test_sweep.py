"""The sweep for missed events: one query a window, nudges only where an event is missing."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncGenerator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from eterna.application.events.hub import EventHub
from eterna.application.events.streams import order_event_stream
from eterna.application.events.sweep import MissedEventSweep
from eterna.application.ports import OrderMark
from eterna.domain.orders import OrderEvent, OrderStatus

pytestmark = pytest.mark.anyio

T0 = datetime(2030, 1, 1, tzinfo=UTC)
STATUSES = [OrderStatus.PENDING, OrderStatus.ROUTING, OrderStatus.CONFIRMED]


class _Orders:
    """Orders as the repository reports where they stand; every query is recorded."""

    def __init__(self) -> None:
        self.marks: dict[uuid.UUID, OrderMark] = {}
        self.events: dict[uuid.UUID, list[OrderEvent]] = {}
        self.queries: list[tuple[list[str], list[uuid.UUID], datetime, datetime]] = []
        self.fail = False

    def step(self, order_id: uuid.UUID, user: str, seq: int, at: datetime) -> OrderEvent:
        event = OrderEvent(
            order_id=order_id,
            user_id=user,
            seq=seq,
            status=STATUSES[seq - 1],
            at=at,
            attempt=0,
            message=f"step {seq}",
        )
        self.marks[order_id] = OrderMark(order_id, user, seq, at)
        self.events.setdefault(order_id, []).append(event)
        return event

    async def orders_changed_between(
        self,
        user_ids: Sequence[str],
        order_ids: Sequence[uuid.UUID],
        since: datetime,
        until: datetime,
    ) -> list[OrderMark]:
        self.queries.append((list(user_ids), list(order_ids), since, until))
        if self.fail:
            raise ConnectionError("database unreachable")
        return [
            m
            for m in self.marks.values()
            if (m.user_id in user_ids or m.order_id in order_ids) and since <= m.updated_at < until
        ]

    async def events_of(self, order_id: uuid.UUID, after_seq: int = 0) -> list[OrderEvent]:
        return [e for e in self.events.get(order_id, []) if e.seq > after_seq]


def _sweep(hub: EventHub, orders: _Orders, clock: list[datetime]) -> MissedEventSweep:
    return MissedEventSweep(
        hub,
        cast("Any", orders),
        lambda: clock[0],
        interval_seconds=5,
        grace_seconds=1,
        overlap_seconds=2,
    )


async def test_nobody_listening_means_no_query() -> None:
    hub, orders, clock = EventHub(), _Orders(), [T0]
    sweep = _sweep(hub, orders, clock)
    clock[0] = T0 + timedelta(seconds=5)
    assert await sweep.sweep() == 0
    assert orders.queries == []


async def test_only_listeners_of_an_order_whose_event_never_arrived_are_nudged() -> None:
    hub, orders, clock = EventHub(), _Orders(), [T0]
    sweep = _sweep(hub, orders, clock)
    heard, lost, elsewhere = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    with (
        hub.listen_user("alice") as alice,
        hub.listen_user("bob") as bob,
        hub.listen_order(lost) as follower,
    ):
        for seq in (1, 2):
            hub.dispatch(orders.step(heard, "alice", seq, T0 + timedelta(seconds=seq)))
        hub.dispatch(orders.step(lost, "alice", 1, T0 + timedelta(seconds=1)))
        orders.step(lost, "alice", 2, T0 + timedelta(seconds=3))  # committed, never published
        orders.step(elsewhere, "carol", 1, T0 + timedelta(seconds=3))  # nobody's here
        alice.drain()
        clock[0] = T0 + timedelta(seconds=5)
        assert await sweep.sweep() == 2  # alice's listener and the order's follower
        assert orders.queries == [
            (["alice", "bob"], [lost], T0 - timedelta(seconds=3), T0 + timedelta(seconds=4))
        ]
        assert alice.missed_since == follower.missed_since == T0 + timedelta(seconds=3)
        assert bob.missed_since is None
        assert not bob.behind
        # A nudge wakes a reader waiting on an empty queue, with None: no event is invented.
        assert await asyncio.wait_for(alice.next(), 1) is None
        assert alice.drain() == []


async def test_windows_follow_each_other_with_an_overlap_and_a_failed_sweep_loses_none() -> None:
    hub, orders, clock = EventHub(), _Orders(), [T0]
    sweep = _sweep(hub, orders, clock)
    with hub.listen_user("alice"):
        for seconds in (5, 10, 15):
            clock[0] = T0 + timedelta(seconds=seconds)
            orders.fail = seconds == 10
            if orders.fail:
                with pytest.raises(ConnectionError):
                    await sweep.sweep()
            else:
                await sweep.sweep()
    windows = [(since - T0, until - T0) for _, _, since, until in orders.queries]
    s = timedelta(seconds=1)
    # The window that failed is asked for again, whole, by the next sweep.
    assert windows == [(-3 * s, 4 * s), (2 * s, 9 * s), (2 * s, 14 * s)]


async def test_an_event_still_on_its_way_is_not_taken_for_a_lost_one() -> None:
    hub, orders, clock = EventHub(), _Orders(), [T0]
    sweep = _sweep(hub, orders, clock)
    order = uuid.uuid4()
    with hub.listen_user("alice") as alice:
        hub.dispatch(orders.step(order, "alice", 1, T0))
        orders.step(order, "alice", 2, T0 + timedelta(seconds=4, milliseconds=500))
        clock[0] = T0 + timedelta(seconds=5)  # the step is younger than the grace
        assert await sweep.sweep() == 0
        hub.dispatch(orders.events[order][1])  # ... and arrives
        clock[0] = T0 + timedelta(seconds=10)
        assert await sweep.sweep() == 0
        assert not alice.behind


async def test_a_lost_terminal_event_reaches_an_idle_order_stream_through_the_sweep() -> None:
    hub, orders, clock = EventHub(), _Orders(), [T0]
    sweep = _sweep(hub, orders, clock)
    order = uuid.uuid4()
    hub.dispatch(orders.step(order, "alice", 1, T0))
    repo = cast("Any", type("Repo", (), {"events": staticmethod(orders.events_of)})())
    stream = order_event_stream(hub, repo, order)
    assert (await anext(stream)).seq == 1  # history

    async def take() -> OrderEvent:
        return await anext(stream)

    nxt = asyncio.create_task(take())
    await asyncio.sleep(0.05)
    orders.step(order, "alice", 2, T0 + timedelta(seconds=1))
    orders.step(order, "alice", 3, T0 + timedelta(seconds=2))  # CONFIRMED, publish lost
    await asyncio.sleep(0.05)
    assert not nxt.done()  # nothing reveals the loss to the stream itself
    clock[0] = T0 + timedelta(seconds=5)
    assert await sweep.sweep() == 1
    assert (await asyncio.wait_for(nxt, 1)).seq == 2
    assert (await anext(stream)).status is OrderStatus.CONFIRMED
    with pytest.raises(StopAsyncIteration):
        await anext(stream)
    await cast("AsyncGenerator[OrderEvent, None]", stream).aclose()


async def test_the_hub_forgets_the_orders_it_saw_first_beyond_its_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("eterna.application.events.hub.SEEN_LIMIT", 3)
    hub, orders = EventHub(), _Orders()
    ids = [uuid.uuid4() for _ in range(4)]
    for order_id in ids:
        hub.dispatch(orders.step(order_id, "alice", 1, T0))
    hub.dispatch(orders.step(ids[1], "alice", 2, T0))
    assert [hub.seen_seq(i) for i in ids] == [0, 2, 1, 1]


async def test_the_background_sweep_runs_every_interval_until_stopped() -> None:
    hub, orders, clock = EventHub(), _Orders(), [T0]
    sweep = MissedEventSweep(hub, cast("Any", orders), lambda: clock[0], interval_seconds=0.02)
    with hub.listen_user("alice"):
        sweep.start()
        await asyncio.sleep(0.15)
        await sweep.stop()
    count = len(orders.queries)
    assert count >= 3
    await asyncio.sleep(0.05)
    assert len(orders.queries) == count

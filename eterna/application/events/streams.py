"""Gap-free event streams for subscriptions.

An order stream registers its listener *before* reading history, so every event is either in
the history (committed before the read) or delivered live (published after registration,
because events are published only after commit). Duplicates are dropped by ``seq``; a gap
(a seq skipped, an overflowing queue) is filled from the database. An event whose publish was
lost (a crash between commit and publish, Redis losing its data) is found by the process's
sweep of the database (:mod:`.sweep`), which nudges the listeners it concerns:
a stream reads the database only when it has a reason to, however long it idles.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta

from eterna.application.events.hub import EventHub
from eterna.application.ports import OrderReader
from eterna.domain.errors import RejectedError, RejectionCode
from eterna.domain.orders import OrderEvent


async def order_event_stream(
    hub: EventHub,
    repo: OrderReader,
    order_id: uuid.UUID,
    *,
    after_seq: int = 0,
    owner: str | None = None,
) -> AsyncIterator[OrderEvent]:
    """Yield the order's events after after_seq, history then live; stop after a terminal one.

    With ``owner``, the first read also checks that the order is the owner's: when it is not
    (or does not exist), the stream raises NOT_FOUND before it yields anything.
    """
    with hub.listen_order(order_id) as listener:
        last = after_seq
        if owner is None:
            history = await repo.events(order_id, last)
        else:
            owned = await repo.owned_events(order_id, owner, last)
            if owned is None:
                raise RejectedError(RejectionCode.NOT_FOUND, "order not found", "orderId")
            history = owned
        for event in history:
            yield event
            last = event.seq
            if event.status.is_terminal:
                return
        while True:
            live = await listener.next()
            if live is None or listener.behind or live.seq > last + 1:
                listener.caught_up()
                for event in await repo.events(order_id, last):
                    yield event
                    last = event.seq
                    if event.status.is_terminal:
                        return
            if live is not None and live.seq == last + 1:
                yield live
                last = live.seq
                if live.status.is_terminal:
                    return


async def user_event_stream(
    hub: EventHub,
    repo: OrderReader,
    user_id: str,
    *,
    now: Callable[[], datetime],
) -> AsyncIterator[OrderEvent]:
    """Yield live events of all the user's orders from now on, each order gap-free by seq.

    Orders placed after the stream started are delivered from seq 1; for orders already
    running, delivery starts at the first event that happens after the stream started.
    """
    started = now()
    last = _Delivered()
    watermark = started
    with hub.listen_user(user_id) as listener:
        while True:
            live = await listener.next()
            if live is None or listener.behind:
                # After an overflow anything since the last read may be missing; after a
                # nudge only orders changed at or after the time it names.
                since = watermark
                if not listener.overflowed and listener.missed_since is not None:
                    since = max(watermark, listener.missed_since)
                listener.caught_up()
                checked_at = now()
                async for event in _catch_up(repo, user_id, last, started, since):
                    yield event
                # Commits racing the query are covered by re-reading a little overlap.
                watermark = max(watermark, checked_at - timedelta(seconds=2))
                if live is None:
                    continue
            if live.order_id in last.finished:
                continue  # a late copy: the order's terminal event was delivered
            seen, gap = await _owed_before(repo, live, last.get(live.order_id), started)
            if live.seq <= seen:
                continue
            for event in gap:
                yield event
            yield live
            last.delivered(live)


class _Delivered(dict[uuid.UUID, int]):
    """The last seq delivered of each running order; finished orders leave it.

    A subscription lives for hours: remembering every order it ever saw would grow without
    bound. An order whose terminal event went out moves to ``finished``, a bounded
    first-in-first-out memory that drops late copies of its events.
    """

    def __init__(self, finished_limit: int = 10_000) -> None:
        super().__init__()
        self.finished: dict[uuid.UUID, None] = {}
        self._limit = finished_limit

    def delivered(self, event: OrderEvent) -> None:
        """Record that the event went out."""
        if not event.status.is_terminal:
            self[event.order_id] = event.seq
            return
        self.pop(event.order_id, None)
        self.finished[event.order_id] = None
        if len(self.finished) > self._limit:
            del self.finished[next(iter(self.finished))]


async def _owed_before(
    repo: OrderReader, live: OrderEvent, seen: int | None, started: datetime
) -> tuple[int, list[OrderEvent]]:
    """Return the seq delivered before the live event, and the events owed before it.

    An order the stream has not seen yet gets its baseline from its history; that one read
    also holds every event before the live one (each was committed before it was
    published), so a gap is filled from it without a second read.
    """
    history: list[OrderEvent] | None = None
    if seen is None:
        if live.seq == 1:
            return 0, []
        history = await repo.events(live.order_id, 0)
        seen = _baseline(history, live, started)
    if live.seq <= seen + 1:
        return seen, []
    if history is None:
        history = await repo.events(live.order_id, seen)
    return seen, [e for e in history if seen < e.seq < live.seq]


def _baseline(history: list[OrderEvent], live: OrderEvent, started: datetime) -> int:
    """Return the seq before the first event of this order the stream owes its client."""
    owed = [e.seq for e in history if e.at >= started and e.seq <= live.seq]
    return (min(owed) - 1) if owed else live.seq - 1


async def _catch_up(
    repo: OrderReader,
    user_id: str,
    last: _Delivered,
    started: datetime,
    watermark: datetime,
) -> AsyncIterator[OrderEvent]:
    orders = await repo.user_orders_updated_since(user_id, watermark)
    # Events are read only for orders that may have some this stream has not delivered:
    # those it does not track (and did not finish), and those whose last_seq moved past
    # what it delivered (an order's last_seq and its event are committed together).
    behind = [
        o.id
        for o in orders
        if o.id not in last.finished and (o.id not in last or o.last_seq > last[o.id])
    ]
    if not behind:
        return
    by_order = await repo.events_of_orders(behind)
    for order_id, events in by_order.items():
        seen = last.get(order_id)
        for event in events:
            if seen is None and event.at < started:
                continue
            if seen is not None and event.seq <= seen:
                continue
            yield event
            seen = event.seq
            last.delivered(event)

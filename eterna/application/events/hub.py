"""The in-process hub: routes each event to the subscriptions of its order and its owner.

One hub per process. Events reach it either straight from the engine (embedded mode) or from
the Redis stream dispatcher (distributed mode). Besides the subscriptions of one order or one
user, a listener may take every event, or every event a filter on the order id and status
lets through (the trigger watcher follows orders entering and leaving WAITING that way).
Each listener has a bounded queue; a listener that falls behind is flagged ``overflowed`` and
re-reads what it missed from the database.

The hub remembers the last seq it handed out of each order, so that one sweep of the database
per process (:mod:`.sweep`) can tell which orders moved on without their events
reaching it (a publish lost in a crash, Redis losing its data) and ``nudge`` just the
listeners of those: each then re-reads what it missed, as after an overflow.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TypeVar

from eterna.domain.orders import OrderEvent, OrderStatus

K = TypeVar("K")
# Tells from an event's order id and status whether a listener of every event wants it.
EventFilter = Callable[[uuid.UUID, OrderStatus], bool]
# Orders whose last seq handed out the hub remembers: a few minutes of orders at full speed.
SEEN_LIMIT = 50_000


class Listener:
    """A bounded queue of events for one subscription.

    Two flags tell its reader to re-read the database: ``overflowed`` (events were dropped
    because the queue was full) and ``missed_since`` (the sweep found an order of this
    listener that changed at or after that time without its event coming through).
    """

    def __init__(self, maxsize: int) -> None:
        # None in the queue only wakes the reader (a nudge); it is never an event.
        self._queue: asyncio.Queue[OrderEvent | None] = asyncio.Queue(maxsize=maxsize)
        self.overflowed = False
        self.missed_since: datetime | None = None

    def offer(self, event: OrderEvent) -> None:
        """Queue the event, or flag the listener when it is full."""
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True

    def nudge(self, since: datetime) -> None:
        """Tell the reader that it missed events of an order changed at or after since."""
        if self.missed_since is None or since < self.missed_since:
            self.missed_since = since
        if self._queue.empty():  # a reader with events at hand sees the flag with the next
            self._queue.put_nowait(None)

    @property
    def behind(self) -> bool:
        """Tell whether the reader must re-read the database (overflowed or nudged)."""
        return self.overflowed or self.missed_since is not None

    def caught_up(self) -> None:
        """Clear both flags: the reader is re-reading the database."""
        self.overflowed, self.missed_since = False, None

    def drain(self) -> list[OrderEvent]:
        """Return every queued event at once, without waiting."""
        events = []
        while not self._queue.empty():
            event = self._queue.get_nowait()
            if event is not None:
                events.append(event)
        return events

    async def next(self, wait_seconds: float | None = None) -> OrderEvent | None:
        """Return the next event; None after wait_seconds without one, or when nudged.

        Without wait_seconds, wait until an event or a nudge comes.
        """
        if not self._queue.empty():  # a busy stream: no timer to arm for an event at hand
            return self._queue.get_nowait()
        if wait_seconds is None:
            return await self._queue.get()
        # Not asyncio.wait_for: on Python 3.11 it swallows a cancellation that arrives as the
        # event does, and a listener loop cancelled that way would never stop.
        try:
            async with asyncio.timeout(wait_seconds):
                return await self._queue.get()
        except TimeoutError:
            return None


class EventHub:
    """Fans events out to the listeners registered in this process."""

    def __init__(self, queue_size: int = 4096) -> None:
        self._queue_size = queue_size
        self._by_order: dict[uuid.UUID, set[Listener]] = {}
        self._by_user: dict[str, set[Listener]] = {}
        self._all: dict[Listener, EventFilter | None] = {}
        self._seen: dict[uuid.UUID, int] = {}

    @property
    def listener_count(self) -> int:
        """Return how many listeners are registered."""
        return (
            sum(map(len, self._by_order.values()))
            + sum(map(len, self._by_user.values()))
            + len(self._all)
        )

    def subscription_counts(self) -> dict[str, int]:
        """Return the open listeners of one order and of one user (subscriptions, that is)."""
        return {
            "order": sum(map(len, self._by_order.values())),
            "user": sum(map(len, self._by_user.values())),
        }

    def dispatch(self, event: OrderEvent) -> None:
        """Hand an event to every listener of its order and of its owner."""
        self._remember(event)
        for listener in self._by_order.get(event.order_id, ()):
            listener.offer(event)
        for listener in self._by_user.get(event.user_id, ()):
            listener.offer(event)
        for listener, wants in self._all.items():
            if wants is None or wants(event.order_id, event.status):
                listener.offer(event)

    def _remember(self, event: OrderEvent) -> None:
        seen = self._seen.get(event.order_id)
        if seen is None and len(self._seen) >= SEEN_LIMIT:  # forget the order seen first
            del self._seen[next(iter(self._seen))]
        if seen is None or event.seq > seen:
            self._seen[event.order_id] = event.seq

    def seen_seq(self, order_id: uuid.UUID) -> int:
        """Return the last seq of the order handed out here (0 when none is remembered)."""
        return self._seen.get(order_id, 0)

    def listened(self) -> tuple[list[str], list[uuid.UUID]]:
        """Return the users and the orders that listeners here follow."""
        return list(self._by_user), list(self._by_order)

    def nudge(self, order_id: uuid.UUID, user_id: str, since: datetime) -> int:
        """Nudge the listeners of the order and of its owner (see :meth:`Listener.nudge`).

        Return how many were nudged.
        """
        listeners = [*self._by_order.get(order_id, ()), *self._by_user.get(user_id, ())]
        for listener in listeners:
            listener.nudge(since)
        return len(listeners)

    @contextmanager
    def listen_order(self, order_id: uuid.UUID) -> Iterator[Listener]:
        """Register a listener for one order for the duration of the block."""
        with self._register(self._by_order, order_id) as listener:
            yield listener

    @contextmanager
    def listen_user(self, user_id: str) -> Iterator[Listener]:
        """Register a listener for every order of one user for the duration of the block."""
        with self._register(self._by_user, user_id) as listener:
            yield listener

    @contextmanager
    def listen_all(
        self, queue_size: int | None = None, *, where: EventFilter | None = None
    ) -> Iterator[Listener]:
        """Register a listener for every event (that ``where`` wants) for the block."""
        listener = Listener(queue_size or self._queue_size)
        self._all[listener] = where
        try:
            yield listener
        finally:
            self._all.pop(listener, None)

    @contextmanager
    def _register(self, index: dict[K, set[Listener]], key: K) -> Iterator[Listener]:
        listener = Listener(self._queue_size)
        index.setdefault(key, set()).add(listener)
        try:
            yield listener
        finally:
            listeners = index.get(key)
            if listeners is not None:
                listeners.discard(listener)
                if not listeners:
                    del index[key]

    def wants(self, order_id: uuid.UUID, user_id: str, status: OrderStatus | None = None) -> bool:
        """Tell whether an event of this order, owner and status would reach a listener here.

        The stream dispatcher asks before decoding an event, to skip those nobody here hears.
        Without a status, every listener of all events counts as wanting it.
        """
        if order_id in self._by_order or user_id in self._by_user:
            return True
        return any(
            where is None or status is None or where(order_id, status)
            for where in self._all.values()
        )

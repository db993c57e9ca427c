"""The in-process hub: routes each event to the subscriptions of its order and its owner.

One hub per process. Events reach it either straight from the engine (embedded mode) or from
the Redis stream dispatcher (distributed mode). Besides the subscriptions of one order or one
user, a listener may take every event, or every event a filter on the order id and status
lets through (the trigger watcher follows orders entering and leaving WAITING that way).
Each listener has a bounded queue; a listener that falls behind is flagged ``overflowed`` and
re-reads what it missed from the database.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from eterna.orders import OrderEvent, OrderStatus

K = TypeVar("K")
# Tells from an event's order id and status whether a listener of every event wants it.
EventFilter = Callable[[uuid.UUID, OrderStatus], bool]


class Listener:
    """A bounded queue of events for one subscription."""

    def __init__(self, maxsize: int) -> None:
        self._queue: asyncio.Queue[OrderEvent] = asyncio.Queue(maxsize=maxsize)
        self.overflowed = False

    def offer(self, event: OrderEvent) -> None:
        """Queue the event, or flag the listener when it is full."""
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True

    def drain(self) -> list[OrderEvent]:
        """Return every queued event at once, without waiting."""
        events = []
        while not self._queue.empty():
            events.append(self._queue.get_nowait())
        return events

    async def next(self, wait_seconds: float) -> OrderEvent | None:
        """Return the next event, or None after wait_seconds without one."""
        if not self._queue.empty():  # a busy stream: no timer to arm for an event at hand
            return self._queue.get_nowait()
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
        for listener in self._by_order.get(event.order_id, ()):
            listener.offer(event)
        for listener in self._by_user.get(event.user_id, ()):
            listener.offer(event)
        for listener, wants in self._all.items():
            if wants is None or wants(event.order_id, event.status):
                listener.offer(event)

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

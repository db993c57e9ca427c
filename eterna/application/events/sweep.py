"""One sweep of the database per process finds the events its subscriptions missed.

Events are published after they are committed, so a crash between the two, or Redis losing
its data, leaves an event in Postgres that no subscription hears of; when it was an order's
last event, nothing later would reveal the gap. Instead of every idle subscription
re-reading the database on its own (a thousand subscriptions: two hundred queries a second
for nothing), the process asks once every ``interval_seconds``: which orders followed here
changed in the last window, at what ``last_seq``? An order whose ``last_seq`` is past the
last seq the hub handed out missed an event here, and only its listeners are nudged to
re-read.

The window ends ``grace_seconds`` ago, so that an event on its way from commit to the hub is
not taken for a lost one, and reaches ``overlap_seconds`` back over the previous window, as
an update's ``updated_at`` (taken before its commit) can become visible late. A false alarm
costs one read by the listeners concerned, nothing more: the streams drop what they already
delivered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from eterna.application.events.hub import EventHub
from eterna.application.ports import OrderReader

log = logging.getLogger(__name__)


class MissedEventSweep:
    """Nudge the listeners of orders that moved on without their events reaching the hub."""

    def __init__(
        self,
        hub: EventHub,
        repo: OrderReader,
        clock: Callable[[], datetime],
        *,
        interval_seconds: float = 5.0,
        grace_seconds: float = 1.0,
        overlap_seconds: float = 2.0,
    ) -> None:
        if interval_seconds <= 0:
            raise ValueError("interval_seconds must be positive")
        self._hub = hub
        self._repo = repo
        self._clock = clock
        self._interval = interval_seconds
        self._grace = timedelta(seconds=grace_seconds)
        self._overlap = timedelta(seconds=overlap_seconds)
        self._swept_until = clock() - self._grace
        self._task: asyncio.Task[None] | None = None

    async def sweep(self) -> int:
        """Check the window since the last sweep once; return how many listeners it nudged."""
        until = self._clock() - self._grace
        since = self._swept_until - self._overlap
        users, orders = self._hub.listened()
        if not users and not orders:
            self._swept_until = until  # nobody here could have missed anything
            return 0
        marks = await self._repo.orders_changed_between(users, orders, since, until)
        self._swept_until = max(self._swept_until, until)
        nudged = 0
        for mark in marks:
            seen = self._hub.seen_seq(mark.order_id)
            if mark.last_seq > seen:
                log.info(
                    "order %s is at seq %d, seq %d reached this process: re-reading",
                    mark.order_id,
                    mark.last_seq,
                    seen,
                )
                nudged += self._hub.nudge(mark.order_id, mark.user_id, mark.updated_at)
        return nudged

    def start(self) -> None:
        """Sweep every interval in the background until :meth:`stop`."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="missed-event-sweep")

    async def stop(self) -> None:
        """Stop sweeping."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.sweep()
            except Exception as exc:  # the next sweep covers the same window again
                log.warning("the sweep for missed events failed: %s", exc)

"""The reconciler: re-queue orders that nothing is working on.

It covers a lost enqueue (the API committed the order, then Redis refused the message), a
worker that died holding a lease or holding messages it had taken from the queue, and a new
limit or sniper order the trigger watcher never looked at (its holder died). Re-queueing is
always safe: a worker runs an order only while it holds the order's lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from eterna.application.ports import OrderQueue, StuckOrders
from eterna.core.logs import about, about_many
from eterna.domain.errors import EternaError

log = logging.getLogger(__name__)


class Reconciler:
    """Periodically queue unfinished orders that have been untouched for too long."""

    def __init__(
        self,
        repo: StuckOrders,
        queue: OrderQueue,
        clock: Callable[[], datetime],
        *,
        interval_seconds: float,
        stale_after_seconds: float,
        batch: int = 500,
    ) -> None:
        self._repo = repo
        self._queue = queue
        self._clock = clock
        self._interval = interval_seconds
        self._stale_after = timedelta(seconds=stale_after_seconds)
        self._batch = batch
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> int:
        """Queue the stuck orders found now; return how many."""
        now = self._clock()
        stuck = await self._repo.stuck_orders(now, now - self._stale_after, self._batch)
        if stuck:
            ids = [o.order_id for o in stuck]
            log.warning("re-queueing %d stuck orders", len(stuck), extra=about_many(ids))
            for order_id in ids:
                log.info("order %s re-queued: nothing works on it", order_id, extra=about(order_id))
            await self._queue.enqueue(stuck)
        return len(stuck)

    def start(self) -> None:
        """Run in the background until stopped."""
        self._task = asyncio.create_task(self._loop(), name="reconciler")

    async def stop(self) -> None:
        """Stop the background loop."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.run_once()
            except (EternaError, OSError) as exc:
                log.warning("reconciler pass failed: %s", exc)
            except Exception:
                log.exception("reconciler pass failed")

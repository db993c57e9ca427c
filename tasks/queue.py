"""The order queue port over the taskiq broker: one labelled ``kiq`` per order.

Each message carries its order's user as a label, which names the lane it waits in
(:mod:`tasks.broker`), and the trace context of the placement when it is traced. The
kicks of a batch are made concurrently, and the broker pushes what arrives together in one
round trip.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from opentelemetry import propagate
from redis.exceptions import RedisError
from taskiq import AsyncBroker
from taskiq.exceptions import SendTaskError

from eterna.application import spans
from eterna.application.ports import QueuedOrder
from eterna.domain.errors import EternaError
from tasks.broker import EXECUTE_ORDER, USER_LABEL


class QueueUnavailableError(EternaError):
    """The queue did not accept the message."""


class TaskiqOrderQueue:
    """Send execute-order messages through the broker."""

    def __init__(self, broker: AsyncBroker) -> None:
        self._broker = broker

    async def enqueue(self, orders: Sequence[QueuedOrder]) -> None:
        """Queue every order; raise QueueUnavailableError if any message was not accepted."""
        task = self._broker.find_task(EXECUTE_ORDER)
        if task is None:  # a wiring error, not a runtime condition
            raise QueueUnavailableError(f"task {EXECUTE_ORDER} is not registered")
        if not orders:
            return
        # The placement's trace context (W3C traceparent) rides in the labels, so the
        # worker's spans join the trace of the request that placed the order.
        labels: dict[str, str] = {}
        if spans.enabled:
            propagate.inject(labels)
        kicks = [
            task.kicker().with_labels(**labels, **{USER_LABEL: o.user_id}).kiq(str(o.order_id))
            for o in orders
        ]
        results = await asyncio.gather(*kicks, return_exceptions=True)
        for result in results:
            if isinstance(result, RedisError | OSError | SendTaskError):
                raise QueueUnavailableError(f"queue unavailable: {result}") from result
            if isinstance(result, BaseException):
                raise result

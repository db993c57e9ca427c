"""The order queue port over a taskiq broker."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence

from redis.exceptions import RedisError
from taskiq import AsyncBroker

from eterna.errors import EternaError
from tasks.broker import EXECUTE_ORDER


class QueueUnavailableError(EternaError):
    """The queue did not accept the message."""


class TaskiqOrderQueue:
    """Send execute-order messages through the broker."""

    def __init__(self, broker: AsyncBroker, concurrency: int = 16) -> None:
        self._broker = broker
        self._limit = asyncio.Semaphore(concurrency)

    async def enqueue(self, order_ids: Sequence[uuid.UUID]) -> None:
        """Queue every order; raise QueueUnavailableError if any message was not accepted."""
        task = self._broker.find_task(EXECUTE_ORDER)
        if task is None:  # a wiring error, not a runtime condition
            raise QueueUnavailableError(f"task {EXECUTE_ORDER} is not registered")

        async def send(order_id: uuid.UUID) -> None:
            async with self._limit:
                await task.kiq(str(order_id))

        try:
            await asyncio.gather(*(send(i) for i in order_ids))
        except (RedisError, OSError) as exc:
            raise QueueUnavailableError(f"queue unavailable: {exc}") from exc

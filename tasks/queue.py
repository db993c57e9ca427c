"""The order queue port over a taskiq broker.

On a Redis Stream broker a batch of orders is queued with one pipelined round trip: the
messages are the very ones ``kiq`` would send (the task's kicker prepares them, the broker's
formatter encodes them) and each is appended with the ``XADD`` that
``RedisStreamBroker.kick`` runs. Any other broker (the in-memory one of the embedded mode),
or a broker with send middlewares, gets one ``kiq`` per order.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError
from taskiq import AsyncBroker, TaskiqMiddleware
from taskiq.exceptions import SendTaskError
from taskiq_redis import RedisStreamBroker

from eterna.errors import EternaError
from tasks.broker import EXECUTE_ORDER

# Messages per pipelined round trip (the reconciler queues up to 500 at once).
PIPELINE_SIZE = 500


class QueueUnavailableError(EternaError):
    """The queue did not accept the message."""


def _pipelines(broker: AsyncBroker) -> RedisStreamBroker | None:
    """Return the broker when a batch can go out as pipelined XADDs, else None."""
    if not isinstance(broker, RedisStreamBroker):
        return None
    for middleware in broker.middlewares:
        cls = type(middleware)
        if cls.pre_send is not TaskiqMiddleware.pre_send:
            return None
        if cls.post_send is not TaskiqMiddleware.post_send:
            return None
    return broker


class TaskiqOrderQueue:
    """Send execute-order messages through the broker."""

    def __init__(self, broker: AsyncBroker, concurrency: int = 16) -> None:
        self._broker = broker
        self._limit = asyncio.Semaphore(concurrency)
        # One client over the stream broker's pool: building a redis-py client for every
        # batch cost more CPU than the XADD a single order needs. It holds no connection.
        self._client: Redis | None = None

    async def enqueue(self, order_ids: Sequence[uuid.UUID]) -> None:
        """Queue every order; raise QueueUnavailableError if any message was not accepted."""
        task = self._broker.find_task(EXECUTE_ORDER)
        if task is None:  # a wiring error, not a runtime condition
            raise QueueUnavailableError(f"task {EXECUTE_ORDER} is not registered")
        if not order_ids:
            return
        streams = _pipelines(self._broker)
        try:
            if streams is not None:
                for start in range(0, len(order_ids), PIPELINE_SIZE):
                    await self._xadd(
                        self._stream_client(streams),
                        streams,
                        task,
                        order_ids[start : start + PIPELINE_SIZE],
                    )
            else:
                await self._kiq_each(task, order_ids)
        except (RedisError, OSError, SendTaskError) as exc:
            raise QueueUnavailableError(f"queue unavailable: {exc}") from exc

    async def _kiq_each(self, task: Any, order_ids: Sequence[uuid.UUID]) -> None:
        async def send(order_id: uuid.UUID) -> None:
            async with self._limit:
                await task.kiq(str(order_id))

        await asyncio.gather(*(send(i) for i in order_ids))

    def _stream_client(self, broker: RedisStreamBroker) -> Redis:
        if self._client is None:
            self._client = Redis(connection_pool=broker.connection_pool)
        return self._client

    @staticmethod
    async def _xadd(
        redis: Redis, broker: RedisStreamBroker, task: Any, order_ids: Sequence[uuid.UUID]
    ) -> None:
        """Append the orders' messages in one pipeline, exactly as ``kick`` appends one."""
        kicker = task.kicker()
        messages = [broker.formatter.dumps(kicker._prepare_message(str(i))) for i in order_ids]
        async with redis.pipeline(transaction=False) as pipe:
            for message in messages:
                pipe.xadd(
                    message.labels.get("queue_name") or broker.queue_name,
                    {b"data": message.message},
                    maxlen=broker.maxlen,
                    approximate=broker.approximate,
                )
            await pipe.execute()

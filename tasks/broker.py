"""The broker: in-memory in the embedded mode, a Redis Stream in the distributed mode.

Delivery is at least once; the engine's lease and ``last_seq`` guards make execution
effectively once. Stream settings follow the known behaviour of taskiq-redis 1.2.4: an idle
timeout far above an order's run time (so a running order is never reclaimed by a second
worker). A read takes up to ``READ_AHEAD`` messages. At shutdown, those not yet handed to the
receiver go back to the queue at once. Those the receiver holds but has not started (it drops
them when it stops), and after a crash all of them, belong to orders nothing has touched: the
reconciler queues those orders again (the sweep would take the messages over only after the
idle timeout).

taskiq-redis sweeps the stream for such stranded messages (``XAUTOCLAIM`` under a lock)
after every read, which costs two more round trips per order; :class:`OrderStreamBroker`
sweeps after a read at most once every ``SWEEP_SECONDS``. A message can only be reclaimed
after ``STREAM_IDLE_TIMEOUT_MS`` anyway, so that delays a reclaim by at most a second.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from typing import Annotated, Any

from redis.asyncio import Redis
from taskiq import AckableMessage, AsyncBroker, Context, InMemoryBroker, TaskiqDepends
from taskiq_redis import RedisStreamBroker

from eterna.coalesce import Coalescer
from eterna.config import Settings
from eterna.engine import ExecutionEngine

log = logging.getLogger(__name__)

EXECUTE_ORDER = "orders.execute"
# An order runs for seconds; reclaiming after 5 minutes can only mean its worker died.
STREAM_IDLE_TIMEOUT_MS = 300_000
# An execution is cut off well before the stream would redeliver it; it resumes from its last
# persisted step when the reconciler queues it again.
TASK_TIMEOUT_SECONDS = 120
# Messages one read takes. A round trip per message cost the worker as much as a claim; what
# is read ahead waits for a free slot, and goes back to the queue if the worker stops first.
READ_AHEAD = 8
# At most one sweep for stranded messages per this many seconds of reading.
SWEEP_SECONDS = 1.0


class OrderStreamBroker(RedisStreamBroker):
    """taskiq-redis's stream broker, sweeping for stranded messages at most every second.

    ``listen`` is taskiq-redis 1.2.4's, with the sweep after a read skipped while the last
    one is less than ``sweep_seconds`` old.
    """

    def __init__(self, url: str, *, sweep_seconds: float = SWEEP_SECONDS, **kwargs: Any) -> None:
        super().__init__(url, **kwargs)
        self.sweep_seconds = sweep_seconds
        self._swept_at = -math.inf
        # Messages read but not handed to the receiver yet: (stream, id, data).
        self._read_ahead: deque[tuple[str, Any, bytes]] = deque()
        # Acknowledgements of orders finished together go out in one XACK per stream.
        self._acks: Coalescer[tuple[str, Any], None] = Coalescer(self._ack_all, name="acks")
        # One client over the broker's pool for the acks and the hand-back: building a redis-py
        # client costs more CPU than the XACK it sends. It holds no connection of its own.
        self._client = Redis(connection_pool=self.connection_pool)

    def _ack_generator(
        self,
        id: str,  # noqa: A002 - the name taskiq-redis calls it with
        queue_name: str,
    ) -> Callable[[], Awaitable[None]]:
        """Return the message's ack: it returns once Redis has acknowledged the message."""

        async def _ack() -> None:
            await self._acks.submit((queue_name, id))

        return _ack

    async def _ack_all(self, acks: Sequence[tuple[str, Any]]) -> list[BaseException | None]:
        by_stream: dict[str, list[Any]] = {}
        for stream, message_id in acks:
            by_stream.setdefault(stream, []).append(message_id)
        for stream, ids in by_stream.items():
            await self._client.xack(stream, self.consumer_group_name, *ids)
        return [None] * len(acks)

    async def hand_back_read_ahead(self) -> int:
        """Queue again what was read but not handed to the receiver (at shutdown); say how many.

        Each goes back on its stream as a new message and the read copy is acknowledged, in
        one transaction, so nothing waits in this consumer's pending list for a sweep.
        """
        unread, self._read_ahead = list(self._read_ahead), deque()
        if not unread:
            return 0
        async with self._client.pipeline(transaction=True) as pipe:
            for stream, message_id, data in unread:
                pipe.xadd(stream, {b"data": data}, maxlen=self.maxlen, approximate=self.approximate)
                pipe.xack(stream, self.consumer_group_name, message_id)
            await pipe.execute()
        return len(unread)

    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        """Read up to ``count`` new messages a read; now and then sweep for stranded ones."""
        async with Redis(connection_pool=self.connection_pool) as redis_conn:
            streams: Any = {self.queue_name: ">", **self.additional_streams}
            while True:
                fetched: Any = await redis_conn.xreadgroup(
                    self.consumer_group_name,
                    self.consumer_name,
                    streams,
                    block=self.block,
                    noack=False,
                    count=self.count,
                )
                if not fetched:
                    continue
                self._read_ahead.extend(
                    (stream, msg_id, msg[b"data"])
                    for stream, msg_list in fetched
                    for msg_id, msg in msg_list
                )
                while self._read_ahead:
                    stream, msg_id, data = self._read_ahead.popleft()
                    yield AckableMessage(
                        data=data, ack=self._ack_generator(id=msg_id, queue_name=stream)
                    )
                now = time.monotonic()
                if now - self._swept_at < self.sweep_seconds:
                    continue
                self._swept_at = now
                async for message in self._sweep(redis_conn):
                    yield message

    async def _sweep(self, redis_conn: Redis) -> AsyncGenerator[AckableMessage, None]:
        """Claim messages idle for longer than the idle timeout (taskiq-redis's own sweep)."""
        for stream in [self.queue_name, *self.additional_streams.keys()]:
            pipe = redis_conn.pipeline()
            lock = pipe.lock(
                f"autoclaim:{self.consumer_group_name}:{stream}",
                timeout=self.unacknowledged_lock_timeout,
            )
            await lock.acquire()
            await pipe.xautoclaim(
                name=stream,
                groupname=self.consumer_group_name,
                consumername=self.consumer_name,
                min_idle_time=self.idle_timeout,
                count=self.unacknowledged_batch_size,
            )
            await lock.release()
            results: Any = await pipe.execute()
            for msg_id, msg in results[1][1]:
                yield AckableMessage(
                    data=msg[b"data"],
                    ack=self._ack_generator(id=msg_id, queue_name=stream),
                )


async def execute_order(order_id: str, context: Annotated[Context, TaskiqDepends()]) -> None:
    """Execute one order (a redelivered or duplicate message finds it leased or done)."""
    engine: ExecutionEngine = context.state.engine
    await engine.execute(uuid.UUID(order_id))


def build_broker(settings: Settings) -> AsyncBroker:
    """Return the broker for the run mode, with the execute-order task registered."""
    broker: AsyncBroker
    if settings.redis_url:
        broker = OrderStreamBroker(
            settings.redis_url,
            queue_name=f"{settings.redis_prefix}:orders",
            consumer_group_name=f"{settings.redis_prefix}:workers",
            xread_count=READ_AHEAD,
            idle_timeout=STREAM_IDLE_TIMEOUT_MS,
            unacknowledged_lock_timeout=10,
            maxlen=1_000_000,
            max_connection_pool_size=50,
        )
    else:
        broker = InMemoryBroker(max_async_tasks=settings.worker_concurrency)
    broker.register_task(execute_order, task_name=EXECUTE_ORDER, timeout=TASK_TIMEOUT_SECONDS)
    return broker


def set_engine(broker: AsyncBroker, engine: ExecutionEngine) -> None:
    """Make the engine available to the tasks of this process."""
    state: Any = broker.state
    state.engine = engine

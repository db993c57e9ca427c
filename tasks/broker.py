"""The broker: in-memory in the embedded mode, a Redis Stream in the distributed mode.

Delivery is at least once; the engine's lease and ``last_seq`` guards make execution
effectively once. Stream settings follow the known behaviour of taskiq-redis 1.2.4: one
message read at a time (a crash strands no prefetched batch) and an idle timeout far above
an order's run time (so a running order is never reclaimed by a second worker).
"""

from __future__ import annotations

import logging
import uuid
from typing import Annotated, Any

from taskiq import AsyncBroker, Context, InMemoryBroker, TaskiqDepends
from taskiq_redis import RedisStreamBroker

from eterna.config import Settings
from eterna.engine import ExecutionEngine

log = logging.getLogger(__name__)

EXECUTE_ORDER = "orders.execute"
# An order runs for seconds; reclaiming after 5 minutes can only mean its worker died.
STREAM_IDLE_TIMEOUT_MS = 300_000


async def execute_order(order_id: str, context: Annotated[Context, TaskiqDepends()]) -> None:
    """Execute one order (a redelivered or duplicate message finds it leased or done)."""
    engine: ExecutionEngine = context.state.engine
    await engine.execute(uuid.UUID(order_id))


def build_broker(settings: Settings) -> AsyncBroker:
    """Return the broker for the run mode, with the execute-order task registered."""
    broker: AsyncBroker
    if settings.redis_url:
        broker = RedisStreamBroker(
            settings.redis_url,
            queue_name=f"{settings.redis_prefix}:orders",
            consumer_group_name=f"{settings.redis_prefix}:workers",
            xread_count=1,
            idle_timeout=STREAM_IDLE_TIMEOUT_MS,
            unacknowledged_lock_timeout=10,
            maxlen=1_000_000,
            max_connection_pool_size=50,
        )
    else:
        broker = InMemoryBroker(max_async_tasks=settings.worker_concurrency)
    broker.register_task(execute_order, task_name=EXECUTE_ORDER)
    return broker


def set_engine(broker: AsyncBroker, engine: ExecutionEngine) -> None:
    """Make the engine available to the tasks of this process."""
    state: Any = broker.state
    state.engine = engine

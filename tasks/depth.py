"""How deep the order queue is: the Redis Stream's consumer group, or the in-memory broker."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError
from taskiq import AsyncBroker
from taskiq_redis import RedisStreamBroker

from eterna.metrics import QueueDepth


async def queue_depth(broker: AsyncBroker) -> QueueDepth:
    """Return the messages no worker has read yet, and those read but not acknowledged.

    On a Redis Stream these are the workers' consumer group's ``lag`` and ``pending`` (Redis
    7 or later reports ``lag``). The in-memory broker starts a task for every message at
    once: nothing lags, and its running tasks are the pending ones.
    """
    if isinstance(broker, RedisStreamBroker):
        return await _stream_depth(broker)
    running: Any = getattr(broker, "_running_tasks", ())
    return QueueDepth(lag=0, pending=len(running))


async def _stream_depth(broker: RedisStreamBroker) -> QueueDepth:
    async with Redis(connection_pool=broker.connection_pool) as redis:
        try:
            groups: Any = await redis.xinfo_groups(broker.queue_name)
        except ResponseError as exc:
            if "no such key" in str(exc).lower():
                return QueueDepth(lag=0, pending=0)  # nothing was ever queued
            raise
    for group in groups:
        name = group.get("name")
        if isinstance(name, bytes):
            name = name.decode()
        if name == broker.consumer_group_name:
            # Redis answers a nil lag when it cannot tell (after entries were deleted).
            lag, pending = group.get("lag"), group.get("pending")
            return QueueDepth(lag=int(lag or 0), pending=int(pending or 0))
    return QueueDepth(lag=0, pending=0)  # no worker declared the group yet

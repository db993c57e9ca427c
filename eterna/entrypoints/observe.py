"""What makes a process observable, wired for the composition root (eterna.entrypoints.bootstrap).

Its log records of a task carry the task's order id (a taskiq middleware); its metrics count
orders in the database and read the queue's depth when Prometheus scrapes, and report what
this process serves or runs: subscriptions, orders in flight, the trigger watcher.
"""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis

from eterna import __version__
from eterna.adapters.metrics import Metrics, PoolUse
from eterna.application.engine import ExecutionEngine
from eterna.application.events.hub import EventHub
from eterna.entrypoints.config import Settings
from models.stats import count_orders
from tasks.broker import FairBroker
from tasks.depth import queue_depth
from tasks.log_context import OrderLogContext
from tasks.watcher import WatcherRunner


def observe(settings: Settings, role: str, broker: FairBroker) -> Metrics:
    """Tag each task's log records with its order's id; return this process's metrics.

    The metrics read the database and the queue when Prometheus scrapes.
    """
    broker.add_middlewares(OrderLogContext())
    return Metrics(
        role=role,
        mode="distributed" if settings.distributed else "embedded",
        version=__version__,
        count_orders=count_orders,
        queue_depth=lambda: queue_depth(broker),
    )


def watch(
    metrics: Metrics,
    *,
    role: str,
    hub: EventHub,
    engine: ExecutionEngine | None,
    runner: WatcherRunner | None,
    redis: aioredis.Redis | None = None,
    repo: object = None,
) -> None:
    """Report this process's subscriptions, running orders, watcher and pools at each scrape."""
    pools = {"database": lambda: database_pool_use(repo)}
    if redis is not None:
        pools["redis"] = lambda: redis_pool_use(redis)
    metrics.watch_pools(pools)
    if role == "api":
        metrics.watch_subscriptions(hub.subscription_counts)
    if engine is not None:
        metrics.watch_engine(lambda: len(engine.in_flight))
    if runner is not None:
        metrics.watch_watcher(
            lambda: runner.holding, lambda: len(runner.watcher.book) if runner.holding else 0
        )


def database_pool_use(store: object) -> PoolUse | None:
    """Return the use of the order store's own asyncpg pool (None on SQLite's store).

    The Postgres store exposes its pool; asyncpg's pool reports its size and its idle
    connections through public methods.
    """
    pool: Any = getattr(store, "pool", None)
    if pool is None or not hasattr(pool, "get_size"):
        return None
    size = int(pool.get_size())
    return PoolUse(size=size, in_use=size - int(pool.get_idle_size()))


def redis_pool_use(redis: aioredis.Redis) -> PoolUse | None:
    """Return the Redis pool's use; redis-py keeps its idle and lent connections apart."""
    pool = redis.connection_pool
    idle = getattr(pool, "_available_connections", None)
    lent = getattr(pool, "_in_use_connections", None)
    if idle is None or lent is None:
        return None
    return PoolUse(size=len(idle) + len(lent), in_use=len(lent))

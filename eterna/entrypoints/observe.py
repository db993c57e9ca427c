"""What makes a process observable, wired for the composition root (eterna.entrypoints.bootstrap).

Its log records of a task carry the task's order id (a taskiq middleware); its metrics count
orders in the database and read the queue's depth when Prometheus scrapes, and report what
this process serves or runs: subscriptions, orders in flight, the trigger watcher.
"""

from __future__ import annotations

from eterna import __version__
from eterna.adapters.metrics import Metrics
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
) -> None:
    """Report this process's subscriptions, running orders and watcher at each scrape."""
    if role == "api":
        metrics.watch_subscriptions(hub.subscription_counts)
    if engine is not None:
        metrics.watch_engine(lambda: len(engine.in_flight))
    if runner is not None:
        metrics.watch_watcher(
            lambda: runner.holding, lambda: len(runner.watcher.book) if runner.holding else 0
        )

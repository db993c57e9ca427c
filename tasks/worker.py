"""Composition root of ``eterna worker``: consume the order queue until told to stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from taskiq.api import run_receiver_task

from eterna.bootstrap import Runtime, open_runtime
from eterna.config import Settings
from eterna.errors import EternaError
from eterna.logs import about_many
from eterna.metrics.http import MetricsServer
from eterna.ratelimit import RateLimit, RedisRateLimiter
from tasks.broker import OrderStreamBroker
from tasks.queue import TaskiqOrderQueue
from tasks.throttle import ThrottledEngine

log = logging.getLogger(__name__)


async def run_worker(settings: Settings) -> None:
    """Execute queued orders until SIGTERM or SIGINT."""
    if not settings.distributed:
        raise SystemExit(
            "eterna worker needs REDIS_URL and DATABASE_URL; `eterna serve` alone runs "
            "its own worker in the embedded mode"
        )
    # Handle SIGTERM from the first moment: an orchestrator may stop a worker that is still
    # starting, and it should then exit cleanly rather than die of the signal.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with open_runtime(settings, "worker") as runtime:
        if stop.is_set():
            log.info("worker stopped before it was ready")
            return
        if settings.global_orders_per_minute and runtime.engine and runtime.redis:
            # Every worker draws from one budget in Redis before starting an order.
            limiter = RedisRateLimiter(
                runtime.redis,
                RateLimit(settings.global_orders_per_minute, period_seconds=60.0),
                prefix=settings.redis_prefix,
            )
            runtime.broker.state.engine = ThrottledEngine(runtime.engine, limiter)
        metrics = await _serve_metrics(runtime)
        receiver = asyncio.create_task(
            _receive(runtime, settings.worker_concurrency), name="receiver"
        )
        log.info("worker ready: %d concurrent orders", settings.worker_concurrency)
        print("worker ready", flush=True)  # noqa: T201 - the line scripts wait for
        await stop.wait()
        await _shut_down(runtime, receiver, grace_seconds=settings.shutdown_grace_seconds)
        if metrics is not None:  # last, so the shutdown itself can still be watched
            await metrics.stop()


async def _serve_metrics(runtime: Runtime) -> MetricsServer | None:
    """Serve /metrics on the first free port from ETERNA_METRICS_PORT (none when it is 0)."""
    settings = runtime.settings
    if settings.metrics_port == 0:
        return None
    server = MetricsServer(runtime.metrics, settings.host, settings.metrics_port)
    try:
        port = await server.start()
    except OSError as exc:
        # Metrics are for watching: a worker without them still executes orders.
        log.error("no /metrics endpoint: %s", exc)
        return None
    print(f"metrics on http://{settings.host}:{port}/metrics", flush=True)  # noqa: T201
    return server


async def _receive(runtime: Runtime, concurrency: int) -> None:
    """Consume the queue, starting over whenever Redis goes away and comes back.

    taskiq's stream reader ends on a connection error; a restarted Redis may also have lost
    the consumer group, which ``startup`` declares again. Orders whose messages were lost
    are queued again by the reconciler.
    """
    keeper = asyncio.create_task(_keep_consumer_group(runtime), name="consumer-group")
    try:
        await _read_forever(runtime, concurrency)
    finally:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper


async def _keep_consumer_group(runtime: Runtime) -> None:
    """Declare the stream's consumer group again every few seconds.

    taskiq retries a failing read by itself, but a Redis that restarted without its data has
    lost the group, and every read then fails with NOGROUP until it is declared again.
    """
    declare = getattr(runtime.broker, "_declare_consumer_group", None)
    if declare is None:
        return
    while True:
        await asyncio.sleep(2)
        with contextlib.suppress(Exception):  # Redis may be down: try again next time
            await declare()


async def _read_forever(runtime: Runtime, concurrency: int) -> None:
    while True:
        try:
            await run_receiver_task(
                runtime.broker,
                max_async_tasks=concurrency,
                max_prefetch=0,
                run_startup=False,
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # any reader failure: wait and start over
            log.warning("queue reader stopped (%s); reconnecting in 1 s", exc)
        await asyncio.sleep(1)
        with contextlib.suppress(Exception):
            await runtime.broker.startup()


async def _shut_down(
    runtime: Runtime, receiver: asyncio.Task[None], *, grace_seconds: float
) -> None:
    """Finish what is running within the grace period, then hand the rest back to the queue.

    New deliveries during the grace period are handed back at once. An order cut off
    mid-way is safe to hand back: it resumes from its last persisted step.
    """
    if runtime.watcher is not None:
        # First, so the watcher lock is free for another worker at once.
        await runtime.watcher.stop()
    engine = runtime.engine
    if engine is None:  # pragma: no cover - a worker always runs the engine
        receiver.cancel()
        return
    engine.drain()
    await engine.wait_idle(grace_seconds)
    unfinished = sorted(engine.in_flight)
    receiver.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await receiver
    if isinstance(runtime.broker, OrderStreamBroker):
        with contextlib.suppress(Exception):  # Redis down: the reconciler will find them
            if read_ahead := await runtime.broker.hand_back_read_ahead():
                log.info("handed %d messages read ahead back to the queue", read_ahead)
    handed_back = sorted(set(unfinished) | set(engine.handed_back))
    if handed_back:
        log.warning(
            "handing %d orders back to the queue", len(handed_back), extra=about_many(handed_back)
        )
        with contextlib.suppress(EternaError):
            await TaskiqOrderQueue(runtime.broker).enqueue(handed_back)
    log.info("worker stopped")

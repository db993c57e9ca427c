"""Composition root of ``eterna worker``: consume the order queue until told to stop."""

from __future__ import annotations

import asyncio
import logging
import signal

import redis.asyncio as aioredis

from eterna.adapters.metrics.http import MetricsServer
from eterna.application.ratelimit import RateLimit, RedisRateLimiter
from eterna.entrypoints.bootstrap import Runtime, jwt_auth, open_runtime
from eterna.entrypoints.config import Settings
from tasks.throttle import ThrottledEngine

log = logging.getLogger(__name__)


async def run_worker(settings: Settings) -> None:
    """Execute queued orders until SIGTERM or SIGINT."""
    if not settings.distributed:
        raise SystemExit(
            "eterna worker needs REDIS_URL and DATABASE_URL; `eterna serve` alone runs "
            "its own worker in the embedded mode"
        )
    jwt_auth(settings)  # no JWT_SECRET: say so before anything starts
    await _ping_redis(settings)
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
        consumer = runtime.consumer
        if consumer is None:  # pragma: no cover - a worker always runs the engine
            raise SystemExit("this process does not execute orders")
        consumer.start()
        log.info("worker ready: %d concurrent orders", settings.worker_concurrency)
        print("worker ready", flush=True)  # noqa: T201 - the line scripts wait for
        await stop.wait()
        if runtime.watcher is not None:
            # First, so the watcher lock is free for another worker at once.
            await runtime.watcher.stop()
        await consumer.stop(settings.shutdown_grace_seconds)
        log.info("worker stopped")
        if metrics is not None:  # last, so the shutdown itself can still be watched
            await metrics.stop()


async def _ping_redis(settings: Settings) -> None:
    """Fail at once when Redis does not answer, rather than start and spin on the queue.

    :raises redis.exceptions.ConnectionError: when Redis does not answer within 5 s.
    """
    client = aioredis.from_url(settings.redis_url or "", socket_connect_timeout=5, socket_timeout=5)
    try:
        await client.ping()
    finally:
        await client.aclose()


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

"""Composition root of ``eterna worker``: consume the order queue until told to stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from taskiq.api import run_receiver_task

from eterna.bootstrap import open_runtime
from eterna.config import Settings

log = logging.getLogger(__name__)


async def run_worker(settings: Settings) -> None:
    """Execute queued orders until SIGTERM or SIGINT."""
    if not settings.distributed:
        raise SystemExit(
            "eterna worker needs REDIS_URL and DATABASE_URL; `eterna serve` alone runs "
            "its own worker in the embedded mode"
        )
    async with open_runtime(settings, "worker") as runtime:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        receiver = asyncio.create_task(
            run_receiver_task(
                runtime.broker,
                max_async_tasks=settings.worker_concurrency,
                max_prefetch=0,
                run_startup=False,
            ),
            name="receiver",
        )
        log.info("worker ready: %d concurrent orders", settings.worker_concurrency)
        print("worker ready", flush=True)  # noqa: T201 - the line scripts wait for
        await stop.wait()
        log.info("worker stopping")
        receiver.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await receiver

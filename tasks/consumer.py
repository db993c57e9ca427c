"""Consume the order queue: taskiq's receiver over the fair broker, and a clean stop.

``eterna worker`` runs one; so does the embedded ``eterna serve``, whose queue lives in the
process. Stopping finishes what runs within a grace period and puts the rest back in its
users' lanes: what was taken and not started, what was cut off (it resumes from its last
persisted step), and what was delivered while draining.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from taskiq.api import run_receiver_task

from eterna.application.engine import ExecutionEngine
from eterna.application.ports import QueuedOrder
from eterna.core.logs import about_many
from eterna.core.loop_lag import LoopLag
from eterna.domain.errors import EternaError
from tasks.broker import FairBroker, stop_receiver
from tasks.queue import TaskiqOrderQueue

log = logging.getLogger(__name__)

RECONNECT_SECONDS = 1.0


class OrderConsumer:
    """Run execute-order messages through the engine, ``concurrency`` at a time."""

    def __init__(
        self,
        broker: FairBroker,
        engine: ExecutionEngine,
        *,
        concurrency: int,
        admission: LoopLag | None = None,
    ) -> None:
        self._broker = broker
        self._engine = engine
        self._concurrency = concurrency
        self._admission = admission  # the broker's, measured while receiving
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start receiving in the background."""
        if self._admission is not None:
            self._admission.start()
        if self._task is None:
            self._task = asyncio.create_task(self._read_forever(), name="receiver")

    async def _read_forever(self) -> None:
        """Receive until cancelled, starting over whenever the queue's store goes away."""
        while True:
            try:
                await run_receiver_task(
                    self._broker,
                    max_async_tasks=self._concurrency,
                    max_prefetch=0,
                    run_startup=False,
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any reader failure: wait and start over
                log.warning("queue reader stopped (%s); reconnecting in 1 s", exc)
            await asyncio.sleep(RECONNECT_SECONDS)

    async def stop(self, grace_seconds: float) -> list[QueuedOrder]:
        """Finish what runs within the grace period, then hand the rest back; return it."""
        engine = self._engine
        engine.drain()
        await engine.wait_idle(grace_seconds)
        unfinished = engine.in_flight
        if self._task is not None:
            await stop_receiver(self._task)
            self._task = None
        if self._admission is not None:
            await self._admission.stop()
        with contextlib.suppress(Exception):  # the store is down: the reconciler will
            if held := await self._broker.hand_back():
                log.info("handed %d messages taken ahead back to the queue", held)
        back = {o.order_id: o for o in [*unfinished, *engine.handed_back]}
        orders = sorted(back.values())
        if orders:
            log.warning(
                "handing %d orders back to the queue",
                len(orders),
                extra=about_many([o.order_id for o in orders]),
            )
            with contextlib.suppress(EternaError):
                await TaskiqOrderQueue(self._broker).enqueue(orders)
        return orders

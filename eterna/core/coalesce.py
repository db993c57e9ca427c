"""Run concurrent calls together: what arrives while a run is in flight joins the next run.

A busy worker finishes steps of many orders at once. Writing each step in its own round trip
costs a statement (and a commit) per step; a :class:`Coalescer` hands every call that arrives
while a run is in flight to the next run, in arrival order, so a burst of N calls costs a
few runs instead of N. A call made while nothing runs starts a run at once: a quiet system
waits for nothing.

A run happens in a task of its own. A caller that is cancelled stops waiting; one cancelled
caller never cancels the others' work. Its own item is left out of a run not started yet,
unless the coalescer keeps cancelled items (work that must happen whoever waits for it,
such as publishing events already committed).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# A run answers each item with its result, or with the exception that item raises.
Run = Callable[[Sequence[T]], Awaitable[Sequence[R | BaseException]]]


class Coalescer(Generic[T, R]):
    """Hand concurrent calls to ``run`` in batches; each caller gets its own item's outcome."""

    def __init__(
        self,
        run: Run[T, R],
        *,
        name: str = "coalescer",
        linger: int = 0,
        abandoned: Callable[[T, R], None] | None = None,
        keep_cancelled: bool = False,
    ) -> None:
        """Batch calls to ``run``; with ``linger``, wait that many loop turns before each run.

        Lingering lets calls made by tasks that are about to run join the batch (as a
        database's commit delay does): a few turns of the loop, microseconds when idle.
        A call cancelled before its run starts is left out of it; one cancelled while its
        run is in flight still gets done, and ``abandoned`` receives its item and result
        (to undo what nobody will use, such as a lease taken for a caller that is gone).
        With ``keep_cancelled``, a call cancelled before its run starts still goes into it.
        """
        self._run = run
        self._linger = linger
        self._abandoned = abandoned
        self._name = name
        self._keep_cancelled = keep_cancelled
        self._queue: list[tuple[T, asyncio.Future[R]]] = []
        self._runner: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        """Return item's result once the run that took it is done (or raise its exception)."""
        loop = asyncio.get_running_loop()
        if self._runner is not None and self._runner.get_loop() is not loop:
            # Left over from a loop that was closed mid-run (tests run one loop each).
            self._runner, self._queue = None, []
        future: asyncio.Future[R] = loop.create_future()
        self._queue.append((item, future))
        if self._runner is None:
            self._runner = asyncio.create_task(self._drain(), name=self._name)
        return await future

    async def _drain(self) -> None:
        batch: list[tuple[T, asyncio.Future[R]]] = []
        try:
            while self._queue:
                for _ in range(self._linger):
                    await asyncio.sleep(0)
                batch = [
                    (item, future)
                    for item, future in self._queue
                    if self._keep_cancelled or not future.done()
                ]
                self._queue = []
                if not batch:
                    continue
                try:
                    outcomes = await self._run([item for item, _ in batch])
                except Exception as exc:  # every caller of the run gets it
                    outcomes = [exc] * len(batch)
                self._deliver(batch, outcomes)
                batch = []
        except asyncio.CancelledError:
            # Shutting down: nobody is left to run what waits; its callers are cancelled too.
            for _, future in [*batch, *self._queue]:
                future.cancel()
            self._queue = []
            raise
        finally:
            self._runner = None

    def _deliver(
        self, batch: list[tuple[T, asyncio.Future[R]]], outcomes: Sequence[R | BaseException]
    ) -> None:
        if len(outcomes) != len(batch):
            error = RuntimeError(f"{self._name}: {len(outcomes)} outcomes for {len(batch)}")
            outcomes = [error] * len(batch)
        for (item, future), outcome in zip(batch, outcomes, strict=True):
            if future.done():  # its caller was cancelled while the run was in flight
                if self._abandoned is not None and not isinstance(outcome, BaseException):
                    self._abandoned(item, outcome)
                continue
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

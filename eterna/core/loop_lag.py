"""Admission by event-loop lag: take new work only while the loop keeps up.

A worker runs many orders at once on one event loop. While they wait on the database or the
chain, more of them cost nothing; once they compete for the CPU, every step of every order
waits for one turn of the loop, and a turn grows with the number of orders ready to run. An
order that arrives then (another user's, taken first by the round-robin lanes) would crawl
through its steps at that pace. Little's law says what a slot cap alone would cost: a cap low
enough to keep turns short on this machine starves throughput where the venue is slow.

:class:`LoopLag` measures the loop instead: a timer asks to wake every ``interval`` and
records how late it woke. :meth:`LoopLag.admit` lets a caller start new work while the lag
is under ``max_lag`` (or while fewer than ``floor`` pieces of work run, so that a loop
slowed by something else still makes progress), and otherwise waits until the loop has
caught up. Between two measurements at most ``per_tick`` pieces start, so a door that has
just opened does not let a whole backlog through before the next measurement can close it.
Work already started is never held back; only new work waits.
"""

from __future__ import annotations

import asyncio
import contextlib

# How often the timer asks to wake (seconds).
INTERVAL = 0.005
# How quickly the smoothed lag follows a new sample (0..1): one late turn does not close the
# door, a run of them does; a quiet turn opens it again within a few intervals.
SMOOTHING = 0.3
# New pieces of work one measurement lets start (at 5 ms, up to 800 a second).
PER_TICK = 4


class LoopLag:
    """The smoothed lag of the running event loop, and a door that closes when it grows."""

    def __init__(
        self,
        max_lag: float,
        *,
        floor: int = 4,
        interval: float = INTERVAL,
        per_tick: int = PER_TICK,
    ) -> None:
        self.max_lag = max_lag
        self.floor = floor
        self._interval = interval
        self._per_tick = per_tick
        self.lag = 0.0
        self._allowance = per_tick
        self._task: asyncio.Task[None] | None = None
        self._tick = asyncio.Event()

    def start(self) -> None:
        """Start measuring (idempotent); ``max_lag`` 0 turns admission off."""
        if self._task is None and self.max_lag > 0:
            self._task = asyncio.create_task(self._measure(), name="loop-lag")

    async def stop(self) -> None:
        """Stop measuring and open the door."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.lag = 0.0
        self._tick.set()

    async def admit(self, running: int) -> None:
        """Return when new work may start, ``running`` pieces of work being under way."""
        while not self.try_admit(running):
            await self.next_tick()

    def try_admit(self, running: int) -> bool:
        """Tell whether new work may start now (and count it if so), without waiting."""
        if running < self.floor or self._task is None:
            return True
        if self._allowance <= 0:
            return False
        self._allowance -= 1
        return True

    async def next_tick(self) -> None:
        """Return after the next measurement (at once when not measuring)."""
        if self._task is not None:
            await self._tick.wait()

    def _record(self, late: float) -> None:
        self.lag += SMOOTHING * (late - self.lag)
        self._allowance = self._per_tick if self.lag <= self.max_lag else 0
        self._tick.set()
        self._tick = asyncio.Event()

    async def _measure(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            asked = loop.time()
            await asyncio.sleep(self._interval)
            self._record(max(0.0, loop.time() - asked - self._interval))

"""A gate of ``capacity`` slots, handed to waiting callers one user at a time in turn.

A worker runs many orders at once, and each makes calls to a venue through a bounded pool of
connections. A plain pool serves its waiters first come, first served: one user's hundred
orders queue a thousand calls, and the next user's order waits behind every one of them at
each of its steps. :class:`FairGate` keeps the bound and changes the order: waiters queue in
per-user lanes (:class:`eterna.core.fair_queue.FairQueue`), and a freed slot goes to the next
user in turn, so a call waits for the calls in flight and at most one call of every other
user with calls waiting.

The user is the caller's :data:`CALLER` (a context variable, so it follows an order's tasks
without being passed down): the engine sets it for the order it runs; anything else shares
the anonymous lane.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextvars import ContextVar

from eterna.core.fair_queue import FairQueue

# The user on whose behalf the current task works ("" for the process itself).
CALLER: ContextVar[str] = ContextVar("eterna_caller", default="")


class FairGate:
    """At most ``capacity`` holders at once; waiters served one user at a time in turn."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("a gate needs at least one slot")
        self.capacity = capacity
        self.in_use = 0
        self._waiting: FairQueue[asyncio.Future[None]] = FairQueue()

    @property
    def waiting(self) -> int:
        """Return how many callers wait for a slot."""
        return len(self._waiting)

    @contextlib.asynccontextmanager
    async def slot(self, user: str | None = None) -> AsyncIterator[None]:
        """Hold one slot for the block; ``user`` defaults to :data:`CALLER`."""
        await self.acquire(user)
        try:
            yield
        finally:
            self.release()

    async def acquire(self, user: str | None = None) -> None:
        """Take one slot, waiting in ``user``'s turn; whoever holds it must :meth:`release` it.

        For a slot whose end is not the end of a block: a call that is answered before its
        caller runs again gives its slot back when the answer arrives.
        """
        if self.in_use < self.capacity and not self._waiting:
            self.in_use += 1
            return
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.push([(CALLER.get() if user is None else user, granted)])
        try:
            await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():
                self.release()  # handed a slot while being cancelled: pass it on
            # A cancelled waiter still in its lane is skipped when its turn comes.
            raise

    def release(self) -> None:
        """Give one slot back (to the next waiting user in turn)."""
        while self._waiting:
            ((_, granted),) = self._waiting.pop(1)
            if not granted.done():
                granted.set_result(None)  # the slot passes straight to the next user in turn
                return
        self.in_use -= 1

"""Tasks that nobody awaits, kept alive until they finish.

The event loop holds only a weak reference to a task: one started and not kept may be
collected before it is done. :class:`Background` keeps each until it finishes, and can wait
for those in flight (at shutdown).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any


class Background:
    """A set of fire-and-forget tasks, each kept referenced until it is done."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        """Return how many are still running."""
        return len(self._tasks)

    def spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run the coroutine in a task of its own, kept until it finishes."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def settle(self, timeout_seconds: float) -> bool:
        """Wait until none runs, also those started while waiting; False if some still do."""
        deadline = asyncio.get_running_loop().time() + timeout_seconds
        while self._tasks:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                return False
            await asyncio.wait(set(self._tasks), timeout=left)
        return True

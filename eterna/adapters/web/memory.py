"""Giving the memory of closed connections back to the system.

Where a websocket's memory goes (measured with tracemalloc on the API, uvloop, one idle
connection before its connection_init): about 28 KB of Python objects, nine tenths of them
the server's and libraries' (uvicorn's protocol object and its scope, the handshake's
request and response headers, an asyncio queue and events, the ASGI task's coroutine chain
through Starlette and strawberry), the rest the API's own middleware and GraphQL context.
When the connection closes they are freed, but freed is not returned:

- A reference cycle (the GraphQL context and its events loader) used to keep each
  connection's objects until a full collection of the cyclic GC, which came rarely and then
  walked all of them at once (0.54 s for 170,000 objects after 10,000 connections). Gone:
  the objects are freed when the connection ends (:mod:`schema.context`).
- CPython's small-object allocator (pymalloc) returns a 1 MiB arena only when every object
  in it is freed. Objects allocated during a flood that live on (timers, strings, a set's
  new table: a few hundred) pin the arenas they landed in: after 10,000 connections, 59 of
  105 arenas, 62 MB resident, held 0.1 MB of live objects.
- glibc's malloc returns free memory inside its heap only at the top, unless asked with
  ``malloc_trim``.

So ``eterna serve`` runs on the C library's allocator (``PYTHONMALLOC=malloc``, see
``ETERNA_SYSTEM_ALLOCATOR``), whose free pages ``malloc_trim`` can release one by one, and
:class:`TrimAfterClosing` collects and releases once many connections have closed.

A flood also stalls the process in the cyclic GC: each idle connection holds about 110
objects the GC tracks, and full collections, started every 70,000 allocations or so once
the tracked objects grew by a quarter, walked up to 750,000 of them, 0.3 to 0.9 s each,
dozens of times in a flood of 20,000 (what ``/health`` waited for). :func:`tune_collector`
makes full collections wait for a hundred times more young-generation collections; they
still come under steady load (every 7 million allocations), and after a flood
:class:`TrimAfterClosing` runs one.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import gc
import logging
from collections.abc import Callable

log = logging.getLogger(__name__)


def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        function: Callable[[int], int] = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to call
        return None
    return function


_TRIM = _malloc_trim()


# gc's default thresholds are (700, 10, 10): the last is the young collections between two
# considerations of a full one.
FULL_COLLECTION_THRESHOLD = 1000


def tune_collector() -> None:
    """Make the cyclic GC's full collections a hundred times rarer (see the module)."""
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_THRESHOLD)


def release_free_memory() -> bool:
    """Ask glibc to give its free memory back to the system; False where there is no glibc."""
    if _TRIM is None:
        return False
    _TRIM(0)
    return True


class TrimAfterClosing:
    """Collect and release free memory once a fall of open connections has settled.

    ``count`` returns the connections open now; it is read every ``every`` seconds. When it
    has fallen by ``drop`` or more since its peak and then falls no further for a check, the
    next ``after`` checks each run a full collection of the cyclic GC and release free
    memory. The collection matters: uvicorn leaves each upgraded connection's HTTP protocol
    object in a reference cycle (with its parser), and those few objects, scattered between
    the freed ones, split the free memory into pieces smaller than a page, which
    ``malloc_trim`` cannot give back (measured: 175 MB free, none released; after the
    collection, 110 MB). The second check covers connections whose closing handshake was
    still under way (uvicorn waits up to 10 s for the client's answer).

    Nothing of this runs while the fall goes on, nor while connections come back (a
    collection then walks every object of every connection open: 0.9 s when a second wave
    of 10,000 was opening), nor for a steady population.
    """

    def __init__(
        self,
        count: Callable[[], int],
        *,
        drop: int = 256,
        every: float = 5.0,
        after: int = 2,
        release: Callable[[], bool] = release_free_memory,
    ) -> None:
        self._count = count
        self._drop = drop
        self._every = every
        self._after = after
        self._release = release
        self._peak = self._floor = 0
        self._left = 0  # checks that still collect and release after the last fall
        self._task: asyncio.Task[None] | None = None

    def check(self) -> bool:
        """Collect and release if a fall has settled; tell whether it did."""
        return self._collected() and self._release()

    def _collected(self) -> bool:
        """Run a full collection if a fall has settled; tell whether it did."""
        now = self._count()
        self._peak = max(self._peak, now)
        if self._peak - now >= self._drop:
            self._peak = self._floor = now
            self._left = self._after  # still falling, maybe: wait for a quiet check
            return False
        if self._left == 0 or now - self._floor > self._drop // 4:
            return False  # nothing due, or connections are coming back: not now
        self._left -= 1
        gc.collect()
        return True

    def start(self) -> None:
        """Check every ``every`` seconds in the background."""
        self._task = asyncio.create_task(self._run(), name="trim-after-closing")

    async def stop(self) -> None:
        """Stop checking."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._every)
            # The collection holds the interpreter; malloc_trim, a foreign call, lets it go,
            # so it walks the heap in a thread while the event loop serves everyone else.
            if self._collected() and await asyncio.to_thread(self._release):
                log.debug("collected and released free memory after connections closed")

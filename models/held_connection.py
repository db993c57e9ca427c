"""A pooled connection that a writer running one statement at a time keeps between them.

Taking a connection from asyncpg's pool and handing it back costs more CPU than a one-row
statement (about 65 µs of 130 µs here, the hand-back running in a task of its own). A batch
writer runs its statements one after another, so it keeps its connection while they follow
each other closely, and gives it back once none came for ``hold_seconds``: an idle writer
holds nothing (docs/decisions/0014-group-commit-and-held-connections.md).

Only asyncpg's public pool API is used (``acquire``, ``release``, ``is_closing``, the size
getters); the pool is the Postgres store's own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

import asyncpg

from eterna.core.background import Background

log = logging.getLogger(__name__)

# How long a writer keeps its connection after a statement, waiting for the next one.
HOLD_SECONDS = 0.05


class HeldConnection:
    """Run statements one after another on a connection kept between them (see the module).

    The connection is given back at once after any error; when the pool began to close or
    the connection was closed; and when the pool has no free connection left for anyone
    else. A pool that closes therefore waits for one statement at most. A second statement
    arriving while one runs takes its own connection from the pool.
    """

    def __init__(self, pool: asyncpg.Pool, hold_seconds: float = HOLD_SECONDS) -> None:
        self._connections = pool
        self._hold = hold_seconds
        self._conn: Any = None
        self._busy = False
        self._timer: asyncio.TimerHandle | None = None
        self._last_used = 0.0
        self._releasing = Background()

    def holding(self) -> bool:
        """Tell whether a connection is kept right now."""
        return self._conn is not None

    async def fetch(self, sql: str, values: Sequence[Any]) -> list[asyncpg.Record]:
        """Run the statement on the kept connection (taking one first if needed)."""
        pool = self._connections
        if self._conn is not None and (pool.is_closing() or self._conn.is_closed()):
            self._give_back()
        if self._busy or pool.is_closing():
            rows: list[asyncpg.Record] = await pool.fetch(sql, *values)
            return rows
        self._busy = True
        try:
            if self._conn is None:
                self._conn = await pool.acquire()
            rows = await self._conn.fetch(sql, *values)
        except BaseException:
            self._give_back()
            raise
        finally:
            self._busy = False
        if pool.get_idle_size() == 0 and pool.get_size() >= pool.get_max_size():
            self._give_back()  # others may be waiting for a connection
        else:
            loop = asyncio.get_running_loop()
            self._last_used = loop.time()
            if self._timer is None:
                self._timer = loop.call_later(self._hold, self._check_idle)
        return rows

    def _check_idle(self) -> None:
        self._timer = None
        if self._conn is None or self._busy:
            return  # a statement running now arms the timer again when it is done
        loop = asyncio.get_running_loop()
        idle_for = loop.time() - self._last_used
        if idle_for < self._hold:
            self._timer = loop.call_later(self._hold - idle_for, self._check_idle)
            return
        self._give_back()

    def _give_back(self) -> None:
        """Hand the connection back to the pool (in a task: the pool's release is async)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        conn, self._conn = self._conn, None
        if conn is not None:
            self._releasing.spawn(_release(self._connections, conn))

    async def close(self) -> None:
        """Give the connection back now and wait until the pool has it."""
        self._give_back()
        await self._releasing.settle(5.0)


async def _release(pool: asyncpg.Pool, conn: Any) -> None:
    try:
        await pool.release(conn)
    except Exception as exc:  # a broken connection is the pool's to replace
        log.warning("could not hand a connection back to the pool: %s", exc)

"""Progress of a fault scenario while it runs: orders terminal so far, faults injected so far."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import httpx

from tests.faults.harness import TERMINAL, connect


async def terminal(db_url: str) -> int:
    """Return how many orders are in a terminal status (-1 when the database is down)."""
    try:
        conn = await connect(db_url, connect_timeout=2)
    except (OSError, asyncpg.PostgresError):
        return -1
    try:
        value = await conn.fetchval(
            "SELECT count(*) FROM orders WHERE status = ANY($1)", list(TERMINAL)
        )
        return int(value)
    except (OSError, asyncpg.PostgresError):
        return -1
    finally:
        await conn.close()


def described(faults: Counter[str]) -> str:
    """Return faults by kind as text, e.g. "3 SIGKILL, 1 Redis restart"."""
    return ", ".join(f"{n} {kind}" for kind, n in faults.items() if n) or "none yet"


async def chain_faults(client: httpx.AsyncClient, chain: str) -> str:
    """Return the faults the chain injected so far, as text."""
    try:
        injected: dict[str, int] = (await client.get(f"{chain}/admin/faults")).json()["injected"]
    except (httpx.HTTPError, KeyError, ValueError):
        return "chain not answering"
    return ", ".join(f"{n} {kind}" for kind, n in injected.items() if n) or "none yet"


@contextlib.asynccontextmanager
async def progress(
    name: str,
    db_url: str,
    total: int,
    faults: Callable[[], Awaitable[str]],
    every: float = 2.0,
) -> AsyncIterator[None]:
    """Print a scenario's progress every few seconds while it runs, and once at the end.

    Each line: seconds since the start, orders terminal out of the scenario's total, faults
    injected so far.
    """
    started = time.monotonic()

    async def line() -> None:
        finished = await terminal(db_url)
        done = "database down" if finished < 0 else f"{finished}/{total} orders terminal"
        print(  # noqa: T201 - progress of the scenario, shown with -s
            f"[{name} {time.monotonic() - started:5.1f} s] {done}; faults: {await faults()}",
            flush=True,
        )

    async def loop() -> None:
        while True:
            await asyncio.sleep(every)
            await line()

    ticker = asyncio.create_task(loop(), name=f"progress {name}")
    try:
        yield
    finally:
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker
        await line()

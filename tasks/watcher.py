"""Exactly one trigger watcher across all workers: a Redis lock with a TTL.

Every worker runs a :class:`WatcherRunner`. It tries ``SET key owner NX PX ttl`` every third
of the TTL; the one that gets the key runs the trigger watcher (``TriggerWatcher``) and
renews the key every third of the TTL with a compare-and-renew script (only the owner's value
is extended). When a renewal fails (the key expired or went to someone else, or Redis did not
answer), it stops watching at once; when its holder dies, the key expires and another worker
takes it within ``TTL + TTL/3`` (6.7 s with the default 5 s). On a clean stop the holder
deletes the key (compare-and-delete), so a successor starts within a third of the TTL.

Two watchers overlapping for a moment (a holder stalled past its TTL) would not execute an
order twice: every write of the watcher is guarded by the order's ``last_seq``.

The watcher learns of orders entering and leaving WAITING from the event hub. In the
distributed mode a worker's hub is fed by its own reader of the event stream, which runs only
while the worker holds the lock (``events``): the other workers read nothing. In the embedded
mode (no Redis) the single process always holds the "lock" and its hub gets every event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from asyncio import FIRST_COMPLETED
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from eterna.application.triggers.watcher import TriggerWatcher

log = logging.getLogger(__name__)

T = TypeVar("T")

RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


def lock_owner() -> str:
    """Return a name for this process's claim: host, pid and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Lock(Protocol):
    """A lease that at most one process holds at a time."""

    async def acquire(self) -> bool:
        """Take the lease if it is free; return whether we hold it."""
        ...

    async def renew(self) -> bool:
        """Extend the lease; return False when it is no longer ours."""
        ...

    async def release(self) -> None:
        """Give the lease up if it is ours."""
        ...


class EventFeed(Protocol):
    """Something that feeds the hub while it runs (the event stream dispatcher)."""

    async def start(self) -> None:
        """Start feeding; return once nothing published from now on can be missed."""
        ...

    async def stop(self) -> None:
        """Stop feeding."""
        ...


class RedisLock:
    """A Redis key with a TTL, set only when absent, extended and deleted only by its owner."""

    def __init__(self, redis: aioredis.Redis, key: str, owner: str, ttl_ms: int) -> None:
        self._redis = redis
        self.key = key
        self.owner = owner
        self.ttl_ms = ttl_ms

    async def acquire(self) -> bool:
        """Take the key if no one holds it."""
        return bool(await self._redis.set(self.key, self.owner, nx=True, px=self.ttl_ms))

    async def renew(self) -> bool:
        """Extend the key's TTL if it still holds our name."""
        renewed = await self._redis.eval(RENEW, 1, self.key, self.owner, str(self.ttl_ms))
        return bool(renewed)

    async def release(self) -> None:
        """Delete the key if it still holds our name."""
        await self._redis.eval(RELEASE, 1, self.key, self.owner)


class AlwaysHeld:
    """The embedded mode's lock: one process, so it is always ours."""

    async def acquire(self) -> bool:
        """Hold it."""
        return True

    async def renew(self) -> bool:
        """Still hold it."""
        return True

    async def release(self) -> None:
        """Nothing to give up."""


class WatcherRunner:
    """Run the trigger watcher while this process holds the lock.

    Stopping is cooperative (a flag the loops check) rather than one cancellation: redis-py
    8.1 can swallow a cancellation that meets a reply, so whatever waits on Redis is bounded
    by timeouts, and tasks are cancelled again until they end.
    """

    def __init__(
        self,
        watcher: TriggerWatcher,
        lock: Lock,
        *,
        ttl_ms: int,
        events: Callable[[], EventFeed] | None = None,
    ) -> None:
        self.watcher = watcher
        self._lock = lock
        self._events = events
        self._period = ttl_ms / 3000
        self._ttl = ttl_ms / 1000
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.holding = False

    def start(self) -> None:
        """Start competing for the lock in the background."""
        if self._task is None:
            self._stopping.clear()
            self._task = asyncio.create_task(self._loop(), name="watcher-runner")

    async def stop(self) -> None:
        """Stop watching and give the lock up, so another worker takes over at once."""
        if self._task is None:
            return
        self._stopping.set()
        with contextlib.suppress(Exception):
            await self._task
        self._task = None

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            if await self._call(self._lock.acquire, "take"):
                await self._hold()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._period):
                    await self._stopping.wait()

    async def _hold(self) -> None:
        self.holding = True
        log.info("this process runs the trigger watcher")
        feed = self._events() if self._events is not None else None
        watching: asyncio.Task[None] | None = None
        stopping = asyncio.create_task(self._stopping.wait())
        try:
            if feed is not None:
                # Before the watcher reads the database: whatever it misses is committed by then.
                await feed.start()
            watching = asyncio.create_task(self.watcher.run(), name="trigger-watcher")
            renewed = time.monotonic()
            while True:
                await asyncio.wait(
                    {watching, stopping}, timeout=self._period, return_when=FIRST_COMPLETED
                )
                if watching.done() or stopping.done():
                    break
                if not await self._call(self._lock.renew, "renew") or (
                    time.monotonic() - renewed > self._ttl
                ):
                    log.warning("watcher lock lost: stopping the trigger watcher")
                    break
                renewed = time.monotonic()
            if watching.done() and not watching.cancelled() and watching.exception():
                log.error("trigger watcher failed", exc_info=watching.exception())
        finally:
            self.holding = False
            stopping.cancel()
            if watching is not None:
                await _cancel(watching)
            if feed is not None:
                await _stop(feed)
            await self._call(self._lock.release, "release")

    async def _call(self, action: Callable[[], Awaitable[T]], what: str) -> T | None:
        """Run a lock action within a third of the TTL; None when Redis failed or was late."""
        try:
            # A renewal slower than a third of the TTL could land after the key expired.
            async with asyncio.timeout(self._period):
                return await action()
        except (RedisError, OSError, TimeoutError) as exc:
            log.warning("could not %s the watcher lock (%s)", what, exc or "timeout")
            return None


async def _cancel(task: asyncio.Task[None]) -> None:
    """Cancel the task until it ends (a library may swallow one cancellation)."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=0.1)
    if not task.cancelled() and task.exception() is not None:
        log.debug("trigger watcher ended with %r", task.exception())


async def _stop(feed: EventFeed) -> None:
    """Stop the feed, asking again while it runs: each call cancels its reader once more."""
    calls = [asyncio.ensure_future(feed.stop())]
    while not any(c.done() for c in calls):
        await asyncio.wait(calls, timeout=0.1, return_when=FIRST_COMPLETED)
        if not any(c.done() for c in calls):
            calls.append(asyncio.ensure_future(feed.stop()))
    await asyncio.gather(*calls, return_exceptions=True)

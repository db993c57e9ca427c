"""Per-user lanes served round-robin, in Redis for many processes or in memory for one.

The rule is :class:`eterna.core.fair_queue.FairQueue`'s: every user has a FIFO lane, and a take
serves one item per user in turn. In Redis a lane is a list (``<name>:lane:<user>``, gone
when empty), the ring of users with work is another list (``<name>:ring``), and each call is
one Lua script, so concurrent producers and consumers in any number of processes keep the
invariant (a user is in the ring exactly when their lane is not empty). Lane keys are built
inside the scripts: the lanes live on one Redis, not a cluster.

A consumer with nothing to take waits on ``<name>:wake``, a list of at most 32 tokens every
push adds one to (BLPOP): a push wakes a waiting consumer within a round trip, and a consumer that
finds the lanes empty after a wake (another one took the work) simply waits again.

Delivery is at most once here: a taken item is gone from Redis. What a process took and did
not finish is recovered from the database, not from the queue: the reconciler queues again
every unfinished order nothing has touched for a while, and a worker that stops cleanly puts
back what it took and did not start (:meth:`push_front`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Protocol

from redis.asyncio import Redis

from eterna.core.fair_queue import FairQueue

# KEYS: ring, wake. ARGV: lane prefix, then user, item pairs. Returns the items queued.
_PUSH = """
local prefix = ARGV[1]
for i = 2, #ARGV, 2 do
  local user = ARGV[i]
  if redis.call('RPUSH', prefix .. user, ARGV[i + 1]) == 1 then
    redis.call('RPUSH', KEYS[1], user)
  end
end
redis.call('LPUSH', KEYS[2], '1')
redis.call('LTRIM', KEYS[2], 0, 31)
return (#ARGV - 1) / 2
"""

# The same, at the head of each lane; pairs come last-first so each lane keeps their order.
_PUSH_FRONT = """
local prefix = ARGV[1]
for i = 2, #ARGV, 2 do
  local user = ARGV[i]
  if redis.call('LPUSH', prefix .. user, ARGV[i + 1]) == 1 then
    redis.call('RPUSH', KEYS[1], user)
  end
end
redis.call('LPUSH', KEYS[2], '1')
redis.call('LTRIM', KEYS[2], 0, 31)
return (#ARGV - 1) / 2
"""

# KEYS: ring. ARGV: lane prefix, count. Returns user, item pairs, one user per turn.
_POP = """
local prefix = ARGV[1]
local taken = {}
for _ = 1, tonumber(ARGV[2]) do
  local user = redis.call('LMOVE', KEYS[1], KEYS[1], 'LEFT', 'RIGHT')
  if not user then break end
  local item = redis.call('LPOP', prefix .. user)
  if redis.call('EXISTS', prefix .. user) == 0 then
    redis.call('LREM', KEYS[1], -1, user)
  end
  if item then
    taken[#taken + 1] = user
    taken[#taken + 1] = item
  end
end
return taken
"""


class Lanes(Protocol):
    """Per-user FIFO lanes taken from round-robin."""

    async def push(self, items: Sequence[tuple[str, bytes]]) -> None:
        """Queue each (user, item) at the end of its user's lane."""
        ...

    async def push_front(self, items: Sequence[tuple[str, bytes]]) -> None:
        """Put items back at the head of their lanes, in their order."""
        ...

    async def pop(self, count: int) -> list[tuple[str, bytes]]:
        """Take up to count items, one user at a time in turn."""
        ...

    async def wait(self, timeout_seconds: float) -> None:
        """Return when a push may have queued something, or after the timeout."""
        ...

    async def depth(self) -> int:
        """Return how many items are queued over every lane."""
        ...


class MemoryLanes:
    """Lanes of this process (the embedded mode)."""

    def __init__(self) -> None:
        self._queue: FairQueue[bytes] = FairQueue()
        self._pushed = asyncio.Event()

    async def depth(self) -> int:
        """Return how many items are queued over every lane."""
        return len(self._queue)

    async def push(self, items: Sequence[tuple[str, bytes]]) -> None:
        """Queue the items and wake a waiting consumer."""
        self._queue.push(items)
        self._pushed.set()

    async def push_front(self, items: Sequence[tuple[str, bytes]]) -> None:
        """Put the items back at the head of their lanes."""
        self._queue.push_front(items)
        self._pushed.set()

    async def pop(self, count: int) -> list[tuple[str, bytes]]:
        """Take up to count items in turn."""
        taken = self._queue.pop(count)
        if not self._queue:
            self._pushed.clear()
        return taken

    async def wait(self, timeout_seconds: float) -> None:
        """Wait for a push, at most timeout_seconds."""
        try:
            async with asyncio.timeout(timeout_seconds):
                await self._pushed.wait()
        except TimeoutError:
            return


class RedisLanes:
    """Lanes in Redis, shared by every process (the distributed mode)."""

    def __init__(self, redis: Redis, name: str) -> None:
        self._redis = redis
        self.name = name
        self._ring = f"{name}:ring"
        self._wake = f"{name}:wake"
        self._prefix = f"{name}:lane:"
        self._push = redis.register_script(_PUSH)
        self._push_front = redis.register_script(_PUSH_FRONT)
        self._pop = redis.register_script(_POP)
        # Blocking reads whose waiter was cancelled, kept until they run out.
        self._running_out: set[asyncio.Future[Any]] = set()

    async def push(self, items: Sequence[tuple[str, bytes]]) -> None:
        """Queue the items in one round trip and wake a waiting consumer."""
        if items:
            await self._push(keys=[self._ring, self._wake], args=self._args(items))

    async def push_front(self, items: Sequence[tuple[str, bytes]]) -> None:
        """Put the items back at the head of their lanes, in one round trip."""
        if items:
            await self._push_front(keys=[self._ring, self._wake], args=self._args(items[::-1]))

    async def pop(self, count: int) -> list[tuple[str, bytes]]:
        """Take up to count items in turn, in one round trip."""
        flat: list[Any] = await self._pop(keys=[self._ring], args=[self._prefix, count])
        return [(_text(flat[i]), bytes(flat[i + 1])) for i in range(0, len(flat), 2)]

    async def wait(self, timeout_seconds: float) -> None:
        """Block on the wake list for a push, at most timeout_seconds.

        A cancelled wait returns at once, while its BLPOP runs out in the background (at most
        timeout_seconds): cancelling a blocking read inside redis-py could hang the caller
        until the read was over, and a process stopping waited for every such read in turn.
        """
        blocking = asyncio.ensure_future(self._redis.blpop([self._wake], timeout=timeout_seconds))
        try:
            await asyncio.shield(blocking)
        except asyncio.CancelledError:
            self._running_out.add(blocking)
            blocking.add_done_callback(self._ran_out)
            raise

    def _ran_out(self, blocking: asyncio.Future[Any]) -> None:
        self._running_out.discard(blocking)
        if not blocking.cancelled():
            blocking.exception()  # retrieved: a read ended by the client's close is no news

    async def depth(self) -> int:
        """Return how many items are queued over every lane (scans the ring's lanes)."""
        users: list[Any] = await self._redis.lrange(self._ring, 0, -1)
        if not users:
            return 0
        async with self._redis.pipeline(transaction=False) as pipe:
            for user in users:
                pipe.llen(self._prefix + _text(user))
            lengths: list[int] = await pipe.execute()
        return sum(lengths)

    def _args(self, items: Sequence[tuple[str, bytes]]) -> list[str | bytes]:
        args: list[str | bytes] = [self._prefix]
        for user, item in items:
            args += [user, item]
        return args


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value

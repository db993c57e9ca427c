"""Requests in progress per caller: one caller's parallel requests take turns.

The API runs every request on one event loop, and a turn of the loop runs a step of each
request in progress. A caller who keeps many heavy requests going at once (batches of a
hundred orders from several clients, refused or not) lengthens every turn, and another
caller's request, which needs a dozen turns to reach the database and back, pays for each.
Limits on rates do not help: a client that sends its next request as soon as the answer
comes keeps the loop busy whatever the answer.

:class:`RequestGate` lets each caller (a user, or a client address without a token) have at
most ``limit`` requests in progress; the next wait for a turn, first come first served, and
beyond ``max_waiting`` of them a request is refused at once (HTTP 429). Whatever one caller
sends, the loop then runs at most ``limit`` of their requests beside everyone else's.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field


class GateFullError(Exception):
    """The caller already has ``max_waiting`` requests waiting for a turn."""


@dataclass
class _Caller:
    running: int = 0
    waiting: deque[asyncio.Future[None]] = field(default_factory=deque)


class RequestGate:
    """At most ``limit`` requests in progress per caller (0: no limit), the rest in line."""

    def __init__(self, limit: int, *, max_waiting: int = 100) -> None:
        self.limit = limit
        self.max_waiting = max_waiting
        self._callers: dict[str, _Caller] = {}

    def callers(self) -> int:
        """Return how many callers have requests in progress or waiting."""
        return len(self._callers)

    async def enter(self, key: str) -> None:
        """Return when the caller's request may run; :meth:`leave` must follow.

        :raises GateFullError: the caller has ``max_waiting`` requests in line already.
        """
        if not self.limit:
            return
        caller = self._callers.setdefault(key, _Caller())
        if caller.running < self.limit:
            caller.running += 1
            return
        if len(caller.waiting) >= self.max_waiting:
            raise GateFullError(key)
        turn = asyncio.get_running_loop().create_future()
        caller.waiting.append(turn)
        try:
            await turn  # the leaving request hands its place over: running stays the same
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self.leave(key)  # handed a place just as it gave up: pass it on
            else:
                caller.waiting.remove(turn)
            raise

    def leave(self, key: str) -> None:
        """End a request that :meth:`enter` let run; hand its place to the next in line."""
        if not self.limit:
            return
        caller = self._callers[key]
        while caller.waiting:
            turn = caller.waiting.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        caller.running -= 1
        if caller.running == 0:
            del self._callers[key]

"""Per-user lanes served round-robin: one user's flood never delays another user's work.

Work is queued per user, first in first out, and taken one item per user in turn: a user
with 10,000 queued orders and a user with one each get the next free slot alternately, so
the second waits for at most one item of every other user that has work queued, not for
the whole backlog. The Redis implementation (:mod:`tasks.lanes`) keeps the same rule in one
Lua script per call; this one is the in-process twin (the embedded mode, and the model the
tests hold both to).

Invariant: a user is in the ring exactly when their lane is not empty.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Iterable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")


class FairQueue(Generic[T]):
    """FIFO lanes per user, taken from in turn."""

    def __init__(self) -> None:
        # Insertion order is the ring: the first user is served next, then moved to the end.
        self._lanes: OrderedDict[str, deque[T]] = OrderedDict()
        self._size = 0

    def __len__(self) -> int:
        """Return how many items are queued, over every lane."""
        return self._size

    def users(self) -> list[str]:
        """Return the users with queued items, in the order they will be served."""
        return list(self._lanes)

    def lane(self, user: str) -> int:
        """Return how many items the user has queued."""
        queued = self._lanes.get(user)
        return 0 if queued is None else len(queued)

    def push(self, items: Iterable[tuple[str, T]]) -> None:
        """Queue each (user, item) at the end of its user's lane; a new user joins last."""
        for user, item in items:
            queued = self._lanes.get(user)
            if queued is None:
                queued = self._lanes[user] = deque()
            queued.append(item)
            self._size += 1

    def push_front(self, items: Sequence[tuple[str, T]]) -> None:
        """Put items back at the head of their lanes, in their order (a hand-back)."""
        for user, item in reversed(items):
            queued = self._lanes.get(user)
            if queued is None:
                queued = self._lanes[user] = deque()
            queued.appendleft(item)
            self._size += 1

    def pop(self, count: int) -> list[tuple[str, T]]:
        """Take up to count items, one per user in turn, each user's oldest first."""
        taken: list[tuple[str, T]] = []
        while len(taken) < count and self._lanes:
            user, queued = next(iter(self._lanes.items()))
            taken.append((user, queued.popleft()))
            self._size -= 1
            if queued:
                self._lanes.move_to_end(user)
            else:
                del self._lanes[user]
        return taken

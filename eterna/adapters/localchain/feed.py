"""What the node tells its subscribers: accounts that changed, and slots as they pass.

A subscription is an async iterator over a bounded queue. The node publishes without ever
waiting (it runs transactions synchronously); a subscriber that falls more than its queue's
size behind is cut off with :class:`SubscriptionLaggedError`, as a Solana node closes a
slow websocket, rather than holding the node's memory hostage. A subscriber that stops
(``close``) is removed at the next publish.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Generic, TypeVar

from solders.account import Account
from solders.pubkey import Pubkey

from eterna.adapters.localchain.results import ChainError

DEFAULT_QUEUE_SIZE = 10_000

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class AccountChange:
    """An account as a transaction left it (None: the transaction closed it)."""

    address: Pubkey
    account: Account | None
    slot: int


@dataclass(frozen=True, slots=True)
class SlotChange:
    """A slot that began: its number, its parent, and the root (the last finalized slot)."""

    slot: int
    parent: int
    root: int


class SubscriptionLaggedError(ChainError):
    """The subscriber fell too far behind; the updates it missed are lost."""


class SubscriptionClosedError(ChainError):
    """The subscription was closed (by its subscriber, or because the node stopped)."""


_CLOSED = object()


class Subscription(Generic[T]):
    """An async iterator of updates; ``close`` ends it."""

    def __init__(self, accepts: Callable[[T], bool], queue_size: int) -> None:
        self._accepts = accepts
        self._queue: asyncio.Queue[object] = asyncio.Queue(maxsize=queue_size + 1)
        self._limit = queue_size
        self.closed = False
        self.lagged = False

    def __aiter__(self) -> Subscription[T]:
        return self

    async def __anext__(self) -> T:
        if self.closed and self._queue.empty():
            raise StopAsyncIteration
        item = await self._queue.get()
        if item is _CLOSED:
            if self.lagged:
                raise SubscriptionLaggedError("the subscriber fell behind; updates were lost")
            raise StopAsyncIteration
        return item  # type: ignore[return-value]  # only T and the marker are queued

    def pending(self) -> list[T]:
        """Return the updates waiting, without blocking (for synchronous callers and tests)."""
        items: list[T] = []
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if item is _CLOSED:
                self._queue.put_nowait(item)
                break
            items.append(item)  # type: ignore[arg-type]  # only T and the marker are queued
        return items

    def close(self) -> None:
        """End the subscription; the iterator stops after the updates already queued."""
        if not self.closed:
            self.closed = True
            self._queue.put_nowait(_CLOSED)

    def offer(self, item: T) -> None:
        """Queue item when the subscription wants it; cut a subscriber that lags."""
        if self.closed or not self._accepts(item):
            return
        if self._queue.qsize() >= self._limit:
            self.lagged = True
            self.close()
            return
        self._queue.put_nowait(item)


class Feed(Generic[T]):
    """Fans updates out to subscriptions."""

    def __init__(self, queue_size: int = DEFAULT_QUEUE_SIZE) -> None:
        self._queue_size = queue_size
        self._subscriptions: list[Subscription[T]] = []

    @property
    def active(self) -> bool:
        """Tell whether anyone listens (the node skips work for a feed nobody reads)."""
        return any(not s.closed for s in self._subscriptions)

    def subscribe(self, accepts: Callable[[T], bool] = lambda _: True) -> Subscription[T]:
        """Return a new subscription to the updates accepts lets through."""
        subscription: Subscription[T] = Subscription(accepts, self._queue_size)
        self._subscriptions.append(subscription)
        return subscription

    def publish(self, item: T) -> None:
        """Hand item to every open subscription."""
        if any(s.closed for s in self._subscriptions):
            self._subscriptions = [s for s in self._subscriptions if not s.closed]
        for subscription in self._subscriptions:
            subscription.offer(item)

    def close(self) -> None:
        """Close every subscription."""
        for subscription in self._subscriptions:
            subscription.close()
        self._subscriptions = []


def accounts_filter(
    addresses: Collection[Pubkey] | None = None, owner: Pubkey | None = None
) -> Callable[[AccountChange], bool]:
    """Return a filter keeping changes to those addresses, or to accounts owner owns."""
    wanted = None if addresses is None else frozenset(addresses)

    def accepts(change: AccountChange) -> bool:
        if wanted is not None and change.address not in wanted:
            return False
        if owner is not None:
            return change.account is not None and change.account.owner == owner
        return True

    return accepts

"""The node's current slot, followed through ``slotSubscribe`` in the background.

Readers key what they cache by the slot the accounts were read at; this feed tells them
when the node has moved on, without a request. While the subscription is down the slot is
unknown (None) and readers do not cache.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from eterna.adapters.solana.rpc import SolanaRpc
from eterna.domain.errors import VenueError

log = logging.getLogger(__name__)

RESUBSCRIBE_SECONDS = 1.0


class SlotFeed:
    """Follow the node's slots; ``current`` is the latest one seen (None when not following)."""

    def __init__(self, rpc: SolanaRpc, *, retry_seconds: float = RESUBSCRIBE_SECONDS) -> None:
        self._rpc = rpc
        self._retry_seconds = retry_seconds
        self._task: asyncio.Task[None] | None = None
        self.current: int | None = None
        self.subscribed = asyncio.Event()

    def start(self) -> None:
        """Start following in the background (a second call does nothing)."""
        if self._task is None:
            self._task = asyncio.create_task(self._follow(), name="solana-slot-feed")

    async def stop(self) -> None:
        """Stop following; the slot becomes unknown."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.current = None
        self.subscribed.clear()

    async def _follow(self) -> None:
        while True:
            try:
                async with self._rpc.slot_updates() as updates:
                    self.subscribed.set()
                    async for update in updates:
                        self.current = update.slot
            except VenueError as exc:
                log.warning("slot subscription lost: %s; subscribing again", exc)
            # The stream ended or broke: the slot is unknown until the next subscription.
            self.current = None
            self.subscribed.clear()
            await asyncio.sleep(self._retry_seconds)

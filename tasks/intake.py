"""The trigger watcher's intake: new limit and sniper orders in per-user lanes.

A new limit or sniper order is looked at by the trigger watcher first, not by a worker
(:mod:`~eterna.application.triggers.watcher`): it rests at once when its trigger does not
hold, and goes to the workers' queue only when it does. The intake keeps the workers'
fairness rule: one user's thousand new limit orders delay another user's first look by one
order, not a thousand.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from eterna.application.ports import QueuedOrder
from tasks.lanes import Lanes


class LanesIntake:
    """The watcher's intake over per-user lanes (in Redis or in memory)."""

    def __init__(self, lanes: Lanes) -> None:
        self.lanes = lanes

    async def submit(self, orders: Sequence[QueuedOrder]) -> None:
        """Queue the orders for the watcher's first look."""
        await self.lanes.push([(o.user_id, o.order_id.bytes) for o in orders])

    async def take(self, count: int) -> list[QueuedOrder]:
        """Take up to count orders, one user at a time in turn."""
        taken = await self.lanes.pop(count)
        return [QueuedOrder(uuid.UUID(bytes=item), user) for user, item in taken]

    async def wait(self, timeout_seconds: float) -> None:
        """Return when an order may have been submitted, or after the timeout."""
        await self.lanes.wait(timeout_seconds)

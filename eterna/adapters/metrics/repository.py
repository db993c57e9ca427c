"""The order repository, observed: every placement and every persisted step is counted.

Every transition of an order, whoever makes it (the engine, the trigger watcher, a cancel in
the service), goes through ``OrderRepository.apply``, and every placement through ``place``:
decorating those two sees each one once, after it committed, with the order as it was
before (its type, its status, when its last step happened). The published event alone
carries neither the order's type nor the time of the step before it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from eterna.adapters.metrics.families import Metrics
from eterna.application.ports import (
    OpenOrders,
    OrderCursor,
    OrderMark,
    OrderPage,
    OrderRepository,
    Placement,
    QueuedOrder,
    Step,
)
from eterna.domain.orders import Order, OrderEvent, OrderStatus, OrderType, PlaceOrder


class MeteredRepository:
    """An OrderRepository that reports placements and steps to the metrics."""

    def __init__(self, inner: OrderRepository, metrics: Metrics) -> None:
        self._inner = inner
        self._metrics = metrics

    async def place(self, commands: Sequence[PlaceOrder], now: datetime) -> list[Placement]:
        """Place the orders and count the new ones."""
        placements = await self._inner.place(commands, now)
        self._metrics.placed(p.order for p in placements if p.created)
        return placements

    async def apply(
        self, order: Order, step: Step, *, owner: str | None, now: datetime, lease_until: datetime
    ) -> tuple[Order, OrderEvent]:
        """Persist the step, then observe it (a step refused by its guard is not counted)."""
        after, event = await self._inner.apply(
            order, step, owner=owner, now=now, lease_until=lease_until
        )
        self._metrics.stepped(order, step, event)
        return after, event

    # -- everything else passes straight through ---------------------------------------

    async def get(self, order_id: uuid.UUID) -> Order | None:
        """Return the order, whoever owns it."""
        return await self._inner.get(order_id)

    async def placed_client_orders(
        self, user_id: str, client_order_ids: Sequence[str]
    ) -> dict[str, Order]:
        """Return the user's orders placed with these clientOrderIds."""
        return await self._inner.placed_client_orders(user_id, client_order_ids)

    async def list_for_user(
        self,
        user_id: str,
        *,
        first: int,
        after: OrderCursor | None,
        status: OrderStatus | None,
        order_type: OrderType | None,
    ) -> OrderPage:
        """Return the user's orders, newest first, after the cursor."""
        return await self._inner.list_for_user(
            user_id, first=first, after=after, status=status, order_type=order_type
        )

    async def events(self, order_id: uuid.UUID, after_seq: int = 0) -> list[OrderEvent]:
        """Return the order's events with seq > after_seq."""
        return await self._inner.events(order_id, after_seq)

    async def events_of_orders(
        self, order_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[OrderEvent]]:
        """Return the events of many orders at once."""
        return await self._inner.events_of_orders(order_ids)

    async def user_orders_updated_since(self, user_id: str, since: datetime) -> list[Order]:
        """Return the user's orders changed at or after since."""
        return await self._inner.user_orders_updated_since(user_id, since)

    async def orders_changed_between(
        self,
        user_ids: Sequence[str],
        order_ids: Sequence[uuid.UUID],
        since: datetime,
        until: datetime,
    ) -> list[OrderMark]:
        """Return where the orders of those users or ids changed in [since, until) stand."""
        return await self._inner.orders_changed_between(user_ids, order_ids, since, until)

    async def claim(
        self, order_id: uuid.UUID, owner: str, now: datetime, lease_until: datetime
    ) -> Order | None:
        """Take the order's lease if it is free or expired and the order is not finished."""
        return await self._inner.claim(order_id, owner, now, lease_until)

    async def renew(self, order_id: uuid.UUID, owner: str, lease_until: datetime) -> bool:
        """Extend our lease."""
        return await self._inner.renew(order_id, owner, lease_until)

    async def release(self, order_id: uuid.UUID, owner: str) -> None:
        """Give the lease back."""
        await self._inner.release(order_id, owner)

    async def stuck_orders(
        self, now: datetime, older_than: datetime, limit: int
    ) -> list[QueuedOrder]:
        """Return unfinished orders that nobody works on."""
        return await self._inner.stuck_orders(now, older_than, limit)

    async def open_orders(self, user_id: str) -> OpenOrders:
        """Count the user's unfinished orders."""
        return await self._inner.open_orders(user_id)

    async def resting_orders(self, updated_since: datetime | None = None) -> list[Order]:
        """Return the WAITING orders (changed at or after updated_since, when given)."""
        return await self._inner.resting_orders(updated_since)

"""Orders and their events in memory: the order store's contract without a database.

It keeps the same promises as the database stores (``tests/integration/test_store_contract.py``
runs one suite against all three): a step is written only while the order is still at the
seq its writer read and, with an owner, leased to it; ``(user, clientOrderId)`` is unique;
pages are newest first with stable cursors. Every call yields to the event loop once before it
reads or writes, as a round trip to a database would, so concurrent writers interleave as
they do against a real one. Orders handed out are copies: nothing outside changes what is
stored. For unit tests of the engine, the service and the watcher, and for tools.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from eterna.application.ports import (
    OpenOrders,
    OrderCursor,
    OrderMark,
    Placement,
    QueuedOrder,
    StoredOrders,
    StoreObserver,
)
from eterna.domain.errors import LeaseLostError
from eterna.domain.groups import StepWrite
from eterna.domain.orders import Order, OrderEvent, OrderStatus, OrderType, PlaceOrder


@dataclass(slots=True)
class _Lease:
    owner: str
    until: datetime


class MemoryOrderStore:
    """An order store in this process's memory (see the module docstring)."""

    def __init__(self, *, observer: StoreObserver | None = None) -> None:
        self._orders: dict[uuid.UUID, Order] = {}
        self._events: dict[uuid.UUID, list[OrderEvent]] = {}
        self._leases: dict[uuid.UUID, _Lease] = {}
        self._keys: dict[tuple[str, str], uuid.UUID] = {}
        self._observer = observer

    def put(self, order: Order, history: Sequence[OrderEvent]) -> None:
        """Store an order and its events as they stand: the state a test or a tool starts from.

        :raises ValueError: when the history does not end at the order's ``last_seq``.
        """
        if not history or history[-1].seq != order.last_seq:
            raise ValueError(f"order {order.id}: history must end at seq {order.last_seq}")
        self._orders[order.id] = replace(order)
        self._events[order.id] = list(history)
        if order.client_order_id is not None:
            self._keys[(order.user_id, order.client_order_id)] = order.id

    def all_events(self) -> list[OrderEvent]:
        """Return every event of every order, in the order they were stored per order."""
        return [e for events in self._events.values() for e in events]

    # -- placing ---------------------------------------------------------------------

    async def place(self, commands: Sequence[PlaceOrder], now: datetime) -> list[Placement]:
        """Store new orders with their PENDING event; a repeated key returns the first."""
        await asyncio.sleep(0)
        placements: list[Placement] = []
        for command in commands:
            key = (command.user_id, command.client_order_id) if command.client_order_id else None
            if key is not None and key in self._keys:
                placements.append(Placement(replace(self._orders[self._keys[key]]), created=False))
                continue
            order, event = command.open(uuid.uuid4(), now)
            self._orders[order.id] = order
            self._events[order.id] = [event]
            if key is not None:
                self._keys[key] = order.id
            placements.append(Placement(replace(order), created=True))
        if self._observer is not None:
            self._observer.placed(p.order for p in placements if p.created)
        return placements

    async def placed_client_orders(
        self, user_id: str, client_order_ids: Sequence[str]
    ) -> dict[str, Order]:
        """Return the user's orders placed with these clientOrderIds."""
        await asyncio.sleep(0)
        found = ((k, self._keys.get((user_id, k))) for k in client_order_ids)
        return {k: replace(self._orders[i]) for k, i in found if i is not None}

    async def open_orders(self, user_id: str) -> OpenOrders:
        """Count the user's unfinished orders."""
        await asyncio.sleep(0)
        in_flight = waiting = conditional = 0
        for order in self._orders.values():
            if order.user_id != user_id or order.status.is_terminal:
                continue
            if order.status is OrderStatus.WAITING:
                waiting += 1
            else:
                in_flight += 1
            if order.type is not OrderType.MARKET:
                conditional += 1
        return OpenOrders(in_flight=in_flight, waiting=waiting, conditional=conditional)

    # -- reading ---------------------------------------------------------------------

    async def get(self, order_id: uuid.UUID) -> Order | None:
        """Return a copy of the order."""
        await asyncio.sleep(0)
        order = self._orders.get(order_id)
        return None if order is None else replace(order)

    async def list_for_user(
        self,
        user_id: str,
        *,
        first: int,
        after: OrderCursor | None,
        status: OrderStatus | None,
        order_type: OrderType | None,
    ) -> StoredOrders:
        """Return the user's orders, newest first (created_at, then id), after the cursor."""
        await asyncio.sleep(0)
        mine = sorted(
            (
                o
                for o in self._orders.values()
                if o.user_id == user_id
                and (status is None or o.status is status)
                and (order_type is None or o.type is order_type)
            ),
            key=lambda o: (o.created_at, o.id),
            reverse=True,
        )
        if after is not None:
            mark = (after.created_at, after.order_id)
            mine = [o for o in mine if (o.created_at, o.id) < mark]
        return StoredOrders([replace(o) for o in mine[:first]], has_next=len(mine) > first)

    async def events(self, order_id: uuid.UUID, after_seq: int = 0) -> list[OrderEvent]:
        """Return the order's events with seq > after_seq."""
        await asyncio.sleep(0)
        return [e for e in self._events.get(order_id, []) if e.seq > after_seq]

    async def events_of_orders(
        self, order_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[OrderEvent]]:
        """Return the events of many orders, each list in seq order."""
        await asyncio.sleep(0)
        return {i: list(self._events[i]) for i in order_ids if i in self._events}

    async def user_orders_updated_since(self, user_id: str, since: datetime) -> list[Order]:
        """Return the user's orders changed at or after since."""
        await asyncio.sleep(0)
        return [
            replace(o)
            for o in self._orders.values()
            if o.user_id == user_id and o.updated_at >= since
        ]

    async def orders_changed_between(
        self,
        user_ids: Sequence[str],
        order_ids: Sequence[uuid.UUID],
        since: datetime,
        until: datetime,
    ) -> list[OrderMark]:
        """Return where the orders of those users or ids changed in [since, until) stand."""
        await asyncio.sleep(0)
        users, ids = set(user_ids), set(order_ids)
        return [
            OrderMark(o.id, o.user_id, o.last_seq, o.updated_at)
            for o in self._orders.values()
            if (o.user_id in users or o.id in ids) and since <= o.updated_at < until
        ]

    async def children_of(self, parent_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Order]]:
        """Return the children of each parent, by slice index."""
        await asyncio.sleep(0)
        result: dict[uuid.UUID, list[Order]] = {i: [] for i in parent_ids}
        for order in self._orders.values():
            if order.parent_id is not None and order.parent_id in result:
                result[order.parent_id].append(replace(order))
        for children in result.values():
            children.sort(key=lambda o: o.slice_index or 0)
        return result

    async def active_twaps(self) -> list[Order]:
        """Return every TWAP order still PENDING or WAITING."""
        await asyncio.sleep(0)
        working = (OrderStatus.PENDING, OrderStatus.WAITING)
        return [
            replace(o)
            for o in self._orders.values()
            if o.type is OrderType.TWAP and o.status in working
        ]

    async def place_child(
        self, before: Order, after: Order, event: OrderEvent, child: Order, child_event: OrderEvent
    ) -> None:
        """Store the parent's step and the new child together, or nothing."""
        await asyncio.sleep(0)
        stored = self._orders.get(before.id)
        if stored is None or stored.last_seq != before.last_seq:
            raise LeaseLostError(f"order {before.id} moved on")
        if child.id in self._orders:  # the primary key's uniqueness
            raise LeaseLostError(f"order {child.id} exists already")
        self._orders[before.id] = replace(after)
        self._events[before.id].append(event)
        self._orders[child.id] = replace(child)
        self._events[child.id] = [child_event]
        if self._observer is not None:
            self._observer.recorded(before, after, event)
            self._observer.placed([child])

    async def raise_trail_best(self, marks: Sequence[tuple[uuid.UUID, Decimal]]) -> None:
        """Raise trailing stops' best prices, each only if higher and the order still WAITING."""
        await asyncio.sleep(0)
        for order_id, best in marks:
            order = self._orders.get(order_id)
            if order is None or order.status is not OrderStatus.WAITING:
                continue
            if order.trail_best is None or order.trail_best < best:
                order.trail_best = best

    async def resting_orders(self, updated_since: datetime | None = None) -> list[Order]:
        """Return every WAITING order (changed at or after updated_since, when given)."""
        await asyncio.sleep(0)
        return [
            replace(o)
            for o in self._orders.values()
            if o.status is OrderStatus.WAITING
            and (updated_since is None or o.updated_at >= updated_since)
        ]

    # -- leases and steps ------------------------------------------------------------

    async def claim(
        self, order_id: uuid.UUID, owner: str, now: datetime, lease_until: datetime
    ) -> Order | None:
        """Take the lease if it is free, expired or ours, and the order is unfinished."""
        await asyncio.sleep(0)
        order = self._orders.get(order_id)
        if order is None or order.status.is_terminal:
            return None
        lease = self._leases.get(order_id)
        if lease is not None and lease.until >= now and lease.owner != owner:
            return None
        self._leases[order_id] = _Lease(owner, lease_until)
        return replace(order)

    async def renew(self, order_id: uuid.UUID, owner: str, lease_until: datetime) -> bool:
        """Extend our lease; False when it is no longer ours."""
        await asyncio.sleep(0)
        lease = self._leases.get(order_id)
        if lease is None or lease.owner != owner:
            return False
        lease.until = lease_until
        return True

    async def release(self, order_id: uuid.UUID, owner: str) -> None:
        """Give the lease back if it is ours."""
        await asyncio.sleep(0)
        lease = self._leases.get(order_id)
        if lease is not None and lease.owner == owner:
            del self._leases[order_id]

    async def record(
        self,
        before: Order,
        after: Order,
        event: OrderEvent,
        *,
        owner: str | None,
        lease_until: datetime,
    ) -> None:
        """Store the step if the order is still at before's seq (and, with an owner, ours)."""
        await asyncio.sleep(0)
        stored = self._orders.get(before.id)
        lease = self._leases.get(before.id)
        if (
            stored is None
            or stored.last_seq != before.last_seq
            or (owner is not None and (lease is None or lease.owner != owner))
        ):
            raise LeaseLostError(f"order {before.id} moved on or its lease was taken")
        events = self._events[before.id]
        if events[-1].seq >= event.seq:  # the safety net of UNIQUE(order_id, seq)
            raise LeaseLostError(f"order {before.id} already has seq {event.seq}")
        self._orders[before.id] = replace(after)
        events.append(event)
        if after.status.is_terminal:
            self._leases.pop(before.id, None)
        elif owner is not None and lease is not None:
            lease.until = lease_until
        if self._observer is not None:
            self._observer.recorded(before, after, event)

    async def record_joined(
        self, writes: Sequence[StepWrite], *, owner: str | None, lease_until: datetime
    ) -> None:
        """Store every step if every guard holds (the first's with owner), else none."""
        await asyncio.sleep(0)
        for i, write in enumerate(writes):
            before, event = write.before, write.event
            stored = self._orders.get(before.id)
            lease = self._leases.get(before.id)
            guarded = owner if i == 0 else None
            if (
                stored is None
                or stored.last_seq != before.last_seq
                or (guarded is not None and (lease is None or lease.owner != guarded))
                or self._events[before.id][-1].seq >= event.seq
            ):
                raise LeaseLostError(f"order {before.id} moved on or its lease was taken")
        for i, write in enumerate(writes):
            before, after, event = write.before, write.after, write.event
            self._orders[before.id] = replace(after)
            self._events[before.id].append(event)
            lease = self._leases.get(before.id)
            if after.status.is_terminal:
                self._leases.pop(before.id, None)
            elif i == 0 and owner is not None and lease is not None:
                lease.until = lease_until
        if self._observer is not None:
            for write in writes:
                self._observer.recorded(write.before, write.after, write.event)

    async def group_orders(self, group_id: uuid.UUID) -> list[Order]:
        """Return the legs of the group, oldest first."""
        await asyncio.sleep(0)
        legs = [replace(o) for o in self._orders.values() if o.group_id == group_id]
        return sorted(legs, key=lambda o: (o.created_at, o.id))

    async def stuck_orders(
        self, now: datetime, older_than: datetime, limit: int
    ) -> list[QueuedOrder]:
        """Return unfinished, unleased orders (WAITING aside) untouched since older_than."""
        await asyncio.sleep(0)
        stuck = sorted(
            (
                o
                for o in self._orders.values()
                if not o.status.is_terminal
                and o.status is not OrderStatus.WAITING
                and o.updated_at < older_than
                and not self._leased(o.id, now)
            ),
            key=lambda o: o.updated_at,
        )
        return [QueuedOrder(o.id, o.user_id) for o in stuck[:limit]]

    def _leased(self, order_id: uuid.UUID, now: datetime) -> bool:
        lease = self._leases.get(order_id)
        return lease is not None and lease.until >= now

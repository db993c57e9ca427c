"""The portable order store: Tortoise ORM's public API, on SQLite (the embedded mode) or Postgres.

Every step is one transaction that updates the order only if its ``last_seq`` is still the
one the writer read (and, for a worker, only while it holds the lease), then inserts the
event with the next seq; ``UNIQUE(order_id, seq)`` is the safety net under that check. It
keeps the contract :class:`models.postgres.PostgresOrderStore` keeps, checked by the same
suite (``tests/integration/test_store_contract.py``); the Postgres store is the fast one,
this one runs wherever Tortoise does.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from tortoise.exceptions import DBConnectionError, IntegrityError, OperationalError
from tortoise.expressions import Q
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from eterna.application.ports import (
    OpenOrders,
    OrderCursor,
    OrderMark,
    Placement,
    QueuedOrder,
    StoredOrders,
    StoreObserver,
)
from eterna.domain.errors import LeaseLostError, StorageUnavailableError
from eterna.domain.groups import StepWrite
from eterna.domain.orders import (
    TERMINAL_STATUSES,
    Order,
    OrderEvent,
    OrderStatus,
    OrderType,
    PlaceOrder,
)
from eterna.domain.tokens import format_amount
from models.joined import run_joined
from models.orders import OrderEventModel, OrderModel
from models.placement import Key, Opened, open_orders_of, place_batch
from models.rows import (
    EVENT_COLUMNS,
    ORDER_COLUMNS,
    event_from_row,
    event_row,
    order_from_row,
    order_row,
    step_row,
)

_FINISHED = [s.value for s in TERMINAL_STATUSES]


def _order_model(order: Order) -> OrderModel:
    return OrderModel(**order_row(order))


def _event_model(event: OrderEvent) -> OrderEventModel:
    return OrderEventModel(**event_row(event))


def _enum_value(value: object) -> object:
    """Return an enum's value, or the value itself (values_list may give either)."""
    return getattr(value, "value", value)


async def _orders(query: Any) -> list[Order]:
    """Run a query of orders; return them as the domain's."""
    return [order_from_row(r) for r in await query.values(*ORDER_COLUMNS)]


async def _raise_one(order_id: uuid.UUID, best: Decimal) -> None:
    """Raise one best price by compare-and-swap on the stored text."""
    while True:
        rows = await OrderModel.filter(id=order_id, status=OrderStatus.WAITING).values_list(
            "trail_best", flat=True
        )
        if not rows:
            return
        stored = rows[0]
        if stored is not None and Decimal(stored) >= best:
            return
        swapped = await OrderModel.filter(
            id=order_id, status=OrderStatus.WAITING, trail_best=stored
        ).update(trail_best=format_amount(best))
        if swapped:
            return


class TortoiseOrderStore:
    """Orders and events through Tortoise ORM (see the module docstring)."""

    def __init__(self, *, observer: StoreObserver | None = None) -> None:
        """``observer`` hears of every placement and step once committed (the metrics)."""
        self._observer = observer

    # -- placing ---------------------------------------------------------------------

    async def place(self, commands: Sequence[PlaceOrder], now: datetime) -> list[Placement]:
        """Insert new orders with their PENDING event; return existing ones for repeated keys.

        :raises StorageUnavailableError: when the database does not answer (nothing stored:
            the insert is one transaction).
        """
        try:
            placements = await self._place(commands, now)
        except IntegrityError:
            raise
        except (DBConnectionError, OperationalError, OSError) as exc:
            raise StorageUnavailableError(f"database unavailable: {type(exc).__name__}") from exc
        if self._observer is not None:
            self._observer.placed(p.order for p in placements if p.created)
        return placements

    async def _place(self, commands: Sequence[PlaceOrder], now: datetime) -> list[Placement]:
        return await place_batch(
            commands,
            now,
            existing=self._existing,
            insert=self._insert,
            place_one=self._place_one,
            conflict=IntegrityError,
        )

    async def _insert(self, opened: Sequence[Opened]) -> None:
        """Insert the orders and their PENDING events, all or none."""
        if not opened:
            return
        async with in_transaction():
            await OrderModel.bulk_create([_order_model(o) for o, _ in opened])
            await OrderEventModel.bulk_create([_event_model(e) for _, e in opened])

    async def _place_one(self, opened: Opened) -> Placement:
        order, event = opened
        try:
            async with in_transaction():
                await _order_model(order).save(force_create=True)
                await _event_model(event).save(force_create=True)
        except IntegrityError:
            (winner,) = await _orders(
                OrderModel.filter(user_id=order.user_id, client_order_id=order.client_order_id)
            )
            return Placement(winner, created=False)
        return Placement(order, created=True)

    async def _existing(self, keys: set[Key]) -> dict[Key, Order]:
        query = Q(*(Q(user_id=u, client_order_id=k) for u, k in keys), join_type="OR")
        found = await _orders(OrderModel.filter(query))
        return {(o.user_id, o.client_order_id or ""): o for o in found}

    async def placed_client_orders(
        self, user_id: str, client_order_ids: Sequence[str]
    ) -> dict[str, Order]:
        """Return the user's orders placed with these clientOrderIds, by clientOrderId."""
        if not client_order_ids:
            return {}
        found = await _orders(
            OrderModel.filter(user_id=user_id, client_order_id__in=list(set(client_order_ids)))
        )
        return {o.client_order_id or "": o for o in found}

    async def open_orders(self, user_id: str) -> OpenOrders:
        """Count the user's unfinished orders by status and type (index user_id, status).

        :raises StorageUnavailableError: when the database does not answer.
        """
        try:
            rows = (
                await OrderModel.filter(user_id=user_id)
                .exclude(status__in=list(_FINISHED))
                .annotate(n=Count("id"))
                .group_by("status", "type")
                .values_list("status", "type", "n")
            )
        except (DBConnectionError, OperationalError, OSError) as exc:
            raise StorageUnavailableError(f"database unavailable: {type(exc).__name__}") from exc
        return open_orders_of((_enum_value(s), _enum_value(t), n) for s, t, n in rows)

    # -- reading ---------------------------------------------------------------------

    async def get(self, order_id: uuid.UUID) -> Order | None:
        """Return the order, whoever owns it."""
        found = await _orders(OrderModel.filter(id=order_id))
        return found[0] if found else None

    async def list_for_user(
        self,
        user_id: str,
        *,
        first: int,
        after: OrderCursor | None,
        status: OrderStatus | None,
        order_type: OrderType | None,
    ) -> StoredOrders:
        """Return the user's orders, newest first, after the cursor."""
        query = OrderModel.filter(user_id=user_id)
        if status is not None:
            query = query.filter(status=status)
        if order_type is not None:
            query = query.filter(type=order_type)
        if after is not None:
            query = query.filter(
                Q(created_at__lt=after.created_at)
                | Q(created_at=after.created_at, id__lt=after.order_id)
            )
        found = await _orders(query.order_by("-created_at", "-id").limit(first + 1))
        return StoredOrders(orders=found[:first], has_next=len(found) > first)

    async def events(self, order_id: uuid.UUID, after_seq: int = 0) -> list[OrderEvent]:
        """Return the order's events after after_seq, in seq order."""
        query = OrderEventModel.filter(order_id=order_id, seq__gt=after_seq).order_by("seq")
        return [event_from_row(r) for r in await query.values(*EVENT_COLUMNS)]

    async def owned_events(
        self, order_id: uuid.UUID, user_id: str, after_seq: int = 0
    ) -> list[OrderEvent] | None:
        """Return the events after after_seq of the user's order (None: not the user's).

        Two reads here (Tortoise has no outer join of unrelated models); the asyncpg store
        makes it one.
        """
        if not await OrderModel.filter(id=order_id, user_id=user_id).exists():
            return None
        return await self.events(order_id, after_seq)

    async def events_of_orders(
        self, order_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[OrderEvent]]:
        """Return the events of many orders, each list in seq order."""
        result: dict[uuid.UUID, list[OrderEvent]] = {i: [] for i in order_ids}
        if not order_ids:
            return result
        query = OrderEventModel.filter(order_id__in=list(order_ids)).order_by("order_id", "seq")
        for row in await query.values(*EVENT_COLUMNS):
            event = event_from_row(row)
            result[event.order_id].append(event)
        return result

    async def user_orders_updated_since(self, user_id: str, since: datetime) -> list[Order]:
        """Return the user's orders changed at or after since."""
        return await _orders(OrderModel.filter(user_id=user_id, updated_at__gte=since))

    async def orders_changed_between(
        self,
        user_ids: Sequence[str],
        order_ids: Sequence[uuid.UUID],
        since: datetime,
        until: datetime,
    ) -> list[OrderMark]:
        """Return where each order of those users or ids changed in [since, until) stands."""
        if not user_ids and not order_ids:
            return []
        arms = [Q(user_id__in=list(user_ids))] if user_ids else []
        if order_ids:
            arms.append(Q(id__in=list(order_ids)))
        rows = await OrderModel.filter(
            Q(*arms, join_type="OR"), updated_at__gte=since, updated_at__lt=until
        ).values_list("id", "user_id", "last_seq", "updated_at")
        return [OrderMark(*row) for row in rows]  # values_list converts each: UUID, aware UTC

    async def children_of(self, parent_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Order]]:
        """Return the children of each parent, by slice index (index parent_id, slice_index)."""
        result: dict[uuid.UUID, list[Order]] = {i: [] for i in parent_ids}
        if not parent_ids:
            return result
        query = OrderModel.filter(parent_id__in=list(parent_ids)).order_by(
            "parent_id", "slice_index"
        )
        for order in await _orders(query):
            if order.parent_id is not None:
                result[order.parent_id].append(order)
        return result

    async def active_twaps(self) -> list[Order]:
        """Return every TWAP order still PENDING or WAITING (index type, status)."""
        return await _orders(
            OrderModel.filter(
                type=OrderType.TWAP, status__in=[OrderStatus.PENDING, OrderStatus.WAITING]
            )
        )

    async def place_child(
        self, before: Order, after: Order, event: OrderEvent, child: Order, child_event: OrderEvent
    ) -> None:
        """Store the parent's guarded step and the new child in one transaction.

        :raises LeaseLostError: when the parent moved on or the child exists already.
        """
        guard = OrderModel.filter(id=before.id, last_seq=before.last_seq)
        try:
            async with in_transaction() as conn:
                changed = await guard.using_db(conn).update(
                    **step_row(before, after, None, after.updated_at)
                )
                if not changed:
                    raise LeaseLostError(f"order {before.id} moved on")
                await _event_model(event).save(using_db=conn, force_create=True)
                await _order_model(child).save(using_db=conn, force_create=True)
                await _event_model(child_event).save(using_db=conn, force_create=True)
        except IntegrityError as exc:
            raise LeaseLostError(f"order {child.id} or seq {event.seq} exists already") from exc
        if self._observer is not None:
            self._observer.recorded(before, after, event)
            self._observer.placed([child])

    async def resting_orders(self, updated_since: datetime | None = None) -> list[Order]:
        """Return every WAITING order (changed at or after updated_since, when given)."""
        query = OrderModel.filter(status=OrderStatus.WAITING)
        if updated_since is not None:
            query = query.filter(updated_at__gte=updated_since)
        return await _orders(query)

    async def raise_trail_best(self, marks: Sequence[tuple[uuid.UUID, Decimal]]) -> None:
        """Raise trailing stops' best prices, each only if higher and still WAITING.

        The column is text and Tortoise's public API has no numeric cast, so each row is
        compared here and swapped only if it still holds the value read: two writers racing
        never lower a best price.
        """
        for order_id, best in marks:
            await _raise_one(order_id, best)

    # -- leases and steps ------------------------------------------------------------

    async def claim(
        self, order_id: uuid.UUID, owner: str, now: datetime, lease_until: datetime
    ) -> Order | None:
        """Take the lease if it is free, expired or ours, and the order is unfinished."""
        changed = (
            await OrderModel.filter(id=order_id)
            .exclude(status__in=_FINISHED)
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now) | Q(lease_owner=owner))
            .update(lease_owner=owner, lease_until=lease_until)
        )
        return await self.get(order_id) if changed else None

    async def renew(self, order_id: uuid.UUID, owner: str, lease_until: datetime) -> bool:
        """Extend our lease; return False when it is no longer ours."""
        renewed = await OrderModel.filter(id=order_id, lease_owner=owner).update(
            lease_until=lease_until
        )
        return bool(renewed)

    async def release(self, order_id: uuid.UUID, owner: str) -> None:
        """Give the lease back if it is ours."""
        await OrderModel.filter(id=order_id, lease_owner=owner).update(
            lease_owner=None, lease_until=None
        )

    async def record(
        self,
        before: Order,
        after: Order,
        event: OrderEvent,
        *,
        owner: str | None,
        lease_until: datetime,
    ) -> None:
        """Store the order's new state and its event in one transaction, guarded.

        :raises LeaseLostError: when the guard refused the step, or its seq is already
            stored (another writer got there first).
        """
        guard = OrderModel.filter(id=before.id, last_seq=before.last_seq)
        if owner is not None:
            guard = guard.filter(lease_owner=owner)
        try:
            async with in_transaction() as conn:
                changed = await guard.using_db(conn).update(
                    **step_row(before, after, owner, lease_until)
                )
                if not changed:
                    raise LeaseLostError(f"order {before.id} moved on or its lease was taken")
                await _event_model(event).save(using_db=conn, force_create=True)
        except IntegrityError as exc:
            raise LeaseLostError(f"order {before.id} already has seq {event.seq}") from exc
        if self._observer is not None:
            self._observer.recorded(before, after, event)

    async def record_joined(
        self, writes: Sequence[StepWrite], *, owner: str | None, lease_until: datetime
    ) -> None:
        """Store several orders' steps in one transaction, each guarded; all or none.

        The guarded updates run in id order, so two joined writes of the same orders wait
        for each other on Postgres instead of deadlocking (SQLite runs one transaction at a
        time). A guard that refuses raises inside the transaction, which rolls it back.
        Should Postgres still abort it (a deadlock or serialization failure, with a
        transaction from elsewhere), it runs once more, then is reported transient.

        :raises LeaseLostError: when a guard refused its step, or a seq was already stored.
        :raises TransientError: when Postgres aborted it twice (nothing was written).
        """
        await run_joined(
            lambda: self._record_joined(writes, owner=owner, lease_until=lease_until), writes
        )

    async def _record_joined(
        self, writes: Sequence[StepWrite], *, owner: str | None, lease_until: datetime
    ) -> None:
        first = writes[0].before.id if writes else None
        try:
            async with in_transaction() as conn:
                for write in sorted(writes, key=lambda w: w.before.id):
                    before = write.before
                    guarded = owner if before.id == first else None
                    guard = OrderModel.filter(id=before.id, last_seq=before.last_seq)
                    if guarded is not None:
                        guard = guard.filter(lease_owner=guarded)
                    changed = await guard.using_db(conn).update(
                        **step_row(before, write.after, guarded, lease_until)
                    )
                    if not changed:
                        raise LeaseLostError(f"order {before.id} moved on or its lease was taken")
                for write in writes:
                    await _event_model(write.event).save(using_db=conn, force_create=True)
        except IntegrityError as exc:
            ids = [w.before.id for w in writes]
            raise LeaseLostError(f"one of orders {ids} already has the seq written") from exc
        if self._observer is not None:
            for write in writes:
                self._observer.recorded(write.before, write.after, write.event)

    async def group_orders(self, group_id: uuid.UUID) -> list[Order]:
        """Return the legs of an OCO group, in a stable order."""
        return await _orders(OrderModel.filter(group_id=group_id).order_by("created_at", "id"))

    async def stuck_orders(
        self, now: datetime, older_than: datetime, limit: int
    ) -> list[QueuedOrder]:
        """Return unfinished, unleased orders that nobody touched since older_than."""
        rows = (
            await OrderModel.exclude(status__in=[*_FINISHED, OrderStatus.WAITING.value])
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
            .filter(updated_at__lt=older_than)
            .order_by("updated_at")
            .limit(limit)
            .values_list("id", "user_id")
        )
        return [QueuedOrder(uuid.UUID(str(i)), str(u)) for i, u in rows]

"""The Postgres order store: asyncpg and its own SQL, on its own connection pool.

It keeps the contract :class:`models.tortoise_store.TortoiseOrderStore` keeps (one suite,
``tests/integration/test_store_contract.py``, runs on both): every step is written only while
the order is still at the seq its writer read and, with an owner, leased to it, together
with its event; ``UNIQUE(order_id, seq)`` is the safety net. The statements are written
against the migrated schema (:mod:`models.postgres_sql`); Tortoise still owns the schema and
its migrations. How placements, claims and steps reach the database is a layer of its own
(:mod:`models.group_commit`): plain, or grouped with held connections.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg

from eterna.application.ports import (
    OpenOrders,
    OrderCursor,
    OrderMark,
    Placement,
    QueuedOrder,
    StoredOrders,
    StoreObserver,
)
from eterna.domain.errors import (
    LeaseLostError,
    StorageNotMigratedError,
    StorageUnavailableError,
)
from eterna.domain.groups import StepWrite
from eterna.domain.orders import Order, OrderEvent, OrderStatus, OrderType, PlaceOrder
from eterna.domain.tokens import format_amount
from models import postgres_sql as sql
from models.group_commit import UNREACHABLE, DirectWrites, GroupCommit, HotWrites
from models.joined import run_joined
from models.placement import Key, Opened, open_orders_of, place_batch
from models.rows import (
    ORDER_COLUMNS,
    as_uuid,
    event_from_row,
    event_row,
    order_from_row,
    order_row,
    step_row,
)

# What a statement raises when the database does not answer, or answers without our tables.
_UNANSWERED = (*UNREACHABLE, asyncpg.UndefinedTableError)
# Orders whose lease a terminal step cleared: release() has nothing left to do for them.
_CLEARED_LIMIT = 10_000

log = logging.getLogger(__name__)


class PostgresOrderStore:
    """Orders and events in Postgres through asyncpg (see the module docstring)."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        writes: HotWrites | None = None,
        observer: StoreObserver | None = None,
    ) -> None:
        """Use the pool for reads, and ``writes`` (plain by default) for the hot writes.

        ``observer`` hears of every placement and step once committed (the metrics).
        """
        self._connections = pool
        self._writes = writes if writes is not None else DirectWrites(pool)
        self._observer = observer
        self._cleared: dict[uuid.UUID, str] = {}

    @property
    def pool(self) -> asyncpg.Pool:
        """Return the store's own connection pool."""
        return self._connections

    async def close(self) -> None:
        """Give back the connections the writes keep, then close the pool."""
        await self._writes.close()
        await self._connections.close()

    # -- placing ---------------------------------------------------------------------

    async def place(self, commands: Sequence[PlaceOrder], now: datetime) -> list[Placement]:
        """Insert new orders with their PENDING event; return existing ones for repeated keys.

        :raises StorageUnavailableError: when the database does not answer (nothing stored:
            the insert is one statement).
        """
        try:
            placements = await place_batch(
                commands,
                now,
                existing=self._existing,
                insert=self._insert,
                place_one=self._place_one,
                conflict=asyncpg.UniqueViolationError,
            )
        except _UNANSWERED as exc:
            raise _unavailable(exc) from exc
        if self._observer is not None:
            self._observer.placed(p.order for p in placements if p.created)
        return placements

    async def _existing(self, keys: set[Key]) -> dict[Key, Order]:
        users, client_ids = zip(*keys, strict=True)
        rows = await self._connections.fetch(sql.BY_KEYS, list(users), list(client_ids))
        found = [order_from_row(r) for r in rows]
        return {(o.user_id, o.client_order_id or ""): o for o in found}

    async def _insert(self, opened: Sequence[Opened]) -> None:
        orders = [order_row(order) for order, _ in opened]
        events = [event_row(event) for _, event in opened]
        await self._writes.place(sql.placement_values(orders, events))

    async def _place_one(self, opened: Opened) -> Placement:
        order, event = opened
        try:
            await self._connections.execute(
                sql.PLACEMENT, *sql.placement_values([order_row(order)], [event_row(event)])
            )
        except asyncpg.UniqueViolationError:
            key = (order.user_id, order.client_order_id or "")
            winner = (await self._existing({key}))[key]
            return Placement(winner, created=False)
        return Placement(order, created=True)

    async def placed_client_orders(
        self, user_id: str, client_order_ids: Sequence[str]
    ) -> dict[str, Order]:
        """Return the user's orders placed with these clientOrderIds, by clientOrderId."""
        if not client_order_ids:
            return {}
        rows = await self._connections.fetch(
            sql.BY_CLIENT_IDS, user_id, list(set(client_order_ids))
        )
        return {r["client_order_id"]: order_from_row(r) for r in rows}

    async def open_orders(self, user_id: str) -> OpenOrders:
        """Count the user's unfinished orders by status and type (index user_id, status).

        :raises StorageUnavailableError: when the database does not answer (or has no tables).
        """
        try:
            rows = await self._connections.fetch(sql.OPEN_COUNTS, user_id)
        except _UNANSWERED as exc:
            raise _unavailable(exc) from exc
        return open_orders_of((r["status"], r["type"], r["n"]) for r in rows)

    # -- reading ---------------------------------------------------------------------

    async def get(self, order_id: uuid.UUID) -> Order | None:
        """Return the order, whoever owns it."""
        row = await self._connections.fetchrow(sql.GET, order_id)
        return None if row is None else order_from_row(row)

    async def list_for_user(
        self,
        user_id: str,
        *,
        first: int,
        after: OrderCursor | None,
        status: OrderStatus | None,
        order_type: OrderType | None,
    ) -> StoredOrders:
        """Return the user's orders, newest first, after the cursor (keyset, one index)."""
        where: list[str] = ['"user_id"=$1']
        values: list[object] = [user_id]
        if status is not None:
            values.append(status.value)
            where.append(f'"status"=${len(values)}')
        if order_type is not None:
            values.append(order_type.value)
            where.append(f'"type"=${len(values)}')
        if after is not None:
            values += [after.created_at, after.order_id]
            where.append(f'("created_at","id")<(${len(values) - 1},${len(values)})')
        values.append(first + 1)
        columns = ",".join(f'"{c}"' for c in ORDER_COLUMNS)
        query = (
            f'SELECT {columns} FROM "orders" WHERE {" AND ".join(where)} '  # noqa: S608
            f'ORDER BY "created_at" DESC,"id" DESC LIMIT ${len(values)}'
        )
        rows = await self._connections.fetch(query, *values)
        found = [order_from_row(r) for r in rows]
        return StoredOrders(orders=found[:first], has_next=len(found) > first)

    async def events(self, order_id: uuid.UUID, after_seq: int = 0) -> list[OrderEvent]:
        """Return the order's events after after_seq, in seq order."""
        rows = await self._connections.fetch(sql.EVENTS, order_id, after_seq)
        return [event_from_row(r) for r in rows]

    async def owned_events(
        self, order_id: uuid.UUID, user_id: str, after_seq: int = 0
    ) -> list[OrderEvent] | None:
        """Return the events after after_seq of the user's order (None: not the user's)."""
        rows = await self._connections.fetch(sql.OWNED_EVENTS, order_id, user_id, after_seq)
        if not rows:
            return None
        return [event_from_row(r) for r in rows if r["seq"] is not None]

    async def events_of_orders(
        self, order_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[OrderEvent]]:
        """Return the events of many orders, each list in seq order."""
        result: dict[uuid.UUID, list[OrderEvent]] = {i: [] for i in order_ids}
        if not order_ids:
            return result
        for row in await self._connections.fetch(sql.EVENTS_OF_ORDERS, list(order_ids)):
            event = event_from_row(row)
            result[event.order_id].append(event)
        return result

    async def user_orders_updated_since(self, user_id: str, since: datetime) -> list[Order]:
        """Return the user's orders changed at or after since."""
        rows = await self._connections.fetch(sql.UPDATED_SINCE, user_id, since)
        return [order_from_row(r) for r in rows]

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
        rows = await self._connections.fetch(
            sql.CHANGED_BETWEEN, list(user_ids), list(order_ids), since, until
        )
        return [
            OrderMark(as_uuid(r["id"]), r["user_id"], r["last_seq"], r["updated_at"]) for r in rows
        ]

    async def children_of(self, parent_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Order]]:
        """Return the children of each parent, by slice index (index parent_id, slice_index)."""
        result: dict[uuid.UUID, list[Order]] = {i: [] for i in parent_ids}
        if not parent_ids:
            return result
        for row in await self._connections.fetch(sql.CHILDREN, list(parent_ids)):
            order = order_from_row(row)
            if order.parent_id is not None:
                result[order.parent_id].append(order)
        return result

    async def active_twaps(self) -> list[Order]:
        """Return every TWAP order still PENDING or WAITING (index type, status)."""
        return [order_from_row(r) for r in await self._connections.fetch(sql.ACTIVE_TWAPS)]

    async def place_child(
        self, before: Order, after: Order, event: OrderEvent, child: Order, child_event: OrderEvent
    ) -> None:
        """Store the parent's guarded step and the new child in one transaction.

        :raises LeaseLostError: when the parent moved on or the child exists already.
        """
        sets = step_row(before, after, None, after.updated_at)
        step = sql.step_sql(tuple(sets), guard_owner=False)
        values = sql.step_values(before.id, before.last_seq, None, sets, event_row(event))
        placement = sql.placement_values([order_row(child)], [event_row(child_event)])
        try:
            async with self._connections.acquire() as conn, conn.transaction():
                if not await conn.fetch(step, *values):
                    raise LeaseLostError(f"order {before.id} moved on")
                await conn.execute(sql.PLACEMENT, *placement)
        except asyncpg.UniqueViolationError as exc:
            raise LeaseLostError(f"order {child.id} or seq {event.seq} exists already") from exc
        if self._observer is not None:
            self._observer.recorded(before, after, event)
            self._observer.placed([child])

    async def resting_orders(self, updated_since: datetime | None = None) -> list[Order]:
        """Return every WAITING order (changed at or after updated_since, when given)."""
        if updated_since is None:
            rows = await self._connections.fetch(sql.RESTING)
        else:
            rows = await self._connections.fetch(sql.RESTING_SINCE, updated_since)
        return [order_from_row(r) for r in rows]

    async def raise_trail_best(self, marks: Sequence[tuple[uuid.UUID, Decimal]]) -> None:
        """Raise trailing stops' best prices, each only if higher and still WAITING.

        One statement compares (as numbers) and writes, so two watchers racing never lower
        a best price.
        """
        if not marks:
            return
        ids = [order_id for order_id, _ in marks]
        bests = [format_amount(best) for _, best in marks]
        await self._connections.execute(sql.RAISE_TRAIL_BEST, ids, bests)

    async def group_orders(self, group_id: uuid.UUID) -> list[Order]:
        """Return the legs of an OCO group (index group_id)."""
        rows = await self._connections.fetch(sql.GROUP, group_id)
        return [order_from_row(r) for r in rows]

    async def stuck_orders(
        self, now: datetime, older_than: datetime, limit: int
    ) -> list[QueuedOrder]:
        """Return unfinished, unleased orders (WAITING aside) untouched since older_than."""
        rows = await self._connections.fetch(sql.STUCK, now, older_than, limit)
        return [QueuedOrder(as_uuid(r["id"]), r["user_id"]) for r in rows]

    # -- leases and steps ------------------------------------------------------------

    async def claim(
        self, order_id: uuid.UUID, owner: str, now: datetime, lease_until: datetime
    ) -> Order | None:
        """Take the lease if it is free, expired or ours, and the order is unfinished."""
        row = await self._writes.claim((order_id, owner, now, lease_until))
        if row is None:
            return None
        self._cleared.pop(order_id, None)
        return order_from_row(row)

    async def renew(self, order_id: uuid.UUID, owner: str, lease_until: datetime) -> bool:
        """Extend our lease; return False when it is no longer ours."""
        status: str = await self._connections.execute(sql.RENEW, lease_until, order_id, owner)
        return status != "UPDATE 0"

    async def release(self, order_id: uuid.UUID, owner: str) -> None:
        """Give the lease back (nothing to do after a terminal step of ours cleared it).

        A terminal order never gets a lease again (``claim`` skips finished orders), so once
        its terminal step cleared our lease this UPDATE could not match any row.
        """
        if self._cleared.get(order_id) == owner:
            del self._cleared[order_id]
            return
        await self._connections.execute(sql.RELEASE, order_id, owner)

    async def record(
        self,
        before: Order,
        after: Order,
        event: OrderEvent,
        *,
        owner: str | None,
        lease_until: datetime,
    ) -> None:
        """Store the order's new state and its event in one statement, guarded.

        :raises LeaseLostError: when the guard refused the step, or its seq is already
            stored (another writer got there first).
        """
        sets = step_row(before, after, owner, lease_until)
        try:
            written = await self._writes.step(
                (before.id, before.last_seq, owner, sets, event_row(event))
            )
        except asyncpg.UniqueViolationError as exc:
            raise LeaseLostError(f"order {before.id} already has seq {event.seq}") from exc
        if not written:
            raise LeaseLostError(f"order {before.id} moved on or its lease was taken")
        if owner is not None and event.status.is_terminal:
            # The step cleared the lease of a finished order: nothing is left to release.
            if len(self._cleared) >= _CLEARED_LIMIT:
                self._cleared.clear()
            self._cleared[before.id] = owner
        if self._observer is not None:
            self._observer.recorded(before, after, event)

    async def record_joined(
        self, writes: Sequence[StepWrite], *, owner: str | None, lease_until: datetime
    ) -> None:
        """Store several orders' steps in one transaction, each guarded; all or none.

        The orders' rows are locked in id order first, then each step is the statement of
        a single step (:func:`models.postgres_sql.step_sql`); a step whose guard no longer
        holds rolls the whole transaction back. It bypasses the group commit: its steps
        must commit together, and with nothing else.

        Every statement that writes several orders takes their locks in the same id order,
        so none should deadlock with it; should Postgres still abort the transaction (a
        deadlock or serialization failure), it is run once more, then reported transient.

        :raises LeaseLostError: when a guard refused its step, or a seq was already stored.
        :raises TransientError: when Postgres aborted it twice (nothing was written).
        """
        await run_joined(
            lambda: self._record_joined(writes, owner=owner, lease_until=lease_until), writes
        )

    async def _record_joined(
        self, writes: Sequence[StepWrite], *, owner: str | None, lease_until: datetime
    ) -> None:
        ids = [w.before.id for w in writes]
        try:
            async with self._connections.acquire() as conn, conn.transaction():
                await conn.execute(sql.LOCK, ids)
                for i, write in enumerate(writes):
                    guarded = owner if i == 0 else None
                    sets = step_row(write.before, write.after, guarded, lease_until)
                    statement = sql.step_sql(tuple(sets), guard_owner=guarded is not None)
                    values = sql.step_values(
                        write.before.id,
                        write.before.last_seq,
                        guarded,
                        sets,
                        event_row(write.event),
                    )
                    if await conn.fetchrow(statement, *values) is None:
                        raise LeaseLostError(
                            f"order {write.before.id} moved on or its lease was taken"
                        )
        except asyncpg.UniqueViolationError as exc:
            raise LeaseLostError(f"one of orders {ids} already has the seq written") from exc
        if self._observer is not None:
            for write in writes:
                self._observer.recorded(write.before, write.after, write.event)


def _unavailable(exc: BaseException) -> StorageUnavailableError:
    """Name why storing failed: no tables (never migrated) is not an outage to wait out."""
    if isinstance(exc, asyncpg.UndefinedTableError):
        return StorageNotMigratedError("database not migrated: run `eterna migrate`")
    return StorageUnavailableError(f"database unavailable: {type(exc).__name__}")


def asyncpg_dsn(database_url: str) -> str:
    """Return the URL as asyncpg takes it: its scheme, and none of Tortoise's pool options."""
    parts = urlsplit(database_url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in {"minsize", "maxsize"}]
    return urlunsplit(parts._replace(scheme="postgresql", query=urlencode(query)))


async def keep_session(connection: asyncpg.Connection) -> None:
    """Hand a connection back to asyncpg's pool without a reset query.

    asyncpg's default reset sends ``SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
    RESET ALL`` on every release: one more round trip per statement. The store leaves no
    session state behind (no ``SET``, ``LISTEN``, advisory lock or cursor outside a
    transaction), and asyncpg still rolls back a transaction left open before it calls this,
    so there is nothing to reset.
    """


async def open_postgres_store(
    database_url: str,
    *,
    pool_size: int,
    group_commit: bool = True,
    observer: StoreObserver | None = None,
) -> PostgresOrderStore:
    """Open the store's own pool of up to pool_size connections; group commit unless told not.

    The pool connects on first use, as Tortoise did: a process started while Postgres is
    away starts, and its /health says so until Postgres answers.
    """
    pool = await asyncpg.create_pool(
        asyncpg_dsn(database_url), min_size=0, max_size=pool_size, reset=keep_session
    )
    writes: HotWrites = GroupCommit(pool) if group_commit else DirectWrites(pool)
    return PostgresOrderStore(pool, writes=writes, observer=observer)

"""The Tortoise implementation of :class:`eterna.application.ports.OrderRepository`.

Every transition is one transaction that updates the order only if its ``last_seq`` is still
the one the writer read (and, for a worker, only while it holds the lease), then inserts the
event with the next seq. ``UNIQUE(order_id, seq)`` is the safety net under that check.

On Postgres (asyncpg) the hot statements skip Tortoise's query builder (see
:mod:`models.postgres`): the same guards and conversions, one prepared statement each. SQLite
takes the ORM path.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import DBConnectionError, IntegrityError, OperationalError
from tortoise.expressions import Q
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from eterna.adapters.events.codec import event_data, event_from_data
from eterna.application.ports import (
    OpenOrders,
    OrderCursor,
    OrderMark,
    OrderPage,
    Placement,
    QueuedOrder,
    StoreObserver,
)
from eterna.core.background import Background
from eterna.core.coalesce import Coalescer
from eterna.domain.errors import (
    LeaseLostError,
    StorageNotMigratedError,
    StorageUnavailableError,
)
from eterna.domain.orders import (
    TERMINAL_STATUSES,
    Order,
    OrderEvent,
    OrderStatus,
    OrderType,
    PlaceOrder,
    placed_event,
)
from eterna.domain.routes import Route
from eterna.domain.tokens import Token, format_amount
from models.orders import OrderEventModel, OrderModel
from models.postgres import (
    RAISE_TRAIL_SQL,
    RELEASE_SQL,
    RENEW_SQL,
    HeldConnection,
    PendingStep,
    apply_sql,
    db_value,
    placement_values,
    postgres_client,
    statements,
    step_values,
    steps_sql,
    steps_values,
)

log = logging.getLogger(__name__)

_FINISHED = [s.value for s in TERMINAL_STATUSES]
# Turns of the event loop a batch of steps, and of claims, waits for more to join. Measured
# end to end (3,000 orders): 0 and 0 gave claims of 1.9 on average and 259 orders/s; 3 and
# 10 gave 6 claims and 17 steps a statement, and 318-348 orders/s.
STEP_LINGER = 3
CLAIM_LINGER = 10
# Orders whose lease a terminal step cleared: release() has nothing left to do for them.
_CLEARED_LIMIT = 10_000


def _to_order(row: OrderModel) -> Order:
    return Order(
        id=row.id,
        user_id=row.user_id,
        type=row.type,
        status=row.status,
        token_in=Token(row.token_in_mint, row.token_in_symbol, row.token_in_decimals),
        token_out=Token(row.token_out_mint, row.token_out_symbol, row.token_out_decimals),
        amount_in=_exact(row.amount_in),
        slippage_bps=row.slippage_bps,
        created_at=row.created_at,
        updated_at=row.updated_at,
        last_seq=row.last_seq,
        attempts=row.attempts,
        client_order_id=row.client_order_id,
        limit_price=_price(row.limit_price),
        min_liquidity=_exact_or_none(row.min_liquidity),
        max_price_impact_bps=row.max_price_impact_bps,
        expires_at=row.expires_at,
        trigger_price=_price(row.trigger_price),
        trail_bps=row.trail_bps,
        trail_best=_price(row.trail_best),
        fired_at=row.fired_at,
        route=Route.from_json(row.route) if row.route else None,
        amount_out=_exact_or_none(row.amount_out),
        executed_price=_price(row.executed_price),
        tx_signature=row.tx_signature,
        failure_reason=row.failure_reason,
        pending_tx=row.pending_tx,
    )


def _enum_value(value: object) -> object:
    """Return an enum's value, or the value itself (values_list may give either)."""
    return getattr(value, "value", value)


def _exact(value: Decimal) -> Decimal:
    # Columns are quantised to 18 places; drop the padding zeros, keep every digit.
    return value.normalize() if value != 0 else Decimal(0)


def _exact_or_none(value: Decimal | None) -> Decimal | None:
    return None if value is None else _exact(value)


def _price(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _price_text(price: Decimal | None) -> str | None:
    return None if price is None else format_amount(price)


def _to_event(row: OrderEventModel) -> OrderEvent:
    return event_from_data(
        order_id=uuid.UUID(str(row.order_id)),
        user_id=row.user_id,
        seq=row.seq,
        status=row.status,
        at=row.at,
        attempt=row.attempt,
        message=row.message,
        data=row.data,
        failure=row.failure,
    )


def _new_row(cmd: PlaceOrder, now: datetime) -> OrderModel:
    """Return the row of the order the command opens (the domain makes the order)."""
    order, _ = cmd.open(uuid.uuid4(), now)
    return OrderModel(
        id=order.id,
        user_id=order.user_id,
        client_order_id=order.client_order_id,
        type=order.type,
        status=order.status,
        token_in_mint=order.token_in.mint,
        token_in_symbol=order.token_in.symbol,
        token_in_decimals=order.token_in.decimals,
        token_out_mint=order.token_out.mint,
        token_out_symbol=order.token_out.symbol,
        token_out_decimals=order.token_out.decimals,
        amount_in=order.amount_in,
        slippage_bps=order.slippage_bps,
        limit_price=format_amount(order.limit_price) if order.limit_price is not None else None,
        min_liquidity=order.min_liquidity,
        max_price_impact_bps=order.max_price_impact_bps,
        expires_at=order.expires_at,
        trigger_price=_price_text(order.trigger_price),
        trail_bps=order.trail_bps,
        attempts=order.attempts,
        last_seq=order.last_seq,
        created_at=order.created_at,
        updated_at=order.updated_at,
    )


def _event_model(event: OrderEvent) -> OrderEventModel:
    """Return the row of an event."""
    return OrderEventModel(
        order_id=event.order_id,
        user_id=event.user_id,
        seq=event.seq,
        status=event.status,
        at=event.at,
        attempt=event.attempt,
        message=event.message,
        data=event_data(event),
        failure=event.failure,
    )


def _placed_event(row: OrderModel) -> OrderEventModel:
    """Return the row of the PENDING event (seq 1) placing the order stores with it."""
    return _event_model(placed_event(_to_order(row)))


def _changed_columns(
    before: Order, after: Order, owner: str | None, lease_until: datetime
) -> dict[str, Any]:
    """Return the columns a step sets: the ones every step moves, and what it changed."""
    columns: dict[str, Any] = {
        "status": after.status,
        "last_seq": after.last_seq,
        "updated_at": after.updated_at,
        "attempts": after.attempts,
    }
    if owner is not None:
        columns["lease_until"] = lease_until
    if after.status.is_terminal:
        columns["lease_owner"] = None
        columns["lease_until"] = None
    if after.route is not before.route and after.route is not None:
        columns["route"] = after.route.to_json()
    if after.pending_tx is not before.pending_tx:
        columns["pending_tx"] = after.pending_tx
    if after.tx_signature != before.tx_signature:
        columns["tx_signature"] = after.tx_signature
    if after.amount_out != before.amount_out:
        columns["amount_out"] = after.amount_out
    if after.executed_price != before.executed_price and after.executed_price is not None:
        columns["executed_price"] = format_amount(after.executed_price)
    if after.fired_at != before.fired_at:
        columns["fired_at"] = after.fired_at
    if after.failure_reason != before.failure_reason:
        columns["failure_reason"] = after.failure_reason
    if after.token_out != before.token_out:
        columns["token_out_symbol"] = after.token_out.symbol
        columns["token_out_decimals"] = after.token_out.decimals
    return columns


async def _apply_orm(
    order: Order, owner: str | None, updates: dict[str, Any], event: OrderEvent
) -> None:
    """Persist a step through the ORM: a guarded UPDATE and an INSERT in one transaction."""
    guard = OrderModel.filter(id=order.id, last_seq=order.last_seq)
    if owner is not None:
        guard = guard.filter(lease_owner=owner)
    async with in_transaction() as conn:
        changed = await guard.using_db(conn).update(**updates)
        if not changed:
            raise LeaseLostError(f"order {order.id} moved on or its lease was taken")
        await _event_model(event).save(using_db=conn, force_create=True)


async def _raise_one(order_id: uuid.UUID, best: Decimal) -> None:
    """Raise one best price by compare-and-swap on the stored text (no numeric SQL needed)."""
    while True:
        row = await OrderModel.get_or_none(id=order_id, status=OrderStatus.WAITING)
        if row is None or (row.trail_best is not None and Decimal(row.trail_best) >= best):
            return
        swapped = await OrderModel.filter(
            id=order_id, status=OrderStatus.WAITING, trail_best=row.trail_best
        ).update(trail_best=format_amount(best))
        if swapped:
            return


# Errors that say the database was not reached (or the answer was lost), not what is wrong
# with one step of a batch.
_UNREACHABLE = (DBConnectionError, OSError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError)
# A claim on its way to Postgres: order id, owner, now, lease until.
_Claim = tuple[uuid.UUID, str, datetime, datetime]


async def _write_step(pg: BaseDBAsyncClient, held: HeldConnection, step: PendingStep) -> bool:
    """Write one step in its own statement; tell whether its guard held."""
    order, owner, updates, event = step
    sql = apply_sql(tuple(updates), guard_owner=owner is not None)
    return bool(await held.fetch(pg, sql, step_values(order, owner, updates, event)))


class TortoiseOrderRepository:
    """Orders and events in Postgres or SQLite through Tortoise ORM."""

    def __init__(self, *, fast_path: bool = True, observer: StoreObserver | None = None) -> None:
        """Use the Postgres fast path when the database is asyncpg (unless told not to).

        ``observer`` hears of every placement and step once committed (the metrics).
        """
        self._fast_path = fast_path
        self._observer = observer
        self._cleared: dict[uuid.UUID, str] = {}
        # Steps of different orders finished together are written in one statement, and so
        # are the claims of orders a worker takes up together. Claims trickle in as the queue
        # hands out messages one task at a time: they wait a few more turns of the loop.
        self._steps: Coalescer[PendingStep, bool] = Coalescer(
            self._write_steps, name="steps", linger=STEP_LINGER
        )
        self._claims: Coalescer[_Claim, dict[str, Any] | None] = Coalescer(
            self._claim_all, name="claims", linger=CLAIM_LINGER, abandoned=self._give_back
        )
        self._giving_back = Background()
        # Each batch writer runs one statement at a time, on a connection it keeps; so do
        # placements while they come one at a time (one made while another runs takes a
        # connection from the pool).
        self._step_conn = HeldConnection()
        self._claim_conn = HeldConnection()
        self._place_conn = HeldConnection()

    def _pg(self) -> BaseDBAsyncClient | None:
        return postgres_client() if self._fast_path else None

    async def place(self, commands: Sequence[PlaceOrder], now: datetime) -> list[Placement]:
        """Insert new orders with their PENDING event; return existing ones for repeated keys.

        :raises StorageUnavailableError: when the database does not answer (nothing stored:
            the insert is one transaction).
        """
        try:
            placements = await self._place(commands, now)
        except IntegrityError:
            raise
        except _UNANSWERED as exc:
            raise _unavailable(exc) from exc
        if self._observer is not None:
            self._observer.placed(p.order for p in placements if p.created)
        return placements

    async def _place(self, commands: Sequence[PlaceOrder], now: datetime) -> list[Placement]:
        existing = await self._existing(commands)
        results: list[Placement | None] = [None] * len(commands)
        fresh: list[tuple[int, OrderModel]] = []
        batch_keys: dict[tuple[str, str], int] = {}
        for i, cmd in enumerate(commands):
            key = (cmd.user_id, cmd.client_order_id) if cmd.client_order_id else None
            if key is not None and key in existing:
                results[i] = Placement(_to_order(existing[key]), created=False)
            elif key is not None and key in batch_keys:
                continue  # a repeat inside the batch: resolved after the insert
            else:
                if key is not None:
                    batch_keys[key] = i
                fresh.append((i, _new_row(cmd, now)))
        try:
            await self._insert([row for _, row in fresh])
        except IntegrityError:
            # A concurrent placement took a key first: insert one by one, reusing winners.
            for i, row in fresh:
                results[i] = await self._place_one(row)
        else:
            for i, row in fresh:
                results[i] = Placement(_to_order(row), created=True)
        for i, cmd in enumerate(commands):
            if results[i] is None:
                first = results[batch_keys[(cmd.user_id, cmd.client_order_id or "")]]
                if first is None:  # every key in batch_keys was resolved above
                    raise RuntimeError("unresolved repeat in batch")
                results[i] = Placement(first.order, created=False)
        return [r for r in results if r is not None]

    async def _insert(self, rows: list[OrderModel]) -> None:
        """Insert the orders and their PENDING events, all or none."""
        if not rows:
            return
        pg = self._pg()
        if pg is not None:
            await self._place_conn.fetch(pg, statements().placement, placement_values(rows))
            return
        async with in_transaction():
            await OrderModel.bulk_create(rows)
            await OrderEventModel.bulk_create([_placed_event(r) for r in rows])

    async def _place_one(self, row: OrderModel) -> Placement:
        try:
            async with in_transaction():
                await row.save(force_create=True)
                await _placed_event(row).save(force_create=True)
        except IntegrityError:
            winner = await OrderModel.get(user_id=row.user_id, client_order_id=row.client_order_id)
            return Placement(_to_order(winner), created=False)
        return Placement(_to_order(row), created=True)

    async def _existing(self, commands: Sequence[PlaceOrder]) -> dict[tuple[str, str], OrderModel]:
        keys = {(c.user_id, c.client_order_id) for c in commands if c.client_order_id}
        if not keys:
            return {}
        query = Q(*(Q(user_id=u, client_order_id=k) for u, k in keys), join_type="OR")
        rows = await OrderModel.filter(query)
        return {(r.user_id, r.client_order_id or ""): r for r in rows}

    async def get(self, order_id: uuid.UUID) -> Order | None:
        """Return the order, whoever owns it."""
        pg = self._pg()
        if pg is not None:
            rows = await pg.execute_query_dict(statements().get, [order_id])
            return _to_order(OrderModel._init_from_db(**rows[0])) if rows else None
        row = await OrderModel.get_or_none(id=order_id)
        return _to_order(row) if row else None

    async def placed_client_orders(
        self, user_id: str, client_order_ids: Sequence[str]
    ) -> dict[str, Order]:
        """Return the user's orders placed with these clientOrderIds, by clientOrderId."""
        if not client_order_ids:
            return {}
        rows = await OrderModel.filter(
            user_id=user_id, client_order_id__in=list(set(client_order_ids))
        )
        return {r.client_order_id or "": _to_order(r) for r in rows}

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
        rows = await query.order_by("-created_at", "-id").limit(first + 1)
        return OrderPage(orders=[_to_order(r) for r in rows[:first]], has_next=len(rows) > first)

    async def events(self, order_id: uuid.UUID, after_seq: int = 0) -> list[OrderEvent]:
        """Return the order's events after after_seq, in seq order."""
        pg = self._pg()
        if pg is not None:
            found = await pg.execute_query_dict(statements().events, [order_id, after_seq])
            return [_to_event(OrderEventModel._init_from_db(**r)) for r in found]
        rows = await OrderEventModel.filter(order_id=order_id, seq__gt=after_seq).order_by("seq")
        return [_to_event(r) for r in rows]

    async def events_of_orders(
        self, order_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[OrderEvent]]:
        """Return the events of many orders, each list in seq order."""
        result: dict[uuid.UUID, list[OrderEvent]] = {i: [] for i in order_ids}
        if not order_ids:
            return result
        pg = self._pg()
        if pg is not None:
            found = await pg.execute_query_dict(statements().events_of_orders, [list(order_ids)])
            rows = [OrderEventModel._init_from_db(**r) for r in found]
        else:
            rows = await OrderEventModel.filter(order_id__in=list(order_ids)).order_by(
                "order_id", "seq"
            )
        for row in rows:
            event = _to_event(row)
            result[event.order_id].append(event)
        return result

    async def user_orders_updated_since(self, user_id: str, since: datetime) -> list[Order]:
        """Return the user's orders changed at or after since."""
        pg = self._pg()
        if pg is not None:
            found = await pg.execute_query_dict(statements().updated_since, [user_id, since])
            return [_to_order(OrderModel._init_from_db(**r)) for r in found]
        rows = await OrderModel.filter(user_id=user_id, updated_at__gte=since)
        return [_to_order(r) for r in rows]

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
        pg = self._pg()
        if pg is not None:
            values = [list(user_ids), list(order_ids), since, until]
            found = await pg.execute_query_dict(statements().changed_between, values)
            return [OrderMark(r["id"], r["user_id"], r["last_seq"], r["updated_at"]) for r in found]
        arms = [Q(user_id__in=list(user_ids))] if user_ids else []
        if order_ids:
            arms.append(Q(id__in=list(order_ids)))
        rows = await OrderModel.filter(
            Q(*arms, join_type="OR"), updated_at__gte=since, updated_at__lt=until
        ).values_list("id", "user_id", "last_seq", "updated_at")
        return [OrderMark(*row) for row in rows]  # values_list converts each: UUID, aware UTC

    async def claim(
        self, order_id: uuid.UUID, owner: str, now: datetime, lease_until: datetime
    ) -> Order | None:
        """Take the lease if it is free, expired or ours, and the order is unfinished."""
        if self._pg() is not None:
            taken = await self._claims.submit((order_id, owner, now, lease_until))
            if taken is None:
                return None
            self._cleared.pop(order_id, None)
            return _to_order(OrderModel._init_from_db(**taken))
        changed = (
            await OrderModel.filter(id=order_id)
            .exclude(status__in=_FINISHED)
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now) | Q(lease_owner=owner))
            .update(lease_owner=owner, lease_until=lease_until)
        )
        if not changed:
            return None
        row = await OrderModel.get(id=order_id)
        return _to_order(row)

    async def record(
        self,
        before: Order,
        after: Order,
        event: OrderEvent,
        *,
        owner: str | None,
        lease_until: datetime,
    ) -> None:
        """Store the order's new state and its event in one transaction, guarded."""
        await self._persist(
            before, owner, _changed_columns(before, after, owner, lease_until), event
        )
        if self._observer is not None:
            self._observer.recorded(before, after, event)

    async def _persist(
        self, order: Order, owner: str | None, updates: dict[str, Any], event: OrderEvent
    ) -> None:
        """Write the step (guarded update and event) in one transaction."""
        if self._pg() is not None:
            if not await self._steps.submit((order, owner, updates, event)):
                raise LeaseLostError(f"order {order.id} moved on or its lease was taken")
        else:
            await _apply_orm(order, owner, updates, event)
        if owner is not None and event.status.is_terminal:
            # The step cleared the lease of a finished order: nothing is left to release.
            if len(self._cleared) >= _CLEARED_LIMIT:
                self._cleared.clear()
            self._cleared[order.id] = owner

    async def _write_steps(self, steps: Sequence[PendingStep]) -> list[bool | BaseException]:
        """Write the steps (each guarded on its own); tell for each whether it was written."""
        pg = self._pg()
        if pg is None:  # only the fast path submits steps
            raise RuntimeError("the step writer needs the Postgres connection")
        held = self._step_conn
        if len(steps) == 1:
            return [await _write_step(pg, held, steps[0])]
        try:
            rows = await held.fetch(pg, steps_sql(), steps_values(steps))
        except _UNREACHABLE:
            raise  # every step of the batch shares the connection's fate, as it would alone
        except Exception:  # find the step at fault, write the others
            # One step failed the whole statement (a duplicate seq, a value its column cannot
            # hold): write each step alone, so that only the step at fault fails.
            outcomes: list[bool | BaseException] = []
            for step in steps:
                try:
                    outcomes.append(await _write_step(pg, held, step))
                except Exception as exc:  # the outcome of that step alone
                    outcomes.append(exc)
            return outcomes
        written = {row["n"] for row in rows}
        return [n in written for n in range(len(steps))]

    def _give_back(self, claim: _Claim, row: dict[str, Any] | None) -> None:
        """Release a lease taken for a claimer that was cancelled while its claim ran.

        Nobody will run the order; left alone, its lease would hold it for the whole lease
        time before another worker could take it.
        """
        if row is None:
            return
        order_id, owner, _, _ = claim
        self._giving_back.spawn(self._release_quietly(order_id, owner))

    async def _release_quietly(self, order_id: uuid.UUID, owner: str) -> None:
        try:
            await self.release(order_id, owner)
        except Exception as exc:  # the lease then simply expires
            log.warning("could not give back the lease of order %s: %s", order_id, exc)

    async def _claim_all(
        self, claims: Sequence[_Claim]
    ) -> list[dict[str, Any] | BaseException | None]:
        """Take each lease that is free, expired or its owner's; return each order's row."""
        pg = self._pg()
        if pg is None:  # only the fast path submits claims
            raise RuntimeError("the claims need the Postgres connection")
        if len(claims) == 1:
            ((order_id, owner, now, lease_until),) = claims
            values = [
                db_value(OrderModel, "lease_owner", owner),
                db_value(OrderModel, "lease_until", lease_until),
                order_id,
                db_value(OrderModel, "lease_until", now),
            ]
            rows = await self._claim_conn.fetch(pg, statements().claim, values)
            return [rows[0] if rows else None]
        columns = [
            [order_id for order_id, _, _, _ in claims],
            [db_value(OrderModel, "lease_owner", owner) for _, owner, _, _ in claims],
            [db_value(OrderModel, "lease_until", until) for _, _, _, until in claims],
            [db_value(OrderModel, "lease_until", now) for _, _, now, _ in claims],
        ]
        # One order claimed twice in a batch is updated once: only the claim whose owner the
        # row now names has won it.
        rows = await self._claim_conn.fetch(pg, statements().claims, columns)
        by_id = {row["id"]: row for row in rows}
        won = [by_id.get(order_id) for order_id, _, _, _ in claims]
        return [
            row if row is not None and row["lease_owner"] == owner else None
            for row, (_, owner, _, _) in zip(won, claims, strict=True)
        ]

    async def renew(self, order_id: uuid.UUID, owner: str, lease_until: datetime) -> bool:
        """Extend our lease; return False when it is no longer ours."""
        pg = self._pg()
        if pg is not None:
            until = db_value(OrderModel, "lease_until", lease_until)
            changed, _ = await pg.execute_query(RENEW_SQL, [until, order_id, owner])
            return bool(changed)
        renewed = await OrderModel.filter(id=order_id, lease_owner=owner).update(
            lease_until=lease_until
        )
        return bool(renewed)

    async def release(self, order_id: uuid.UUID, owner: str) -> None:
        """Give the lease back (nothing to do after a terminal step of ours cleared it).

        A terminal order never gets a lease again (``claim`` skips finished orders), so once
        its terminal step cleared our lease this UPDATE could not match any row.
        """
        if self._cleared.get(order_id) == owner:
            del self._cleared[order_id]
            return
        pg = self._pg()
        if pg is not None:
            await pg.execute_query(RELEASE_SQL, [order_id, owner])
            return
        await OrderModel.filter(id=order_id, lease_owner=owner).update(
            lease_owner=None, lease_until=None
        )

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

    async def open_orders(self, user_id: str) -> OpenOrders:
        """Count the user's unfinished orders by status and type (index user_id, status).

        :raises StorageUnavailableError: when the database does not answer (or has no tables).
        """
        try:
            rows = (
                await OrderModel.filter(user_id=user_id)
                .exclude(status__in=list(_FINISHED))
                .annotate(n=Count("id"))
                .group_by("status", "type")
                .values_list("status", "type", "n")
            )
        except _UNANSWERED as exc:
            raise _unavailable(exc) from exc
        in_flight = waiting = conditional = 0
        for status, kind, n in rows:
            if _enum_value(status) == OrderStatus.WAITING.value:
                waiting += n
            else:
                in_flight += n
            if _enum_value(kind) != OrderType.MARKET.value:
                conditional += n
        return OpenOrders(in_flight=in_flight, waiting=waiting, conditional=conditional)

    async def raise_trail_best(self, marks: Sequence[tuple[uuid.UUID, Decimal]]) -> None:
        """Raise trailing stops' best prices, each only if higher than stored and still WAITING.

        On Postgres one statement compares and writes; elsewhere each row is compared and
        swapped on the value read, so two writers racing never lower a best price.
        """
        if not marks:
            return
        pg = self._pg()
        if pg is not None:
            ids, bests = [i for i, _ in marks], [format_amount(b) for _, b in marks]
            await pg.execute_query(RAISE_TRAIL_SQL, [ids, bests])
            return
        for order_id, best in marks:
            await _raise_one(order_id, best)

    async def resting_orders(self, updated_since: datetime | None = None) -> list[Order]:
        """Return every WAITING order (changed at or after updated_since, when given)."""
        query = OrderModel.filter(status=OrderStatus.WAITING)
        if updated_since is not None:
            query = query.filter(updated_at__gte=updated_since)
        return [_to_order(r) for r in await query]


# What a statement raises when the database does not answer, or answers without our tables.
_UNANSWERED = (
    DBConnectionError,
    OperationalError,
    OSError,
    asyncpg.InterfaceError,
    asyncpg.UndefinedTableError,
)


def _unavailable(exc: BaseException) -> StorageUnavailableError:
    """Name why storing failed: no tables (never migrated) is not an outage to wait out."""
    cause = exc.__cause__ if isinstance(exc, OperationalError) else exc
    if isinstance(cause, asyncpg.UndefinedTableError):
        return StorageNotMigratedError("database not migrated: run `eterna migrate`")
    return StorageUnavailableError(f"database unavailable: {type(exc).__name__}")

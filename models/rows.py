"""Orders and events as rows: the columns of the migrated schema, and the domain objects.

Both database stores map through here, so an order reads back the same from either. The
column names are the ones the migrations create (``migrations/``, the schema's single source;
``tests/integration/test_postgres_store.py`` checks them against the migrated tables). Values
here are plain Python (enums, dicts, ``Decimal``, aware datetimes); each store encodes them
for its driver.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson

from eterna.adapters.events.codec import event_data, event_from_data
from eterna.domain.failures import FailureKind
from eterna.domain.fills import Fill
from eterna.domain.orders import Order, OrderEvent, OrderStatus, OrderType, TwapPlan
from eterna.domain.routes import Route
from eterna.domain.tokens import Token, format_amount

ORDER_COLUMNS = (
    "id",
    "user_id",
    "client_order_id",
    "type",
    "status",
    "token_in_mint",
    "token_in_symbol",
    "token_in_decimals",
    "token_out_mint",
    "token_out_symbol",
    "token_out_decimals",
    "amount_in",
    "slippage_bps",
    "limit_price",
    "min_liquidity",
    "max_price_impact_bps",
    "trigger_price",
    "trail_bps",
    "trail_best",
    "fired_at",
    "group_id",
    "max_slippage_bps",
    "simulated",
    "min_fill",
    "filled_in",
    "fills",
    "expires_at",
    "twap_slices",
    "twap_duration_seconds",
    "twap_jitter_bps",
    "twap_next_slice",
    "twap_next_at",
    "twap_reported",
    "parent_id",
    "slice_index",
    "attempts",
    "last_seq",
    "route",
    "pending_tx",
    "amount_out",
    "executed_price",
    "tx_signature",
    "failure_reason",
    "lease_owner",
    "lease_until",
    "created_at",
    "updated_at",
)
# The columns of an event row a store writes (its own id is the database's).
EVENT_COLUMNS = (
    "order_id",
    "user_id",
    "seq",
    "status",
    "at",
    "attempt",
    "message",
    "data",
    "failure",
)
# Every step sets these columns of the order; the others only when it changes them.
STEP_COLUMNS = ("status", "last_seq", "updated_at", "attempts")
STEP_OPTIONAL_COLUMNS = (
    "lease_owner",
    "lease_until",
    "pending_tx",
    "route",
    "tx_signature",
    "amount_out",
    "executed_price",
    "failure_reason",
    "fired_at",
    "simulated",
    "filled_in",
    "fills",
    "token_out_symbol",
    "token_out_decimals",
    "twap_next_slice",
    "twap_next_at",
    "twap_reported",
)


def order_row(order: Order) -> dict[str, Any]:
    """Return the row of a newly placed order (no lease yet)."""
    return {
        "id": order.id,
        "user_id": order.user_id,
        "client_order_id": order.client_order_id,
        "type": order.type,
        "status": order.status,
        "token_in_mint": order.token_in.mint,
        "token_in_symbol": order.token_in.symbol,
        "token_in_decimals": order.token_in.decimals,
        "token_out_mint": order.token_out.mint,
        "token_out_symbol": order.token_out.symbol,
        "token_out_decimals": order.token_out.decimals,
        "amount_in": order.amount_in,
        "slippage_bps": order.slippage_bps,
        "limit_price": _price_text(order.limit_price),
        "min_liquidity": order.min_liquidity,
        "max_price_impact_bps": order.max_price_impact_bps,
        "trigger_price": _price_text(order.trigger_price),
        "trail_bps": order.trail_bps,
        "trail_best": _price_text(order.trail_best),
        "fired_at": order.fired_at,
        "group_id": order.group_id,
        "max_slippage_bps": order.max_slippage_bps,
        "simulated": order.simulated,
        "min_fill": order.min_fill,
        "filled_in": order.filled_in or None,
        "fills": _fills_json(order) if order.fills else None,
        "expires_at": order.expires_at,
        "twap_slices": order.twap.slices if order.twap else None,
        "twap_duration_seconds": order.twap.duration_seconds if order.twap else None,
        "twap_jitter_bps": order.twap.jitter_bps if order.twap else None,
        "twap_next_slice": order.twap_next_slice if order.twap else None,
        "twap_next_at": order.twap_next_at,
        "twap_reported": order.twap_reported if order.twap else None,
        "parent_id": order.parent_id,
        "slice_index": order.slice_index,
        "attempts": order.attempts,
        "last_seq": order.last_seq,
        "route": order.route.to_json() if order.route is not None else None,
        "pending_tx": order.pending_tx,
        "amount_out": order.amount_out,
        "executed_price": _price_text(order.executed_price),
        "tx_signature": order.tx_signature,
        "failure_reason": order.failure_reason,
        "lease_owner": None,
        "lease_until": None,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
    }


def event_row(event: OrderEvent) -> dict[str, Any]:
    """Return the row of an event."""
    return {
        "order_id": event.order_id,
        "user_id": event.user_id,
        "seq": event.seq,
        "status": event.status,
        "at": event.at,
        "attempt": event.attempt,
        "message": event.message,
        "data": event_data(event),
        "failure": event.failure,
    }


def step_row(
    before: Order, after: Order, owner: str | None, lease_until: datetime
) -> dict[str, Any]:
    """Return the columns a step sets: the ones every step moves, and what it changed.

    A worker's step (``owner`` given) extends its lease; a terminal step clears the lease.
    """
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
    if after.simulated != before.simulated:
        columns["simulated"] = after.simulated
    columns.update(_fills_moved(before, after))
    if after.failure_reason != before.failure_reason:
        columns["failure_reason"] = after.failure_reason
    columns.update(_twap_moved(before, after))
    if after.token_out != before.token_out:
        columns["token_out_symbol"] = after.token_out.symbol
        columns["token_out_decimals"] = after.token_out.decimals
    return columns


def _fills_moved(before: Order, after: Order) -> dict[str, Any]:
    """Return the fill columns a step changed (the tokenIn filled, the fills)."""
    columns: dict[str, Any] = {}
    if after.filled_in != before.filled_in:
        columns["filled_in"] = after.filled_in
    if after.fills is not before.fills:
        columns["fills"] = _fills_json(after)
    return columns


def _twap_moved(before: Order, after: Order) -> dict[str, Any]:
    """Return the TWAP schedule's columns a step changed (the next slice, when, reported)."""
    names = ("twap_next_slice", "twap_next_at", "twap_reported")
    return {n: getattr(after, n) for n in names if getattr(after, n) != getattr(before, n)}


def order_from_row(row: Mapping[str, Any]) -> Order:
    """Return the order a row holds (enums and JSON as values or as their text)."""
    route = _json(row["route"])
    return Order(
        id=as_uuid(row["id"]),
        user_id=row["user_id"],
        type=OrderType(row["type"]),
        status=OrderStatus(row["status"]),
        token_in=Token(row["token_in_mint"], row["token_in_symbol"], row["token_in_decimals"]),
        token_out=Token(row["token_out_mint"], row["token_out_symbol"], row["token_out_decimals"]),
        amount_in=_exact(row["amount_in"]),
        slippage_bps=row["slippage_bps"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        last_seq=row["last_seq"],
        attempts=row["attempts"],
        client_order_id=row["client_order_id"],
        limit_price=_price(row["limit_price"]),
        min_liquidity=_exact_or_none(row["min_liquidity"]),
        max_price_impact_bps=row["max_price_impact_bps"],
        expires_at=row["expires_at"],
        trigger_price=_price(row["trigger_price"]),
        trail_bps=row["trail_bps"],
        trail_best=_price(row["trail_best"]),
        fired_at=row["fired_at"],
        twap=_twap_plan(row),
        twap_next_slice=row["twap_next_slice"] or 0,
        twap_next_at=row["twap_next_at"],
        twap_reported=row["twap_reported"] or 0,
        parent_id=None if row["parent_id"] is None else as_uuid(row["parent_id"]),
        slice_index=row["slice_index"],
        group_id=None if row["group_id"] is None else as_uuid(row["group_id"]),
        max_slippage_bps=row["max_slippage_bps"],
        simulated=bool(row["simulated"]),
        min_fill=_exact_or_none(row["min_fill"]),
        filled_in=_exact(row["filled_in"]) if row["filled_in"] is not None else Decimal(0),
        fills=tuple(Fill.from_json(f) for f in _json(row["fills"]) or ()),
        route=Route.from_json(route) if route else None,
        amount_out=_exact_or_none(row["amount_out"]),
        executed_price=_price(row["executed_price"]),
        tx_signature=row["tx_signature"],
        failure_reason=row["failure_reason"],
        pending_tx=_json(row["pending_tx"]),
    )


def _fills_json(order: Order) -> list[dict[str, Any]]:
    return [f.to_json() for f in order.fills]


def _twap_plan(row: Mapping[str, Any]) -> TwapPlan | None:
    if row["twap_slices"] is None:
        return None
    return TwapPlan(
        slices=row["twap_slices"],
        duration_seconds=row["twap_duration_seconds"],
        jitter_bps=row["twap_jitter_bps"] or 0,
    )


def event_from_row(row: Mapping[str, Any]) -> OrderEvent:
    """Return the event a row holds."""
    return event_from_data(
        order_id=as_uuid(row["order_id"]),
        user_id=row["user_id"],
        seq=row["seq"],
        status=OrderStatus(row["status"]),
        at=row["at"],
        attempt=row["attempt"],
        message=row["message"],
        data=_json(row["data"]) or {},
        failure=None if row["failure"] is None else FailureKind(row["failure"]),
    )


def as_uuid(value: object) -> uuid.UUID:
    """Return a uuid.UUID (asyncpg answers a subclass of its own, which JSON encoders refuse)."""
    return value if type(value) is uuid.UUID else uuid.UUID(str(value))


def _json(value: Any) -> Any:
    """Return a JSON column's value (a driver that does not decode JSON answers its text)."""
    return orjson.loads(value) if isinstance(value, str) else value


def _exact(value: Decimal) -> Decimal:
    # Columns are quantised to 12 places; drop the padding zeros, keep every digit.
    return value.normalize() if value != 0 else Decimal(0)


def _exact_or_none(value: Decimal | None) -> Decimal | None:
    return None if value is None else _exact(value)


def _price(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _price_text(value: Decimal | None) -> str | None:
    return None if value is None else format_amount(value)

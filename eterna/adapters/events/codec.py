"""The JSON form of an order event, shared by storage and the event stream."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from eterna.domain.failures import FailureKind
from eterna.domain.orders import OrderEvent, OrderStatus
from eterna.domain.routes import Quote, Route
from eterna.domain.tokens import format_amount


def event_data(event: OrderEvent) -> dict[str, Any]:
    """Return the optional payload of an event (what is stored in its data column)."""
    data: dict[str, Any] = {}
    if event.quotes is not None:
        data["quotes"] = [q.to_json() for q in event.quotes]
    if event.route is not None:
        data["route"] = event.route.to_json()
    if event.tx_signature is not None:
        data["txSignature"] = event.tx_signature
    if event.amount_out is not None:
        data["amountOut"] = format_amount(event.amount_out)
    if event.executed_price is not None:
        data["executedPrice"] = format_amount(event.executed_price)
    if event.error is not None:
        data["error"] = event.error
    if event.details:
        data["details"] = event.details
    return data


def event_from_data(
    *,
    order_id: uuid.UUID,
    user_id: str,
    seq: int,
    status: OrderStatus,
    at: datetime,
    attempt: int,
    message: str,
    data: dict[str, Any],
    failure: FailureKind | None = None,
) -> OrderEvent:
    """Rebuild an event from its columns and payload."""
    quotes = data.get("quotes")
    route = data.get("route")
    amount_out = data.get("amountOut")
    price = data.get("executedPrice")
    return OrderEvent(
        order_id=order_id,
        user_id=user_id,
        seq=seq,
        status=status,
        at=at,
        attempt=attempt,
        message=message,
        quotes=tuple(Quote.from_json(q) for q in quotes) if quotes is not None else None,
        route=Route.from_json(route) if route is not None else None,
        tx_signature=data.get("txSignature"),
        amount_out=Decimal(amount_out) if amount_out is not None else None,
        executed_price=Decimal(price) if price is not None else None,
        error=data.get("error"),
        details=data.get("details") or {},
        failure=failure,
    )


def event_to_json(event: OrderEvent) -> dict[str, Any]:
    """Return the whole event as JSON (the event-stream message)."""
    return {
        "orderId": str(event.order_id),
        "userId": event.user_id,
        "seq": event.seq,
        "status": event.status.value,
        "at": event.at.isoformat(),
        "attempt": event.attempt,
        "message": event.message,
        "data": event_data(event),
        "failure": None if event.failure is None else event.failure.value,
    }


def event_from_json(doc: dict[str, Any]) -> OrderEvent:
    """Rebuild an event from its event-stream message."""
    return event_from_data(
        order_id=uuid.UUID(doc["orderId"]),
        user_id=doc["userId"],
        seq=int(doc["seq"]),
        status=OrderStatus(doc["status"]),
        at=datetime.fromisoformat(doc["at"]),
        attempt=int(doc["attempt"]),
        message=doc["message"],
        data=doc["data"],
        failure=None if doc.get("failure") is None else FailureKind(doc["failure"]),
    )

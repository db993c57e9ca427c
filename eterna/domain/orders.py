"""Orders, their statuses and the events that record every step."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from eterna.domain.routes import Quote, Route
from eterna.domain.tokens import Token


class OrderType(enum.Enum):
    """What the order waits for before it swaps."""

    MARKET = "MARKET"
    LIMIT = "LIMIT"
    SNIPER = "SNIPER"


class OrderStatus(enum.Enum):
    """Where an order is in its life; see eterna.domain.state_machine for the allowed moves."""

    PENDING = "PENDING"
    WAITING = "WAITING"
    ROUTING = "ROUTING"
    BUILDING = "BUILDING"
    SUBMITTED = "SUBMITTED"
    CONFIRMED = "CONFIRMED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"

    @property
    def is_terminal(self) -> bool:
        """Tell whether no further transition is possible."""
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset(
    {OrderStatus.CONFIRMED, OrderStatus.FAILED, OrderStatus.CANCELLED, OrderStatus.EXPIRED}
)

DEFAULT_SLIPPAGE_BPS = 50


@dataclass(frozen=True, slots=True)
class PlaceOrder:
    """Command: place one order for a user (validated, tokens resolved)."""

    user_id: str
    type: OrderType
    token_in: Token
    token_out: Token
    amount_in: Decimal
    slippage_bps: int = DEFAULT_SLIPPAGE_BPS
    limit_price: Decimal | None = None
    min_liquidity: Decimal | None = None
    max_price_impact_bps: int | None = None
    expires_at: datetime | None = None
    client_order_id: str | None = None


@dataclass(slots=True)
class Order:
    """An order as the engine sees it, with its latest known state."""

    id: uuid.UUID
    user_id: str
    type: OrderType
    status: OrderStatus
    token_in: Token
    token_out: Token
    amount_in: Decimal
    slippage_bps: int
    created_at: datetime
    updated_at: datetime
    last_seq: int
    attempts: int = 0
    client_order_id: str | None = None
    limit_price: Decimal | None = None
    min_liquidity: Decimal | None = None
    max_price_impact_bps: int | None = None
    expires_at: datetime | None = None
    route: Route | None = None
    amount_out: Decimal | None = None
    executed_price: Decimal | None = None
    tx_signature: str | None = None
    failure_reason: str | None = None
    pending_tx: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """One step of an order: its new status and what happened, numbered by seq from 1."""

    order_id: uuid.UUID
    user_id: str
    seq: int
    status: OrderStatus
    at: datetime
    attempt: int
    message: str
    quotes: tuple[Quote, ...] | None = None
    route: Route | None = None
    tx_signature: str | None = None
    amount_out: Decimal | None = None
    executed_price: Decimal | None = None
    error: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


# The message of every order's first event (PENDING, seq 1), stored with the order.
PLACED_MESSAGE = "order accepted"


def placed_event(order: Order) -> OrderEvent:
    """Return the PENDING event (seq 1) that placing the order stored with it."""
    return OrderEvent(
        order_id=order.id,
        user_id=order.user_id,
        seq=1,
        status=OrderStatus.PENDING,
        at=order.created_at,
        attempt=0,
        message=PLACED_MESSAGE,
    )

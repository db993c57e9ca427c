"""Orders, their statuses and the events that record every step."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from eterna.domain.failures import FailureKind
from eterna.domain.fills import Fill
from eterna.domain.routes import Quote, Route
from eterna.domain.state_machine import next_status
from eterna.domain.status import TERMINAL_STATUSES, OrderStatus, OrderType
from eterna.domain.steps import (
    Built,
    Completed,
    Confirmed,
    Failed,
    Fired,
    PartlyFilled,
    Progressed,
    Rested,
    Retried,
    Routed,
    SimulatedFill,
    Step,
    Submitted,
)
from eterna.domain.tokens import Token, price_of

__all__ = [
    "DEFAULT_SLIPPAGE_BPS",
    "PLACED_MESSAGE",
    "TERMINAL_STATUSES",
    "Order",
    "OrderEvent",
    "OrderStatus",
    "OrderType",
    "PlaceOrder",
    "TwapPlan",
    "placed_event",
]

DEFAULT_SLIPPAGE_BPS = 50
# TWAP bounds (eterna.domain.twap).
MAX_SLICES = 100
MAX_DURATION_SECONDS = 7 * 24 * 3600
MAX_JITTER_BPS = 5_000


@dataclass(frozen=True, slots=True)
class TwapPlan:
    """How a TWAP trades: ``slices`` slices over ``duration_seconds``, with a jitter."""

    slices: int
    duration_seconds: int
    jitter_bps: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.slices <= MAX_SLICES:
            raise ValueError(f"slices must be between 1 and {MAX_SLICES}")
        if not 1 <= self.duration_seconds <= MAX_DURATION_SECONDS:
            raise ValueError(f"durationSeconds must be between 1 and {MAX_DURATION_SECONDS}")
        if not 0 <= self.jitter_bps <= MAX_JITTER_BPS:
            raise ValueError(f"jitterBps must be between 0 and {MAX_JITTER_BPS}")


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
    trigger_price: Decimal | None = None
    trail_bps: int | None = None
    twap: TwapPlan | None = None  # TWAP
    parent_id: uuid.UUID | None = None  # a TWAP's slice: its parent
    slice_index: int | None = None  # a TWAP's slice: 0, 1, ...
    group_id: uuid.UUID | None = None  # a leg of an OCO group (eterna.domain.groups)
    # Adaptive slippage: the engine picks each attempt's tolerance up to this cap
    # (slippage_bps then holds the cap too).
    max_slippage_bps: int | None = None
    # LIMIT: the least tokenIn one fill may spend (partial fills, eterna.domain.fills);
    # None: all or none.
    min_fill: Decimal | None = None

    def open(self, order_id: uuid.UUID, now: datetime) -> tuple[Order, OrderEvent]:
        """Return the new order (PENDING, seq 1) and its first event, stored together."""
        order = Order(
            id=order_id,
            user_id=self.user_id,
            type=self.type,
            status=OrderStatus.PENDING,
            token_in=self.token_in,
            token_out=self.token_out,
            amount_in=self.amount_in,
            slippage_bps=self.slippage_bps,
            created_at=now,
            updated_at=now,
            last_seq=1,
            client_order_id=self.client_order_id,
            limit_price=self.limit_price,
            min_liquidity=self.min_liquidity,
            max_price_impact_bps=self.max_price_impact_bps,
            expires_at=self.expires_at,
            trigger_price=self.trigger_price,
            trail_bps=self.trail_bps,
            twap=self.twap,
            parent_id=self.parent_id,
            slice_index=self.slice_index,
            # A TWAP's first slice is due as soon as it is placed.
            twap_next_at=now if self.twap is not None else None,
            group_id=self.group_id,
            max_slippage_bps=self.max_slippage_bps,
            min_fill=self.min_fill,
        )
        return order, placed_event(order)


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
    trigger_price: Decimal | None = None  # STOP_LOSS, TAKE_PROFIT
    trail_bps: int | None = None  # TRAILING_STOP
    # TRAILING_STOP: the best executable price seen since placement (raised by the watcher).
    trail_best: Decimal | None = None
    # When the trigger watcher last fired it (FIRE): a fired stop trades as a market order.
    fired_at: datetime | None = None
    # TWAP: the plan; the next slice to place and when it is due; the slices finished as of
    # its last event (eterna.domain.twap). A slice: its parent and index.
    twap: TwapPlan | None = None
    twap_next_slice: int = 0
    twap_next_at: datetime | None = None
    twap_reported: int = 0
    parent_id: uuid.UUID | None = None
    slice_index: int | None = None
    # The OCO group the order is a leg of: the first leg to fire cancels the other.
    group_id: uuid.UUID | None = None
    # Adaptive slippage (eterna.domain.slippage): each attempt's tolerance is chosen, up to it.
    max_slippage_bps: int | None = None
    # Dry run: the order ended with its simulated fill; no transaction was sent.
    simulated: bool = False
    # Partial fills (eterna.domain.fills): the least tokenIn one fill may spend (None: all or
    # none); the tokenIn spent so far (amount_out and executed_price are cumulative over it);
    # the fills of an order that may fill in parts.
    min_fill: Decimal | None = None
    filled_in: Decimal = Decimal(0)
    fills: tuple[Fill, ...] = ()

    @property
    def remaining_in(self) -> Decimal:
        """Return the tokenIn not filled yet."""
        return self.amount_in - self.filled_in

    @property
    def least_fill_in(self) -> Decimal:
        """Return the least part a trade of the order spends now.

        All it has left, unless it fills in parts: then min_fill, or what remains when less
        is left.
        """
        remaining = self.remaining_in
        return remaining if self.min_fill is None else min(self.min_fill, remaining)

    @property
    def part_in(self) -> Decimal | None:
        """Return the tokenIn this attempt trades when the order fills in parts: its route's.

        None for an order trading all that remains (or not routed yet).
        """
        return None if self.min_fill is None or self.route is None else self.route.amount_in

    def apply(self, step: Step, now: datetime) -> tuple[Order, OrderEvent]:
        """Return the order after the step, and the event (seq ``last_seq + 1``) recording it.

        The status comes from the state machine (:raises InvalidTransitionError: for a step
        the status does not allow); every field the step carries moves onto the order too,
        so the order always reflects its latest event. A terminal status drops the pending
        transaction. A step naming tokenOut (a sniper learning what its mint is) replaces its
        symbol and decimals, never its mint. This object is left as it was.
        """
        status = next_status(self.status, step.trigger)
        seq = self.last_seq + 1
        after = replace(
            self,
            status=status,
            last_seq=seq,
            updated_at=now,
            attempts=step.attempt_after(self.attempts),
            pending_tx=None if status.is_terminal else self.pending_tx,
        )
        event = OrderEvent(
            order_id=self.id,
            user_id=self.user_id,
            seq=seq,
            status=status,
            at=now,
            attempt=after.attempts,
            message=step.message,
            details=dict(step.details),
        )
        after, event = _carried(step, after, event)
        return after, event


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
    failure: FailureKind | None = None


def _carried(step: Step, order: Order, event: OrderEvent) -> tuple[Order, OrderEvent]:
    """Move what the step carries onto the order and its event."""
    on_order: dict[str, Any] = {}
    on_event: dict[str, Any] = {}
    match step:
        case Routed():
            on_order = {"route": step.route, "token_out": _learned(order.token_out, step.token_out)}
            on_event = {"quotes": step.quotes, "route": step.route}
        case Built():
            on_order = {"pending_tx": dict(step.pending_tx)}
        case Submitted():
            on_order = on_event = {"tx_signature": step.tx_signature}
        case Confirmed() | PartlyFilled():
            on_order = _filled(order, step, event) | {"tx_signature": step.tx_signature}
            on_event = _cumulative(on_order) | {"tx_signature": step.tx_signature}
        case SimulatedFill():
            on_order = _filled(order, step, event) | {"simulated": True}
            on_event = _cumulative(on_order)
        case Failed():
            on_order = {"failure_reason": step.error}
            on_event = {"error": step.error, "failure": step.failure}
        case Retried():
            on_event = {"error": step.error, "failure": step.failure}
        case Rested():
            on_order = {"token_out": _learned(order.token_out, step.token_out)}
            on_event = {"failure": step.failure}
        case Progressed():
            on_order = {
                "twap_next_slice": step.next_slice,
                "twap_next_at": step.next_at,
                "twap_reported": step.reported,
                "amount_out": step.amount_out,
                "executed_price": step.executed_price,
                "filled_in": step.filled_in,
            }
            on_event = {"amount_out": step.amount_out, "executed_price": step.executed_price}
        case Completed():
            on_order = {
                "twap_reported": step.reported,
                "amount_out": step.amount_out,
                "executed_price": step.executed_price,
                "filled_in": step.filled_in,
            }
            on_event = {"amount_out": step.amount_out, "executed_price": step.executed_price}
        case Fired():
            on_order = {
                "token_out": _learned(order.token_out, step.token_out),
                "fired_at": event.at,
            }
    for name, value in on_order.items():
        setattr(order, name, value)
    return order, replace(event, **on_event) if on_event else event


def _filled(
    order: Order, step: Confirmed | PartlyFilled | SimulatedFill, event: OrderEvent
) -> dict[str, Any]:
    """Return the order's cumulative fields after a fill.

    With the fill itself, for an order that fills in parts. ``step.amount_in`` is the fill's
    tokenIn (None: all that remained).
    """
    spent = order.remaining_in if step.amount_in is None else step.amount_in
    filled_in = order.filled_in + spent
    amount_out = (order.amount_out or Decimal(0)) + step.amount_out
    changed: dict[str, Any] = {
        "filled_in": filled_in,
        "amount_out": amount_out,
        # One fill: the step's own price, as ever; more: the average over every fill.
        "executed_price": step.executed_price
        if not order.filled_in
        else price_of(filled_in, amount_out),
    }
    if order.min_fill is not None:
        simulated = isinstance(step, SimulatedFill)
        fill = Fill(
            amount_in=spent,
            amount_out=step.amount_out,
            price=step.executed_price,
            tx_signature=None if isinstance(step, SimulatedFill) else step.tx_signature,
            at=event.at,
            seq=event.seq,
            simulated=simulated,
        )
        changed["fills"] = (*order.fills, fill)
    return changed


def _cumulative(on_order: dict[str, Any]) -> dict[str, Any]:
    """Return what a fill's event says: the order's cumulative output and average price."""
    return {"amount_out": on_order["amount_out"], "executed_price": on_order["executed_price"]}


def _learned(token: Token, named: Token | None) -> Token:
    """Return the token as a step names it, when it is the same mint; else as it was."""
    return named if named is not None and named.mint == token.mint else token


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

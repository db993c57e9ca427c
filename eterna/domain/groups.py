"""OCO groups: two resting orders of one user where the first to fire cancels the other.

A group is its two legs, each an ordinary order carrying the group's id. The rule that makes
"exactly once" hold is one write: a leg **fires** (its FIRE step, the step that takes it
from resting to trading) only together with the CANCEL step of its sibling, both guarded by
the ``last_seq`` their writer read, in one transaction (``StepStore.record_joined``). Two
legs firing at once, or a cancel racing a firing, then end in exactly one outcome: the write
that lands first moves both orders, and the other finds a guard broken and writes nothing.

A leg is **open** while it has neither fired nor been routed: PENDING (not looked at yet)
or WAITING. Once one leg fired, its sibling is finished (cancelled, or it had already
ended), so at most one leg of a group ever trades. A fired LIMIT leg that the worker sends
back to WAITING (its limit no longer met on a fresh quote) rests on alone.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from eterna.domain.errors import LeaseLostError
from eterna.domain.orders import Order, OrderEvent
from eterna.domain.status import OrderStatus, OrderType
from eterna.domain.steps import Cancelled

# The order types a group's legs may have: those that rest until a trigger holds (a SNIPER
# waits for a token, not for a price of the position, and a MARKET order never rests).
LEG_TYPES = frozenset(
    {OrderType.LIMIT, OrderType.STOP_LOSS, OrderType.TAKE_PROFIT, OrderType.TRAILING_STOP}
)
LEGS = 2
# The ``reason`` detail of a leg's CANCELLED event when its sibling's firing cancelled it.
SIBLING_FIRED = "siblingFired"


@dataclass(frozen=True, slots=True)
class StepWrite:
    """One order's step as a store writes it: the order read, the order after, the event."""

    before: Order
    after: Order
    event: OrderEvent


@dataclass(frozen=True, slots=True)
class OrderGroup:
    """An OCO group as stored: its id and its legs."""

    id: uuid.UUID
    orders: list[Order]


def is_open_leg(order: Order) -> bool:
    """Tell whether the order still rests untouched: neither fired nor routed, unfinished."""
    return (
        order.status in (OrderStatus.PENDING, OrderStatus.WAITING)
        and order.fired_at is None
        and order.route is None
    )


def sibling_of(order: Order, legs: list[Order]) -> Order | None:
    """Return the other leg of the order's group among legs (None when it is missing)."""
    return next((o for o in legs if o.id != order.id), None)


def cancel_sibling(sibling: Order, fired: Order, now: datetime) -> StepWrite | None:
    """Return the sibling's CANCEL, to be written with fired's firing; None if it is finished.

    Its event says why: the sibling's firing, with the id of the leg that fired.

    :raises LeaseLostError: when the sibling fired itself: then ``fired`` was cancelled by
        that firing, and its own write must lose.
    """
    if sibling.status.is_terminal:
        return None
    if not is_open_leg(sibling):
        raise LeaseLostError(f"order {fired.id}: its OCO sibling {sibling.id} fired first")
    group = fired.group_id
    after, event = sibling.apply(
        Cancelled(
            message=f"cancelled: its OCO sibling {fired.id} fired",
            details={
                "reason": SIBLING_FIRED,
                "siblingId": str(fired.id),
                "groupId": str(group) if group is not None else None,
            },
        ),
        now,
    )
    return StepWrite(sibling, after, event)


def new_group_id() -> uuid.UUID:
    """Return a fresh group id."""
    return uuid.uuid4()

"""The order state machine: one table, one function.

Every status change of an order goes through :func:`next_status`. The table maps
``(status, trigger)`` to the next status; any pair not in it is refused. Terminal statuses
(CONFIRMED, FAILED, CANCELLED, EXPIRED) have no outgoing entries.
"""

from __future__ import annotations

import enum
from types import MappingProxyType

from eterna.domain.errors import InvalidTransitionError
from eterna.domain.status import OrderStatus as S


class Trigger(enum.Enum):
    """What happened to the order."""

    REST = "REST"  # a limit or sniper order starts (or goes back to) waiting for its trigger
    FIRE = "FIRE"  # the trigger watcher saw a resting order's trigger; the order is queued
    ROUTE = "ROUTE"  # the router chose a route (first try, trigger fired, or a retry)
    BUILD = "BUILD"  # the transaction was built from the route
    SUBMIT = "SUBMIT"  # the signed transaction was persisted and sent
    CONFIRM = "CONFIRM"  # the chain reports the transaction landed
    FILL = "FILL"  # a limit order's part landed; the rest waits for its trigger again
    SIMULATE = "SIMULATE"  # dry run: the simulated fill ends the order, nothing sent
    RETRY = "RETRY"  # a transient failure: the worker backs off, holding the order, then re-quotes
    FAIL = "FAIL"  # a permanent failure, or retries exhausted
    CANCEL = "CANCEL"  # the owner cancelled a resting order
    EXPIRE = "EXPIRE"  # expiresAt passed before the order fired
    PROGRESS = "PROGRESS"  # a TWAP placed a slice, or some of its slices finished
    COMPLETE = "COMPLETE"  # every slice of a TWAP finished and at least one filled


TRANSITIONS: MappingProxyType[tuple[S, Trigger], S] = MappingProxyType(
    {
        (S.PENDING, Trigger.REST): S.WAITING,
        (S.PENDING, Trigger.ROUTE): S.ROUTING,
        # Quoting failed before any route was chosen: the order stays queued for a retry.
        (S.PENDING, Trigger.RETRY): S.PENDING,
        (S.PENDING, Trigger.FAIL): S.FAILED,  # unroutable on the first look
        # A pending order can be cancelled: it has not reached a venue yet.
        (S.PENDING, Trigger.CANCEL): S.CANCELLED,
        # A limit order whose expiresAt passes while still queued never starts.
        (S.PENDING, Trigger.EXPIRE): S.EXPIRED,
        # A leg of an OCO group whose trigger holds on the worker's first look fires before
        # it routes: the FIRE write is the one that cancels its sibling (eterna.domain.groups).
        (S.PENDING, Trigger.FIRE): S.PENDING,
        (S.WAITING, Trigger.ROUTE): S.ROUTING,
        # The watcher saw the trigger: the order goes back to the queue like a market order,
        # and the worker that claims it re-checks the trigger on a fresh quote before routing.
        (S.WAITING, Trigger.FIRE): S.PENDING,
        (S.WAITING, Trigger.CANCEL): S.CANCELLED,
        (S.WAITING, Trigger.EXPIRE): S.EXPIRED,
        # A TWAP fails when every one of its slices did.
        (S.WAITING, Trigger.FAIL): S.FAILED,
        # A working TWAP rests in WAITING between slices; each slice it places and each
        # batch of slices that finish is an event of its own, summarising its progress.
        (S.WAITING, Trigger.PROGRESS): S.WAITING,
        # A TWAP's slices are child orders: the parent never trades itself, it completes
        # once every slice finished (some filled; partly filled when some did not).
        (S.WAITING, Trigger.COMPLETE): S.CONFIRMED,
        (S.ROUTING, Trigger.BUILD): S.BUILDING,
        # The simulation before sending says a limit or sniper's transaction would miss its
        # floor: nothing was sent, and the standing order waits for its trigger again.
        (S.ROUTING, Trigger.REST): S.WAITING,
        (S.ROUTING, Trigger.RETRY): S.PENDING,
        (S.ROUTING, Trigger.FAIL): S.FAILED,
        (S.BUILDING, Trigger.SUBMIT): S.SUBMITTED,
        (S.BUILDING, Trigger.RETRY): S.PENDING,
        (S.BUILDING, Trigger.FAIL): S.FAILED,
        # Dry run: the built transaction is never sent; its simulation's fill ends the order
        # (marked simulated).
        (S.BUILDING, Trigger.SIMULATE): S.CONFIRMED,
        (S.SUBMITTED, Trigger.CONFIRM): S.CONFIRMED,
        # A limit order filling in parts (eterna.domain.fills): the largest part meeting its
        # limit landed, and what remains rests for its trigger again.
        (S.SUBMITTED, Trigger.FILL): S.WAITING,
        # A limit or sniper whose last attempt failed on price (slippage, liquidity) is a
        # standing instruction until it expires: it rests again instead of failing.
        (S.SUBMITTED, Trigger.REST): S.WAITING,
        # Only once the venue says the signature did not land and never can.
        (S.SUBMITTED, Trigger.RETRY): S.PENDING,
        (S.SUBMITTED, Trigger.FAIL): S.FAILED,
    }
)


def next_status(status: S, trigger: Trigger) -> S:
    """Return the status an order moves to, or raise InvalidTransitionError."""
    try:
        return TRANSITIONS[(status, trigger)]
    except KeyError:
        raise InvalidTransitionError(
            f"{status.value} -[{trigger.value}]-> (no transition)"
        ) from None


def can_apply(status: S, trigger: Trigger) -> bool:
    """Tell whether the trigger is allowed in this status."""
    return (status, trigger) in TRANSITIONS

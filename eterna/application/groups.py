"""Firing a leg of an OCO group: its FIRE and its sibling's CANCEL, in one guarded write.

The trigger watcher (a leg's trigger held on a market update) and the engine (it held on
the worker's first look at a new leg) fire legs here; :mod:`eterna.domain.groups` states
the rule. An order of no group fires with a plain guarded step.
"""

from __future__ import annotations

from datetime import datetime

from eterna.application.ports import StepStore
from eterna.domain import steps
from eterna.domain.errors import LeaseLostError
from eterna.domain.groups import StepWrite, cancel_sibling, sibling_of
from eterna.domain.orders import Order, OrderEvent

# How often a firing reads its sibling again when the sibling (not the leg) moved on between
# the read and the write: it rested, expired or was cancelled meanwhile.
SIBLING_TRIES = 3


async def fire(
    store: StepStore,
    order: Order,
    step: steps.Fired,
    *,
    owner: str | None,
    now: datetime,
    lease_until: datetime,
) -> tuple[Order, list[OrderEvent]]:
    """Fire the order; a leg of a group fires together with its open sibling's cancel.

    Return the order after the firing and the events written (the leg's first, then its
    sibling's CANCELLED, when there was one to cancel).

    :raises LeaseLostError: when the order moved on (cancelled, expired, or its sibling's
        firing cancelled it): nothing was written.
    """
    group = order.group_id
    legs = [] if group is None else await store.group_orders(group)
    for _ in range(SIBLING_TRIES):
        after, event = order.apply(step, now)
        writes = [StepWrite(order, after, event)]
        if group is not None:
            sibling = sibling_of(order, legs)
            joined = None if sibling is None else cancel_sibling(sibling, order, now)
            if joined is not None:
                writes.append(joined)
        try:
            if len(writes) == 1:  # no group, or its sibling is finished: a plain step
                await store.record(order, after, event, owner=owner, lease_until=lease_until)
            else:
                await store.record_joined(writes, owner=owner, lease_until=lease_until)
        except LeaseLostError:
            if len(writes) == 1 or group is None:
                raise
            legs = await store.group_orders(group)
            fresh = next((o for o in legs if o.id == order.id), None)
            if fresh is None or fresh.last_seq != order.last_seq:
                raise  # the leg itself moved on: the race is lost
            continue  # only the sibling moved: read it again
        return after, [w.event for w in writes]
    raise LeaseLostError(f"order {order.id}: its OCO sibling kept changing; fire it later")

"""TWAP orders: ``amountIn`` cut into slices placed over a duration, each a child MARKET order.

A TWAP order is a parent that never trades itself. Its slices are child orders (MARKET, with
the parent's slippage or adaptive slippage cap, its price impact filter and, when it has
one, ``limitPrice`` as a floor) that name their parent and their index. Everything here is
a function of the stored parent, so the schedule is the same in whichever process reads it,
after any restart:

- **The split is exact** (:func:`split_amount`): in base units, every slice gets
  ``floor(total / N)`` and the last one the remainder too, so the slices add up to
  ``amountIn`` to the base unit.
- **Slice k is due** (:func:`slice_due`) at ``start + k x duration / N``, moved by at most
  ``jitterBps / 10 000`` of that interval either way (never before the start). The jitter is
  drawn from a hash of the parent's id and k, not from a random generator: recomputing it
  gives the same time. At most half an interval, so slices keep their order.
- **A slice's order id is** :func:`child_id` ``(parent id, k)`` (a UUID v5): a slice can be
  stored once only, whatever retries or second schedulers try.
- **What to do next** (:func:`next_move`) is decided from the parent (its next slice index
  and that slice's due time, stored on it) and its children: start it, place the next slice,
  report slices that finished, or finish it. One move is one step of the parent.

A slice whose best route pays less than the parent's ``limitPrice`` is **skipped**: it fails
``BELOW_LIMIT_PRICE`` with nothing sent, and its amount is not carried to later slices (a
TWAP spreads in time; a slice that waited for its price would break the schedule). The
parent ends CONFIRMED when at least one slice filled (``amountOut`` and ``executedPrice``
then say what the filled slices paid together), FAILED when none did.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from eterna.domain.failures import FailureKind
from eterna.domain.orders import Order, PlaceOrder, TwapPlan
from eterna.domain.status import OrderStatus, OrderType
from eterna.domain.steps import Completed, Failed, Progressed, Rested, Step
from eterna.domain.tokens import Token, format_amount, price_of

BPS = 10_000
_MICROS = 1_000_000


def split_amount(amount: Decimal, token: Token, slices: int) -> list[Decimal]:
    """Cut an amount into slices that add up to it exactly; the last takes the remainder.

    :raises ValueError: when a slice would be less than one base unit.
    """
    units = token.to_base_units(amount)
    each, rest = divmod(units, slices)
    if each == 0:
        raise ValueError(f"{amount} {token.label} cannot make {slices} slices of a base unit")
    parts = [each] * slices
    parts[-1] += rest
    return [token.from_base_units(p) for p in parts]


def _jitter_unit(parent_id: uuid.UUID, index: int) -> int:
    """Return a number in [0, 2^64) drawn from the parent's id and the slice index."""
    digest = hashlib.sha256(f"{parent_id}:{index}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def slice_due(plan: TwapPlan, start: datetime, parent_id: uuid.UUID, index: int) -> datetime:
    """Return when slice ``index`` is due (see the module docstring)."""
    interval = plan.duration_seconds * _MICROS // plan.slices
    nominal = index * interval
    reach = interval * plan.jitter_bps // BPS
    offset = _jitter_unit(parent_id, index) % (2 * reach + 1) - reach if reach else 0
    return start + timedelta(microseconds=max(0, nominal + offset))


def child_id(parent_id: uuid.UUID, index: int) -> uuid.UUID:
    """Return the order id of a TWAP's slice: the same for the same parent and index."""
    return uuid.uuid5(parent_id, f"twap-slice-{index}")


def slice_command(parent: Order, index: int) -> PlaceOrder:
    """Return the command placing slice ``index`` of a TWAP parent."""
    plan = _plan(parent)
    amount = split_amount(parent.amount_in, parent.token_in, plan.slices)[index]
    return PlaceOrder(
        user_id=parent.user_id,
        type=OrderType.MARKET,
        token_in=parent.token_in,
        token_out=parent.token_out,
        amount_in=amount,
        slippage_bps=parent.slippage_bps,
        max_slippage_bps=parent.max_slippage_bps,
        limit_price=parent.limit_price,
        max_price_impact_bps=parent.max_price_impact_bps,
        parent_id=parent.id,
        slice_index=index,
    )


@dataclass(frozen=True, slots=True)
class TwapProgress:
    """Where a TWAP stands, summed from its children (slices).

    ``done``: slices finished (filled, failed, skipped below the limit or cancelled);
    ``filled``: slices CONFIRMED; ``filled_amount_in`` and ``amount_out``: what those spent and
    received; ``average_price``: amount_out / filled_amount_in (None while nothing filled).
    """

    slices: int
    placed: int
    done: int
    filled: int
    filled_amount_in: Decimal
    amount_out: Decimal
    average_price: Decimal | None

    @property
    def failed(self) -> int:
        """Return the slices that finished without filling."""
        return self.done - self.filled

    @property
    def remaining(self) -> int:
        """Return the slices not finished yet (placed or not)."""
        return self.slices - self.done

    @classmethod
    def of(cls, slices: int, children: Sequence[Order]) -> TwapProgress:
        """Sum the children of a TWAP of ``slices`` slices."""
        done = [c for c in children if c.status.is_terminal]
        filled = [c for c in done if c.status is OrderStatus.CONFIRMED and c.amount_out]
        spent = sum((c.amount_in for c in filled), Decimal(0))
        received = sum((c.amount_out or Decimal(0) for c in filled), Decimal(0))
        return cls(
            slices=slices,
            placed=len(children),
            done=len(done),
            filled=len(filled),
            filled_amount_in=spent,
            amount_out=received,
            average_price=price_of(spent, received) if filled else None,
        )

    def details(self) -> dict[str, Any]:
        """Return the figures as an event stores them (decimals as strings)."""
        shown: dict[str, Any] = {
            "slices": self.slices,
            "slicesPlaced": self.placed,
            "slicesDone": self.done,
            "slicesFilled": self.filled,
            "slicesFailed": self.failed,
            "slicesRemaining": self.remaining,
            "filledAmountIn": format_amount(self.filled_amount_in),
            "amountOut": format_amount(self.amount_out),
        }
        if self.average_price is not None:
            shown["averagePrice"] = format_amount(self.average_price)
        return shown

    def summary(self, token_in: Token, token_out: Token) -> str:
        """Say the progress for people."""
        text = f"{self.done} of {self.slices} slices done ({self.filled} filled)"
        if self.average_price is not None:
            text += (
                f": {format_amount(self.filled_amount_in)} {token_in.label} -> "
                f"{format_amount(self.amount_out)} {token_out.label} at "
                f"{format_amount(self.average_price)} on average"
            )
        return text


@dataclass(frozen=True, slots=True)
class Place:
    """Place slice ``child.slice_index``: the parent's step and the child, stored together."""

    step: Progressed
    child: PlaceOrder
    child_id: uuid.UUID


Move = Step | Place


def _plan(order: Order) -> TwapPlan:
    if order.twap is None:
        raise ValueError(f"order {order.id} is not a TWAP")
    return order.twap


def next_move(
    parent: Order,
    children: Sequence[Order],
    now: datetime,
    failures: Sequence[FailureKind] = (),
) -> Move | None:
    """Return the parent's next step (or slice to place), or None when nothing is due.

    ``failures``: what the children that failed failed on, to name why a TWAP none of whose
    slices filled failed (the most common kind).
    """
    plan = _plan(parent)
    if parent.status is OrderStatus.PENDING:
        return Rested(
            message=f"TWAP working: {plan.slices} slices over {plan.duration_seconds} s"
            + (f", jitter {plan.jitter_bps} bps" if plan.jitter_bps else "")
            + (f", each at least {format_amount(parent.limit_price)}" if parent.limit_price else "")
        )
    if parent.status is not OrderStatus.WAITING:
        return None
    progress = TwapProgress.of(plan.slices, children)
    index = parent.twap_next_slice
    due = parent.twap_next_at
    if index < plan.slices and due is not None and due <= now:
        return _place(parent, plan, index, progress)
    if index >= plan.slices and progress.done >= plan.slices:
        return _finish(parent, progress, failures)
    if progress.done > parent.twap_reported:
        return Progressed(
            message=progress.summary(parent.token_in, parent.token_out),
            details={"twap": progress.details()},
            next_slice=index,
            next_at=due,
            reported=progress.done,
            amount_out=progress.amount_out if progress.filled else None,
            executed_price=progress.average_price,
            filled_in=progress.filled_amount_in,
        )
    return None


def _place(parent: Order, plan: TwapPlan, index: int, progress: TwapProgress) -> Place:
    command = slice_command(parent, index)
    following = index + 1
    next_at = (
        slice_due(plan, parent.created_at, parent.id, following)
        if following < plan.slices
        else None
    )
    ordered = TwapProgress(
        slices=progress.slices,
        placed=progress.placed + 1,
        done=progress.done,
        filled=progress.filled,
        filled_amount_in=progress.filled_amount_in,
        amount_out=progress.amount_out,
        average_price=progress.average_price,
    )
    identity = child_id(parent.id, index)
    then = f"next at {next_at:%H:%M:%S.%f}"[:-3] if next_at else "the last one"
    step = Progressed(
        message=f"slice {following} of {plan.slices} placed: {format_amount(command.amount_in)} "
        f"{parent.token_in.label} (order {identity}); {then}; "
        f"{ordered.summary(parent.token_in, parent.token_out)}",
        details={"twap": {**ordered.details(), "sliceIndex": index, "child": str(identity)}},
        next_slice=following,
        next_at=next_at,
        reported=progress.done,
        amount_out=progress.amount_out if progress.filled else None,
        executed_price=progress.average_price,
        filled_in=progress.filled_amount_in,
    )
    return Place(step=step, child=command, child_id=identity)


def _finish(parent: Order, progress: TwapProgress, failures: Sequence[FailureKind]) -> Step:
    details = {"twap": progress.details()}
    summary = progress.summary(parent.token_in, parent.token_out)
    if progress.filled and progress.average_price is not None:
        whole = progress.filled == progress.slices
        return Completed(
            message=("TWAP complete: " if whole else "TWAP partly filled: ") + summary,
            details=details,
            amount_out=progress.amount_out,
            executed_price=progress.average_price,
            reported=progress.done,
            filled_in=progress.filled_amount_in,
        )
    kind = Counter(failures).most_common(1)[0][0] if failures else FailureKind.TRANSACTION_FAILED
    reason = f"no slice filled ({kind.value})"
    return Failed(
        message=f"TWAP failed: {reason}; {summary}",
        details=details,
        attempt=0,
        failure=kind,
        error=reason,
    )

"""What the engine does with a transaction's simulation: the rules, apart from the engine.

The gateway simulates a transaction before it is sent (by default; always on a live
cluster) and reports it on the transaction (``Transaction.landing``). Nothing is sent after
a failing simulation:

- a limit or sniper order whose transaction would miss its floor (a failure on price) goes
  back to WAITING: the cross that fired it has ended, and the order is a standing one;
- a market order - and a stop, which trades as one once fired - retries with a fresh quote
  on a retryable failure (price, an expired blockhash);
- anything else fails the order for good (SIMULATION_FAILED: it would fail on chain).

In dry-run mode the built transaction is never sent: the order ends with the simulated fill
(:func:`simulated_fill`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eterna.domain import steps
from eterna.domain.failures import FailureKind
from eterna.domain.orders import Order
from eterna.domain.tokens import Token, price_of
from eterna.routing.venues import Landing, Transaction


@dataclass(frozen=True, slots=True)
class RestAgain:
    """The order waits for its trigger again."""

    message: str
    details: dict[str, Any]
    failure: FailureKind


@dataclass(frozen=True, slots=True)
class GiveUp:
    """The attempt failed: retried when ``failure`` is retryable, else the order fails."""

    reason: str
    failure: FailureKind


def after_failed_simulation(order: Order, landing: Landing) -> RestAgain | GiveUp:
    """Return what a failed simulation means for the order (see the module docstring)."""
    failure = landing.failure or FailureKind.SIMULATION_FAILED
    error = landing.error or failure.value
    if failure.on_price and order.type.rests_on_price:
        return RestAgain(
            f"the simulation misses the floor ({error}): nothing sent; "
            "waiting for the trigger again",
            {"error": error, "landing": landing.to_json()},
            failure,
        )
    # The error first: its first word names the failure (the metrics' reason label).
    return GiveUp(f"{error} (in the simulation; nothing sent)", failure)


def simulated_fill(order: Order, tx: Transaction) -> steps.SimulatedFill | None:
    """Return the dry-run step ending the order with its simulated fill (None: no fill said)."""
    landing = tx.landing
    if landing is None or landing.amount_out is None:
        return None
    amount_out = order.token_out.from_base_units(landing.amount_out)
    # An order filling in parts traded its route's amount: a dry run ends with that fill.
    spent = order.part_in
    price = price_of(order.remaining_in if spent is None else spent, amount_out)
    part = "" if spent is None else f" for {spent} {order.token_in.label}"
    return steps.SimulatedFill(
        message=f"dry run: the simulation pays {amount_out} {order.token_out.label}{part} "
        f"at {price}; nothing was sent",
        amount_out=amount_out,
        executed_price=price,
        amount_in=spent,
        details={"simulated": True, "signature": tx.signature},
    )


def landing_note(landing: Landing, token_out: Token) -> str:
    """Say how the transaction was readied to land, for the BUILDING event's message."""
    note = (
        f"; compute limit {landing.compute_unit_limit}, "
        f"priority fee {landing.priority_fee} micro-lamports per unit"
    )
    if landing.simulated and landing.units_consumed is not None:
        note += f"; simulated: {landing.units_consumed} units"
        if landing.amount_out is not None:
            note += f", pays {token_out.from_base_units(landing.amount_out)} {token_out.label}"
    return note

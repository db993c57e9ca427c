"""The steps of an order: what happened, each with what it carries.

A step is a fact about one order (a route was chosen, a transaction built, a failure seen);
:meth:`eterna.domain.orders.Order.apply` turns it into the order's next state and the event
that records it, through the state machine. Each kind carries exactly what it changes, so a
step cannot set a field that does not belong to it (a route on a confirmation, a signature on
a cancel).

``attempt``: the order's attempt count after the step. A route starts attempt n + 1; a retry
or a failure names the attempt that failed; a rest starts over at 0 (each firing of a
standing order gets the whole retry budget); every other step keeps the count as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from eterna.domain.failures import FailureKind
from eterna.domain.routes import Quote, Route
from eterna.domain.state_machine import Trigger
from eterna.domain.tokens import Token


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """What every step says: a message for people, and details for machines."""

    trigger: ClassVar[Trigger]
    message: str
    details: Mapping[str, Any] = field(default_factory=dict)

    def attempt_after(self, attempts: int) -> int:
        """Return the order's attempt count after this step (unchanged unless it says)."""
        return attempts


@dataclass(frozen=True, slots=True, kw_only=True)
class Rested(Step):
    """A limit or sniper order waits for its trigger (again, after failing on price)."""

    trigger: ClassVar[Trigger] = Trigger.REST
    token_out: Token | None = None
    failure: FailureKind | None = None  # what the attempt before it failed on, if any

    def attempt_after(self, attempts: int) -> int:
        """Return 0: the next firing gets the whole retry budget."""
        return 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Fired(Step):
    """The trigger watcher saw a resting order's trigger hold."""

    trigger: ClassVar[Trigger] = Trigger.FIRE
    token_out: Token | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Routed(Step):
    """The router chose a route for attempt ``attempt``."""

    trigger: ClassVar[Trigger] = Trigger.ROUTE
    attempt: int
    route: Route
    quotes: tuple[Quote, ...] = ()
    token_out: Token | None = None

    def attempt_after(self, attempts: int) -> int:
        """Return the attempt this route starts."""
        return self.attempt


@dataclass(frozen=True, slots=True, kw_only=True)
class Built(Step):
    """The transaction was built and signed; it is stored before it is first sent."""

    trigger: ClassVar[Trigger] = Trigger.BUILD
    pending_tx: Mapping[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class Submitted(Step):
    """The signed transaction was sent (or will be re-broadcast until it lands or expires)."""

    trigger: ClassVar[Trigger] = Trigger.SUBMIT
    tx_signature: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Confirmed(Step):
    """The transaction landed: the order is filled, nothing of it remains.

    It paid ``amount_out`` for ``amount_in`` (None: all that remained) at
    ``executed_price``. The order's amountOut and executedPrice become cumulative over its fills
    (:mod:`eterna.domain.fills`); its event says them.
    """

    trigger: ClassVar[Trigger] = Trigger.CONFIRM
    tx_signature: str
    amount_out: Decimal
    executed_price: Decimal
    amount_in: Decimal | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PartlyFilled(Step):
    """A limit order's transaction for a part landed; the rest waits for its trigger again.

    Like :class:`Confirmed`, for ``amount_in`` of what remained. Attempts start over: the next
    firing gets the whole retry budget.
    """

    trigger: ClassVar[Trigger] = Trigger.FILL
    tx_signature: str
    amount_in: Decimal
    amount_out: Decimal
    executed_price: Decimal

    def attempt_after(self, attempts: int) -> int:
        """Return 0: the next firing gets the whole retry budget."""
        return 0


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulatedFill(Step):
    """Dry run: the simulation says the transaction pays ``amount_out``; nothing was sent."""

    trigger: ClassVar[Trigger] = Trigger.SIMULATE
    amount_out: Decimal
    executed_price: Decimal
    amount_in: Decimal | None = None  # the fill's tokenIn (None: all that remained)


@dataclass(frozen=True, slots=True, kw_only=True)
class Retried(Step):
    """Attempt ``attempt`` failed in a way a fresh quote may mend; the order goes back."""

    trigger: ClassVar[Trigger] = Trigger.RETRY
    attempt: int
    failure: FailureKind
    error: str

    def attempt_after(self, attempts: int) -> int:
        """Return the attempt that failed."""
        return self.attempt


@dataclass(frozen=True, slots=True, kw_only=True)
class Failed(Step):
    """The order failed for good (a permanent failure, or retries exhausted)."""

    trigger: ClassVar[Trigger] = Trigger.FAIL
    attempt: int
    failure: FailureKind
    error: str

    def attempt_after(self, attempts: int) -> int:
        """Return the attempt that failed."""
        return self.attempt


@dataclass(frozen=True, slots=True, kw_only=True)
class Cancelled(Step):
    """The owner cancelled the order before it reached a venue."""

    trigger: ClassVar[Trigger] = Trigger.CANCEL


@dataclass(frozen=True, slots=True, kw_only=True)
class Expired(Step):
    """The order's expiresAt passed before it fired."""

    trigger: ClassVar[Trigger] = Trigger.EXPIRE


@dataclass(frozen=True, slots=True, kw_only=True)
class Progressed(Step):
    """A TWAP placed a slice or saw slices finish: where it stands (eterna.domain.twap).

    ``next_slice`` and ``next_at``: the slice to place next and when it is due (None once
    every slice is placed); ``reported``: the slices finished as of this step;
    ``amount_out`` and ``executed_price``: what the filled slices received so far, and at
    what average price (None while none filled).
    """

    trigger: ClassVar[Trigger] = Trigger.PROGRESS
    next_slice: int
    next_at: datetime | None
    reported: int
    amount_out: Decimal | None = None
    executed_price: Decimal | None = None
    filled_in: Decimal = Decimal(0)  # what the filled slices spent


@dataclass(frozen=True, slots=True, kw_only=True)
class Completed(Step):
    """Every slice of a TWAP finished and some filled: what they received, at what average."""

    trigger: ClassVar[Trigger] = Trigger.COMPLETE
    amount_out: Decimal
    executed_price: Decimal
    reported: int
    filled_in: Decimal = Decimal(0)  # what the filled slices spent

"""The exception tree of Eterna.

Every error the engine raises on purpose derives from :class:`EternaError`::

    EternaError
    ├── RejectedError            an input the engine refuses; carries a RejectionCode
    ├── InvalidTransitionError   the state machine refused a (status, trigger) pair
    ├── LeaseLostError           another worker took the order over
    ├── StorageUnavailableError  the database did not answer; nothing was stored
    │   └── StorageNotMigratedError  it answered, without Eterna's tables
    └── VenueError               a venue or the chain failed
        ├── NoRouteError         permanent: nothing routes this pair
        └── VenueUnavailableError   (TransientError) timeout, 5xx, connection refused

``TransientError`` marks what is safe to retry after a fresh quote. Each venue error names
the :class:`~eterna.domain.failures.FailureKind` an attempt that meets it fails with. What a
transaction that landed and failed says (slippage, liquidity) is not an exception: the
chain's answer carries its kind (``TxStatus.failure``).
"""

from __future__ import annotations

import enum
from typing import ClassVar

from eterna.domain.failures import FailureKind


class RejectionCode(enum.Enum):
    """Why the engine refused a request; stable values that clients switch on."""

    INVALID_INPUT = "INVALID_INPUT"
    INVALID_AMOUNT = "INVALID_AMOUNT"
    UNKNOWN_TOKEN = "UNKNOWN_TOKEN"
    SAME_TOKEN = "SAME_TOKEN"
    UNSUPPORTED_ORDER_TYPE = "UNSUPPORTED_ORDER_TYPE"
    BATCH_TOO_LARGE = "BATCH_TOO_LARGE"
    NO_ROUTE = "NO_ROUTE"
    NOT_FOUND = "NOT_FOUND"
    NOT_CANCELLABLE = "NOT_CANCELLABLE"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    RATE_LIMITED = "RATE_LIMITED"
    TOO_MANY_ORDERS_IN_FLIGHT = "TOO_MANY_ORDERS_IN_FLIGHT"
    TOO_MANY_OPEN_ORDERS = "TOO_MANY_OPEN_ORDERS"
    TOO_MANY_RESTING_ORDERS = "TOO_MANY_RESTING_ORDERS"
    UNAVAILABLE = "UNAVAILABLE"
    TRADING_PAUSED = "TRADING_PAUSED"
    FORBIDDEN = "FORBIDDEN"


class EternaError(Exception):
    """Base of every error Eterna raises on purpose."""


class TransientError(EternaError):
    """Marker: the operation may succeed when retried after a fresh quote."""


class RejectedError(EternaError):
    """A request the engine refuses, with a code and the offending field."""

    def __init__(self, code: RejectionCode, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def __repr__(self) -> str:
        return f"RejectedError({self.code.value}, {self.message!r}, field={self.field!r})"


class InvalidTransitionError(EternaError):
    """The order state machine has no entry for this (status, trigger)."""


class LeaseLostError(EternaError):
    """The order's lease is held by another worker, or the order moved on without us."""


class StorageUnavailableError(EternaError):
    """The database did not answer; the operation stored nothing."""


class StorageNotMigratedError(StorageUnavailableError):
    """The database answered but lacks Eterna's tables: `eterna migrate` was never run."""


class VenueError(EternaError):
    """A venue or the chain failed."""

    failure: ClassVar[FailureKind] = FailureKind.TRANSACTION_FAILED


class NoRouteError(VenueError):
    """No venue can route this pair or amount; permanent."""

    failure: ClassVar[FailureKind] = FailureKind.NO_ROUTE


class VenueUnavailableError(VenueError, TransientError):
    """A venue timed out, refused, or answered with a server error."""

    failure: ClassVar[FailureKind] = FailureKind.VENUE_UNAVAILABLE

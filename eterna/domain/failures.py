"""Why an attempt failed: one kind, from the chain or a venue to the order's stored event.

Callers branch on the kind, never on message text: the engine retries a retryable kind with
a fresh quote, and a limit or sniper order whose last attempt failed on price rests again
instead of failing. The message beside a kind is for people.
"""

from __future__ import annotations

import enum


class FailureKind(enum.Enum):
    """What went wrong with an attempt (stable values: they are stored and published)."""

    # The program refused to pay less than the transaction's minimum out.
    SLIPPAGE = "SLIPPAGE"
    # A pool could not fill the amount (drained, past its last tick or bin).
    INSUFFICIENT_LIQUIDITY = "INSUFFICIENT_LIQUIDITY"
    # The transaction's blockhash expired before it landed: it can never land.
    BLOCKHASH_EXPIRED = "BLOCKHASH_EXPIRED"
    # A venue or the chain's RPC did not answer, or answered with a server error.
    VENUE_UNAVAILABLE = "VENUE_UNAVAILABLE"
    # Nothing routes the pair or the amount.
    NO_ROUTE = "NO_ROUTE"
    # The transaction landed and failed for another reason (bad account, funds, program).
    TRANSACTION_FAILED = "TRANSACTION_FAILED"
    # A fired stop's best route pays less than its limitPrice floor: nothing was sent.
    BELOW_LIMIT_PRICE = "BELOW_LIMIT_PRICE"
    # The order cannot be executed as stored (a bug, or data from another version).
    INTERNAL = "INTERNAL"
    # The simulation before sending failed for another reason than price (funds, accounts,
    # a program error): nothing was sent, no fee paid.
    SIMULATION_FAILED = "SIMULATION_FAILED"
    # A token the route moves cannot be traded as quoted (a Token-2022 mint that charges a
    # transfer fee): nothing was sent.
    UNSUPPORTED_TOKEN = "UNSUPPORTED_TOKEN"  # noqa: S105 - a failure kind, no secret

    @property
    def retryable(self) -> bool:
        """Tell whether a fresh quote and a new transaction may succeed."""
        return self in _RETRYABLE

    @property
    def on_price(self) -> bool:
        """Tell whether the market refused the price (a standing order may wait and retry)."""
        return self in _ON_PRICE


_ON_PRICE = frozenset({FailureKind.SLIPPAGE, FailureKind.INSUFFICIENT_LIQUIDITY})
_RETRYABLE = _ON_PRICE | {FailureKind.BLOCKHASH_EXPIRED, FailureKind.VENUE_UNAVAILABLE}

"""The GraphQL enums: the domain's enums, registered in place, with every value described.

The domain imports only the standard library, so its enums cannot carry strawberry's
per-value descriptions; :func:`_describe` adds them after registration, and refuses a
table that misses a member or names one that does not exist, so a new domain value
cannot reach the schema undescribed.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

import strawberry

from eterna.domain import orders as domain
from eterna.domain.errors import RejectionCode
from eterna.domain.failures import FailureKind

OrderType = domain.OrderType
OrderStatus = domain.OrderStatus

__all__ = ["FailureKind", "OrderStatus", "OrderType", "RejectionCode"]


def _describe(cls: type[enum.Enum], descriptions: Mapping[str, str]) -> None:
    """Give every value of a registered enum its description, or fail at import."""
    names = {member.name for member in cls}
    if names != set(descriptions):
        raise ValueError(f"{cls.__name__}: describe exactly {sorted(names)}")
    definition = cls.__strawberry_definition__  # type: ignore[attr-defined]
    for value in definition.values:
        value.description = descriptions[value.name]


strawberry.enum(OrderType, description="What an order waits for before it swaps.")
_describe(
    OrderType,
    {
        "MARKET": "Swap now at the best route, failing rather than fill below the slippage floor.",
        "LIMIT": "Rest until the best route pays at least limitPrice for the whole amount.",
        "SNIPER": "Rest until tokenOut trades on some venue, then buy at once.",
        "STOP_LOSS": "Rest until the best route for the whole amount pays triggerPrice or less "
        "(tokenOut per 1 tokenIn), then sell as a market order (not below limitPrice, if set).",
        "TAKE_PROFIT": "Rest until the best route for the whole amount pays triggerPrice or "
        "more, then sell as a market order (not below limitPrice, if set).",
        "TRAILING_STOP": "Rest until the best route for the whole amount pays trailBps below "
        "the best price it paid since placement, then sell as a market order.",
        "TWAP": "Cut amountIn into slices placed as MARKET child orders over durationSeconds "
        "(each not below limitPrice, if set); the order completes when every slice finished.",
    },
)

strawberry.enum(
    OrderStatus,
    description=(
        "Where an order is: PENDING -> (WAITING) -> ROUTING -> BUILDING -> SUBMITTED -> "
        "CONFIRMED, or FAILED, CANCELLED, EXPIRED."
    ),
)
_describe(
    OrderStatus,
    {
        "PENDING": "Accepted, stored and queued for a worker.",
        "WAITING": "A LIMIT, SNIPER or stop order resting until its condition holds; a TWAP "
        "working through its slices.",
        "ROUTING": "Quoting every venue and choosing the route.",
        "BUILDING": "Building the transaction for the chosen route.",
        "SUBMITTED": "The transaction was sent; waiting for its confirmation.",
        "CONFIRMED": "Terminal: the swap landed; amountOut and txSignature are set.",
        "FAILED": "Terminal: the order could not be executed; failureReason says why.",
        "CANCELLED": "Terminal: cancelled by its owner before it executed.",
        "EXPIRED": "Terminal: expiresAt passed before the order's condition held.",
    },
)

strawberry.enum(
    RejectionCode, description="Why a request was refused; switch on it, not on the message."
)
_describe(
    RejectionCode,
    {
        "INVALID_INPUT": "A field is malformed or out of its bounds; `field` names it.",
        "INVALID_AMOUNT": "An amount is not positive or has more decimals than its token.",
        "UNKNOWN_TOKEN": "No token with this symbol or mint is known.",
        "SAME_TOKEN": "tokenIn and tokenOut are the same token.",
        "UNSUPPORTED_ORDER_TYPE": "This server does not accept orders of this type.",
        "BATCH_TOO_LARGE": "placeOrders got more orders than the batch cap; nothing was stored.",
        "NO_ROUTE": "No venue quotes this pair for this amount.",
        "NOT_FOUND": "No such order of yours.",
        "NOT_CANCELLABLE": "The order is past WAITING (or changing right now) and cannot be "
        "cancelled.",
        "UNAUTHENTICATED": "No token, or a token that is invalid or expired.",
        "RATE_LIMITED": "Over a rate limit or budget; retry after retryAfterSeconds.",
        "TOO_MANY_ORDERS_IN_FLIGHT": "Over your cap on orders being executed at once.",
        "TOO_MANY_OPEN_ORDERS": "Over your cap on unfinished orders.",
        "TOO_MANY_RESTING_ORDERS": "Over your cap on resting LIMIT, SNIPER and stop orders.",
        "UNAVAILABLE": "The server cannot take it now (database down or not ready); nothing "
        "was stored, retry with the same clientOrderId.",
        "TRADING_PAUSED": "An administrator paused all trading or this pair; nothing was stored.",
        "FORBIDDEN": "The operation needs a token with the admin role.",
    },
)

strawberry.enum(
    FailureKind,
    description=(
        "What an attempt failed on; switch on it, not on the error text. SLIPPAGE and "
        "INSUFFICIENT_LIQUIDITY: the market refused the price; BLOCKHASH_EXPIRED and "
        "VENUE_UNAVAILABLE: retried with a fresh quote; NO_ROUTE, TRANSACTION_FAILED, "
        "BELOW_LIMIT_PRICE, INTERNAL, SIMULATION_FAILED, UNSUPPORTED_TOKEN: permanent. "
        "SLIPPAGE and INSUFFICIENT_LIQUIDITY may also come from the simulation before a "
        "send: then nothing was sent."
    ),
)
_describe(
    FailureKind,
    {
        "SLIPPAGE": "The program refused to pay less than the transaction's minimum out.",
        "INSUFFICIENT_LIQUIDITY": "A pool could not fill the amount.",
        "BLOCKHASH_EXPIRED": "The transaction's blockhash expired before it landed; retried.",
        "VENUE_UNAVAILABLE": "A venue or the chain's RPC did not answer; retried.",
        "NO_ROUTE": "Nothing routes the pair or the amount.",
        "TRANSACTION_FAILED": "The transaction landed and failed for another reason.",
        "BELOW_LIMIT_PRICE": "A fired stop's (or a TWAP slice's) best route paid less than its "
        "limitPrice: nothing was sent.",
        "INTERNAL": "The order cannot be executed as stored.",
        "SIMULATION_FAILED": "The simulation before sending failed for another reason than "
        "price (funds, accounts, a program error): nothing was sent, no fee paid.",
        "UNSUPPORTED_TOKEN": "A token of the route charges a transfer fee (Token-2022), "
        "which quotes do not include: nothing was sent.",
    },
)

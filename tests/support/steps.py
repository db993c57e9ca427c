"""Steps for tests: the smallest valid step of each kind, and a route to carry."""

from __future__ import annotations

from decimal import Decimal

from eterna.domain import steps
from eterna.domain.failures import FailureKind
from eterna.domain.routes import Route, RouteLeg
from eterna.domain.tokens import SOL, USDC


def route(amount_in: str = "1", amount_out: str = "150") -> Route:
    """Return a one-leg SOL -> USDC route."""
    leg = RouteLeg(
        "raydium", "pool-1", SOL, USDC, Decimal(amount_in), Decimal(amount_out), Decimal(0)
    )
    return Route(
        token_in=SOL,
        token_out=USDC,
        amount_in=Decimal(amount_in),
        amount_out=Decimal(amount_out),
        min_amount_out=Decimal(amount_out) * Decimal("0.99"),
        price_impact_bps=0,
        legs=(leg,),
    )


def routed(message: str = "routed", attempt: int = 1) -> steps.Routed:
    """Return a ROUTE step."""
    return steps.Routed(message=message, attempt=attempt, route=route())


def built(message: str = "built") -> steps.Built:
    """Return a BUILD step."""
    return steps.Built(message=message, pending_tx={"signature": "sig-1"})


def submitted(message: str = "sent", signature: str = "sig-1") -> steps.Submitted:
    """Return a SUBMIT step."""
    return steps.Submitted(message=message, tx_signature=signature)


def confirmed(
    amount_out: str = "150", price: str = "150", message: str = "confirmed"
) -> steps.Confirmed:
    """Return a CONFIRM step."""
    return steps.Confirmed(
        message=message,
        tx_signature="sig-1",
        amount_out=Decimal(amount_out),
        executed_price=Decimal(price),
    )


def failed(error: str = "x", kind: FailureKind = FailureKind.TRANSACTION_FAILED) -> steps.Failed:
    """Return a FAIL step."""
    return steps.Failed(message=f"failed: {error}", attempt=1, failure=kind, error=error)


def retried(error: str = "x", kind: FailureKind = FailureKind.SLIPPAGE) -> steps.Retried:
    """Return a RETRY step."""
    return steps.Retried(message=f"retry: {error}", attempt=1, failure=kind, error=error)


def cancelled(message: str = "cancelled by its owner") -> steps.Cancelled:
    """Return a CANCEL step."""
    return steps.Cancelled(message=message)


def rested(message: str = "resting") -> steps.Rested:
    """Return a REST step."""
    return steps.Rested(message=message)

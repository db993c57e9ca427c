"""Subscriptions.

Each stream lives no longer than the token that opened it: at expiry it ends with an
UNAUTHENTICATED error, and the client subscribes again on a connection with a fresh token.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from datetime import UTC, datetime
from typing import Annotated

import strawberry

from eterna.adapters.auth import AuthError, Principal, until_expired
from eterna.domain.errors import RejectedError, RejectionCode
from eterna.domain.orders import OrderEvent as DomainOrderEvent
from schema.context import Info
from schema.errors import ApiError
from schema.types import OrderEvent

# The fields of OrderEvent that are plain data (no resolver, permission class or field
# extension), GraphQL name -> attribute: a subscription event selecting only these is completed
# by its plan (schema.events). tests/unit/test_subscription_events.py holds it to the type.
EVENT_DATA = {
    "orderId": "order_id",
    "seq": "seq",
    "status": "status",
    "at": "at",
    "attempt": "attempt",
    "message": "message",
    "txSignature": "tx_signature",
    "amountOut": "amount_out",
    "executedPrice": "executed_price",
    "error": "error",
    "failure": "failure",
    "cancelledBySibling": "cancelled_by_sibling",
    "simulated": "simulated",
}


def _now() -> datetime:
    return datetime.now(UTC)


async def _while_valid(
    stream: AsyncIterator[DomainOrderEvent], principal: Principal
) -> AsyncGenerator[OrderEvent, None]:
    """Relay the stream as GraphQL events until it ends or the token expires."""
    try:
        async with aclosing(until_expired(stream, principal, _now)) as events:
            async for event in events:
                yield OrderEvent.from_domain(event)
    except AuthError as exc:
        raise ApiError(
            RejectionCode.UNAUTHENTICATED, f"{exc.reason}: subscribe again with a fresh token"
        ) from None


@strawberry.type(description="Watch your orders step by step (websockets only).")
class Subscription:
    """Watch orders step by step."""

    @strawberry.subscription(
        description=(
            "History of your order after afterSeq, then live steps; completes after a terminal "
            "step. seq is gap-free: resume with afterSeq = the last seq you saw. Ends with an "
            "UNAUTHENTICATED error when the connection's token expires."
        )
    )
    async def order_events(
        self,
        info: Info,
        order_id: Annotated[strawberry.ID, strawberry.argument(description="The order to watch.")],
        after_seq: Annotated[
            int | None,
            strawberry.argument(description="Replay history after this seq; 0 replays it all."),
        ] = 0,
    ) -> AsyncGenerator[OrderEvent, None]:
        """Stream one order's events."""
        principal = info.context.authenticated
        try:
            stream = await info.context.service.order_events(
                principal.user_id, str(order_id), after_seq or 0
            )
        except RejectedError as exc:
            raise ApiError.from_rejection(exc) from None
        async with aclosing(_while_valid(stream, principal)) as events:
            try:  # the stream's first read refuses someone else's order
                async for event in events:
                    yield event
            except RejectedError as exc:
                raise ApiError.from_rejection(exc) from None

    @strawberry.subscription(
        description=(
            "Live steps of all your orders from now on, each order gap-free by seq. Ends with "
            "an UNAUTHENTICATED error when the connection's token expires."
        )
    )
    async def my_order_events(self, info: Info) -> AsyncGenerator[OrderEvent, None]:
        """Stream the events of all the caller's orders."""
        principal = info.context.authenticated
        stream = info.context.service.my_order_events(principal.user_id)
        async with aclosing(_while_valid(stream, principal)) as events:
            async for event in events:
                yield event

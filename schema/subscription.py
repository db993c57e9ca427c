"""Subscriptions."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from eterna.errors import RejectedError
from schema.context import Info
from schema.errors import ApiError
from schema.types import OrderEvent


@strawberry.type
class Subscription:
    """Watch orders step by step."""

    @strawberry.subscription(
        description=(
            "History of your order after afterSeq, then live steps; completes after a terminal "
            "step. seq is gap-free: resume with afterSeq = the last seq you saw."
        )
    )
    async def order_events(
        self, info: Info, order_id: strawberry.ID, after_seq: int | None = 0
    ) -> AsyncGenerator[OrderEvent, None]:
        """Stream one order's events."""
        try:
            stream = await info.context.service.order_events(
                info.context.user_id, str(order_id), after_seq or 0
            )
        except RejectedError as exc:
            raise ApiError.from_rejection(exc) from None
        async for event in stream:
            yield OrderEvent.from_domain(event)

    @strawberry.subscription(
        description="Live steps of all your orders from now on, each order gap-free by seq."
    )
    async def my_order_events(self, info: Info) -> AsyncGenerator[OrderEvent, None]:
        """Stream the events of all the caller's orders."""
        async for event in info.context.service.my_order_events(info.context.user_id):
            yield OrderEvent.from_domain(event)

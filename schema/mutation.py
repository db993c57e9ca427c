"""Mutations."""

from __future__ import annotations

from typing import Annotated

import strawberry

from eterna.domain.errors import RejectedError
from schema.context import Info
from schema.errors import retry_after
from schema.inputs import OrderGroupInput, OrderInput
from schema.types import (
    CancelOrderGroupResult,
    CancelOrderResult,
    CancelRejected,
    Order,
    OrderCancelled,
    OrderGroup,
    OrderGroupCancelled,
    OrderGroupPlaced,
    OrderPlaced,
    OrderRejected,
    PlaceOrderGroupResult,
    PlaceOrderResult,
)


def _result(outcome: object, info: Info) -> OrderPlaced | OrderRejected:
    if isinstance(outcome, RejectedError):
        info.context.refusals.append(outcome.code.value)  # counted per operation
        return OrderRejected(
            code=outcome.code,
            message=outcome.message,
            field=outcome.field,
            retry_after_seconds=retry_after(outcome),
        )
    return OrderPlaced(order=Order.from_domain(outcome))  # type: ignore[arg-type]


@strawberry.type(description="Place and cancel your orders.")
class Mutation:
    """Place and cancel orders."""

    @strawberry.mutation(
        description=(
            "Place one order. Counts once against your mutation rate limit and once against "
            "your order budget (RATE_LIMITED), and must fit your caps on unfinished orders "
            "(TOO_MANY_ORDERS_IN_FLIGHT, TOO_MANY_OPEN_ORDERS, TOO_MANY_RESTING_ORDERS)."
        )
    )
    async def place_order(
        self,
        info: Info,
        input: Annotated[  # noqa: A002
            OrderInput, strawberry.argument(description="The order to place.")
        ],
    ) -> PlaceOrderResult:
        """Place one order."""
        context = info.context
        (outcome,) = await context.service.place(
            context.user_id, [input.to_request()], caller=context.caller
        )
        return _result(outcome, info)

    @strawberry.mutation(
        description=(
            "Place several orders at once; results come in input order. Over the batch cap, "
            "every result is BATCH_TOO_LARGE and nothing is stored. The call counts once "
            "against your mutation rate limit; over it, every result is RATE_LIMITED. Each "
            "valid order then spends one unit of your order budget, all or none (over it, "
            "each is RATE_LIMITED), and each must fit your caps on unfinished orders, in "
            "input order (TOO_MANY_ORDERS_IN_FLIGHT, TOO_MANY_OPEN_ORDERS, "
            "TOO_MANY_RESTING_ORDERS); a clientOrderId placed before always returns its order."
        )
    )
    async def place_orders(
        self,
        info: Info,
        inputs: Annotated[
            list[OrderInput],
            strawberry.argument(description="The orders, at most the server's batch cap."),
        ],
    ) -> list[PlaceOrderResult]:
        """Place a batch of orders."""
        outcomes = await info.context.service.place(
            info.context.user_id, [i.to_request() for i in inputs], caller=info.context.caller
        )
        return [_result(o, info) for o in outcomes]

    @strawberry.mutation(description="Cancel a PENDING or WAITING order of yours.")
    async def cancel_order(
        self,
        info: Info,
        id: Annotated[  # noqa: A002
            strawberry.ID, strawberry.argument(description="The order to cancel.")
        ],
    ) -> CancelOrderResult:
        """Cancel one order."""
        try:
            order = await info.context.service.cancel(
                info.context.user_id, str(id), caller=info.context.caller
            )
        except RejectedError as exc:
            info.context.refusals.append(exc.code.value)
            return CancelRejected(
                code=exc.code, message=exc.message, retry_after_seconds=retry_after(exc)
            )
        return OrderCancelled(order=Order.from_domain(order))

    @strawberry.mutation(
        description=(
            "Place an OCO group: two resting orders (LIMIT, STOP_LOSS, TAKE_PROFIT, "
            "TRAILING_STOP) spending the same tokenIn, where the first to fire cancels the "
            "other, exactly once. Both legs are stored or neither; a refusal's field names the "
            "leg (legs[1].triggerPrice). Counts once against your mutation rate limit, two "
            "units of your order budget, and as two orders against your caps."
        )
    )
    async def place_order_group(
        self,
        info: Info,
        input: Annotated[  # noqa: A002
            OrderGroupInput, strawberry.argument(description="The group's two legs.")
        ],
    ) -> PlaceOrderGroupResult:
        """Place an OCO group."""
        context = info.context
        outcome = await context.service.place_group(
            context.user_id, input.to_requests(), caller=context.caller
        )
        if isinstance(outcome, RejectedError):
            context.refusals.append(outcome.code.value)
            return OrderRejected(
                code=outcome.code,
                message=outcome.message,
                field=outcome.field,
                retry_after_seconds=retry_after(outcome),
            )
        return OrderGroupPlaced(group=OrderGroup.from_domain(outcome))

    @strawberry.mutation(
        description="Cancel the legs of your OCO group that are still PENDING or WAITING; "
        "NOT_CANCELLABLE when none is."
    )
    async def cancel_order_group(
        self,
        info: Info,
        id: Annotated[  # noqa: A002
            strawberry.ID, strawberry.argument(description="The group to cancel.")
        ],
    ) -> CancelOrderGroupResult:
        """Cancel an OCO group's open legs."""
        try:
            group = await info.context.service.cancel_group(
                info.context.user_id, str(id), caller=info.context.caller
            )
        except RejectedError as exc:
            info.context.refusals.append(exc.code.value)
            return CancelRejected(
                code=exc.code, message=exc.message, retry_after_seconds=retry_after(exc)
            )
        return OrderGroupCancelled(group=OrderGroup.from_domain(group))

"""Queries."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import strawberry

from eterna.domain.errors import RejectedError
from schema.context import Info
from schema.errors import ApiError, retry_after
from schema.types import (
    Order,
    OrderConnection,
    OrderEdge,
    OrderGroup,
    OrderStatus,
    OrderType,
    PageInfo,
    Quote,
    QuoteRejected,
    QuoteResult,
    Route,
    RouteQuote,
    Token,
    Venue,
)


@strawberry.type(description="Read your orders, and the tokens, venues and routes on offer.")
class Query:
    """Read orders, tokens, venues and route previews."""

    @strawberry.field(description="One of your orders; null if it does not exist or is not yours.")
    async def order(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The order's id.")],  # noqa: A002
    ) -> Order | None:
        """Return the caller's order or null."""
        order = await info.context.service.get(info.context.user_id, str(id))
        return Order.from_domain(order) if order else None

    @strawberry.field(
        description="One of your OCO groups with both legs; null if it does not exist or is "
        "not yours."
    )
    async def order_group(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The group's id.")],  # noqa: A002
    ) -> OrderGroup | None:
        """Return the caller's OCO group or null."""
        group = await info.context.service.get_group(info.context.user_id, str(id))
        return OrderGroup.from_domain(group) if group else None

    @strawberry.field(description="Your orders, newest first (Relay connection, stable cursors).")
    async def orders(
        self,
        info: Info,
        first: Annotated[
            int | None,
            strawberry.argument(description="Page size; the server's default page size if unset."),
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(description="endCursor of the previous page; unset: the newest."),
        ] = None,
        status: Annotated[
            OrderStatus | None, strawberry.argument(description="Only orders in this status.")
        ] = None,
        type: Annotated[  # noqa: A002
            OrderType | None, strawberry.argument(description="Only orders of this type.")
        ] = None,
    ) -> OrderConnection:
        """Return a page of the caller's orders."""
        try:
            page = await info.context.service.list_orders(
                info.context.user_id, first=first, after=after, status=status, order_type=type
            )
        except RejectedError as exc:
            raise ApiError.from_rejection(exc) from None
        edges = [OrderEdge(cursor=c, node=Order.from_domain(o)) for o, c in page.orders]
        return OrderConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next,
                has_previous_page=page.has_previous,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )

    @strawberry.field(
        description="Preview the route of a market order without placing it. Each quote "
        "(aliases too) counts against your quote budget, or without a token against your "
        "address's budget of anonymous reads (RATE_LIMITED)."
    )
    async def quote(
        self,
        info: Info,
        token_in: Annotated[
            str, strawberry.argument(description='Symbol ("SOL") or mint address to pay in.')
        ],
        token_out: Annotated[str, strawberry.argument(description="Symbol or mint to buy.")],
        amount_in: Annotated[
            Decimal, strawberry.argument(description="In tokenIn units, within its decimals.")
        ],
        slippage_bps: Annotated[
            int | None,
            strawberry.argument(description="1..5000, default 50: sets the route's minAmountOut."),
        ] = None,
    ) -> QuoteResult:
        """Return the best route now, or why there is none."""
        try:
            await info.context.spend_read(quote=True)
            decision = await info.context.service.quote(
                token_in, token_out, amount_in, slippage_bps
            )
        except RejectedError as exc:
            return QuoteRejected(
                code=exc.code, message=exc.message, retry_after_seconds=retry_after(exc)
            )
        return RouteQuote(
            route=Route.from_domain(decision.route),
            quotes=[Quote.from_domain(q) for q in decision.quotes],
        )

    @strawberry.field(
        description="Tokens you can trade. Without a token, counts against your address's "
        "budget of anonymous reads (RATE_LIMITED)."
    )
    async def tokens(self, info: Info) -> list[Token]:
        """Return the tradeable tokens."""
        await _spend_read(info)
        return [Token.from_domain(t) for t in info.context.service.tokens()]

    @strawberry.field(
        description="The DEX venues the router quotes. Without a token, counts against your "
        "address's budget of anonymous reads (RATE_LIMITED)."
    )
    async def venues(self, info: Info) -> list[Venue]:
        """Return the venues."""
        await _spend_read(info)
        return [Venue.from_domain(v) for v in await info.context.service.venues()]


async def _spend_read(info: Info) -> None:
    """Count a read field against the caller's budget; over it, raise RATE_LIMITED."""
    try:
        await info.context.spend_read()
    except RejectedError as exc:
        raise ApiError.from_rejection(exc) from None

"""GraphQL types: what clients read. Each is built from its domain object."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import strawberry

from eterna.domain import orders as domain
from eterna.domain import routes
from eterna.domain import tokens as tok
from eterna.domain.errors import RejectionCode as DomainRejectionCode
from eterna.domain.failures import FailureKind as DomainFailureKind
from eterna.routing.venues import VenueInfo
from schema.context import Info

# The domain enums are the GraphQL enums (strawberry registers them in place).
OrderType = domain.OrderType
OrderStatus = domain.OrderStatus
RejectionCode = DomainRejectionCode
strawberry.enum(OrderType, description="What an order waits for before it swaps.")
strawberry.enum(
    OrderStatus,
    description=(
        "Where an order is: PENDING -> (WAITING) -> ROUTING -> BUILDING -> SUBMITTED -> "
        "CONFIRMED, or FAILED, CANCELLED, EXPIRED."
    ),
)
strawberry.enum(
    RejectionCode, description="Why a request was refused; switch on it, not on the message."
)
FailureKind = DomainFailureKind
strawberry.enum(
    FailureKind,
    description=(
        "What an attempt failed on; switch on it, not on the error text. SLIPPAGE and "
        "INSUFFICIENT_LIQUIDITY: the market refused the price; BLOCKHASH_EXPIRED and "
        "VENUE_UNAVAILABLE: retried with a fresh quote; NO_ROUTE, TRANSACTION_FAILED, "
        "INTERNAL: permanent."
    ),
)
# The values stops added, described for client developers (the domain enums stay plain).
_NEW_VALUE_DESCRIPTIONS = {
    "STOP_LOSS": "Rest until the best route for the whole amount pays triggerPrice or less "
    "(tokenOut per 1 tokenIn), then sell as a market order (not below limitPrice, if set).",
    "TAKE_PROFIT": "Rest until the best route for the whole amount pays triggerPrice or more, "
    "then sell as a market order (not below limitPrice, if set).",
    "TRAILING_STOP": "Rest until the best route for the whole amount pays trailBps below the "
    "best price it paid since placement, then sell as a market order.",
    "BELOW_LIMIT_PRICE": "A fired stop's best route paid less than its limitPrice: nothing "
    "was sent (permanent).",
}
for _enum in (OrderType, FailureKind):
    for _value in _enum.__strawberry_definition__.values:  # type: ignore[union-attr]
        if _value.name in _NEW_VALUE_DESCRIPTIONS:
            _value.description = _NEW_VALUE_DESCRIPTIONS[_value.name]

# The ``trigger`` detail of a FIRE event, as the watcher stores it, by order type.
_TRIGGER_KINDS = {
    "limit": OrderType.LIMIT,
    "sniper": OrderType.SNIPER,
    "stopLoss": OrderType.STOP_LOSS,
    "takeProfit": OrderType.TAKE_PROFIT,
    "trailingStop": OrderType.TRAILING_STOP,
}


@strawberry.type(description="An SPL token.")
class Token:
    """An SPL token."""

    mint: str = strawberry.field(description="Mint address (base58).")
    symbol: str | None = strawberry.field(description="Ticker, when known.")
    decimals: int = strawberry.field(description="Decimals of the mint; amounts never exceed them.")

    @classmethod
    def from_domain(cls, token: tok.Token) -> Token:
        """Build from the domain token."""
        return cls(mint=token.mint, symbol=token.symbol, decimals=token.decimals)


@strawberry.type(description="The best a single pool of one venue pays for the whole amount.")
class Quote:
    """A venue's best single-pool quote."""

    venue: str
    pool: str = strawberry.field(description="Pool address.")
    amount_out: Decimal = strawberry.field(description="Output in tokenOut units, after fees.")
    fee: Decimal = strawberry.field(description="Fee in tokenIn units.")
    price_impact_bps: int = strawberry.field(description="Shortfall below the spot price, in bps.")

    @classmethod
    def from_domain(cls, quote: routes.Quote) -> Quote:
        """Build from the domain quote."""
        return cls(
            venue=quote.venue,
            pool=quote.pool,
            amount_out=quote.amount_out,
            fee=quote.fee,
            price_impact_bps=quote.price_impact_bps,
        )


@strawberry.type(description="One swap of a route through one pool.")
class RouteLeg:
    """One swap of a route."""

    venue: str
    pool: str
    token_in: Token
    token_out: Token
    amount_in: Decimal
    amount_out: Decimal
    fee: Decimal = strawberry.field(description="Fee in this leg's tokenIn units.")

    @classmethod
    def from_domain(cls, leg: routes.RouteLeg) -> RouteLeg:
        """Build from the domain leg."""
        return cls(
            venue=leg.venue,
            pool=leg.pool,
            token_in=Token.from_domain(leg.token_in),
            token_out=Token.from_domain(leg.token_out),
            amount_in=leg.amount_in,
            amount_out=leg.amount_out,
            fee=leg.fee,
        )


@strawberry.type(description="The path the router chose and the floor slippage allows.")
class Route:
    """A route."""

    amount_in: Decimal
    amount_out: Decimal = strawberry.field(description="Expected output, before slippage.")
    min_amount_out: Decimal = strawberry.field(
        description="The transaction fails rather than pay less than this."
    )
    price_impact_bps: int
    legs: list[RouteLeg]

    @classmethod
    def from_domain(cls, route: routes.Route) -> Route:
        """Build from the domain route."""
        return cls(
            amount_in=route.amount_in,
            amount_out=route.amount_out,
            min_amount_out=route.min_amount_out,
            price_impact_bps=route.price_impact_bps,
            legs=[RouteLeg.from_domain(leg) for leg in route.legs],
        )


@strawberry.type(
    description="What fired a resting order: the price seen and the pool whose change showed it."
)
class TriggerSeen:
    """A resting order's trigger, as the watcher saw it hold."""

    kind: OrderType = strawberry.field(description="The type of order whose trigger held.")
    price: Decimal | None = strawberry.field(
        description="LIMIT and stops: what the best route paid, tokenOut per 1 tokenIn, for "
        "the whole amount (a lower bound when several orders were confirmed at once)."
    )
    trigger_price: Decimal | None = strawberry.field(
        description="Stops: the trigger the price reached (for TRAILING_STOP, trailBps below "
        "bestPrice)."
    )
    best_price: Decimal | None = strawberry.field(
        description="TRAILING_STOP: the best price seen since placement."
    )
    limit_price: Decimal | None = strawberry.field(description="LIMIT: the order's limit.")
    pool: str | None = strawberry.field(
        description="The pool whose change (or launch) showed the trigger; null when it held "
        "on the watcher's own look (start, resync)."
    )
    venue: str | None = strawberry.field(description="The venue of that pool.")

    @classmethod
    def from_details(cls, details: dict[str, object]) -> TriggerSeen | None:
        """Build from a FIRE event's stored details, or None for any other event."""
        kind = _TRIGGER_KINDS.get(str(details.get("trigger")))
        if kind is None:
            return None
        return cls(
            kind=kind,
            price=_decimal(details.get("price")),
            trigger_price=_decimal(details.get("triggerPrice")),
            best_price=_decimal(details.get("bestPrice")),
            limit_price=_decimal(details.get("limitPrice")),
            pool=_text(details.get("pool")),
            venue=_text(details.get("venue")),
        )


def _decimal(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _text(value: object) -> str | None:
    return None if value is None else str(value)


@strawberry.type(description="One step of an order. seq counts 1, 2, 3... with no gap.")
class OrderEvent:
    """An order event."""

    order_id: strawberry.ID
    seq: int
    status: OrderStatus
    at: datetime
    attempt: int = strawberry.field(
        description="Execution attempt this step belongs to (0 = none yet)."
    )
    message: str
    quotes: list[Quote] | None = strawberry.field(description="ROUTING: every venue's best quote.")
    route: Route | None = strawberry.field(description="ROUTING: the chosen route.")
    tx_signature: str | None
    amount_out: Decimal | None
    executed_price: Decimal | None = strawberry.field(description="tokenOut per 1 tokenIn.")
    error: str | None
    failure: FailureKind | None = strawberry.field(
        default=None,
        description="A retry, a failure, or a rest after failing on price: what it failed on.",
    )
    trigger: TriggerSeen | None = strawberry.field(
        default=None,
        description="The PENDING step of a resting order that fired: what its trigger saw.",
    )

    @classmethod
    def from_domain(cls, event: domain.OrderEvent) -> OrderEvent:
        """Build from the domain event."""
        return cls(
            order_id=strawberry.ID(str(event.order_id)),
            seq=event.seq,
            status=event.status,
            at=event.at,
            attempt=event.attempt,
            message=event.message,
            quotes=[Quote.from_domain(q) for q in event.quotes]
            if event.quotes is not None
            else None,
            route=Route.from_domain(event.route) if event.route else None,
            tx_signature=event.tx_signature,
            amount_out=event.amount_out,
            executed_price=event.executed_price,
            error=event.error,
            failure=event.failure,
            trigger=TriggerSeen.from_details(event.details)
            if event.status is OrderStatus.PENDING and event.details
            else None,
        )


@strawberry.type(description="An order and its latest state.")
class Order:
    """An order."""

    id: strawberry.ID
    client_order_id: str | None
    type: OrderType
    status: OrderStatus
    token_in: Token
    token_out: Token
    amount_in: Decimal
    slippage_bps: int
    limit_price: Decimal | None
    trigger_price: Decimal | None = strawberry.field(
        default=None, description="STOP_LOSS, TAKE_PROFIT: the trigger, tokenOut per 1 tokenIn."
    )
    trail_bps: int | None = strawberry.field(
        default=None, description="TRAILING_STOP: how far below the best price it fires, in bps."
    )
    best_price: Decimal | None = strawberry.field(
        default=None,
        description="TRAILING_STOP: the best price its whole amount could get since placement "
        "(it fires at trailBps below it); null until the watcher first priced it.",
    )
    expires_at: datetime | None
    attempts: int
    route: Route | None
    amount_out: Decimal | None
    executed_price: Decimal | None = strawberry.field(description="tokenOut per 1 tokenIn.")
    tx_signature: str | None
    failure_reason: str | None
    created_at: datetime
    updated_at: datetime

    @strawberry.field(description="Every step so far, ordered by seq.")
    async def events(self, info: Info) -> list[OrderEvent]:
        """Return the order's events."""
        events = await info.context.events_loader.load(str(self.id))
        return [OrderEvent.from_domain(e) for e in events]

    @classmethod
    def from_domain(cls, order: domain.Order) -> Order:
        """Build from the domain order."""
        return cls(
            id=strawberry.ID(str(order.id)),
            client_order_id=order.client_order_id,
            type=order.type,
            status=order.status,
            token_in=Token.from_domain(order.token_in),
            token_out=Token.from_domain(order.token_out),
            amount_in=order.amount_in,
            slippage_bps=order.slippage_bps,
            limit_price=order.limit_price,
            trigger_price=order.trigger_price,
            trail_bps=order.trail_bps,
            best_price=order.trail_best,
            expires_at=order.expires_at,
            attempts=order.attempts,
            route=Route.from_domain(order.route) if order.route else None,
            amount_out=order.amount_out,
            executed_price=order.executed_price,
            tx_signature=order.tx_signature,
            failure_reason=order.failure_reason,
            created_at=order.created_at,
            updated_at=order.updated_at,
        )


@strawberry.type(description="Relay page information.")
class PageInfo:
    """Relay page information."""

    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class OrderEdge:
    """An order and its stable cursor."""

    cursor: str
    node: Order


@strawberry.type(description="Orders, newest first, with stable cursors.")
class OrderConnection:
    """A page of orders."""

    edges: list[OrderEdge]
    page_info: PageInfo


@strawberry.type(description="A DEX venue the router quotes.")
class Venue:
    """A venue."""

    name: str
    kind: str
    pool_count: int

    @classmethod
    def from_domain(cls, info: VenueInfo) -> Venue:
        """Build from the venue description."""
        return cls(name=info.name, kind=info.kind, pool_count=info.pool_count)


@strawberry.type(description="The order was accepted (or already existed for this clientOrderId).")
class OrderPlaced:
    """A placed order."""

    order: Order


@strawberry.type(description="The order was refused; nothing was stored.")
class OrderRejected:
    """A refused order."""

    code: RejectionCode
    message: str
    field: str | None = strawberry.field(description="The input field at fault, when one is.")
    retry_after_seconds: float | None = strawberry.field(
        default=None, description="RATE_LIMITED: seconds until a retry will be accepted."
    )


@strawberry.type(description="The order was cancelled.")
class OrderCancelled:
    """A cancelled order."""

    order: Order


@strawberry.type(description="The order could not be cancelled.")
class CancelRejected:
    """A refused cancellation."""

    code: RejectionCode
    message: str
    retry_after_seconds: float | None = strawberry.field(
        default=None, description="RATE_LIMITED: seconds until a retry will be accepted."
    )


@strawberry.type(description="The route a market order would take now, and every venue's quote.")
class RouteQuote:
    """A route preview."""

    route: Route
    quotes: list[Quote]


@strawberry.type(description="No route could be quoted.")
class QuoteRejected:
    """A refused quote."""

    code: RejectionCode
    message: str
    retry_after_seconds: float | None = strawberry.field(
        default=None, description="RATE_LIMITED: seconds until a retry will be accepted."
    )


PlaceOrderResult = Annotated[OrderPlaced | OrderRejected, strawberry.union("PlaceOrderResult")]
CancelOrderResult = Annotated[
    OrderCancelled | CancelRejected, strawberry.union("CancelOrderResult")
]
QuoteResult = Annotated[RouteQuote | QuoteRejected, strawberry.union("QuoteResult")]

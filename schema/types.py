"""GraphQL types: what clients read. Each is built from its domain object."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import strawberry

from eterna.domain import fills as domain_fills
from eterna.domain import groups, routes, twap
from eterna.domain import orders as domain
from eterna.domain import tokens as tok
from eterna.routing.venues import VenueInfo
from schema.context import Info
from schema.enums import FailureKind, OrderStatus, OrderType, RejectionCode

__all__ = ["FailureKind", "OrderStatus", "OrderType", "RejectionCode"]

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

    venue: str = strawberry.field(description="Venue name, as the venues query lists it.")
    pool: str = strawberry.field(description="Pool address.")
    amount_out: Decimal = strawberry.field(description="Output in tokenOut units, after fees.")
    fee: Decimal = strawberry.field(description="Fee in tokenIn units.")
    price_impact_bps: int = strawberry.field(description="Shortfall below the spot price, in bps.")
    all_in_cost_bps: int | None = strawberry.field(
        description=(
            "Shortfall of amountOut below the whole amount at the reference mid price (the "
            "best spot price, fee excluded, of any path of the pair), in bps: fees, impact "
            "and a worse price than the best pool's. Null when no venue gave a spot price."
        )
    )

    @classmethod
    def from_domain(cls, quote: routes.Quote) -> Quote:
        """Build from the domain quote."""
        return cls(
            venue=quote.venue,
            pool=quote.pool,
            amount_out=quote.amount_out,
            fee=quote.fee,
            price_impact_bps=quote.price_impact_bps,
            all_in_cost_bps=quote.all_in_cost_bps,
        )


@strawberry.type(description="One swap of a route through one pool.")
class RouteLeg:
    """One swap of a route."""

    venue: str = strawberry.field(description="Venue the pool belongs to.")
    pool: str = strawberry.field(description="Pool address.")
    token_in: Token = strawberry.field(description="Token this leg pays in.")
    token_out: Token = strawberry.field(description="Token this leg receives.")
    amount_in: Decimal = strawberry.field(description="Input of this leg, in its tokenIn units.")
    amount_out: Decimal = strawberry.field(
        description="Expected output of this leg, in its tokenOut units, after fees."
    )
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

    amount_in: Decimal = strawberry.field(
        description="Input of the whole route, in the order's tokenIn units."
    )
    amount_out: Decimal = strawberry.field(description="Expected output, before slippage.")
    min_amount_out: Decimal = strawberry.field(
        description="The transaction fails rather than pay less than this."
    )
    price_impact_bps: int = strawberry.field(
        description=(
            "Shortfall of amountOut below the spot prices of the pools it fills on, fees "
            "excluded, in bps: how far the order moves the price."
        )
    )
    all_in_cost_bps: int | None = strawberry.field(
        description=(
            "Shortfall of amountOut below amountIn at the reference mid price (the best spot "
            "price, fee excluded, of any path of the pair when routed), in bps: fees, impact "
            "and a worse price than the best pool's, all in. Null on routes recorded before "
            "it existed, or when no venue gave a spot price."
        )
    )
    legs: list[RouteLeg] = strawberry.field(
        description=(
            "The swaps in order; split routes have several legs on the same pair, multi "
            "routes direct legs and each hub path's legs (first hop, then second)."
        )
    )

    @classmethod
    def from_domain(cls, route: routes.Route) -> Route:
        """Build from the domain route."""
        return cls(
            amount_in=route.amount_in,
            amount_out=route.amount_out,
            min_amount_out=route.min_amount_out,
            price_impact_bps=route.price_impact_bps,
            all_in_cost_bps=route.all_in_cost_bps,
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


@strawberry.type(
    description="How a transaction was readied to land: its compute budget and what its "
    "simulation said (the BUILDING step, and a step that followed a failed simulation)."
)
class Landing:
    """A transaction's priority fee, compute limit and simulation."""

    priority_fee_micro_lamports: int = strawberry.field(
        description="Priority fee: the compute-unit price, in micro-lamports per unit."
    )
    compute_unit_limit: int = strawberry.field(
        description="The compute-unit limit the transaction was signed with."
    )
    simulated: bool = strawberry.field(
        description="A simulation ran before the transaction would be sent."
    )
    simulated_units: int | None = strawberry.field(
        description="Compute units the simulation consumed."
    )
    simulated_amount_out: str | None = strawberry.field(
        description="What the simulation paid, in tokenOut base units (integer string); "
        "null when it failed."
    )
    simulation_error: str | None = strawberry.field(
        description="Why the simulation failed, for people; nothing was sent."
    )

    @classmethod
    def from_details(cls, details: dict[str, object]) -> Landing | None:
        """Build from a step's stored details, or None when the step has no landing."""
        raw = details.get("landing")
        if not isinstance(raw, dict):
            return None
        units = raw.get("simulatedUnits")
        return cls(
            priority_fee_micro_lamports=int(raw["priorityFeeMicroLamports"]),
            compute_unit_limit=int(raw["computeUnitLimit"]),
            simulated=bool(raw.get("simulated", False)),
            simulated_units=None if units is None else int(units),
            simulated_amount_out=_text(raw.get("simulatedAmountOut")),
            simulation_error=_text(raw.get("simulationError")),
        )


@strawberry.type(
    description="The slippage tolerance an attempt of an order with maxSlippageBps got, and the "
    "inputs it was chosen from (all in bps)."
)
class SlippageChosen:
    """An adaptive order's tolerance for one attempt, and why."""

    chosen_bps: int = strawberry.field(
        description="The tolerance: minAmountOut is the route's amountOut less this."
    )
    max_slippage_bps: int = strawberry.field(description="The order's cap; chosenBps <= it.")
    price_impact_bps: int = strawberry.field(description="The route's price impact (depth).")
    recent_move_bps: int = strawberry.field(
        description="The largest recent price move of the route's pools (hops summed)."
    )
    recent_failure_bps: int | None = strawberry.field(
        description="The widest tolerance that failed on slippage on those pools lately."
    )
    previous_bps: int | None = strawberry.field(
        description="A retry: the previous attempt's tolerance."
    )
    slippage_failures: int = strawberry.field(
        description="The order's attempts that failed on slippage so far."
    )
    adverse_move_bps: int = strawberry.field(
        description="A retry: how much less the same amount buys than at the previous attempt."
    )
    reason: str = strawberry.field(description="The choice in words, for people.")

    @classmethod
    def from_details(cls, details: dict[str, object]) -> SlippageChosen | None:
        """Build from a ROUTING event's stored details, or None when it has no choice."""
        chosen = details.get("slippage")
        if not isinstance(chosen, dict):
            return None
        return cls(
            chosen_bps=int(chosen["chosenBps"]),
            max_slippage_bps=int(chosen["maxSlippageBps"]),
            price_impact_bps=int(chosen["priceImpactBps"]),
            recent_move_bps=int(chosen["recentMoveBps"]),
            recent_failure_bps=_int(chosen.get("recentFailureBps")),
            previous_bps=_int(chosen.get("previousBps")),
            slippage_failures=int(chosen["slippageFailures"]),
            adverse_move_bps=int(chosen["adverseMoveBps"]),
            reason=str(chosen["reason"]),
        )


def _int(value: object) -> int | None:
    return None if value is None else int(str(value))


def _decimal(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _text(value: object) -> str | None:
    return None if value is None else str(value)


@strawberry.type(description="How a TWAP order trades: its slices and their schedule.")
class Twap:
    """A TWAP order's plan and schedule."""

    slices: int = strawberry.field(description="How many slices amountIn is cut into.")
    duration_seconds: int = strawberry.field(description="Seconds over which they are placed.")
    jitter_bps: int = strawberry.field(
        description="How far each slice's time may move, in bps of the interval between slices."
    )
    next_slice_index: int = strawberry.field(
        description="The index (0-based) of the slice to place next; equals slices once all are "
        "placed."
    )
    next_slice_at: datetime | None = strawberry.field(
        description="When the next slice is due (UTC); null once all are placed."
    )


@strawberry.type(description="Where a TWAP order stands, summed over its slices.")
class TwapProgress:
    """A TWAP order's progress."""

    slices: int = strawberry.field(description="How many slices the order has in all.")
    slices_placed: int = strawberry.field(description="Slices placed so far (child orders).")
    slices_done: int = strawberry.field(description="Slices finished, filled or not.")
    slices_filled: int = strawberry.field(description="Slices CONFIRMED.")
    slices_failed: int = strawberry.field(
        description="Slices finished without filling (failed, skipped below limitPrice, cancelled)."
    )
    slices_remaining: int = strawberry.field(description="Slices not finished yet.")
    filled_amount_in: Decimal = strawberry.field(
        description="tokenIn the filled slices spent, in tokenIn units."
    )
    amount_out: Decimal = strawberry.field(
        description="tokenOut the filled slices received, in tokenOut units."
    )
    average_price: Decimal | None = strawberry.field(
        description="amountOut / filledAmountIn, tokenOut per 1 tokenIn; null while none filled."
    )

    @classmethod
    def from_domain(cls, progress: twap.TwapProgress) -> TwapProgress:
        """Build from the domain's progress."""
        return cls(
            slices=progress.slices,
            slices_placed=progress.placed,
            slices_done=progress.done,
            slices_filled=progress.filled,
            slices_failed=progress.failed,
            slices_remaining=progress.remaining,
            filled_amount_in=progress.filled_amount_in,
            amount_out=progress.amount_out,
            average_price=progress.average_price,
        )

    @classmethod
    def from_details(cls, details: dict[str, object]) -> TwapProgress | None:
        """Build from a TWAP event's stored details, or None for any other event."""
        shown = details.get("twap")
        if not isinstance(shown, dict):
            return None
        return cls(
            slices=int(shown["slices"]),
            slices_placed=int(shown["slicesPlaced"]),
            slices_done=int(shown["slicesDone"]),
            slices_filled=int(shown["slicesFilled"]),
            slices_failed=int(shown["slicesFailed"]),
            slices_remaining=int(shown["slicesRemaining"]),
            filled_amount_in=Decimal(str(shown["filledAmountIn"])),
            amount_out=Decimal(str(shown["amountOut"])),
            average_price=_decimal(shown.get("averagePrice")),
        )


@strawberry.type(description="One step of an order. seq counts 1, 2, 3... with no gap.")
class OrderEvent:
    """An order event."""

    order_id: strawberry.ID = strawberry.field(description="The order this step belongs to.")
    seq: int = strawberry.field(
        description="1, 2, 3... per order with no gap; resume a subscription with afterSeq."
    )
    status: OrderStatus = strawberry.field(description="The order's status after this step.")
    at: datetime = strawberry.field(description="When the step happened (UTC).")
    attempt: int = strawberry.field(
        description="Execution attempt this step belongs to (0 = none yet)."
    )
    message: str = strawberry.field(
        description="What happened, for people; switch on status and failure, not on this text."
    )
    quotes: list[Quote] | None = strawberry.field(description="ROUTING: every venue's best quote.")
    route: Route | None = strawberry.field(description="ROUTING: the chosen route.")
    tx_signature: str | None = strawberry.field(
        description="SUBMITTED, CONFIRMED: the transaction's signature."
    )
    amount_out: Decimal | None = strawberry.field(
        description="CONFIRMED: output received, in tokenOut units."
    )
    executed_price: Decimal | None = strawberry.field(description="tokenOut per 1 tokenIn.")
    error: str | None = strawberry.field(description="A retry or FAILED: the error, for people.")
    failure: FailureKind | None = strawberry.field(
        default=None,
        description="A retry, a failure, or a rest after failing on price: what it failed on.",
    )
    trigger: TriggerSeen | None = strawberry.field(
        default=None,
        description="The PENDING step of a resting order that fired: what its trigger saw.",
    )
    landing: Landing | None = strawberry.field(
        default=None,
        description="BUILDING (and a step after a failed simulation): the priority fee, "
        "compute limit and simulation of the transaction.",
    )
    simulated: bool = strawberry.field(
        default=False,
        description="CONFIRMED in dry-run mode: amountOut is the simulation's fill; no "
        "transaction was sent (txSignature is null).",
    )
    progress: TwapProgress | None = strawberry.field(
        default=None,
        description="A TWAP's steps (a slice placed, slices finished, the end): where it "
        "stood then.",
    )
    cancelled_by_sibling: strawberry.ID | None = strawberry.field(
        default=None,
        description="CANCELLED because the other leg of its OCO group fired: that leg's id.",
    )
    slippage: SlippageChosen | None = strawberry.field(
        default=None,
        description="ROUTING of an order with maxSlippageBps: the tolerance this attempt got "
        "and why.",
    )
    fill: Fill | None = strawberry.field(
        default=None,
        description="A LIMIT order filling in parts: on CONFIRMED, and on WAITING after a "
        "part filled, this trade alone (amountOut and executedPrice here are cumulative).",
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
            landing=Landing.from_details(event.details) if event.details else None,
            simulated=event.details.get("simulated") is True,
            progress=TwapProgress.from_details(event.details) if event.details else None,
            cancelled_by_sibling=_sibling(event),
            slippage=SlippageChosen.from_details(event.details)
            if event.status is OrderStatus.ROUTING and event.details
            else None,
            fill=Fill.from_event(event) if "fill" in event.details else None,
        )


def _sibling(event: domain.OrderEvent) -> strawberry.ID | None:
    """Return the leg whose firing cancelled this one, on its CANCELLED event."""
    if event.status is not OrderStatus.CANCELLED:
        return None
    if event.details.get("reason") != groups.SIBLING_FIRED:
        return None
    sibling = event.details.get("siblingId")
    return None if sibling is None else strawberry.ID(str(sibling))


@strawberry.type(description="An order and its latest state.")
class Order:
    """An order."""

    id: strawberry.ID = strawberry.field(description="Order id (a UUID).")
    client_order_id: str | None = strawberry.field(
        description="Your idempotency key, when you gave one."
    )
    type: OrderType = strawberry.field(description="What the order waits for before it swaps.")
    status: OrderStatus = strawberry.field(description="Where the order is now.")
    token_in: Token = strawberry.field(description="Token the order pays in.")
    token_out: Token = strawberry.field(description="Token the order buys.")
    amount_in: Decimal = strawberry.field(description="Amount paid, in tokenIn units.")
    slippage_bps: int = strawberry.field(
        description="Slippage allowed below the route's expected output, in bps; with "
        "maxSlippageBps the cap."
    )
    max_slippage_bps: int | None = strawberry.field(
        default=None,
        description="Adaptive slippage: the cap each attempt's chosen tolerance stays within "
        "(null: slippageBps is a fixed tolerance). Each ROUTING event's details.slippage say "
        "what was chosen and why.",
    )
    limit_price: Decimal | None = strawberry.field(
        description="LIMIT: minimum tokenOut per 1 tokenIn. Stops: the least they accept once "
        "fired (optional)."
    )
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
    expires_at: datetime | None = strawberry.field(
        description="LIMIT, SNIPER and stops: when the order stops resting."
    )
    attempts: int = strawberry.field(description="Execution attempts so far.")
    route: Route | None = strawberry.field(
        description="The chosen route, once ROUTING has happened."
    )
    amount_out: Decimal | None = strawberry.field(
        description="Output received, in tokenOut units, summed over every fill (cumulative): "
        "set once the first fill landed, so also on a LIMIT order resting with a part filled, "
        "and kept when it is cancelled or expires."
    )
    executed_price: Decimal | None = strawberry.field(
        description="tokenOut per 1 tokenIn over every fill (cumulative): amountOut / "
        "filledAmountIn."
    )
    tx_signature: str | None = strawberry.field(
        description="SUBMITTED, CONFIRMED: the transaction's signature (with fills, the last "
        "fill's)."
    )
    all_or_none: bool = strawberry.field(
        default=True,
        description="True: the order fills whole or not at all. False: a LIMIT order filling "
        "in parts (see fills).",
    )
    min_fill_amount: Decimal | None = strawberry.field(
        default=None,
        description="A LIMIT order filling in parts: the least tokenIn one fill spends (or "
        "what remains, when less is left).",
    )
    filled_amount_in: Decimal = strawberry.field(
        default=Decimal(0),
        description="tokenIn spent so far, summed over every fill (a TWAP: over its filled "
        "slices).",
    )
    remaining_amount_in: Decimal = strawberry.field(
        default=Decimal(0),
        description="amountIn - filledAmountIn: what has not traded (after a cancel or an "
        "expiry, what never will).",
    )
    fills: list[Fill] = strawberry.field(
        default_factory=list,
        description="Each trade of the order, oldest first: one for an order that filled "
        "whole, one per part for a LIMIT order filling in parts; empty until the first fill "
        "and for a TWAP (see children).",
    )
    failure_reason: str | None = strawberry.field(description="FAILED: why, for people.")
    simulated: bool = strawberry.field(
        default=False,
        description="Dry run: the order ended CONFIRMED with its simulation's fill "
        "(amountOut, executedPrice); no transaction was sent.",
    )
    created_at: datetime = strawberry.field(description="When the order was placed (UTC).")
    updated_at: datetime = strawberry.field(description="When the order last changed (UTC).")
    twap: Twap | None = strawberry.field(
        default=None, description="TWAP: its slices and their schedule."
    )
    parent_id: strawberry.ID | None = strawberry.field(
        default=None, description="A TWAP's slice: the TWAP order it belongs to."
    )
    slice_index: int | None = strawberry.field(
        default=None, description="A TWAP's slice: its index, 0-based."
    )
    group_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The OCO group the order is a leg of (placeOrderGroup); null for others.",
    )

    @strawberry.field(description="Every step so far, ordered by seq.")
    async def events(self, info: Info) -> list[OrderEvent]:
        """Return the order's events."""
        events = await info.context.events_loader.load(str(self.id))
        return [OrderEvent.from_domain(e) for e in events]

    @strawberry.field(
        description="TWAP: its slices placed so far (MARKET child orders), by index; empty for "
        "every other order."
    )
    async def children(self, info: Info) -> list[Order]:
        """Return the TWAP's child orders."""
        if self.twap is None:
            return []
        children = await info.context.children_loader.load(str(self.id))
        return [Order.from_domain(c) for c in children]

    @strawberry.field(
        description="TWAP: where it stands now, summed over its slices (also after a cancel, "
        "while slices placed before it finish); null for every other order."
    )
    async def progress(self, info: Info) -> TwapProgress | None:
        """Return the TWAP's progress from its children."""
        if self.twap is None:
            return None
        children = await info.context.children_loader.load(str(self.id))
        return TwapProgress.from_domain(twap.TwapProgress.of(self.twap.slices, children))

    @strawberry.field(description="A TWAP's slice: the TWAP order it belongs to.")
    async def parent(self, info: Info) -> Order | None:
        """Return the parent TWAP order."""
        if self.parent_id is None:
            return None
        found = await info.context.service.get(info.context.user_id, str(self.parent_id))
        return Order.from_domain(found) if found else None

    @strawberry.field(description="The OCO group the order is a leg of, with both legs.")
    async def group(self, info: Info) -> OrderGroup | None:
        """Return the order's group, or null."""
        if self.group_id is None:
            return None
        found = await info.context.service.get_group(info.context.user_id, str(self.group_id))
        return OrderGroup.from_domain(found) if found else None

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
            max_slippage_bps=order.max_slippage_bps,
            best_price=order.trail_best,
            expires_at=order.expires_at,
            attempts=order.attempts,
            route=Route.from_domain(order.route) if order.route else None,
            amount_out=order.amount_out,
            executed_price=order.executed_price,
            tx_signature=order.tx_signature,
            failure_reason=order.failure_reason,
            simulated=order.simulated,
            all_or_none=order.min_fill is None,
            min_fill_amount=order.min_fill,
            filled_amount_in=order.filled_in,
            remaining_amount_in=order.remaining_in,
            fills=_fills_of(order),
            created_at=order.created_at,
            updated_at=order.updated_at,
            twap=_twap_of(order),
            parent_id=strawberry.ID(str(order.parent_id)) if order.parent_id else None,
            slice_index=order.slice_index,
            group_id=strawberry.ID(str(order.group_id)) if order.group_id else None,
        )


@strawberry.type(
    description="An OCO group: two resting orders where the first to fire cancels the other."
)
class OrderGroup:
    """An OCO group and its legs."""

    id: strawberry.ID = strawberry.field(description="Group id (a UUID), each leg's groupId.")
    orders: list[Order] = strawberry.field(
        description="The two legs. At most one ever trades: the first to fire cancels the "
        "other in the same write."
    )

    @classmethod
    def from_domain(cls, group: groups.OrderGroup) -> OrderGroup:
        """Build from the domain group."""
        return cls(
            id=strawberry.ID(str(group.id)), orders=[Order.from_domain(o) for o in group.orders]
        )


@strawberry.type(description="One trade of an order: what it spent and received.")
class Fill:
    """One fill."""

    amount_in: Decimal = strawberry.field(description="tokenIn spent.")
    amount_out: Decimal = strawberry.field(description="tokenOut received.")
    price: Decimal = strawberry.field(description="tokenOut per 1 tokenIn of this fill.")
    tx_signature: str | None = strawberry.field(
        description="The transaction; null for a dry run's simulated fill."
    )
    at: datetime = strawberry.field(description="When it was recorded (UTC).")
    seq: int = strawberry.field(description="The order's event that recorded it.")
    simulated: bool = strawberry.field(
        description="A dry run's fill: the simulation's, nothing was sent."
    )

    @classmethod
    def from_event(cls, event: domain.OrderEvent) -> Fill | None:
        """Build from a fill's event (its details say what the fill alone spent and got)."""
        data = event.details.get("fill")
        if not isinstance(data, dict):
            return None
        return cls(
            amount_in=Decimal(data["amountIn"]),
            amount_out=Decimal(data["amountOut"]),
            price=Decimal(data["price"]),
            tx_signature=event.tx_signature,
            at=event.at,
            seq=event.seq,
            simulated=False,
        )

    @classmethod
    def from_domain(cls, fill: domain_fills.Fill) -> Fill:
        """Build from the domain fill."""
        return cls(
            amount_in=fill.amount_in,
            amount_out=fill.amount_out,
            price=fill.price,
            tx_signature=fill.tx_signature,
            at=fill.at,
            seq=fill.seq,
            simulated=fill.simulated,
        )


def _fills_of(order: domain.Order) -> list[Fill]:
    """Return the order's fills: recorded ones, or its single trade as one fill."""
    if order.fills:
        return [Fill.from_domain(f) for f in order.fills]
    whole = order.status is OrderStatus.CONFIRMED and order.type is not OrderType.TWAP
    if not whole or order.amount_out is None or order.executed_price is None:
        return []
    return [
        Fill(
            amount_in=order.filled_in or order.amount_in,
            amount_out=order.amount_out,
            price=order.executed_price,
            tx_signature=order.tx_signature,
            at=order.updated_at,
            seq=order.last_seq,
            simulated=order.simulated,
        )
    ]


def _twap_of(order: domain.Order) -> Twap | None:
    plan = order.twap
    if plan is None:
        return None
    return Twap(
        slices=plan.slices,
        duration_seconds=plan.duration_seconds,
        jitter_bps=plan.jitter_bps,
        next_slice_index=order.twap_next_slice,
        next_slice_at=order.twap_next_at,
    )


@strawberry.type(description="Relay page information.")
class PageInfo:
    """Relay page information."""

    has_next_page: bool = strawberry.field(description="More orders follow endCursor.")
    has_previous_page: bool = strawberry.field(description="Orders precede startCursor.")
    start_cursor: str | None = strawberry.field(
        description="Cursor of the first edge, null on an empty page."
    )
    end_cursor: str | None = strawberry.field(
        description="Cursor of the last edge: pass it as `after` for the next page."
    )


@strawberry.type(description="An order and its stable cursor.")
class OrderEdge:
    """An order and its stable cursor."""

    cursor: str = strawberry.field(
        description="Opaque cursor of this order; stays valid while new orders arrive."
    )
    node: Order = strawberry.field(description="The order.")


@strawberry.type(description="Orders, newest first, with stable cursors.")
class OrderConnection:
    """A page of orders."""

    edges: list[OrderEdge] = strawberry.field(description="The orders of this page, newest first.")
    page_info: PageInfo = strawberry.field(description="Where this page sits.")


@strawberry.type(description="A DEX venue the router quotes.")
class Venue:
    """A venue."""

    name: str = strawberry.field(description="Venue name, as routes and quotes name it.")
    kind: str = strawberry.field(
        description="Kind of pools the venue runs, e.g. concentrated liquidity."
    )
    pool_count: int = strawberry.field(description="Pools of the venue the router knows.")

    @classmethod
    def from_domain(cls, info: VenueInfo) -> Venue:
        """Build from the venue description."""
        return cls(name=info.name, kind=info.kind, pool_count=info.pool_count)


@strawberry.type(description="The order was accepted (or already existed for this clientOrderId).")
class OrderPlaced:
    """A placed order."""

    order: Order = strawberry.field(description="The order as stored.")


@strawberry.type(description="The order was refused; nothing was stored.")
class OrderRejected:
    """A refused order."""

    code: RejectionCode = strawberry.field(description="Why it was refused; switch on it.")
    message: str = strawberry.field(description="What was wrong, for people.")
    field: str | None = strawberry.field(description="The input field at fault, when one is.")
    retry_after_seconds: float | None = strawberry.field(
        default=None, description="RATE_LIMITED: seconds until a retry will be accepted."
    )


@strawberry.type(description="The order was cancelled.")
class OrderCancelled:
    """A cancelled order."""

    order: Order = strawberry.field(description="The order, now CANCELLED.")


@strawberry.type(description="The OCO group was accepted: both legs were stored.")
class OrderGroupPlaced:
    """A placed OCO group."""

    group: OrderGroup = strawberry.field(description="The group as stored, both legs PENDING.")


@strawberry.type(description="The legs of the OCO group that could still be cancelled were.")
class OrderGroupCancelled:
    """A cancelled OCO group."""

    group: OrderGroup = strawberry.field(
        description="The group after the cancel: a leg that had fired or finished is unchanged."
    )


@strawberry.type(description="The order could not be cancelled.")
class CancelRejected:
    """A refused cancellation."""

    code: RejectionCode = strawberry.field(description="Why it was refused; switch on it.")
    message: str = strawberry.field(description="What was wrong, for people.")
    retry_after_seconds: float | None = strawberry.field(
        default=None, description="RATE_LIMITED: seconds until a retry will be accepted."
    )


@strawberry.type(description="The route a market order would take now, and every venue's quote.")
class RouteQuote:
    """A route preview."""

    route: Route = strawberry.field(description="The route, with its floor at the given slippage.")
    quotes: list[Quote] = strawberry.field(
        description="Every venue's best single-pool quote for the whole amount."
    )


@strawberry.type(description="No route could be quoted.")
class QuoteRejected:
    """A refused quote."""

    code: RejectionCode = strawberry.field(description="Why no route was quoted; switch on it.")
    message: str = strawberry.field(description="What was wrong, for people.")
    retry_after_seconds: float | None = strawberry.field(
        default=None, description="RATE_LIMITED: seconds until a retry will be accepted."
    )


PlaceOrderResult = Annotated[
    OrderPlaced | OrderRejected,
    strawberry.union("PlaceOrderResult", description="The order placed, or why it was refused."),
]
CancelOrderResult = Annotated[
    OrderCancelled | CancelRejected,
    strawberry.union("CancelOrderResult", description="The order cancelled, or why it was not."),
]
PlaceOrderGroupResult = Annotated[
    OrderGroupPlaced | OrderRejected,
    strawberry.union(
        "PlaceOrderGroupResult",
        description="The group placed, or why it was refused (field names the leg).",
    ),
]
CancelOrderGroupResult = Annotated[
    OrderGroupCancelled | CancelRejected,
    strawberry.union(
        "CancelOrderGroupResult", description="The group's open legs cancelled, or why not."
    ),
]
QuoteResult = Annotated[
    RouteQuote | QuoteRejected,
    strawberry.union(
        "QuoteResult", description="The route a market order would take now, or why none."
    ),
]

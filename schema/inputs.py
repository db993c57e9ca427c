"""GraphQL inputs."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.schema.config import StrawberryConfig
from strawberry.types.arguments import InputContext
from strawberry.types.base import StrawberryOptional, StrawberryType, get_object_definition

from eterna.application.service import OrderRequest
from schema.types import OrderType


@strawberry.input(description="An order to place.")
class OrderInput:
    """An order to place."""

    type: OrderType = strawberry.field(
        description="MARKET, LIMIT, SNIPER, STOP_LOSS, TAKE_PROFIT, TRAILING_STOP or TWAP."
    )
    token_in: str = strawberry.field(description='Symbol ("SOL") or mint address.')
    token_out: str = strawberry.field(
        description="Symbol or mint; a SNIPER order may name a mint no venue lists yet."
    )
    amount_in: Decimal = strawberry.field(description="In tokenIn units, within its decimals.")
    slippage_bps: int | None = strawberry.field(
        default=None,
        description="A fixed tolerance below the route's expected output, 1..5000, default 50. "
        "Not with maxSlippageBps.",
    )
    max_slippage_bps: int | None = strawberry.field(
        default=None,
        description="Adaptive slippage, 1..5000: the engine picks each attempt's tolerance from "
        "the route's depth and the pools' recent moves and failures, widens it after a "
        "slippage failure, never above this cap (the ROUTING event says what it chose and "
        "why). Not with slippageBps.",
    )
    limit_price: Decimal | None = strawberry.field(
        default=None,
        description="LIMIT: minimum tokenOut per 1 tokenIn. STOP_LOSS, TAKE_PROFIT, "
        "TRAILING_STOP: optional floor once fired (a fill below it fails BELOW_LIMIT_PRICE, "
        "nothing swapped); for STOP_LOSS and TAKE_PROFIT at most triggerPrice. TWAP: optional "
        "floor of every slice (a slice whose best route pays less is skipped, nothing sent).",
    )
    trigger_price: Decimal | None = strawberry.field(
        default=None,
        description="STOP_LOSS (required): fire when the best route for the whole amountIn "
        "pays this many tokenOut per 1 tokenIn or less. TAKE_PROFIT (required): fire when it "
        "pays this or more. Positive, at most 18 decimals.",
    )
    trail_bps: int | None = strawberry.field(
        default=None,
        description="TRAILING_STOP (required), 1..5000: fire when the best route for the whole "
        "amountIn pays this many bps below the best price it paid since placement.",
    )
    slices: int | None = strawberry.field(
        default=None,
        description="TWAP (required), 1..100: how many slices amountIn is cut into (exactly, "
        "to the base unit; the last slice takes the remainder).",
    )
    duration_seconds: int | None = strawberry.field(
        default=None,
        description="TWAP (required), 1..604800: the slices are placed over this many "
        "seconds, slice k at k x durationSeconds / slices after placement.",
    )
    jitter_bps: int | None = strawberry.field(
        default=None,
        description="TWAP (optional), 0..5000: move each slice's time by up to this share of "
        "the interval between slices, either way (default 0).",
    )
    all_or_none: bool | None = strawberry.field(
        default=None,
        description="LIMIT: true fills the whole amountIn at once or not at all. False or "
        "unset: when the whole amount does not meet the limit, the largest part that does "
        "trades (at least minFillAmount) and the rest keeps resting. Only for LIMIT orders.",
    )
    min_fill_amount: Decimal | None = strawberry.field(
        default=None,
        description="LIMIT filling in parts: the least tokenIn one fill spends, from 1% of "
        "amountIn (an order fills in at most 100 parts) up to amountIn (what remains, when "
        "less is left); unset, a share of amountIn the server sets (1% by default). Not with "
        "allOrNone: true.",
    )
    min_liquidity: Decimal | None = strawberry.field(
        default=None, description="SNIPER: optional filter, in tokenIn units."
    )
    max_price_impact_bps: int | None = strawberry.field(
        default=None, description="Refuse routes that move the price more than this."
    )
    expires_at: datetime | None = strawberry.field(
        default=None,
        description="LIMIT, SNIPER and stops: when the order stops resting, at most the "
        "server's horizon ahead (30 days by default); unset, it expires at the horizon.",
    )
    client_order_id: str | None = strawberry.field(
        default=None,
        description="Idempotency key, unique per user: placing it again returns the same order.",
    )

    def to_request(self) -> OrderRequest:
        """Return the service request."""
        return OrderRequest(
            type=self.type,
            token_in=self.token_in,
            token_out=self.token_out,
            amount_in=self.amount_in,
            slippage_bps=self.slippage_bps,
            limit_price=self.limit_price,
            min_liquidity=self.min_liquidity,
            max_price_impact_bps=self.max_price_impact_bps,
            expires_at=self.expires_at,
            client_order_id=self.client_order_id,
            trigger_price=self.trigger_price,
            trail_bps=self.trail_bps,
            slices=self.slices,
            duration_seconds=self.duration_seconds,
            jitter_bps=self.jitter_bps,
            max_slippage_bps=self.max_slippage_bps,
            all_or_none=self.all_or_none,
            min_fill_amount=self.min_fill_amount,
        )


@strawberry.input(description="An OCO group to place: two resting orders, one position.")
class OrderGroupInput:
    """An OCO group to place."""

    legs: list[OrderInput] = strawberry.field(
        description="Exactly two legs, each LIMIT, STOP_LOSS, TAKE_PROFIT or TRAILING_STOP, "
        "spending the same tokenIn; a clientOrderId on each or on neither (placing the same "
        "two again returns the first group). The first to fire cancels the other."
    )

    def to_requests(self) -> list[OrderRequest]:
        """Return the service requests of the legs, in input order."""
        return [leg.to_request() for leg in self.legs]


_PLAIN = (str, int, bool, Decimal, datetime)

_Table = list[tuple[str, str, StrawberryType | type | None]]


def _needs_converting(type_: StrawberryType | type) -> StrawberryType | type | None:
    """Return the field's type when its parsed value still needs converting, else None.

    graphql-core hands scalars and enums over already parsed: those values are final.
    """
    plain = type_.of_type if isinstance(type_, StrawberryOptional) else type_
    if plain in _PLAIN or (isinstance(plain, type) and issubclass(plain, enum.Enum)):
        return None
    return type_


def plain_builder(cls: type) -> Callable[[type, Mapping[str, Any], InputContext], Any]:
    """Return a ``from_input`` hook that builds an input type straight from its value.

    strawberry's generic conversion resolves every field's type and GraphQL name again for
    every value: about 80 µs per order on the benchmark machine, 8 ms for a batch of 100.
    This one resolves them once per schema configuration; a field of a kind that is not a
    scalar or an enum is still converted by strawberry.
    """
    definition = get_object_definition(cls, strict=True)
    tables: dict[int, tuple[StrawberryConfig, _Table]] = {}

    def table(config: StrawberryConfig) -> _Table:
        held = tables.get(id(config))
        if held is None or held[0] is not config:
            rows = [
                (
                    config.name_converter.from_field(field),
                    field.python_name,
                    _needs_converting(field.resolve_type(type_definition=definition)),
                )
                for field in definition.fields
            ]
            held = tables[id(config)] = (config, rows)
        return held[1]

    def build(target: type, value: Mapping[str, Any], context: InputContext) -> Any:
        kwargs: dict[str, Any] = {}
        for name, python_name, convert in table(context.config):
            if name in value:
                raw = value[name]
                kwargs[python_name] = (
                    raw if convert is None or raw is None else context.convert(raw, convert, name)
                )
        return target(**kwargs)

    return build


get_object_definition(OrderInput, strict=True).from_input = plain_builder(OrderInput)

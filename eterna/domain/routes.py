"""Quotes and routes: what each venue offers and the path the router chose.

Values are exact decimals in token units; ``to_json``/``from_json`` give the form persisted on
order events and published to subscribers.

A route's shape follows from its legs, so it is never stored apart from them:

- single: one leg ``tokenIn -> tokenOut``;
- split: several legs ``tokenIn -> tokenOut``, each through a different pool with its own
  ``amountIn``; the amounts add up to the route's ``amountIn``;
- two_hop: ``tokenIn -> mid -> tokenOut``: first the legs spending ``tokenIn`` (one pool, or
  a split of that pair), then the legs spending ``mid``, which together spend exactly what
  the first hop pays out (their ``amountIn`` is what the router expects that to be). With
  one pool per hop that is two legs;
- multi: several paths at once, each spending its own share of ``tokenIn``: direct legs
  ``tokenIn -> tokenOut`` and, per hub, a two-hop path as above (its first hop's legs, then
  the legs spending that hub). The paths share no pool.

``kind`` is written to JSON for readers and derived again on reading, so JSON written before
the field existed reads back unchanged.

Two costs are recorded, both in bps, rounded up:

- ``price_impact_bps``: how far the fills fall below the pools' own spot prices, fee
  excluded (how much the order moves the price it trades at; see
  :mod:`eterna.routing.candidates`);
- ``all_in_cost_bps``: how far the output falls below ``amountIn`` at the reference mid
  price, everything included: fees, impact, and a worse price on the pools taken than on
  the best one. The reference mid is the best spot price, fee excluded, of any path of the
  pair the router saw (a direct pool, or the product of a hub path's two best spot
  prices). None on routes and quotes recorded before it existed, or when no venue
  reported a spot price.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from eterna.domain.tokens import Token, format_amount


def _token_json(token: Token) -> dict[str, Any]:
    return {"mint": token.mint, "symbol": token.symbol, "decimals": token.decimals}


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _token_from(data: dict[str, Any]) -> Token:
    return Token(mint=data["mint"], symbol=data["symbol"], decimals=int(data["decimals"]))


@dataclass(frozen=True, slots=True)
class Quote:
    """The best a single pool of one venue pays for the whole amount."""

    venue: str
    pool: str
    amount_in: Decimal
    amount_out: Decimal
    fee: Decimal
    price_impact_bps: int
    all_in_cost_bps: int | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "venue": self.venue,
            "pool": self.pool,
            "amountIn": format_amount(self.amount_in),
            "amountOut": format_amount(self.amount_out),
            "fee": format_amount(self.fee),
            "priceImpactBps": self.price_impact_bps,
            "allInCostBps": self.all_in_cost_bps,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Quote:
        """Rebuild from the JSON form."""
        return cls(
            venue=data["venue"],
            pool=data["pool"],
            amount_in=Decimal(data["amountIn"]),
            amount_out=Decimal(data["amountOut"]),
            fee=Decimal(data["fee"]),
            price_impact_bps=int(data["priceImpactBps"]),
            all_in_cost_bps=_optional_int(data.get("allInCostBps")),
        )


@dataclass(frozen=True, slots=True)
class RouteLeg:
    """One swap through one pool; fee is in tokenIn units."""

    venue: str
    pool: str
    token_in: Token
    token_out: Token
    amount_in: Decimal
    amount_out: Decimal
    fee: Decimal

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "venue": self.venue,
            "pool": self.pool,
            "tokenIn": _token_json(self.token_in),
            "tokenOut": _token_json(self.token_out),
            "amountIn": format_amount(self.amount_in),
            "amountOut": format_amount(self.amount_out),
            "fee": format_amount(self.fee),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RouteLeg:
        """Rebuild from the JSON form."""
        return cls(
            venue=data["venue"],
            pool=data["pool"],
            token_in=_token_from(data["tokenIn"]),
            token_out=_token_from(data["tokenOut"]),
            amount_in=Decimal(data["amountIn"]),
            amount_out=Decimal(data["amountOut"]),
            fee=Decimal(data["fee"]),
        )


class RouteKind(enum.StrEnum):
    """The shape of a route."""

    SINGLE = "single"
    SPLIT = "split"
    TWO_HOP = "two_hop"
    MULTI = "multi"


@dataclass(frozen=True, slots=True)
class Route:
    """The chosen path: its legs, expected output and the floor slippage allows."""

    token_in: Token
    token_out: Token
    amount_in: Decimal
    amount_out: Decimal
    min_amount_out: Decimal
    price_impact_bps: int
    legs: tuple[RouteLeg, ...]
    all_in_cost_bps: int | None = None

    @property
    def kind(self) -> RouteKind:
        """Return the route's shape, read from its legs."""
        if len(self.legs) == 1:
            return RouteKind.SINGLE
        if all(leg.token_in == self.token_in for leg in self.legs):
            return RouteKind.SPLIT
        middles = {leg.token_out for leg in self.legs if leg.token_out != self.token_out}
        direct = any(
            leg.token_in == self.token_in and leg.token_out == self.token_out for leg in self.legs
        )
        return RouteKind.MULTI if direct or len(middles) > 1 else RouteKind.TWO_HOP

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "kind": self.kind.value,
            "tokenIn": _token_json(self.token_in),
            "tokenOut": _token_json(self.token_out),
            "amountIn": format_amount(self.amount_in),
            "amountOut": format_amount(self.amount_out),
            "minAmountOut": format_amount(self.min_amount_out),
            "priceImpactBps": self.price_impact_bps,
            "allInCostBps": self.all_in_cost_bps,
            "legs": [leg.to_json() for leg in self.legs],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Route:
        """Rebuild from the JSON form (``kind`` is derived from the legs, so it may be absent)."""
        return cls(
            token_in=_token_from(data["tokenIn"]),
            token_out=_token_from(data["tokenOut"]),
            amount_in=Decimal(data["amountIn"]),
            amount_out=Decimal(data["amountOut"]),
            min_amount_out=Decimal(data["minAmountOut"]),
            price_impact_bps=int(data["priceImpactBps"]),
            legs=tuple(RouteLeg.from_json(leg) for leg in data["legs"]),
            all_in_cost_bps=_optional_int(data.get("allInCostBps")),
        )

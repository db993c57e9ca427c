"""The router: quote every venue at once, keep the best net output.

A later step adds split and two-hop routes; the decision keeps every venue's best quote so
clients can see why a route won.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from eterna.errors import NoRouteError, VenueError, VenueUnavailableError
from eterna.routes import Quote, Route, RouteLeg
from eterna.tokens import Token
from eterna.venues.base import PoolQuote, VenueAdapter

log = logging.getLogger(__name__)

BPS = 10_000


@dataclass(frozen=True, slots=True)
class RoutingDecision:
    """The chosen route and the best quote of every venue that answered."""

    route: Route
    quotes: tuple[Quote, ...]
    pool_quotes: tuple[PoolQuote, ...]


def min_amount_out(amount_out: int, slippage_bps: int) -> int:
    """Return the floor slippage allows, rounded down to a base unit."""
    return amount_out * (BPS - slippage_bps) // BPS


def _to_quote(q: PoolQuote) -> Quote:
    return Quote(
        venue=q.venue,
        pool=q.pool,
        amount_in=q.token_in.from_base_units(q.amount_in),
        amount_out=q.token_out.from_base_units(q.amount_out),
        fee=q.token_in.from_base_units(q.fee),
        price_impact_bps=q.price_impact_bps,
    )


class Router:
    """Find the best route for an exact-in swap across venues."""

    def __init__(self, venues: Sequence[VenueAdapter]) -> None:
        self._venues = tuple(venues)

    @property
    def venues(self) -> tuple[VenueAdapter, ...]:
        """Return the venues this router quotes."""
        return self._venues

    async def route(
        self,
        token_in: Token,
        token_out: Token,
        amount_in: Decimal,
        *,
        slippage_bps: int,
        max_price_impact_bps: int | None = None,
    ) -> RoutingDecision:
        """Quote every venue concurrently and return the best single-pool route.

        :raises NoRouteError: when no pool trades the pair for this amount, or none within
            ``max_price_impact_bps``.
        :raises VenueUnavailableError: when every venue failed to answer.
        """
        units = token_in.to_base_units(amount_in)
        answers = await asyncio.gather(
            *(v.quote(token_in, token_out, units) for v in self._venues), return_exceptions=True
        )
        pool_quotes: list[PoolQuote] = []
        failures = 0
        for venue, answer in zip(self._venues, answers, strict=True):
            if isinstance(answer, VenueError):
                failures += 1
                log.warning("venue %s did not quote: %s", venue.name, answer)
            elif isinstance(answer, BaseException):
                raise answer
            else:
                pool_quotes.extend(answer)
        if not pool_quotes:
            if failures and failures == len(self._venues):
                raise VenueUnavailableError("no venue answered")
            raise NoRouteError(f"no pool trades {token_in.label} for {token_out.label}")
        best_per_venue: dict[str, PoolQuote] = {}
        for q in pool_quotes:
            held = best_per_venue.get(q.venue)
            if held is None or q.amount_out > held.amount_out:
                best_per_venue[q.venue] = q
        candidates = [
            q
            for q in pool_quotes
            if max_price_impact_bps is None or q.price_impact_bps <= max_price_impact_bps
        ]
        if not candidates:
            raise NoRouteError(f"every route moves the price more than {max_price_impact_bps} bps")
        # Ties go to the lower price impact, then to the pool address, so routing is stable.
        best = max(candidates, key=lambda q: (q.amount_out, -q.price_impact_bps, q.pool))
        route = Route(
            token_in=token_in,
            token_out=token_out,
            amount_in=token_in.from_base_units(best.amount_in),
            amount_out=token_out.from_base_units(best.amount_out),
            min_amount_out=token_out.from_base_units(min_amount_out(best.amount_out, slippage_bps)),
            price_impact_bps=best.price_impact_bps,
            legs=(
                RouteLeg(
                    venue=best.venue,
                    pool=best.pool,
                    token_in=token_in,
                    token_out=token_out,
                    amount_in=token_in.from_base_units(best.amount_in),
                    amount_out=token_out.from_base_units(best.amount_out),
                    fee=token_in.from_base_units(best.fee),
                ),
            ),
        )
        quotes = tuple(
            _to_quote(q) for q in sorted(best_per_venue.values(), key=lambda q: -q.amount_out)
        )
        log.info(
            "routed %s %s->%s via %s/%s out=%s impact=%dbps (%d venues quoted)",
            amount_in,
            token_in.label,
            token_out.label,
            best.venue,
            best.pool,
            route.amount_out,
            best.price_impact_bps,
            len(best_per_venue),
        )
        return RoutingDecision(route=route, quotes=quotes, pool_quotes=tuple(pool_quotes))

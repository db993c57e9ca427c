"""The router: quote every venue at once, keep the route that pays the most.

Candidates for an exact-in swap of ``tokenIn`` for ``tokenOut``:

- single: the whole amount through one pool of the pair;
- split: the amount spread over several pools of the pair, each at most once, by greedy
  water-filling over a grid of ``chunks`` equal chunks (:mod:`eterna.routing.split`);
- two-hop: ``tokenIn -> hub -> tokenOut`` for each hub (SOL and USDC by default) that is not
  one of the pair. It is how a pair without a direct pool trades, and it wins over direct
  routes only when it pays more. Each hop goes through its best pool, or is itself split
  the same way when that pays more, so a larger order never has to squeeze through a pool
  that ran dry: the second hop spends exactly what the first paid out.

The best output wins; ties go to fewer legs (:mod:`eterna.routing.candidates`). A route moving the
price more than ``max_price_impact_bps`` is not a candidate. ``max_legs`` caps the swaps of a
route, for a chain whose transaction holds only so many (a Solana transaction without lookup
tables holds two of these programs' swaps): a split then uses at most that many pools, a
two-hop at most that many across both hops.

Venue calls, each a request to a remote venue one day, happen in two concurrent rounds, at
most ``V·(1 + 2H)`` for V venues and H usable hubs (15 for three venues and two hubs):

1. per venue, one ``quote_amounts`` of the pair and one of ``tokenIn -> hub`` for each hub,
   at the chunk ladder (whose top is the whole amount, so it gives the single-pool quotes);
2. per venue and hub, one ``quote_amounts`` of ``hub -> tokenOut`` at the ladder of what the
   first hop pays out.

A venue that fails (VenueError) is skipped and logged. When every call of the first round
fails, or nothing routes while some call failed, the router raises VenueUnavailableError
(transient: retry later); when every venue answered and nothing routes, NoRouteError.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from eterna.domain.errors import NoRouteError, VenueError, VenueUnavailableError
from eterna.domain.routes import Quote, Route, RouteKind
from eterna.domain.tokens import SOL, USDC, Token
from eterna.routing import candidates, split
from eterna.routing.candidates import Candidate, min_amount_out
from eterna.routing.venues import PoolQuote, VenueAdapter

log = logging.getLogger(__name__)

__all__ = ["Router", "RoutingDecision", "min_amount_out"]


@dataclass(frozen=True, slots=True)
class RoutingDecision:
    """The chosen route and what it was chosen from.

    ``quotes`` holds every venue's best single pool for the pair and ``pool_quotes`` every
    pool's quote for the whole amount (both empty when no pool trades the pair directly);
    ``considered`` the best route of each kind found, before the price-impact filter;
    ``venue_calls`` how many venue calls the decision took.
    """

    route: Route
    quotes: tuple[Quote, ...]
    pool_quotes: tuple[PoolQuote, ...]
    considered: tuple[Route, ...] = ()
    venue_calls: int = 0


def _to_quote(q: PoolQuote) -> Quote:
    return Quote(
        venue=q.venue,
        pool=q.pool,
        amount_in=q.token_in.from_base_units(q.amount_in),
        amount_out=q.token_out.from_base_units(q.amount_out),
        fee=q.token_in.from_base_units(q.fee),
        price_impact_bps=q.price_impact_bps,
    )


def _flatten(answers: Sequence[list[PoolQuote] | None]) -> list[PoolQuote]:
    return [q for answer in answers for q in answer or ()]


Request = tuple[VenueAdapter, Awaitable[list[PoolQuote]]]


class _Calls:
    """Venue calls made a round at a time; a VenueError is logged and counted, not raised."""

    def __init__(self) -> None:
        self.made = 0
        self.failed = 0

    async def run(self, requests: Sequence[Request]) -> list[list[PoolQuote] | None]:
        self.made += len(requests)
        answers = await asyncio.gather(*(call for _, call in requests), return_exceptions=True)
        results: list[list[PoolQuote] | None] = []
        for (venue, _), answer in zip(requests, answers, strict=True):
            if isinstance(answer, VenueError):
                self.failed += 1
                log.warning("venue %s did not quote: %s", venue.name, answer)
                results.append(None)
            elif isinstance(answer, BaseException):
                raise answer
            else:
                results.append(answer)
        return results


def _plan(
    amount: int, quotes: Sequence[PoolQuote], chunks: int, max_pools: int | None = None
) -> tuple[PoolQuote, ...]:
    """Return the legs of the best allocation of amount over the quoted pools, or ().

    With ``max_pools``, an allocation over more pools is made again over the ones it gave
    the most chunks to (ties: the pool listed first).
    """
    by_pool: dict[str, dict[int, PoolQuote]] = {}
    for q in quotes:
        by_pool.setdefault(q.pool, {})[q.amount_in] = q
    grid = split.points(amount, chunks)
    outputs = {
        pool: [quoted[a].amount_out if a in quoted else None for a in grid]
        for pool, quoted in sorted(by_pool.items())
    }
    allocation = split.allocate(outputs, len(grid))
    if max_pools is not None and len(allocation) > max_pools:
        kept = sorted(allocation, key=lambda pool: -allocation[pool])[:max_pools]
        allocation = split.allocate({pool: outputs[pool] for pool in kept}, len(grid))
    if not allocation:
        return ()
    legs = [
        by_pool[pool].get(leg_amount)
        for pool, leg_amount in split.leg_amounts(amount, allocation, len(grid)).items()
    ]
    # A hole only where a pool fills n chunks but not n chunks plus the rounding remainder.
    return tuple(q for q in legs if q is not None) if None not in legs else ()


class Router:
    """Find the best route for an exact-in swap across venues."""

    def __init__(
        self,
        venues: Sequence[VenueAdapter],
        *,
        hubs: Sequence[Token] = (SOL, USDC),
        chunks: int = split.DEFAULT_CHUNKS,
        max_legs: int | None = None,
    ) -> None:
        if chunks < 2:
            raise ValueError("a split needs at least two chunks")
        if max_legs is not None and max_legs < 1:
            raise ValueError("a route has at least one leg")
        self._venues = tuple(venues)
        self._hubs = tuple(hubs)
        self._chunks = chunks
        self._max_legs = max_legs

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
        """Quote every venue concurrently and return the best single, split or two-hop route.

        :raises NoRouteError: when no route trades the pair for this amount, or none within
            ``max_price_impact_bps``.
        :raises VenueUnavailableError: when venues failed and nothing routes without them.
        """
        units = token_in.to_base_units(amount_in)
        hubs = [h for h in self._hubs if h.mint not in (token_in.mint, token_out.mint)]
        calls = _Calls()
        found, whole = await self._candidates(token_in, token_out, units, hubs, calls)
        if not found:
            if calls.failed:
                raise VenueUnavailableError(
                    f"no route among the venues that answered ({calls.failed} calls failed)"
                )
            raise NoRouteError(
                f"no pool fills {amount_in} {token_in.label} for {token_out.label}, directly "
                f"or through {', '.join(h.label for h in hubs) or 'a hub'}"
            )
        allowed = [
            c
            for c in found
            if max_price_impact_bps is None or c.price_impact_bps <= max_price_impact_bps
        ]
        if not allowed:
            raise NoRouteError(f"every route moves the price more than {max_price_impact_bps} bps")
        best = max(allowed, key=Candidate.rank)
        best_of_kind: dict[RouteKind, Candidate] = {}
        for c in found:
            held = best_of_kind.get(c.kind)
            if held is None or c.rank() > held.rank():
                best_of_kind[c.kind] = c
        per_venue: dict[str, PoolQuote] = {}
        for q in whole:
            if q.venue not in per_venue or q.amount_out > per_venue[q.venue].amount_out:
                per_venue[q.venue] = q
        route = best.to_route(slippage_bps)
        log.info(
            "routed %s %s->%s %s via %s out=%s impact=%dbps (%d candidates, %d venue calls)",
            amount_in,
            token_in.label,
            token_out.label,
            best.kind.value,
            best.describe(),
            route.amount_out,
            best.price_impact_bps,
            len(found),
            calls.made,
        )
        return RoutingDecision(
            route=route,
            quotes=tuple(
                _to_quote(q) for q in sorted(per_venue.values(), key=lambda q: -q.amount_out)
            ),
            pool_quotes=tuple(whole),
            considered=tuple(c.to_route(slippage_bps) for c in best_of_kind.values()),
            venue_calls=calls.made,
        )

    async def _candidates(
        self, token_in: Token, token_out: Token, units: int, hubs: Sequence[Token], calls: _Calls
    ) -> tuple[list[Candidate], list[PoolQuote]]:
        """Run both rounds of calls; return every candidate and the whole-amount pool quotes."""
        venues, n, chunks = self._venues, len(self._venues), self._chunks
        ladder = split.ladder(units, chunks)
        first = await calls.run(
            [(v, v.quote_amounts(token_in, token_out, ladder)) for v in venues]
            + [(v, v.quote_amounts(token_in, hub, ladder)) for hub in hubs for v in venues]
        )
        if calls.failed == calls.made:
            raise VenueUnavailableError("no venue answered")
        direct = [q for q in _flatten(first[:n]) if q.token_out == token_out]
        whole = [q for q in direct if q.amount_in == units]
        found = [candidates.single(q) for q in whole]
        chunked = _plan(units, direct, chunks, self._max_legs)
        if len(chunked) > 1:
            found.append(candidates.split(chunked))
        # The first hop leaves at least one leg to the second.
        first_pools = None if self._max_legs is None else self._max_legs - 1
        starts = []
        for i, hub in enumerate(hubs, start=1):
            if first_pools == 0:
                break
            hop = _plan(
                units,
                [q for q in _flatten(first[i * n : i * n + n]) if q.token_out == hub],
                chunks,
                first_pools,
            )
            if hop:
                starts.append(hop)
        middles = [sum(q.amount_out for q in hop) for hop in starts]
        second = await calls.run(
            [
                (v, v.quote_amounts(hop[0].token_out, token_out, split.ladder(middle, chunks)))
                for hop, middle in zip(starts, middles, strict=True)
                for v in venues
            ]
        )
        for i, (hop, middle) in enumerate(zip(starts, middles, strict=True)):
            onward = [q for q in _flatten(second[i * n : i * n + n]) if q.token_out == token_out]
            left = None if self._max_legs is None else self._max_legs - len(hop)
            last = _plan(middle, onward, chunks, left)
            if last:
                found.append(candidates.two_hop(hop, last))
        return found, whole

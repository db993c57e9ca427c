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

- joint: one allocation over every family at once (each direct pool, each hub path with
  both hops split), where the marginal outputs are equal (:mod:`eterna.routing.joint`): a
  ``multi`` route when it mixes families. It is refined on windows of quotes around it and
  then quoted leg by leg, and tried only when the best candidate above is more than
  :data:`SETTLED` below the ceiling of what any allocation could pay (the amount at the best
  family's spot price less fees); only pools whose ceiling reaches the allocation's marginal
  output are quoted again.

The best output wins; ties go to fewer legs (:mod:`eterna.routing.candidates`). A route moving
the price more than ``max_price_impact_bps`` is not a candidate. ``max_legs`` caps the swaps
of a route, for a chain whose transaction holds only so many (a Solana transaction holds two
of these programs' swaps without lookup tables, four with margin with the pools' tables:
``CHAIN_MAX_LEGS`` of :mod:`eterna.entrypoints.market`): a split then uses at most that many pools,
a two-hop at most that many across both hops, and the joint allocation is made over the best
candidate's own pools only.

Venue calls, each a request to a remote venue one day, happen in concurrent rounds:

1. per venue, one ``quote_amounts`` of the pair and one of ``tokenIn -> hub`` for each hub,
   at the chunk ladder (whose top is the whole amount, so it gives the single-pool quotes);
2. per venue and hub, one ``quote_amounts`` of ``hub -> tokenOut`` at the ladder of what the
   first hop pays out;
3. for the joint allocation, up to ``refinements`` rounds of windows (one call per venue and
   pair of any family), one quoting the direct and first-hop legs exactly (with a last
   window on the second hops), one quoting the second hops exactly.

That is at most ``V·(1 + 2H)`` calls for V venues and H usable hubs without the joint
allocation (15 for three venues and two hubs) and ``V·(1 + 2H)·(refinements + 2) + V·H``
with it (81): :meth:`Router.venue_call_bound`.

A venue that fails (VenueError) is skipped and logged. When every call of the first round
fails, or nothing routes while some call failed, the router raises VenueUnavailableError
(transient: retry later); when every venue answered and nothing routes, NoRouteError. The
decision's quotes and route carry the all-in cost against the best spot price, fee excluded,
of any family (:func:`eterna.routing.candidates.all_in_cost_bps`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from eterna.domain.errors import NoRouteError, VenueError, VenueUnavailableError
from eterna.domain.routes import Quote, Route, RouteKind
from eterna.domain.tokens import SOL, USDC, Token
from eterna.routing import candidates, joint, split
from eterna.routing.candidates import Candidate, min_amount_out
from eterna.routing.venues import PoolQuote, VenueAdapter

log = logging.getLogger(__name__)

BPS = 10_000

# Rounds of windows quoted around the joint allocation before it is quoted exactly, and the
# points on each side of an amount in a window.
DEFAULT_REFINEMENTS = 3
DEFAULT_WINDOW = 6

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


def _to_quote(q: PoolQuote, mid: Fraction | None) -> Quote:
    return Quote(
        venue=q.venue,
        pool=q.pool,
        amount_in=q.token_in.from_base_units(q.amount_in),
        amount_out=q.token_out.from_base_units(q.amount_out),
        fee=q.token_in.from_base_units(q.fee),
        price_impact_bps=q.price_impact_bps,
        all_in_cost_bps=candidates.all_in_cost_bps(q.amount_in, q.amount_out, mid),
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


Pair = tuple[str, str]
# Amounts to quote, by pool and pair.
_Wanted = dict[tuple[str, Pair], set[int]]


class _Book:
    """Every quote of a decision, by pair, pool and amount; and the venue of each pool.

    A later quote of the same pool and amount replaces an earlier one, so a leg is always
    the latest quote of its amount.
    """

    def __init__(self) -> None:
        self.quotes: dict[Pair, dict[str, dict[int, PoolQuote]]] = {}
        self.venue_of: dict[str, VenueAdapter] = {}
        # The least amount each pool was asked and could not fill (past its capacity).
        self.unfilled: dict[str, int] = {}

    def add(
        self, venue: VenueAdapter, quotes: Sequence[PoolQuote], asked: Iterable[int] = ()
    ) -> None:
        """Keep the quotes; an amount asked that a pool answered none for did not fill."""
        pools: set[str] = set()
        for q in quotes:
            pair = (q.token_in.mint, q.token_out.mint)
            self.quotes.setdefault(pair, {}).setdefault(q.pool, {})[q.amount_in] = q
            self.venue_of[q.pool] = venue
            pools.add(q.pool)
        asked = sorted(asked)
        for pool in pools:
            filled = {q.amount_in for q in quotes if q.pool == pool}
            missed = next((a for a in asked if a not in filled), None)
            if missed is not None and missed < self.unfilled.get(pool, missed + 1):
                self.unfilled[pool] = missed

    def capacity_gap(self, pair: Pair, pool: str) -> tuple[int, int] | None:
        """Return the most a pool filled and the least it did not, when it failed above."""
        quoted = self.quotes.get(pair, {}).get(pool, {})
        failed = self.unfilled.get(pool)
        top = max(quoted, default=0)
        return (top, failed) if failed is not None and failed > top + 1 else None

    def points(self, pair: Pair, allowed: set[str] | None) -> dict[str, dict[int, int]]:
        """Return each pool's quoted (input -> output) points for the pair."""
        return {
            pool: {a: q.amount_out for a, q in quoted.items()}
            for pool, quoted in sorted(self.quotes.get(pair, {}).items())
            if allowed is None or pool in allowed
        }

    def pools(self, pair: Pair, allowed: set[str] | None) -> list[str]:
        """Return the pools quoted for the pair, sorted."""
        return sorted(p for p in self.quotes.get(pair, {}) if allowed is None or p in allowed)

    def leg(self, pair: Pair, pool: str, amount: int) -> PoolQuote | None:
        return self.quotes.get(pair, {}).get(pool, {}).get(amount)

    def pool_rate(self, pair: Pair, pool: str) -> float | None:
        """Return what a pool's first unit pays at most, as a float (None: nothing quoted)."""
        rate = _marginal(self.quotes.get(pair, {}).get(pool, {}).values(), fees=True)
        return None if rate is None else float(rate)

    def rate(self, pair: Pair, *, fees: bool, allowed: set[str] | None) -> Fraction | None:
        """Return the best of :func:`_marginal` over the pair's pools."""
        best: Fraction | None = None
        for pool, quoted in self.quotes.get(pair, {}).items():
            if allowed is not None and pool not in allowed:
                continue
            rate = _marginal(quoted.values(), fees=fees)
            if rate is not None and (best is None or rate > best):
                best = rate
        return best


def _marginal(quotes: Iterable[PoolQuote], *, fees: bool) -> Fraction | None:
    """Return a pool's spot price (less its lowest fee rate quoted, with ``fees``).

    Without fees, None when the venue gave no spot. With fees, a ceiling on what its first
    unit pays; without a spot, from the quote of least impact: ``out / in`` over
    ``1 - impact``, which the impact rounded up makes an upper bound.
    """
    quoted = list(quotes)
    if not quoted:
        return None
    spot = next((q.spot for q in quoted if q.spot is not None), None)
    if spot is not None:
        if not fees:
            return spot
        lowest = min(quoted, key=lambda q: q.fee / q.amount_in)
        return spot * (1 - Fraction(lowest.fee, lowest.amount_in))
    if not fees:
        return None
    least = min(quoted, key=lambda q: (q.price_impact_bps, q.amount_in))
    if least.price_impact_bps >= BPS:
        return None
    return Fraction(least.amount_out * BPS, least.amount_in * (BPS - least.price_impact_bps))


# How close (in parts of the output) the best route found must come to the ceiling of what
# any allocation could pay for the joint allocation not to be tried: 0.5 bps.
SETTLED = Fraction(1, 20_000)
# A refinement that raises the estimated output by less than 1/CONVERGED (0.01 bps) is the
# last one.
CONVERGED = 1_000_000


class _Families:
    """The route families of a swap: the direct pair, and per hub its two pairs."""

    def __init__(self, token_in: Token, token_out: Token, hubs: Sequence[Token]) -> None:
        self.direct: Pair = (token_in.mint, token_out.mint)
        self.paths = {h.mint: ((token_in.mint, h.mint), (h.mint, token_out.mint)) for h in hubs}
        self.tokens = {token_in.mint: token_in, token_out.mint: token_out}
        self.tokens |= {h.mint: h for h in hubs}
        self.token_in = token_in.mint

    def rate(self, book: _Book, *, fees: bool, allowed: set[str] | None = None) -> Fraction | None:
        """Return the best price at the margin of any family (None when none is known).

        Fee excluded: the reference mid of the all-in cost. With ``fees``, each pool's
        ceiling (:func:`_marginal`): what a unit pays at most at the margin, so the amount
        times it bounds every allocation's output (outputs are concave).
        """
        best = book.rate(self.direct, fees=fees, allowed=allowed)
        for first, second in self.paths.values():
            a = book.rate(first, fees=fees, allowed=allowed)
            b = book.rate(second, fees=fees, allowed=allowed)
            if a is not None and b is not None and (best is None or a * b > best):
                best = a * b
        return best

    def may_open(self, book: _Book, hub: str, marginal: float) -> bool:
        """Tell whether a hub path left out could pay its first unit above the marginal."""
        first, second = self.paths[hub]
        a = book.rate(first, fees=True, allowed=None)
        b = book.rate(second, fees=True, allowed=None)
        return a is None or b is None or float(a * b) >= marginal

    def settled(self, book: _Book, units: int, amount_out: int, allowed: set[str] | None) -> bool:
        """Tell whether amount_out is within :data:`SETTLED` of any allocation's ceiling."""
        rate = self.rate(book, fees=True, allowed=allowed)
        if rate is None:
            return False
        ceiling = units * rate
        return ceiling <= 0 or (ceiling - amount_out) <= ceiling * SETTLED


def _may_take_part(
    alloc: joint.Allocation, families: _Families, book: _Book, pair: Pair, pool: str
) -> bool:
    """Tell whether a pool the allocation leaves out could pay enough to take part.

    Its best rate at the margin (spot less fee) against what the last unit pays now: a
    direct pool against the allocation's marginal, a first hop's times its hub's best
    second-hop rate against it too, a second hop's against its hub's own marginal.
    """
    rate = book.pool_rate(pair, pool)
    if rate is None:
        return True
    if pair == families.direct:
        return rate >= alloc.marginal
    if pair[0] == families.token_in:
        onward = book.rate(families.paths[pair[1]][1], fees=True, allowed=None)
        return onward is None or rate * onward >= alloc.marginal
    return rate >= alloc.second_marginal.get(pair[0], 0.0)


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


class _Search:
    """The state of one joint allocation: the families, their quotes, the windows' steps."""

    def __init__(
        self,
        router: Router,
        families: _Families,
        units: int,
        book: _Book,
        allowed: set[str] | None,
    ) -> None:
        self.families, self.units, self.book, self.allowed = families, units, book, allowed
        self.chunks, self.window = router.chunks, router.window
        self.cache: joint.Cache = {}
        self.chunk_mid: dict[str, int] = {}

    def solve(self) -> joint.Allocation | None:
        """Return the best allocation on every quote so far."""
        book, allowed = self.book, self.allowed
        return joint.solve(
            self.units,
            book.points(self.families.direct, allowed),
            {
                hub: (book.points(first, allowed), book.points(second, allowed))
                for hub, (first, second) in self.families.paths.items()
            },
            self.cache,
        )

    def _mid_chunk(self, alloc: joint.Allocation, hub: str) -> int:
        # A chunk of the middle of the first allocation that uses the hub, or for a hub
        # left out of it, of the most its second hop was quoted at.
        if hub not in self.chunk_mid:
            if hub in alloc.middle:
                top = alloc.middle[hub]
            else:
                quoted = self.book.points(self.families.paths[hub][1], self.allowed).values()
                top = max((max(points, default=0) for points in quoted), default=0)
            self.chunk_mid[hub] = top // self.chunks
        return self.chunk_mid[hub]

    def windows(
        self, alloc: joint.Allocation, level: int, *, spends_in: bool, exact: bool
    ) -> _Wanted:
        """Return the amounts to quote around the allocation (or, exact, its own amounts).

        ``spends_in``: the pools spending tokenIn (direct and first hops), else the second
        hops. A pool the allocation leaves out is quoted only when it may take part.
        """
        families, book = self.families, self.book
        shares = [(families.direct, alloc.direct)] if spends_in else []
        for hub, (first, second) in families.paths.items():
            if spends_in:
                shares.append((first, alloc.first.get(hub, {})))
            elif hub in alloc.middle or families.may_open(book, hub, alloc.marginal):
                shares.append((second, alloc.second.get(hub, {})))
        wanted: _Wanted = {}
        for pair, share in shares:
            width = self.units // self.chunks if spends_in else self._mid_chunk(alloc, pair[0])
            for pool in book.pools(pair, self.allowed):
                amount = share.get(pool, 0)
                if amount == 0 and not _may_take_part(alloc, families, book, pair, pool):
                    continue
                if exact:
                    points = [amount] if amount > 0 else []
                else:
                    points = joint.window(amount, width // self.window**level, self.window)
                    if level == 1:
                        # And a ladder up to the amount: for a small share, the coarse
                        # ladder's first chord overstates the marginal just below the
                        # window, which would hold the allocation at the window's edge.
                        ladder = (amount * j // self.window for j in range(1, self.window))
                        points += [a for a in ladder if a > 0]
                    gap = book.capacity_gap(pair, pool)
                    if gap is not None and amount + width // self.window**level >= gap[0]:
                        # At the most it is known to fill: close in on its capacity.
                        top, failed = gap
                        n = self.window + 1
                        points += [top + (failed - top) * j // n for j in range(1, n)]
                wanted.setdefault((pool, pair), set()).update(points)
        return wanted


class Router:
    """Find the best route for an exact-in swap across venues."""

    def __init__(
        self,
        venues: Sequence[VenueAdapter],
        *,
        hubs: Sequence[Token] = (SOL, USDC),
        chunks: int = split.DEFAULT_CHUNKS,
        max_legs: int | None = None,
        refinements: int = DEFAULT_REFINEMENTS,
        window: int = DEFAULT_WINDOW,
    ) -> None:
        if chunks < 2:
            raise ValueError("a split needs at least two chunks")
        if max_legs is not None and max_legs < 1:
            raise ValueError("a route has at least one leg")
        if refinements < -1 or window < 1:
            raise ValueError("refinements is -1 (no joint allocation) or more, window at least 1")
        self._venues = tuple(venues)
        self._hubs = tuple(hubs)
        self._chunks = chunks
        self._max_legs = max_legs
        self._refinements = refinements
        self._window = window

    @property
    def chunks(self) -> int:
        """Return the chunks of the candidates' ladders."""
        return self._chunks

    @property
    def window(self) -> int:
        """Return the points on each side of an amount in a refinement window."""
        return self._window

    def venue_call_bound(self, hubs: int) -> int:
        """Return the most venue calls a decision takes with this many usable hubs.

        ``V·(1 + 2H)`` for the two rounds of candidates, as many for each refinement and for
        the exact first hops (with the second hops' last window), and ``V·H`` for the exact
        second hops: ``V·(1 + 2H)·(refinements + 2) + V·H``; ``V·(1 + 2H)`` without the
        joint allocation (refinements -1).
        """
        v = len(self._venues)
        if self._refinements < 0:  # the candidates alone
            return v * (1 + 2 * hubs)
        return v * (1 + 2 * hubs) * (self._refinements + 2) + v * hubs

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
        """Quote every venue concurrently and return the best route: candidates or joint.

        :raises NoRouteError: when no route trades the pair for this amount, or none within
            ``max_price_impact_bps``.
        :raises VenueUnavailableError: when venues failed and nothing routes without them.
        """
        units = token_in.to_base_units(amount_in)
        hubs = [h for h in self._hubs if h.mint not in (token_in.mint, token_out.mint)]
        calls = _Calls()
        found, whole, book = await self._candidates(token_in, token_out, units, hubs, calls)
        families = _Families(token_in, token_out, hubs)
        mid = families.rate(book, fees=False)
        if found and self._refinements >= 0:
            leader = max(found, key=Candidate.rank)
            restrict = None
            if self._max_legs is not None:
                # Within the leg bound: refine the best shape found, over its own pools.
                restrict = {q.pool for q in leader.legs}
            if not families.settled(book, units, leader.amount_out, restrict):
                better = await self._joint(families, units, calls, book, restrict)
                if better is not None:
                    found.append(better)
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
        route = best.to_route(slippage_bps, mid)
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
                _to_quote(q, mid) for q in sorted(per_venue.values(), key=lambda q: -q.amount_out)
            ),
            pool_quotes=tuple(whole),
            considered=tuple(c.to_route(slippage_bps, mid) for c in best_of_kind.values()),
            venue_calls=calls.made,
        )

    async def _candidates(
        self, token_in: Token, token_out: Token, units: int, hubs: Sequence[Token], calls: _Calls
    ) -> tuple[list[Candidate], list[PoolQuote], _Book]:
        """Run both rounds of calls; return the candidates, whole-amount quotes and every quote."""
        venues, n, chunks = self._venues, len(self._venues), self._chunks
        ladder = split.ladder(units, chunks)
        first = await calls.run(
            [(v, v.quote_amounts(token_in, token_out, ladder)) for v in venues]
            + [(v, v.quote_amounts(token_in, hub, ladder)) for hub in hubs for v in venues]
        )
        if calls.failed == calls.made:
            raise VenueUnavailableError("no venue answered")
        book = _Book()
        for venue, answer in zip([*venues, *(v for _ in hubs for v in venues)], first, strict=True):
            book.add(venue, answer or (), ladder)
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
        for (venue, answer), middle in zip(
            zip((v for _ in starts for v in venues), second, strict=True),
            (m for m in middles for _ in venues),
            strict=True,
        ):
            book.add(venue, answer or (), split.ladder(middle, chunks))
        for i, (hop, middle) in enumerate(zip(starts, middles, strict=True)):
            onward = [q for q in _flatten(second[i * n : i * n + n]) if q.token_out == token_out]
            left = None if self._max_legs is None else self._max_legs - len(hop)
            last = _plan(middle, onward, chunks, left)
            if last:
                found.append(candidates.two_hop(hop, last))
        return found, whole, book

    async def _joint(
        self, families: _Families, units: int, calls: _Calls, book: _Book, allowed: set[str] | None
    ) -> Candidate | None:
        """Return the joint allocation over every family, quoted leg by leg, or None.

        After the first two rounds: up to ``refinements`` rounds of windows around the
        allocation (for each pool that may take part, ``2·window + 1`` points around its
        amount, each round's step ``1/window`` of the last's, the first's ``1/window`` of a
        chunk; a round that moves the estimate by less than 0.01 bps is the last), one round
        quoting the direct and first-hop legs exactly with a last window on the second hops,
        and one quoting the second hops exactly. None when a pool no longer fills its leg,
        or when no allocation fills the amount.
        """
        search = _Search(self, families, units, book, allowed)
        alloc = search.solve()
        if alloc is None:
            return None
        level = 0
        while level < self._refinements:
            level += 1
            wanted = search.windows(alloc, level, spends_in=True, exact=False)
            wanted.update(search.windows(alloc, level, spends_in=False, exact=False))
            await self._quote_more(wanted, book, calls, families.tokens)
            before, alloc = alloc.expected_out, search.solve()
            if alloc is None:
                log.debug("joint allocation dropped: no allocation fills the amount")
                return None
            if (alloc.expected_out - before) * CONVERGED <= before:
                break  # the last window moved the estimate by less than 0.01 bps
        wanted = search.windows(alloc, level + 1, spends_in=True, exact=True)
        # The second hops get a fine window and, as the exact first hops may pay more than
        # their chords said, the first round's wider one.
        for windows in (
            search.windows(alloc, level + 1, spends_in=False, exact=False),
            search.windows(alloc, 1, spends_in=False, exact=False),
        ):
            for key, amounts in windows.items():
                wanted.setdefault(key, set()).update(amounts)
        await self._quote_more(wanted, book, calls, families.tokens)
        return await self._exact(search, alloc, calls)

    async def _exact(
        self, search: _Search, alloc: joint.Allocation, calls: _Calls
    ) -> Candidate | None:
        """Return the allocation's legs as quoted: second hops split what the first paid."""
        book, paths, allowed = search.book, search.families.paths, search.allowed
        direct_legs = [book.leg(search.families.direct, p, a) for p, a in alloc.direct.items()]
        firsts = {
            hub: [book.leg(paths[hub][0], pool, a) for pool, a in share.items()]
            for hub, share in alloc.first.items()
        }
        seconds: dict[str, dict[str, int]] = {}
        for hub, legs in firsts.items():
            middle = sum(q.amount_out for q in legs if q is not None)
            onward = joint.split_exact(middle, book.points(paths[hub][1], allowed))
            if onward is None or None in legs:
                log.debug("joint allocation dropped: a first hop no longer fills its leg")
                return None
            seconds[hub] = onward
        wanted: _Wanted = {
            (pool, paths[hub][1]): {a}
            for hub, share in seconds.items()
            for pool, a in share.items()
        }
        await self._quote_more(wanted, book, calls, search.families.tokens)
        paid = [
            (
                [q for q in firsts[hub] if q is not None],
                [book.leg(paths[hub][1], pool, a) for pool, a in share.items()],
            )
            for hub, share in seconds.items()
        ]
        every = [*direct_legs, *(q for _, second in paid for q in second)]
        if any(q is None for q in every):
            log.debug("joint allocation dropped: a pool no longer fills its leg")
            return None
        return candidates.joint(
            [q for q in direct_legs if q is not None],
            [(first, [q for q in second if q is not None]) for first, second in paid],
        )

    async def _quote_more(
        self, wanted: _Wanted, book: _Book, calls: _Calls, tokens: dict[str, Token]
    ) -> None:
        """Quote the wanted amounts: one call per venue and pair, every pool's amounts in it."""
        per_call: dict[tuple[str, Pair], set[int]] = {}
        for (pool, pair), amounts in wanted.items():
            if amounts:
                venue = book.venue_of[pool]
                per_call.setdefault((venue.name, pair), set()).update(amounts)
        by_name = {v.name: v for v in self._venues}
        asked = [sorted(wanted_amounts) for wanted_amounts in per_call.values()]
        requests = [
            (by_name[name], by_name[name].quote_amounts(tokens[a], tokens[b], ladder))
            for ((name, (a, b)), ladder) in zip(per_call, asked, strict=True)
        ]
        answers = await calls.run(requests)
        for (venue, _), answer, ladder in zip(requests, answers, asked, strict=True):
            book.add(venue, answer or (), ladder)

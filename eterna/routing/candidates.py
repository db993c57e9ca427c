"""Candidate routes built from pool quotes: their output, price impact and route form.

Price impact of a whole route, in bps against the spot price (fee excluded, as each pool's
own quote measures it), rounded up:

- single: the pool's own impact;
- split: the legs' impacts weighted by their input amounts;
- two-hop: ``1 - (1 - i1)(1 - i2)`` over the impacts of the two hops (each weighted over its
  pools when a hop is split). Each factor is a hop's output over its spot output, so the
  product compares the route's output with what the product of the spot prices would pay;
- multi (direct pools and hub paths at once): each path's impact as above (a direct pool's
  own, a hub path's two-hop one), weighted by the input the path takes.

Candidates rank by output; at equal output the one with fewer legs wins, then the one with
the lower impact, then the pool addresses, so the choice is deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from eterna.domain.routes import Route, RouteKind, RouteLeg
from eterna.domain.tokens import Token
from eterna.routing.venues import PoolQuote

BPS = 10_000


def min_amount_out(amount_out: int, slippage_bps: int) -> int:
    """Return the floor slippage allows, rounded down to a base unit."""
    return amount_out * (BPS - slippage_bps) // BPS


@dataclass(frozen=True, slots=True)
class Candidate:
    """A possible route in base units: its legs (pool quotes) in execution order."""

    kind: RouteKind
    legs: tuple[PoolQuote, ...]
    amount_in: int
    amount_out: int
    price_impact_bps: int

    def rank(self) -> tuple[int, int, int, tuple[str, ...]]:
        """Return the sort key: more output, then fewer legs, then lower impact."""
        return (
            self.amount_out,
            -len(self.legs),
            -self.price_impact_bps,
            tuple(leg.pool for leg in self.legs),
        )

    def describe(self) -> str:
        """Return the legs for a log line, e.g. ``raydium:40%+orca:60%:USDC``, path by path.

        A two-hop path reads ``first hop->second hop``; the paths of a multi route are
        joined by `` | ``, direct legs first.
        """
        start, end = self.legs[0].token_in, self.legs[-1].token_out
        hops: dict[tuple[Token, Token], list[PoolQuote]] = {}
        for q in self.legs:
            hops.setdefault((q.token_in, q.token_out), []).append(q)

        def hop(quotes: list[PoolQuote]) -> str:
            spent = sum(q.amount_in for q in quotes)
            shares = "+".join(f"{q.venue}:{q.amount_in * 100 // spent}%" for q in quotes)
            return f"{shares}:{quotes[0].token_out.label}"

        paths = [hop(hops[start, end])] if (start, end) in hops else []
        paths += [
            f"{hop(quotes)}->{hop(hops.get((mid, end), []))}"
            for (a, mid), quotes in hops.items()
            if a == start and mid != end and (mid, end) in hops
        ]
        return " | ".join(paths)

    def to_route(self, slippage_bps: int, mid: Fraction | None = None) -> Route:
        """Return the route in token units, with the floor slippage allows.

        ``mid`` is the reference mid price of the all-in cost (None: not known).
        """
        first, last = self.legs[0], self.legs[-1]
        return Route(
            token_in=first.token_in,
            token_out=last.token_out,
            amount_in=first.token_in.from_base_units(self.amount_in),
            amount_out=last.token_out.from_base_units(self.amount_out),
            min_amount_out=last.token_out.from_base_units(
                min_amount_out(self.amount_out, slippage_bps)
            ),
            price_impact_bps=self.price_impact_bps,
            all_in_cost_bps=all_in_cost_bps(self.amount_in, self.amount_out, mid),
            legs=tuple(
                RouteLeg(
                    venue=q.venue,
                    pool=q.pool,
                    token_in=q.token_in,
                    token_out=q.token_out,
                    amount_in=q.token_in.from_base_units(q.amount_in),
                    amount_out=q.token_out.from_base_units(q.amount_out),
                    fee=q.token_in.from_base_units(q.fee),
                )
                for q in self.legs
            ),
        )


def _ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


def all_in_cost_bps(amount_in: int, amount_out: int, mid: Fraction | None) -> int | None:
    """Return how far amount_out falls below amount_in at the mid price, in bps, rounded up.

    Fees, impact and a worse price than the best pool's all count; never below 0 (a pool
    that moved in the order's favour between quotes). None without a mid price.
    """
    if mid is None or mid <= 0 or amount_in <= 0:
        return None
    reference = amount_in * mid
    shortfall = (reference - amount_out) * BPS / reference
    return max(0, -(-shortfall.numerator // shortfall.denominator))


def _hop(quotes: Sequence[PoolQuote]) -> tuple[tuple[PoolQuote, ...], int, int, int]:
    """Return a hop's legs (largest first), input, output and amount-weighted impact."""
    if not quotes:
        raise ValueError("a hop needs at least one pool")
    if len({q.pool for q in quotes}) != len(quotes):
        raise ValueError("a split goes through each pool at most once")
    if len({(q.token_in, q.token_out) for q in quotes}) != 1:
        raise ValueError("every leg of a hop trades the same pair")
    legs = tuple(sorted(quotes, key=lambda q: (-q.amount_in, q.pool)))
    amount_in = sum(q.amount_in for q in legs)
    weighted = sum(q.amount_in * q.price_impact_bps for q in legs)
    return legs, amount_in, sum(q.amount_out for q in legs), _ceil_div(weighted, amount_in)


def single(quote: PoolQuote) -> Candidate:
    """Return the route through one pool."""
    return Candidate(
        RouteKind.SINGLE, (quote,), quote.amount_in, quote.amount_out, quote.price_impact_bps
    )


def split(quotes: Sequence[PoolQuote]) -> Candidate:
    """Return the route through several pools of one pair, each with its own input."""
    legs, amount_in, amount_out, impact = _hop(quotes)
    if len(legs) == 1:
        return single(legs[0])
    return Candidate(RouteKind.SPLIT, legs, amount_in, amount_out, impact)


def _two_hop_impact(impact_in: int, impact_out: int) -> int:
    kept = (BPS - impact_in) * (BPS - impact_out)
    return _ceil_div(BPS * BPS - kept, BPS)


def two_hop(first: Sequence[PoolQuote], second: Sequence[PoolQuote]) -> Candidate:
    """Return the route through the first hop's pools, then the second's, which spend it all.

    Each hop is one pool or a split of its pair; the second hop's inputs add up to exactly
    what the first hop pays out.
    """
    legs_in, amount_in, middle, impact_in = _hop(first)
    legs_out, spent, amount_out, impact_out = _hop(second)
    if legs_in[0].token_out != legs_out[0].token_in or middle != spent:
        raise ValueError("the second hop must spend exactly what the first pays out")
    impact = _two_hop_impact(impact_in, impact_out)
    # The last leg of the second hop spends whatever the first hop really paid out
    # (SwapInstruction.for_route): the largest leg absorbs a move best, so it goes last.
    legs = legs_in + legs_out[::-1]
    return Candidate(RouteKind.TWO_HOP, legs, amount_in, amount_out, impact)


def joint(
    direct: Sequence[PoolQuote], paths: Sequence[tuple[Sequence[PoolQuote], Sequence[PoolQuote]]]
) -> Candidate:
    """Return the route through direct pools and hub paths at once (each path a two-hop).

    Direct legs come first, largest first; then each path's first hop and its second hop,
    largest leg last, as :func:`two_hop` orders them. Each path's second hop spends exactly
    what its first hop pays out, and no pool appears twice.
    """
    if not paths:
        return split(direct)
    if not direct and len(paths) == 1:
        return two_hop(*paths[0])
    legs: list[PoolQuote] = []
    weighted = amount_in = amount_out = 0
    if direct:
        legs_d, spent, paid, impact = _hop(direct)
        legs += legs_d
        amount_in, amount_out, weighted = spent, paid, spent * impact
    mids = set()
    for first, second in paths:
        path = two_hop(first, second)
        mids.add(path.legs[0].token_out)
        legs += path.legs
        amount_in += path.amount_in
        amount_out += path.amount_out
        weighted += path.amount_in * path.price_impact_bps
    if len(mids) < len(paths):
        raise ValueError("each hub path goes through a different hub")
    if len({q.pool for q in legs}) != len(legs):
        raise ValueError("a route goes through each pool at most once")
    if len({(legs[0].token_in, q.token_out) for q in legs[: len(direct)]}) > 1:
        raise ValueError("every direct leg trades the route's pair")
    impact = _ceil_div(weighted, amount_in)
    return Candidate(RouteKind.MULTI, tuple(legs), amount_in, amount_out, impact)

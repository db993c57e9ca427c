"""Candidate routes built from pool quotes: their output, price impact and route form.

Price impact of a whole route, in bps against the spot price (fee excluded, as each pool's
own quote measures it), rounded up:

- single: the pool's own impact;
- split: the legs' impacts weighted by their input amounts;
- two-hop: ``1 - (1 - i1)(1 - i2)`` over the impacts of the two hops (each weighted over its
  pools when a hop is split). Each factor is a hop's output over its spot output, so the
  product compares the route's output with what the product of the spot prices would pay.

Candidates rank by output; at equal output the one with fewer legs wins, then the one with
the lower impact, then the pool addresses, so the choice is deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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
        """Return the legs for a log line, e.g. ``raydium:40%+orca:60%:USDC``, hop by hop."""
        hops: dict[Token, list[PoolQuote]] = {}
        for q in self.legs:
            hops.setdefault(q.token_in, []).append(q)
        return "->".join(
            "+".join(
                f"{q.venue}:{q.amount_in * 100 // sum(h.amount_in for h in hop)}%" for q in hop
            )
            + f":{hop[0].token_out.label}"
            for hop in hops.values()
        )

    def to_route(self, slippage_bps: int) -> Route:
        """Return the route in token units, with the floor slippage allows."""
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


def two_hop(first: Sequence[PoolQuote], second: Sequence[PoolQuote]) -> Candidate:
    """Return the route through the first hop's pools, then the second's, which spend it all.

    Each hop is one pool or a split of its pair; the second hop's inputs add up to exactly
    what the first hop pays out.
    """
    legs_in, amount_in, middle, impact_in = _hop(first)
    legs_out, spent, amount_out, impact_out = _hop(second)
    if legs_in[0].token_out != legs_out[0].token_in or middle != spent:
        raise ValueError("the second hop must spend exactly what the first pays out")
    kept = (BPS - impact_in) * (BPS - impact_out)
    impact = _ceil_div(BPS * BPS - kept, BPS)
    # The last leg of the second hop spends whatever the first hop really paid out
    # (SwapInstruction.for_route): the largest leg absorbs a move best, so it goes last.
    legs = legs_in + legs_out[::-1]
    return Candidate(RouteKind.TWO_HOP, legs, amount_in, amount_out, impact)

"""Venue adapters on a Solana cluster: quote a venue's pools from their accounts, with our math.

One adapter per venue (raydium: CP-Swap, orca: Whirlpool, meteora: DLMM). A call reads
every pool of the pair that the venue has in one go (:class:`~.reader.PoolReader`) and
quotes the whole ladder of amounts on that one state, as the program would pay at the
chain's current clock. A pool the program does not accept swaps on yet (before its open
time or activation point, or disabled) has no quote.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

from eterna.adapters.solana.pools import VENUE_KINDS, VENUES, PoolRegistry
from eterna.adapters.solana.reader import PoolReader
from eterna.adapters.solana.snapshots import PoolSnapshot
from eterna.amm.base import SwapResult
from eterna.domain.errors import VenueError
from eterna.domain.tokens import Token
from eterna.routing.venues import PoolQuote, VenueInfo


class InvalidQuoteRequestError(VenueError):
    """A quote asked for an amount a swap cannot have (zero or negative)."""


def impact_bps(spot: Fraction, result: SwapResult) -> int:
    """Return how far below the spot price (fee excluded) a fill is, in bps, rounded up."""
    net_in = result.amount_in - result.fee
    spot_out = net_in * spot.numerator  # over spot.denominator
    if spot_out <= 0:
        return 0
    shortfall = spot_out - result.amount_out * spot.denominator
    return max(0, -(-shortfall * 10_000 // spot_out))


def quote_snapshot(
    snap: PoolSnapshot, token_in: Token, token_out: Token, amounts: Sequence[int]
) -> list[PoolQuote]:
    """Quote amounts on one pool's snapshot; none where it cannot fill or is not open."""
    a_to_b = snap.entry.a_to_b(token_in.mint, token_out.mint)
    if a_to_b is None or not snap.tradable:
        return []
    math = snap.math
    spot = math.spot_price(a_to_b=a_to_b)
    results = math.quote_amounts(amounts, a_to_b=a_to_b, now=snap.unix_time)
    return [
        PoolQuote(
            venue=snap.entry.venue,
            pool=str(snap.entry.address),
            token_in=token_in,
            token_out=token_out,
            amount_in=result.amount_in,
            amount_out=result.amount_out,
            fee=result.fee,
            price_impact_bps=impact_bps(spot, result),
            spot=spot,
        )
        for result in results
        if result is not None
    ]


class SolanaVenue:
    """One venue's pools on a Solana cluster, quoted from their accounts."""

    def __init__(self, name: str, registry: PoolRegistry, reader: PoolReader) -> None:
        if name not in VENUES:
            raise ValueError(f"unknown venue {name!r}; known: {sorted(VENUES)}")
        self._name = name
        self._registry = registry
        self._reader = reader

    @property
    def name(self) -> str:
        """Return the venue name."""
        return self._name

    async def info(self) -> VenueInfo:
        """Describe the venue: its kind and how many pools the registry knows."""
        return VenueInfo(
            name=self._name,
            kind=VENUE_KINDS[self._name],
            pool_count=len(self._registry.of_venue(self._name)),
        )

    async def quote(self, token_in: Token, token_out: Token, amount_in: int) -> list[PoolQuote]:
        """Quote every pool of this venue for the pair."""
        return await self.quote_amounts(token_in, token_out, (amount_in,))

    async def quote_amounts(
        self, token_in: Token, token_out: Token, amounts: Sequence[int]
    ) -> list[PoolQuote]:
        """Quote every pool of the pair at each amount, all on one read of the chain.

        :raises InvalidQuoteRequestError: when an amount is not positive.
        :raises PoolStateError: when a pool's account is missing or does not decode.
        :raises VenueUnavailableError: when the node does not answer.
        """
        if any(amount <= 0 for amount in amounts):
            raise InvalidQuoteRequestError("amounts must be positive")
        entries = self._registry.pools(self._name, token_in.mint, token_out.mint)
        if not entries or not amounts:
            return []
        snapshots = await self._reader.read(entries)
        return [
            quote
            for entry in entries
            for quote in quote_snapshot(snapshots[entry.address], token_in, token_out, amounts)
        ]

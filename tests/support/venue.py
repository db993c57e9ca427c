"""A venue adapter over the pure-Python pool models, for unit tests of the router.

The market Eterna trades is the chain (``eterna.adapters.solana``); the router's own tests
need only pools that quote with Eterna's AMM math, in microseconds and without programs.
"""

from __future__ import annotations

from collections.abc import Sequence

from eterna.domain.tokens import Token
from eterna.routing.venues import PoolQuote, VenueInfo
from tests.support.genesis import VENUE_KINDS
from tests.support.market import ModelMarket


class ModelVenue:
    """One venue of the model market, quoting its own pools."""

    def __init__(self, market: ModelMarket, name: str) -> None:
        self._market = market
        self._name = name

    @property
    def name(self) -> str:
        """Return the venue name."""
        return self._name

    async def info(self) -> VenueInfo:
        """Describe the venue."""
        return VenueInfo(
            name=self._name,
            kind=VENUE_KINDS.get(self._name, "amm"),
            pool_count=len(self._market.pools(self._name)),
        )

    async def quote(self, token_in: Token, token_out: Token, amount_in: int) -> list[PoolQuote]:
        """Quote every pool of this venue for the pair."""
        return await self.quote_amounts(token_in, token_out, (amount_in,))

    async def quote_amounts(
        self, token_in: Token, token_out: Token, amounts: Sequence[int]
    ) -> list[PoolQuote]:
        """Quote every pool of this venue for the pair at each amount."""
        quotes = []
        for pool in self._market.pools(self._name):
            a_to_b = pool.direction(token_in.mint, token_out.mint)
            if a_to_b is None:
                continue
            spot = pool.math.spot_price(a_to_b=a_to_b)
            answers = self._market.quote_amounts(pool.address, token_in.mint, amounts)
            for answer in answers:
                if answer is None:
                    continue
                result, impact = answer
                quotes.append(
                    PoolQuote(
                        venue=self._name,
                        pool=pool.address,
                        token_in=token_in,
                        token_out=token_out,
                        amount_in=result.amount_in,
                        amount_out=result.amount_out,
                        fee=result.fee,
                        price_impact_bps=impact,
                        spot=spot,
                    )
                )
        return quotes

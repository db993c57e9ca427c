"""Venue adapters over an in-process market sandbox (the embedded mode and tests)."""

from __future__ import annotations

from collections.abc import Sequence

from eterna.sandbox.market import MarketSandbox
from eterna.tokens import Token
from eterna.venues.base import PoolQuote, SwapRequest, Transaction, TxStatus, VenueInfo

VENUE_KINDS = {
    "raydium": "constant product (Raydium AMM v4)",
    "meteora": "dynamic liquidity bins (Meteora DLMM)",
    "orca": "concentrated liquidity (Orca Whirlpool)",
}


class SandboxVenue:
    """One venue of the sandbox, quoting its own pools."""

    def __init__(self, market: MarketSandbox, name: str) -> None:
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
            if pool.direction(token_in.mint, token_out.mint) is None:
                continue
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
                    )
                )
        return quotes


class SandboxGateway:
    """The chain side of the sandbox: build, send and track transactions."""

    def __init__(self, market: MarketSandbox) -> None:
        self._market = market

    async def build(self, request: SwapRequest) -> Transaction:
        """Build and sign a transaction with a fresh blockhash."""
        return self._market.build(request)

    async def send(self, tx: Transaction) -> None:
        """Broadcast the transaction (it lands at once in the in-process sandbox)."""
        self._market.send(tx)

    async def status(self, tx: Transaction) -> TxStatus:
        """Return the transaction's status."""
        return self._market.status(tx)

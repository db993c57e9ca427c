"""What the tests of Eterna's Solana adapters share: the adapters over a node, routes, requests.

The adapters speak to the node only through ``LocalRpc``, the in-process JSON-RPC client;
routes are made the way the router makes them (from pool quotes, through
:mod:`eterna.routing.candidates`) and turned into the request the engine sends the gateway.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from eterna.adapters.localchain.local_rpc import LocalRpc
from eterna.adapters.localchain.node import LocalNode
from eterna.adapters.localchain.pools import ChainPool
from eterna.adapters.solana.gateway import SolanaGateway
from eterna.adapters.solana.lookup_tables import LookupTableRegistry
from eterna.adapters.solana.pools import PoolEntry, PoolRegistry
from eterna.adapters.solana.reader import PoolReader
from eterna.adapters.solana.venues import SolanaVenue
from eterna.domain.routes import Route
from eterna.domain.tokens import Token
from eterna.routing import candidates
from eterna.routing.venues import PoolQuote, SwapInstruction, SwapRequest

SLIPPAGE_BPS = 50


def entry_of(pool: ChainPool) -> PoolEntry:
    """Return the registry entry of a node's pool."""
    return PoolEntry(pool.venue, pool.program, pool.address, pool.token_a, pool.token_b)


def registry_of(node: LocalNode) -> PoolRegistry:
    """Return a registry of the node's pools (its genesis list)."""
    return PoolRegistry(entry_of(p) for p in node.pools())


@dataclass
class Eterna:
    """Eterna's side of the chain: the RPC client, registry, reader, venues and gateway."""

    node: LocalNode
    rpc: LocalRpc
    registry: PoolRegistry
    reader: PoolReader
    gateway: SolanaGateway

    def venue(self, name: str) -> SolanaVenue:
        """Return the adapter of a venue."""
        return SolanaVenue(name, self.registry, self.reader)

    async def quote(self, venue: str, token_in: Token, token_out: Token, amount: int) -> PoolQuote:
        """Return the venue's (first) pool quote for the pair and amount."""
        quotes = await self.venue(venue).quote_amounts(token_in, token_out, [amount])
        assert quotes, f"{venue} does not quote {token_in.label}->{token_out.label}"
        return quotes[0]


def eterna_on(node: LocalNode, *, lookup_tables: bool = False) -> Eterna:
    """Return Eterna's adapters over the node, signing with the node's funded wallet.

    lookup_tables: the gateway uses the node's lookup tables, as a process on it does.
    """
    rpc = LocalRpc(node)
    registry = registry_of(node)
    reader = PoolReader(rpc)
    tables = LookupTableRegistry(rpc, discover=True) if lookup_tables else None
    gateway = SolanaGateway(rpc, registry, reader, node.wallet, lookup_tables=tables)
    return Eterna(node, rpc, registry, reader, gateway)


def single(quote: PoolQuote) -> Route:
    """Return the single-pool route of a quote."""
    return candidates.single(quote).to_route(SLIPPAGE_BPS)


def split(quotes: Sequence[PoolQuote]) -> Route:
    """Return the route splitting the amount over the quotes' pools."""
    return candidates.split(quotes).to_route(SLIPPAGE_BPS)


def two_hop(first: PoolQuote, second: PoolQuote) -> Route:
    """Return the route through first's pool, then second's."""
    return candidates.two_hop([first], [second]).to_route(SLIPPAGE_BPS)


def request_for(route: Route, memo: str = "order-1") -> SwapRequest:
    """Return the gateway request the engine makes of a route."""
    return SwapRequest(
        memo=memo,
        payer="user-1",
        mint_in=route.token_in.mint,
        mint_out=route.token_out.mint,
        swaps=SwapInstruction.for_route(route),
        min_amount_out=route.token_out.to_base_units(route.min_amount_out),
    )


def expected_out(route: Route) -> int:
    """Return the route's expected output in base units."""
    return route.token_out.to_base_units(route.amount_out)


async def eventually(condition: Callable[[], bool], *, attempts: int = 5_000) -> None:
    """Return once condition holds, letting the event loop run between looks (fail if never)."""
    for _ in range(attempts):
        if condition():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("the condition never held")

"""Eterna's Solana adapters on the local node: transaction sizes, compute units, latencies.

Usage: ``python bench/solana_swaps.py [--runs N] [--seed S]``. In-process, no services: a
local node with manual slots, reached only through ``LocalRpc`` (the JSON-RPC dispatcher,
JSON both ways), as the embedded mode does. Prints:

- per route shape (one pool of each venue SOL in and SOL out, splits over two venues, a
  two-hop through SOL, a split over three venues): the signed transaction's size against
  Solana's 1,232 bytes, the compute units it consumed and the limit it asked for, its fee,
  and whether the fill equalled the quote;
- latencies (median and p90 of N runs): a venue quote of a 16-amount ladder with the
  accounts' set known (one getMultipleAccounts), the gateway's build (pool read, plan,
  blockhash and block height, sign), and a status of a landed transaction.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass

from solders.transaction import VersionedTransaction

from eterna.adapters.localchain.local_rpc import LocalRpc
from eterna.adapters.localchain.node import LocalNode, NodeConfig
from eterna.adapters.localchain.programs import ProgramsError, locate_programs
from eterna.adapters.solana.gateway import SolanaGateway
from eterna.adapters.solana.pools import PoolEntry, PoolRegistry
from eterna.adapters.solana.reader import PoolReader
from eterna.adapters.solana.transactions import TransactionTooLargeError
from eterna.adapters.solana.venues import SolanaVenue
from eterna.domain.routes import Route
from eterna.domain.tokens import BONK, JUP, SOL, USDC, Token
from eterna.routing import candidates
from eterna.routing.venues import PoolQuote, SwapInstruction, SwapRequest, Transaction, TxState

ONE_SOL = 10**9
HUNDRED_USDC = 100 * 10**6
LADDER = [ONE_SOL * (i + 1) // 16 for i in range(16)]
SLIPPAGE_BPS = 50


@dataclass
class Eterna:
    """Eterna's adapters over the node: registry, reader, venues, gateway."""

    node: LocalNode
    registry: PoolRegistry
    reader: PoolReader
    gateway: SolanaGateway

    def venue(self, name: str) -> SolanaVenue:
        """Return a venue adapter."""
        return SolanaVenue(name, self.registry, self.reader)

    async def quote(self, venue: str, token_in: Token, token_out: Token, amount: int) -> PoolQuote:
        """Return the venue's first pool quote of the pair."""
        return (await self.venue(venue).quote_amounts(token_in, token_out, [amount]))[0]


def eterna_on(node: LocalNode) -> Eterna:
    """Return the adapters over the node, through LocalRpc only."""
    rpc = LocalRpc(node)
    registry = PoolRegistry(
        PoolEntry(p.venue, p.program, p.address, p.token_a, p.token_b) for p in node.pools()
    )
    reader = PoolReader(rpc)
    return Eterna(node, registry, reader, SolanaGateway(rpc, registry, reader, node.wallet))


def single(quote: PoolQuote) -> Route:
    """Return a one-pool route."""
    return candidates.single(quote).to_route(SLIPPAGE_BPS)


def split(quotes: Sequence[PoolQuote]) -> Route:
    """Return a route split over the quotes' pools."""
    return candidates.split(quotes).to_route(SLIPPAGE_BPS)


def two_hop(first: PoolQuote, second: PoolQuote) -> Route:
    """Return a route through first's pool, then second's."""
    return candidates.two_hop([first], [second]).to_route(SLIPPAGE_BPS)


def request_for(route: Route, memo: str) -> SwapRequest:
    """Return the request the engine makes of a route."""
    return SwapRequest(
        memo=memo,
        payer="bench",
        mint_in=route.token_in.mint,
        mint_out=route.token_out.mint,
        swaps=SwapInstruction.for_route(route),
        min_amount_out=route.token_out.to_base_units(route.min_amount_out),
    )


def unit_limit(wire: bytes) -> int:
    """Return the compute-unit limit a transaction asks for (its first instruction)."""
    data = bytes(VersionedTransaction.from_bytes(wire).message.instructions[0].data)
    return int.from_bytes(data[1:5], "little")


async def shapes(eterna: Eterna) -> AsyncIterator[tuple[str, Route]]:
    """Yield the route shapes measured, each quoted when it is its turn to land."""
    for venue in ("raydium", "orca", "meteora"):
        yield f"{venue} SOL->USDC", single(await eterna.quote(venue, SOL, USDC, ONE_SOL))
        yield f"{venue} USDC->SOL", single(await eterna.quote(venue, USDC, SOL, HUNDRED_USDC))
    for pair in (("raydium", "orca"), ("raydium", "meteora"), ("orca", "meteora")):
        quotes = [await eterna.quote(v, SOL, USDC, ONE_SOL) for v in pair]
        yield f"split {'+'.join(pair)}", split(quotes)
    for first_venue, second_venue in (
        ("raydium", "orca"),
        ("orca", "orca"),
        ("meteora", "meteora"),
    ):
        first = await eterna.quote(first_venue, BONK, SOL, 10**11)
        second = await eterna.quote(second_venue, SOL, JUP, first.amount_out)
        yield f"2-hop {first_venue},{second_venue} via SOL", two_hop(first, second)
    three = [await eterna.quote(v, SOL, USDC, ONE_SOL) for v in ("raydium", "orca", "meteora")]
    yield "split over 3 venues", split(three)


async def measure_shapes(eterna: Eterna) -> None:
    """Build, land and read back each shape; print its size, units, fee and fill."""
    print(f"{'route':34} {'bytes':>5} {'units':>7} {'limit':>7} {'fee':>6}  fill")
    index = 0
    async for name, route in shapes(eterna):
        index += 1
        try:
            tx = await eterna.gateway.build(request_for(route, f"bench-{index}"))
        except TransactionTooLargeError as exc:
            print(f"{name:34} {'-':>5}  refused: {exc}")
            continue
        wire = tx.wire or b""
        await eterna.gateway.send(tx)
        status = await eterna.gateway.status(tx)
        wanted = route.token_out.to_base_units(route.amount_out)
        same = status.state is TxState.CONFIRMED and status.amount_out == wanted
        print(
            f"{name:34} {len(wire):5} {status.compute_units:7} {unit_limit(wire):7}"
            f" {status.fee:6}  {'= quote' if same else status}"
        )
        eterna.node.advance(1)


async def timed(runs: int, action: Callable[[], Awaitable[object]]) -> tuple[float, float]:
    """Return the median and p90 of action's wall time, in milliseconds."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        await action()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.9) - 1]


async def measure_latency(eterna: Eterna, runs: int) -> None:
    """Print the latencies of a quote, a build and a status."""
    for name in ("raydium", "orca", "meteora"):
        venue = eterna.venue(name)
        await venue.quote_amounts(SOL, USDC, LADDER)  # learn the pool's accounts

        def quote(venue: SolanaVenue = venue) -> Awaitable[object]:
            return venue.quote_amounts(SOL, USDC, LADDER)

        request = request_for(single(await eterna.quote(name, SOL, USDC, ONE_SOL)), "bench")

        def build(request: SwapRequest = request) -> Awaitable[object]:
            return eterna.gateway.build(request)

        tx = await eterna.gateway.build(request)
        await eterna.gateway.send(tx)

        def status(tx: Transaction = tx) -> Awaitable[object]:
            return eterna.gateway.status(tx)

        for label, action in (("quote 16 amounts", quote), ("build", build), ("status", status)):
            median, p90 = await timed(runs, action)
            print(f"{label:17} {name:8}  p50 {median:6.2f} ms  p90 {p90:6.2f} ms")


async def main() -> None:
    """Run the measurements."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    try:
        programs = locate_programs(None)
    except ProgramsError as exc:
        sys.exit(str(exc))
    node = LocalNode(programs, NodeConfig(seed=args.seed, slot_ms=0, drift=False))
    eterna = eterna_on(node)
    await measure_shapes(eterna)
    print()
    await measure_latency(eterna, args.runs)


if __name__ == "__main__":
    asyncio.run(main())

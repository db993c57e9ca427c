"""Route throughput and latency of the router alone, on the pure-Python pool models.

Usage: ``python bench/route.py [--n N] [--seed S]``. Routes N orders one after another,
cycling through a mix of small single-pool orders, large orders worth splitting and pairs
that only trade in two hops, and prints routes/s with p50/p99 latency, overall and by the
kind of route chosen. Quotes do not move pools, so every pass sees the same market.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections import defaultdict
from decimal import Decimal

from eterna.domain.tokens import BONK, JUP, RAY, SOL, USDC, USDT, Token
from eterna.routing.router import Router
from tests.support.genesis import genesis_market
from tests.support.venue import ModelVenue

MIX: tuple[tuple[str, Token, Token, Decimal], ...] = (
    ("small", SOL, USDC, Decimal(1)),
    ("small", USDC, JUP, Decimal(250)),
    ("small", USDT, USDC, Decimal(5_000)),
    ("large", SOL, USDC, Decimal(1_000)),
    ("large", SOL, USDC, Decimal(50_000)),
    ("large", USDC, SOL, Decimal(2_000_000)),
    ("large", BONK, SOL, Decimal(20_000_000_000)),
    ("no direct pool", BONK, JUP, Decimal(100_000_000)),
    ("no direct pool", JUP, RAY, Decimal(10_000)),
)


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _line(label: str, samples: list[float]) -> str:
    return (
        f"{label:<22} {len(samples):>6} routes  "
        f"p50 {_percentile(samples, 0.50) * 1000:7.2f} ms  "
        f"p99 {_percentile(samples, 0.99) * 1000:7.2f} ms"
    )


async def run(n: int, seed: int) -> None:
    """Route n orders of the mix and print the figures."""
    market = genesis_market(seed, slot_ms=0)
    router = Router([ModelVenue(market, venue) for venue in market.venues()])
    by_kind: dict[str, list[float]] = defaultdict(list)
    by_order: dict[str, list[float]] = defaultdict(list)
    calls: list[int] = []
    started = reported = time.perf_counter()
    for i in range(n):
        if time.perf_counter() - reported >= 2:
            reported = time.perf_counter()
            print(f"{i}/{n} routes, {i / (reported - started):,.0f} routes/s so far", flush=True)
        size, token_in, token_out, amount = MIX[i % len(MIX)]
        t0 = time.perf_counter()
        decision = await router.route(token_in, token_out, amount, slippage_bps=50)
        elapsed = time.perf_counter() - t0
        by_kind[decision.route.kind.value].append(elapsed)
        by_order[size].append(elapsed)
        calls.append(decision.venue_calls)
    total = time.perf_counter() - started
    every = [t for samples in by_kind.values() for t in samples]
    print(f"seed {seed}: {len(market.pools())} pools on {', '.join(market.venues())}")
    print(f"{n} routes in {total:.2f} s: {n / total:,.0f} routes/s")
    print(_line("all", every))
    for kind, samples in sorted(by_kind.items()):
        print(_line(f"chosen {kind}", samples))
    for size, samples in by_order.items():
        print(_line(f"order {size}", samples))
    print(f"venue calls per route: mean {statistics.mean(calls):.1f}, max {max(calls)}")


def main() -> None:
    """Parse the arguments and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=2_000, help="routes to time")
    parser.add_argument("--seed", type=int, default=7, help="seed of the pool models")
    args = parser.parse_args()
    asyncio.run(run(args.n, args.seed))


if __name__ == "__main__":
    main()

"""The local node's costs: genesis, a node from the cached genesis, sends, drift, memory.

Usage: ``python bench/localchain_node.py [--swaps N] [--slots N] [--seed S]``. In-process:
needs no services, only the program binaries (``ETERNA_PROGRAMS_DIR``, or
``../shared/programs`` beside the repository). Prints:

- genesis: building the seed's market through the programs (median of 3 builds), and a
  node made from the cached genesis (median of 5: restore, wallet funding, maker);
- sends: N signed swaps (the three venues' JUP/USDC pools, alternating directions) through
  ``LocalNode.send_transaction``, with and without a pool-feed subscriber: p50/p99 latency
  and sends/s (built beforehand: the figure is the node's, not the builder's);
- drift: one maker swap per manual slot over N slots, per slot;
- memory: the process's resident size before and after the sends and the drift.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from solders.compute_budget import set_compute_unit_limit
from solders.message import Message
from solders.transaction import Transaction

from eterna.adapters.localchain.genesis import build_genesis
from eterna.adapters.localchain.node import LocalNode, NodeConfig
from eterna.adapters.localchain.pools import ChainPool, swap_instruction
from eterna.adapters.localchain.programs import (
    PROGRAMS_DIR_ENV,
    ProgramFile,
    ProgramsError,
    locate_programs,
)
from eterna.adapters.solana.spl import memo
from eterna.domain.tokens import JUP, USDC

SWAP_UNITS = 400_000


def _median_seconds(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _rss_mib() -> float:
    status = Path("/proc/self/status").read_text(encoding="ascii")
    line = next(x for x in status.splitlines() if x.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def _pools(node: LocalNode) -> list[ChainPool]:
    pair = {JUP.mint, USDC.mint}
    return [p for p in node.pools() if {p.token_a.mint, p.token_b.mint} == pair]


def _swaps(node: LocalNode, count: int, first: int) -> list[Transaction]:
    owner = node.wallet.pubkey()
    recent = node.latest_blockhash().blockhash
    pools = _pools(node)
    txs = []
    for n in range(first, first + count):
        pool = pools[n % len(pools)]
        ix = swap_instruction(node.chain, pool, owner, a_to_b=n % 2 == 0, amount_in=10**6 + n)
        instructions = [set_compute_unit_limit(SWAP_UNITS), ix, memo(f"bench-{n}", (owner,))]
        message = Message.new_with_blockhash(instructions, owner, recent)
        txs.append(Transaction([node.wallet], message, recent))
    return txs


def _send_figures(node: LocalNode, count: int, *, subscribed: bool) -> str:
    feed = node.subscribe_pools() if subscribed else None
    txs = _swaps(node, count, len(node.ledger))  # new amounts: new signatures
    latencies = []
    start = time.perf_counter()
    for tx in txs:
        began = time.perf_counter()
        node.send_transaction(tx)
        latencies.append(time.perf_counter() - began)
        if feed is not None:
            feed.pending()
    if feed is not None:
        feed.close()
    total = time.perf_counter() - start
    failed = sum(1 for tx in txs if (e := node.transaction(tx.signatures[0])) and not e.ok)
    latencies.sort()
    p50, p99 = latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.99)]
    label = "with a pool subscriber" if subscribed else "no subscriber"
    return (
        f"sends ({label}): {count:,} swaps, p50 {p50 * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms, "
        f"{count / total:,.0f} sends/s, {failed} failed"
    )


def main() -> int:
    """Measure and print the node's figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--swaps", type=int, default=3_000, help="swaps sent, per run")
    parser.add_argument("--slots", type=int, default=1_000, help="slots of drift")
    parser.add_argument("--seed", type=int, default=7, help="genesis seed")
    args = parser.parse_args()
    configured = os.environ.get(PROGRAMS_DIR_ENV)
    try:
        programs: list[ProgramFile] = locate_programs(Path(configured) if configured else None)
    except ProgramsError as exc:
        print(exc, file=sys.stderr)
        return 2
    build = _median_seconds(lambda: build_genesis(programs, args.seed), 3)
    LocalNode(programs, NodeConfig(seed=args.seed, slot_ms=0))  # fills the genesis cache
    config = NodeConfig(seed=args.seed, slot_ms=0, drift=False)
    made = _median_seconds(lambda: LocalNode(programs, config), 5)
    opening = build_genesis(programs, args.seed)
    print(
        f"genesis: {len(opening.pools)} pools, {len(opening.snapshot.accounts)} accounts, "
        f"built in {build * 1000:.0f} ms; a node from the cached genesis in {made * 1000:.0f} ms"
    )
    node = LocalNode(programs, config)
    drifting = LocalNode(programs, NodeConfig(seed=args.seed, slot_ms=0, drift=True))
    rss_start = _rss_mib()
    print(_send_figures(node, args.swaps, subscribed=False))
    print(_send_figures(node, args.swaps, subscribed=True))
    start = time.perf_counter()
    for _ in range(args.slots):
        drifting.advance(1)
    per_slot = (time.perf_counter() - start) / args.slots
    print(
        f"drift: {args.slots:,} slots, {drifting.maker.swaps:,} maker swaps, "
        f"{per_slot * 1000:.2f} ms per slot (of {NodeConfig().slot_ms} ms)"
    )
    entries = len(node.ledger) + len(drifting.ledger)
    grown = _rss_mib() - rss_start
    print(
        f"memory: {rss_start:.0f} MiB with both nodes made, +{grown:.0f} MiB after "
        f"{2 * args.swaps:,} sends and {drifting.maker.swaps:,} maker swaps "
        f"({entries:,} ledger entries: {grown * 1024 / entries:.1f} KiB each)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

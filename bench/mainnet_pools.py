"""Our quotes against the real programs on real mainnet pools loaded into the local chain.

Usage: ``python bench/mainnet_pools.py [--swaps N] [--seeds 1,2,3] [--engine-budget]``. For
each dump (``ETERNA_SNAPSHOTS_DIR``, or ``../shared/mainnet-snapshots``) and seed, loads the
pool into a fresh chain and runs N swaps through the engine's reader, math and transaction
builder (:mod:`eterna.adapters.localchain.fidelity.mainnet`). Prints per run the swaps filled
and refused by both, the zero-output swaps the program landed and our math refused, the
mismatches, and the most compute units a swap used. ``--engine-budget`` gives each swap the
engine's own per-venue compute budget instead of the maximum, and counts the swaps that fail
for compute. Exits 1 when any swap disagreed for another reason.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from eterna.adapters.localchain.fidelity import mainnet
from eterna.adapters.localchain.mainnet_pools import iter_dumps, load_dump, locate_snapshots
from eterna.adapters.localchain.programs import PROGRAMS_DIR_ENV, ProgramsError, locate_programs
from eterna.adapters.localchain.svm import LocalChain
from eterna.adapters.solana.account_dumps import DumpError
from eterna.adapters.solana.transactions import TransactionConfig

COMPUTE_FAILURES = ("ProgramFailedToComplete", "ComputationalBudgetExceeded")


def main() -> int:
    """Run every dump with every seed and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--swaps", type=int, default=1_000, help="swaps per pool and seed")
    parser.add_argument("--seeds", default="1,2,3", help="comma-separated seeds")
    parser.add_argument(
        "--engine-budget",
        action="store_true",
        help="the engine's per-venue compute budget instead of the maximum",
    )
    args = parser.parse_args()
    budget = TransactionConfig(compute_unit_price=0) if args.engine_budget else mainnet.SWAP_BUDGET
    configured = os.environ.get(PROGRAMS_DIR_ENV)
    try:
        programs = locate_programs(Path(configured) if configured else None)
        dumps = list(iter_dumps(locate_snapshots()))
    except (ProgramsError, DumpError) as exc:
        print(exc, file=sys.stderr)
        return 2
    failed = False
    for name, dump in dumps:
        for seed in (int(s) for s in args.seeds.split(",") if s.strip()):
            chain = LocalChain(programs)
            (pool,) = load_dump(chain, dump)
            start = time.perf_counter()
            report = mainnet.run(chain, pool, swaps=args.swaps, seed=seed, budget=budget)
            seconds = time.perf_counter() - start
            out = report.outcome
            compute = [m for m in out.mismatches if any(f in m.detail for f in COMPUTE_FAILURES)]
            other = [m for m in out.mismatches if m not in compute]
            zero = len(report.zero_fills)
            print(
                f"{name:<30} seed {seed:>3}  {out.swaps:>6,} swaps  filled {out.filled:>6,}  "
                f"refused by both {out.refused:>5,} (zero-output landed {zero:>4,})"
                f"  failed for compute {len(compute):>4,}  mismatches {len(other):>3,}  "
                f"max CU {report.max_compute_units:>9,}  {out.swaps / seconds:6.0f} swaps/s",
                flush=True,
            )
            for mismatch in other:
                print(f"  MISMATCH {mismatch}")
            failed |= bool(other)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

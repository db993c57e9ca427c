"""Our AMM math against the real programs on the local chain, many random swaps per program.

Usage: ``python bench/fidelity.py [--swaps N] [--programs cpswap,...] [--seed S]``. For each
program, draws random pools and swap sequences from the seed, runs every swap through the
program's mainnet build in LiteSVM and compares it with our quote to the base unit (what the
trader paid and got, refusals, the pool's state after). Prints the match rate, the swaps
filled and refused by both, swaps/s, and every mismatch with the case that reproduces it.
Exits 1 when any swap disagreed. In-process: needs no services, only the program binaries
(``ETERNA_PROGRAMS_DIR``, or ``../shared/programs`` beside the repository).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from pathlib import Path
from typing import Any

from eterna.adapters.localchain.fidelity.suite import Outcome, Suite, run_suite
from eterna.adapters.localchain.programs import PROGRAMS_DIR_ENV, ProgramsError, locate_programs

# Program name -> the module whose SUITE checks it; each program's owner adds a line here.
SUITES: dict[str, str] = {
    "cpswap": "eterna.adapters.localchain.fidelity.cpswap",
    "dlmm": "eterna.adapters.localchain.fidelity.dlmm",
    "whirlpool": "eterna.adapters.localchain.fidelity.whirlpool",
}
PROGRESS_SECONDS = 5.0


def _suite(name: str) -> Suite[Any]:
    suite = importlib.import_module(SUITES[name]).SUITE
    if not isinstance(suite, Suite):
        raise TypeError(f"{SUITES[name]}.SUITE is not a Suite")
    return suite


class _Progress:
    """Print a line at least every few seconds while a suite runs."""

    def __init__(self, name: str, target: int) -> None:
        self.name, self.target = name, target
        self.done = Outcome()
        self.last = time.perf_counter()

    def __call__(self, outcome: Outcome) -> None:
        self.done += outcome
        now = time.perf_counter()
        if now - self.last >= PROGRESS_SECONDS:
            self.last = now
            print(
                f"  {self.name}: {self.done.swaps:,}/{self.target:,} swaps, "
                f"{len(self.done.mismatches)} mismatches so far",
                flush=True,
            )


def _report(name: str, outcome: Outcome, seconds: float) -> None:
    print(
        f"{name:<10} {outcome.swaps:>8,} swaps  match {outcome.match_rate * 100:8.4f} %  "
        f"filled {outcome.filled:>7,}  refused by both {outcome.refused:>6,}  "
        f"mismatches {len(outcome.mismatches):>5,}  {outcome.swaps / seconds:7.0f} swaps/s"
    )
    for mismatch in outcome.mismatches:
        print(f"  MISMATCH {mismatch}")


def main() -> int:
    """Run the chosen suites and print their figures; return 1 when any swap disagreed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--swaps", type=int, default=20_000, help="swaps per program")
    parser.add_argument(
        "--programs", default=",".join(SUITES), help=f"comma-separated, of {', '.join(SUITES)}"
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the random cases")
    args = parser.parse_args()
    names = [n.strip() for n in args.programs.split(",") if n.strip()]
    unknown = [n for n in names if n not in SUITES]
    if unknown:
        parser.error(f"unknown program(s) {', '.join(unknown)}; known: {', '.join(SUITES)}")
    configured = os.environ.get(PROGRAMS_DIR_ENV)
    try:
        programs = locate_programs(Path(configured) if configured else None)
    except ProgramsError as exc:
        print(exc, file=sys.stderr)
        return 2
    failed = False
    for name in names:
        start = time.perf_counter()
        outcome = run_suite(
            _suite(name),
            programs,
            swaps=args.swaps,
            seed=args.seed,
            on_case=_Progress(name, args.swaps),
        )
        _report(name, outcome, time.perf_counter() - start)
        failed |= bool(outcome.mismatches)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""What every program's differential check shares: cases, outcomes, and the loop that runs them.

A program's fidelity module defines its ``Case`` (a pool and a sequence of swaps, fully given
by its fields, so a printed case reproduces), ``cases(rng, swaps)`` drawing cases until they
hold that many swaps, and ``run(chain, case)`` executing one on the chain and comparing every
swap with our math. It exports both as a :class:`Suite`; the test suite and
``bench/fidelity.py`` run suites through :func:`run_suite`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from eterna.adapters.localchain.programs import ProgramFile
from eterna.adapters.localchain.svm import LocalChain

C = TypeVar("C")

# A chain per this many cases: LiteSVM keeps every account and its transaction history.
CASES_PER_CHAIN = 200


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One swap where the program and our math disagreed, with everything to reproduce it."""

    case: str
    step: int
    detail: str

    def __str__(self) -> str:
        return f"step {self.step} of {self.case}: {self.detail}"


@dataclass(frozen=True, slots=True)
class Outcome:
    """Counts of a run: swaps compared, filled by both, refused by both, and the mismatches."""

    swaps: int = 0
    filled: int = 0
    refused: int = 0
    mismatches: tuple[Mismatch, ...] = field(default=())

    @property
    def matched(self) -> int:
        """Return the swaps where the program and our math agreed."""
        return self.swaps - len({(m.case, m.step) for m in self.mismatches})

    @property
    def match_rate(self) -> float:
        """Return the share of swaps that agreed (1.0 for an empty run); for display only."""
        return self.matched / self.swaps if self.swaps else 1.0

    def __add__(self, other: Outcome) -> Outcome:
        return Outcome(
            swaps=self.swaps + other.swaps,
            filled=self.filled + other.filled,
            refused=self.refused + other.refused,
            mismatches=self.mismatches + other.mismatches,
        )


@dataclass(frozen=True, slots=True)
class Suite(Generic[C]):
    """One program's differential check: its case generator and its runner."""

    name: str
    cases: Callable[[random.Random, int], Sequence[C]]
    run: Callable[[LocalChain, C], Outcome]


def run_suite(
    suite: Suite[C],
    programs: Iterable[ProgramFile],
    *,
    swaps: int,
    seed: int,
    on_case: Callable[[Outcome], None] | None = None,
) -> Outcome:
    """Run at least swaps random swaps of a suite, drawn from seed, on fresh local chains."""
    files = list(programs)
    cases = suite.cases(random.Random(seed), swaps)
    total = Outcome()
    for start in range(0, len(cases), CASES_PER_CHAIN):
        chain = LocalChain(files, seed=f"{suite.name}-{seed}-{start}".encode())
        for case in cases[start : start + CASES_PER_CHAIN]:
            outcome = suite.run(chain, case)
            total += outcome
            if on_case is not None:
                on_case(outcome)
    return total

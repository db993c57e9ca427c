"""Raydium CP-Swap's mainnet build and our constant-product math agree to the base unit.

4,000 random swaps over random pools (fee rates, protocol and fund shares, reserves from tens
of units to 10^18) in sequences that accumulate owed fees and move the price; amounts from one
base unit to thirty times the pool's input reserve. Seeded: a failure prints its case.
"""

from __future__ import annotations

import random

from eterna.adapters.localchain.fidelity import cpswap
from eterna.adapters.localchain.fidelity.suite import run_suite
from eterna.adapters.localchain.programs import CPSWAP, ProgramFile

SWAPS = 4_000
SEED = 20_260_101


def test_every_random_swap_pays_what_our_math_quotes_and_leaves_the_state_it_predicts(
    program_files: list[ProgramFile],
) -> None:
    programs = [p for p in program_files if p.spec == CPSWAP]
    outcome = run_suite(cpswap.SUITE, programs, swaps=SWAPS, seed=SEED)
    report = "\n".join(str(m) for m in outcome.mismatches)
    assert not outcome.mismatches, f"{len(outcome.mismatches)} mismatches:\n{report}"
    assert outcome.swaps == SWAPS
    # Both kinds of agreement are exercised: fills, and refusals of swaps that pay nothing.
    assert outcome.filled > SWAPS // 2
    assert outcome.refused > SWAPS // 20


def test_cases_cover_fee_shares_draining_amounts_and_single_units() -> None:
    drawn = cpswap.cases(random.Random(SEED), SWAPS)
    swaps = [(case, s) for case in drawn for s in case.swaps]
    assert sum(len(c.swaps) for c in drawn) == SWAPS
    assert any(c.protocol_fee_rate + c.fund_fee_rate == 1_000_000 for c in drawn)
    assert any(c.trade_fee_rate == 0 for c in drawn)
    assert any(s.amount == 1 for _, s in swaps)
    draining = [s for c, s in swaps if s.amount > c.amounts[0 if s.zero_for_one else 1]]
    assert len(draining) > SWAPS // 20
    assert {s.zero_for_one for _, s in swaps} == {True, False}
    assert max(len(c.swaps) for c in drawn) == cpswap.MAX_SWAPS_PER_CASE

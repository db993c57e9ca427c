"""Orca Whirlpool's deployed build and our Whirlpool math agree to the base unit.

2,500 random swaps over random pools (every common tick spacing and a full-range-only one, fee
rates from 0 to the 6 % maximum, protocol shares, up to seven positions from one spacing wide
to full range, prices near both ends of the tick range) in sequences that move the price,
accumulate fees and cross tick arrays; amounts from one unit, to exactly the next ticks, to
past what the three tick arrays a swap reads can fill. Seeded: a failure prints its case.
"""

from __future__ import annotations

import random
from collections import Counter

from eterna.adapters.localchain.fidelity import whirlpool
from eterna.adapters.localchain.fidelity.suite import Mismatch
from eterna.adapters.localchain.fidelity.whirlpool_checks import SwapCheck, summarize
from eterna.adapters.localchain.programs import WHIRLPOOL, ProgramFile
from eterna.adapters.localchain.svm import LocalChain
from eterna.adapters.solana.whirlpool import WhirlpoolProgramError
from eterna.amm.whirlpool_reach import tick_array_start

SWAPS = 2_500
SEED = 20_260_102


def _categories(check: SwapCheck, spacing: int) -> set[str]:
    found = {"a_to_b" if check.step.a_to_b else "b_to_a", f"spacing {spacing}"}
    quoted, before = check.quoted, check.before
    if quoted is None:
        code = WhirlpoolProgramError.TICK_ARRAY_SEQUENCE_INVALID_INDEX
        found.add("past the arrays" if f"({code.value})" in (check.chain_error or "") else "other")
    elif quoted.amount_in < check.amount:
        found.add("partial at the range end")
    elif quoted.amount_out == 0:
        found.add("pays nothing")
    else:
        found.add("filled")
    if check.starts_on_tick:
        found.add("starts on a tick")
    if check.ends_on_tick:
        found.add("ends on a tick")
    if check.crossed >= 5:
        found.add("crosses 5+ ticks")
    if check.paid is not None and check.step.supplemental:
        found.add("with supplemental arrays")
    if tick_array_start(before.tick_current, spacing) != tick_array_start(
        check.tick_after, spacing
    ):
        found.add("leaves its tick array")
    return found


def test_every_random_swap_pays_what_our_math_quotes_and_leaves_the_state_it_predicts(
    program_files: list[ProgramFile],
) -> None:
    chain = LocalChain([p for p in program_files if p.spec == WHIRLPOOL], seed=b"whirlpool")
    seen: Counter[str] = Counter()
    mismatches: list[Mismatch] = []
    swaps = 0
    for case in whirlpool.cases(random.Random(SEED), SWAPS):
        checks = whirlpool.run_checks(chain, case)
        swaps += len(checks)
        mismatches += summarize(repr(case), checks).mismatches
        for check in checks.values():
            seen.update(_categories(check, case.tick_spacing))
    report = "\n".join(str(m) for m in mismatches)
    assert not mismatches, f"{len(mismatches)} of {swaps} swaps disagree:\n{report}"
    assert swaps == SWAPS
    # The draws reach every place the program and the math could part.
    assert seen["filled"] > SWAPS // 2
    assert seen["other"] == 0
    for category in (
        "past the arrays",
        "pays nothing",
        "starts on a tick",
        "ends on a tick",
        "crosses 5+ ticks",
        "leaves its tick array",
        "with supplemental arrays",
    ):
        assert seen[category] > SWAPS // 50, (category, seen)
    assert seen["partial at the range end"] > 5, seen
    assert seen["a_to_b"] > SWAPS // 3
    assert seen["b_to_a"] > SWAPS // 3
    assert all(seen[f"spacing {s}"] > 0 for s in whirlpool.SPACINGS), seen

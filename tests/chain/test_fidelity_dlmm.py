"""Meteora DLMM's mainnet build (lb_clmm 0.12.0) and our bin math agree to the base unit.

2,400 random swaps over random pairs (bin steps 1 to 400, base fees from 0.01 % past the 10 %
cap, variable fees off and on, protocol shares, one to five positions of random widths and
shapes, active bins at bin array edges and past the pair's own bitmap) in sequences with the
clock moved inside and past the filter and decay periods; amounts from one unit to past the
last bin, many of them within two units of the input that empties a bin. Seeded: a failure
prints its case and the pool before the swap.
"""

from __future__ import annotations

import random

from eterna.adapters.localchain.dlmm_pools import needs_extension
from eterna.adapters.localchain.fidelity import dlmm
from eterna.adapters.localchain.fidelity.dlmm_cases import REACH, DlmmCase, Step, cases
from eterna.adapters.localchain.fidelity.suite import run_suite
from eterna.adapters.localchain.programs import DLMM, ProgramFile

SWAPS = 2_400
SEED = 20_260_107


def test_every_random_swap_pays_what_our_math_quotes_and_leaves_the_state_it_predicts(
    program_files: list[ProgramFile],
) -> None:
    programs = [p for p in program_files if p.spec == DLMM]
    outcome = run_suite(dlmm.SUITE, programs, swaps=SWAPS, seed=SEED)
    report = "\n".join(str(m) for m in outcome.mismatches[:5])
    assert not outcome.mismatches, f"{len(outcome.mismatches)} mismatches, first:\n{report}"
    assert outcome.swaps == SWAPS
    # Both kinds of agreement are exercised: fills, and refusals (dust, past the last bin).
    assert outcome.filled > SWAPS // 2
    assert outcome.refused > SWAPS // 20


def _drawn() -> tuple[list[DlmmCase], list[tuple[DlmmCase, Step]]]:
    drawn = cases(random.Random(SEED), SWAPS)
    return drawn, [(case, step) for case in drawn for step in case.steps]


def test_cases_cover_fee_parameters_and_pair_shapes() -> None:
    drawn, _ = _drawn()
    fees = [case.fees for case in drawn]
    assert len({f.bin_step for f in fees}) >= 12
    assert any(f.base_fee_rate > 10**8 for f in fees)  # past the program's 10 % cap
    assert any(f.base_fee_rate <= 10**6 for f in fees)
    assert any(f.variable_fee_control == 0 for f in fees)
    assert any(f.variable_fee_control > 10**6 for f in fees)
    assert any(f.base_fee_power_factor > 0 for f in fees)
    assert any(case.active_id % 70 in (0, 69) for case in drawn)  # a bin array's edge
    assert any(needs_extension(case.active_id) for case in drawn)
    assert any(len(case.deposits) >= 4 for case in drawn)
    assert any(len(d.weights) == 70 for case in drawn for d in case.deposits)
    reach = [
        abs(b - case.active_id)
        for case in drawn
        for d in case.deposits
        for b in (d.lower_bin_id, d.upper_bin_id)
    ]
    assert max(reach) <= REACH


def test_cases_cover_the_clock_and_amounts_at_every_edge() -> None:
    _, steps = _drawn()
    assert {step.swap_for_y for _, step in steps} == {True, False}
    waits = [(case.fees, step.wait) for case, step in steps]
    assert any(w == 0 for _, w in waits)
    assert any(0 < w < f.filter_period for f, w in waits)
    assert any(f.filter_period <= w < f.decay_period for f, w in waits)
    assert any(w >= f.decay_period for f, w in waits)
    sizes = [step.size for _, step in steps]
    assert any(s.kind == "units" and s.value == 1 for s in sizes)
    assert {s.offset for s in sizes if s.kind == "edge"} == {-2, -1, 0, 1, 2}
    assert {s.offset for s in sizes if s.kind == "drain"} == {-2, -1, 0, 1, 2}
    assert any(s.kind == "edge" and s.value >= 3 for s in sizes)
    assert sum(s.kind == "share" for s in sizes) > len(sizes) // 4

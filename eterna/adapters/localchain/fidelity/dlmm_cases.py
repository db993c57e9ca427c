"""Random DLMM cases for the fidelity check: a pair, its liquidity, and swaps over time.

Everything a case needs is in the case itself (fees, active bin, deposits, steps), so a
printed case reproduces on any chain: mint addresses never change what a swap pays.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from eterna.adapters.localchain.dlmm_pools import MAX_POSITION_WIDTH, Deposit, DlmmFees
from eterna.amm.dlmm_bins import ONE, bin_price

# The bin steps of Meteora's presets, and a few more.
BIN_STEPS = (1, 2, 4, 5, 8, 10, 15, 16, 20, 25, 50, 80, 100, 125, 150, 200, 250, 400)
# lb_clmm's MAX_BIN_ID_PER_BIN_STEP: a pair's bins stay within +-(this // bin_step).
MAX_BIN_ID_PER_BIN_STEP = 351_639
MAX_BASE_FACTOR = 65_535
STEPS_PER_CASE = (4, 24)
# Liquidity stays within this many bins of the starting one: a swap costs about 5,200
# compute units per bin it crosses, so one that crosses the whole pair (221 bins) stays
# under the 1.4M a transaction may use.
REACH = 110
# Bins of the bin arrays the pair's own bitmap covers: -512..511 arrays of 70.
BITMAP_BINS = 512 * 70


@dataclass(frozen=True, slots=True)
class Size:
    """How a swap's amount is chosen from the state before it, plus an offset in units.

    ``units``: value units. ``share``: value parts per million of the most the pair takes.
    ``edge``: the input that empties the first value + 1 bins in turn. ``drain``: the most
    the pair takes.
    """

    kind: Literal["units", "share", "edge", "drain"]
    value: int
    offset: int = 0


@dataclass(frozen=True, slots=True)
class Step:
    """One swap of a case: wait that many seconds, then sell X for Y (or Y for X)."""

    wait: int
    swap_for_y: bool
    size: Size


@dataclass(frozen=True, slots=True)
class DlmmCase:
    """A pair with its fees, active bin and deposits, and the swaps to run on it."""

    label: int
    fees: DlmmFees
    active_id: int
    deposits: tuple[Deposit, ...]
    steps: tuple[Step, ...]


def cases(rng: random.Random, swaps: int) -> list[DlmmCase]:
    """Return random cases holding swaps swaps in all (the last case cut to fit)."""
    found: list[DlmmCase] = []
    left = swaps
    while left > 0:
        case = random_case(rng, len(found))
        found.append(case if len(case.steps) <= left else _cut(case, left))
        left -= len(found[-1].steps)
    return found


def _cut(case: DlmmCase, steps: int) -> DlmmCase:
    return DlmmCase(case.label, case.fees, case.active_id, case.deposits, case.steps[:steps])


def random_case(rng: random.Random, label: int) -> DlmmCase:
    """Return one random case."""
    # Now and then a pair whose bins lie past its own bitmap, which only the smallest bin
    # steps reach: its bin arrays are marked in the bitmap extension account.
    beyond = rng.random() < 0.08
    fees = random_fees(rng, (1, 2) if beyond else BIN_STEPS)
    active_id = _beyond_bitmap(rng, fees.bin_step) if beyond else _active_id(rng, fees.bin_step)
    deposits = tuple(_deposit(rng, active_id, fees.bin_step) for _ in range(rng.randint(1, 5)))
    steps = tuple(_step(rng, fees) for _ in range(rng.randint(*STEPS_PER_CASE)))
    return DlmmCase(label, fees, active_id, deposits, steps)


def random_fees(rng: random.Random, bin_steps: Sequence[int] = BIN_STEPS) -> DlmmFees:
    """Return fee parameters across the range real pairs use, now and then past the cap."""
    bin_step = rng.choice(bin_steps)
    power = rng.choice((0, 0, 0, 1, 2))
    # Base fee rates from 0.01 % to about 20 % (over 1e9); above 10 % the program caps it.
    target = int(10 ** rng.uniform(5, 8.3))
    base_factor = min(MAX_BASE_FACTOR, max(1, target // (bin_step * 10 * 10**power)))
    filter_period = rng.randint(0, 60)
    return DlmmFees(
        bin_step=bin_step,
        base_factor=base_factor,
        base_fee_power_factor=power,
        filter_period=filter_period,
        decay_period=rng.randint(filter_period + 1, 1_200),
        reduction_factor=rng.randint(0, 10_000),
        variable_fee_control=rng.choice((0, rng.randint(1, 100_000), rng.randint(1, 2_000_000))),
        max_volatility_accumulator=rng.randint(0, 450_000),
        protocol_share=rng.randint(0, 2_500),
    )


def _active_id(rng: random.Random, bin_step: int) -> int:
    """Return a starting bin: near price 1, at a bin array's edge, or at a far price."""
    limit = MAX_BIN_ID_PER_BIN_STEP // bin_step
    kind = rng.random()
    if kind < 0.3:
        return 70 * rng.randint(-4, 4) - rng.randint(0, 1)  # first or last bin of an array
    if kind < 0.85:
        return rng.randint(-min(limit, 300), min(limit, 300))
    # Raw prices from about 1e-5 to 1e5 (a memecoin against SOL, or the other way round).
    far = min(limit, 115_000 // bin_step)
    return rng.randint(-far, far)


def _beyond_bitmap(rng: random.Random, bin_step: int) -> int:
    """Return a starting bin whose bin array lies past -512..511 (and its neighbours too)."""
    first = BITMAP_BINS + REACH + 1
    return rng.choice((-1, 1)) * rng.randint(first, max(first, 115_000 // bin_step))


def _deposit(rng: random.Random, active_id: int, bin_step: int) -> Deposit:
    """Return one position's liquidity: a random width and shape near the active bin."""
    width = rng.choice((1, 2, MAX_POSITION_WIDTH, rng.randint(1, MAX_POSITION_WIDTH)))
    span = rng.choice((0, 5, 40, REACH))
    lower = active_id + rng.randint(-span, span) - width // 2
    limit = MAX_BIN_ID_PER_BIN_STEP // bin_step
    low, high = max(-limit, active_id - REACH), min(limit, active_id + REACH)
    lower = max(low, min(high - width + 1, lower))
    shape = rng.random()
    if shape < 0.3:
        weights = tuple([rng.randint(1, 1_000)] * width)
    elif shape < 0.7:
        weights = tuple(rng.randint(1, 1_000) for _ in range(width))
    else:  # a bell around the middle, the curve strategy's shape
        weights = tuple(max(1, 1_000 - 40 * abs(i - width // 2)) for i in range(width))
    # Amounts from small to large, the cheaper token's at least 1,000 units, and the two
    # sides worth about the same at the active price (give or take ten times): the program's
    # weight-to-amount math overflows on lopsided deposits.
    small = int(10 ** rng.uniform(3, 12))
    price = Fraction(bin_price(bin_step, active_id), ONE) * Fraction(10 ** rng.uniform(-1, 1))
    if price >= 1:
        return Deposit(lower, weights, small, int(small * price))
    return Deposit(lower, weights, int(small / price), small)


def _step(rng: random.Random, fees: DlmmFees) -> Step:
    """Return a swap with a wait that lands inside or past the filter and decay periods."""
    wait = rng.choice(
        (
            0,
            rng.randint(0, max(0, fees.filter_period - 1)),
            rng.randint(fees.filter_period, fees.decay_period),
            rng.randint(fees.decay_period, 3 * fees.decay_period),
        )
    )
    kind = rng.random()
    if kind < 0.15:
        size = Size("units", rng.choice((1, 2, 3, rng.randint(1, 1_000))))
    elif kind < 0.55:
        size = Size("share", int(10 ** rng.uniform(0, 6.08)))
    elif kind < 0.9:
        size = Size("edge", rng.choice((0, 0, 1, 2, rng.randint(0, 20))), rng.randint(-2, 2))
    else:
        size = Size("drain", 0, rng.randint(-2, 2))
    return Step(wait, rng.random() < 0.5, size)

"""Orca Whirlpool fidelity: random pools and swap sequences, the program against our math.

A case is a pool (tick spacing, fee and protocol fee rates, sqrt price, positions, extra
initialized tick arrays) and a sequence of swaps on it, every one checked by
:func:`.whirlpool_checks.check_swap`. The draws lean on the places
where rounding and bookkeeping go wrong: prices exactly on initialized ticks and on tick-array
starts, pools near the ends of the tick range (where a walk may reach the minimum or maximum
sqrt price), narrow positions crossed by the dozen, amounts that end a swap exactly on a
tick, and amounts from one unit to past what the three tick arrays a swap reads can fill.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from eterna.adapters.localchain.fidelity.suite import Outcome, Suite
from eterna.adapters.localchain.fidelity.whirlpool_checks import (
    SwapCheck,
    SwapStep,
    check_swap,
    summarize,
)
from eterna.adapters.localchain.svm import LocalChain
from eterna.adapters.localchain.whirlpool_pools import WhirlpoolSpec, create_whirlpool
from eterna.amm.clmm_math import (
    MAX_TICK_INDEX,
    MIN_TICK_INDEX,
    sqrt_price_from_tick_index,
    tick_index_from_sqrt_price,
)
from eterna.amm.whirlpool_positions import Position, position_amounts
from eterna.amm.whirlpool_reach import is_valid_start, tick_array_start, ticks_in_array

SPACINGS = (1, 2, 4, 8, 16, 32, 64, 96, 128, 256, 32_896)
FULL_RANGE_ONLY_SPACING = 32_768
FEE_RATES = (0, 1, 100, 300, 500, 1_000, 3_000, 10_000, 30_000, 60_000)
PROTOCOL_FEE_RATES = (0, 100, 1_300, 2_500)
# What positions and the trader may hold of a token: far inside a u64 for every sum.
MAX_DEPOSIT = 1 << 60
TRADER_FUNDS = 1 << 62
MAX_STEPS = 40  # with MAX_AMOUNT, keeps every mint's supply within a u64


@dataclass(frozen=True, slots=True)
class Case:
    """A pool and the swaps run on it, in order; its fields reproduce it."""

    number: int
    tick_spacing: int
    fee_rate: int
    protocol_fee_rate: int
    sqrt_price_x64: int
    positions: tuple[Position, ...]
    extra_arrays: tuple[int, ...]
    steps: tuple[SwapStep, ...]


def cases(rng: random.Random, swaps: int) -> list[Case]:
    """Draw cases until they hold at least swaps swaps."""
    drawn: list[Case] = []
    total = 0
    while total < swaps:
        case = _case(rng, len(drawn), min(swaps - total, rng.randint(4, MAX_STEPS)))
        drawn.append(case)
        total += len(case.steps)
    return drawn


def run(chain: LocalChain, case: Case) -> Outcome:
    """Create the case's pool, run its swaps on the program and compare each with our math."""
    return summarize(repr(case), run_checks(chain, case))


def run_checks(chain: LocalChain, case: Case) -> dict[int, SwapCheck]:
    """Run a case; return each swap's check by step."""
    mints = (chain.create_mint(6), chain.create_mint(9))
    spec = WhirlpoolSpec(
        mints=mints,
        tick_spacing=case.tick_spacing,
        fee_rate=case.fee_rate,
        protocol_fee_rate=case.protocol_fee_rate,
        sqrt_price_x64=case.sqrt_price_x64,
        positions=case.positions,
        extra_arrays=case.extra_arrays,
    )
    pool = create_whirlpool(chain, spec)
    trader = chain.new_wallet()
    accounts = (
        chain.fund(trader.pubkey(), pool.mint_a, TRADER_FUNDS),
        chain.fund(trader.pubkey(), pool.mint_b, TRADER_FUNDS),
    )
    return {
        i: check_swap(chain, pool, trader, accounts, step, memo_text=f"whirlpool {case.number} {i}")
        for i, step in enumerate(case.steps)
    }


SUITE = Suite(name="whirlpool", cases=cases, run=run)


def _case(rng: random.Random, number: int, swaps: int) -> Case:
    spacing = rng.choice(SPACINGS)
    tick = _center_tick(rng, spacing)
    positions = _positions(rng, spacing, tick)
    sqrt_price = _sqrt_price(rng, spacing, tick, positions)
    return Case(
        number=number,
        tick_spacing=spacing,
        fee_rate=rng.choice((*FEE_RATES, rng.randint(0, 60_000))),
        protocol_fee_rate=rng.choice((*PROTOCOL_FEE_RATES, rng.randint(0, 2_500))),
        sqrt_price_x64=sqrt_price,
        positions=_fit_deposits(positions, sqrt_price),
        extra_arrays=_extra_arrays(rng, spacing, tick_index_from_sqrt_price(sqrt_price)),
        steps=tuple(_step(rng) for _ in range(swaps)),
    )


def _center_tick(rng: random.Random, spacing: int) -> int:
    """Pick where the price starts: mostly mid-range, sometimes near an end of the range."""
    span = 3 * ticks_in_array(spacing)
    region = rng.random()
    if region < 0.1:
        return rng.randint(MIN_TICK_INDEX, min(MIN_TICK_INDEX + span, MAX_TICK_INDEX - 1))
    if region < 0.2:
        return rng.randint(max(MAX_TICK_INDEX - span, MIN_TICK_INDEX), MAX_TICK_INDEX - 1)
    if region < 0.3:
        return rng.randint(-400_000, 400_000)
    return rng.randint(-40_000, 40_000)


def _positions(rng: random.Random, spacing: int, tick: int) -> list[Position]:
    lowest = -(-MIN_TICK_INDEX // spacing) * spacing
    highest = MAX_TICK_INDEX // spacing * spacing
    if spacing >= FULL_RANGE_ONLY_SPACING:  # the program opens full-range positions only
        return [Position(lowest, highest, _liquidity(rng)) for _ in range(rng.randint(1, 3))]
    positions = []
    for _ in range(rng.randint(1, 7)):
        width = rng.choice(
            (1, 2, rng.randint(1, 12), rng.randint(10, 300), rng.randint(200, 5_000))
        )
        below = rng.randint(-width // 3, width + width // 3)  # sometimes wholly above or below
        lower = max((tick // spacing - below) * spacing, lowest)
        upper = min(lower + width * spacing, highest)
        if rng.random() < 0.05:
            lower, upper = lowest, highest
        if lower < upper:
            positions.append(Position(lower, upper, _liquidity(rng)))
    return positions or [Position(lowest, highest, _liquidity(rng))]


def _liquidity(rng: random.Random) -> int:
    return int(10 ** rng.uniform(2, 14))


def _sqrt_price(rng: random.Random, spacing: int, tick: int, positions: Sequence[Position]) -> int:
    """Start on a position's tick, on a tick-array start, or anywhere inside tick."""
    draw = rng.random()
    if draw < 0.25:
        tick = rng.choice([end for p in positions for end in p[:2]])
    elif draw < 0.35:
        tick = max(tick_array_start(tick, spacing), MIN_TICK_INDEX)
    else:
        low = sqrt_price_from_tick_index(tick)
        return low + rng.randrange(sqrt_price_from_tick_index(tick + 1) - low)
    return sqrt_price_from_tick_index(tick)


def _fit_deposits(positions: Sequence[Position], sqrt_price: int) -> tuple[Position, ...]:
    """Scale the positions down until what they deposit fits the provider's funds."""
    tick = tick_index_from_sqrt_price(sqrt_price)
    cap = MAX_DEPOSIT // len(positions)
    fitted = []
    for drawn in positions:
        position = drawn
        while position.liquidity > 1 and max(position_amounts(sqrt_price, tick, position)) > cap:
            position = position._replace(liquidity=position.liquidity // 16)
        fitted.append(position)
    return tuple(fitted)


def _extra_arrays(rng: random.Random, spacing: int, tick: int) -> tuple[int, ...]:
    """Initialize some arrays around the price; the rest stay uninitialized PDAs."""
    span = ticks_in_array(spacing)
    base = tick_array_start(tick, spacing)
    near = (base + k * span for k in range(-3, 4))
    return tuple(s for s in near if is_valid_start(s, spacing) and rng.random() < 0.5)


def _step(rng: random.Random) -> SwapStep:
    size = rng.choice(("dust", "units", "share", "share", "tick", "tick"))
    if size == "dust":
        value = rng.randint(1, 1_000)
    elif size == "units":
        value = int(2 ** rng.uniform(0, 62))
    elif size == "share":
        value = rng.choice((rng.randint(1, 1_000), rng.randint(1, 1_200), 1_000))
    else:
        value = rng.randint(1, 6)
    return SwapStep(
        a_to_b=rng.random() < 0.5,
        size=size,
        value=value,
        nudge=rng.choice((0, 0, -1, 1)),
        advance=rng.choice((0, 0, 1, 60, 3_600)),
        supplemental=rng.choice((0, 0, 1, 3)),
    )

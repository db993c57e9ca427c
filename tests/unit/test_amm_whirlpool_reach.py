"""Where a Whirlpool swap can go: the program's three tick arrays, their edges and the ends."""

from __future__ import annotations

from dataclasses import replace

import pytest

from eterna.amm.base import InsufficientLiquidityError
from eterna.amm.clmm_math import (
    MAX_SQRT_PRICE_X64,
    MAX_TICK_INDEX,
    MIN_TICK_INDEX,
    Q64,
    amount_delta_b,
    sqrt_price_from_tick_index,
)
from eterna.amm.whirlpool import WhirlpoolPool
from eterna.amm.whirlpool_reach import Reach, swap_array_starts, swap_reach
from eterna.amm.whirlpool_step import FEE_RATE_MUL_VALUE

LIQUIDITY = 10**12


def _pool(ticks: tuple[tuple[int, int], ...], spacing: int, fee_rate: int = 3_000) -> WhirlpoolPool:
    """A pool at tick 0 (price 1) with generous vaults and the given initialized ticks."""
    return WhirlpoolPool(
        sqrt_price_x64=Q64,
        liquidity=sum(net for index, net in ticks if index <= 0),
        tick_current=0,
        tick_spacing=spacing,
        fee_rate=fee_rate,
        ticks=ticks,
        balance_a=10**18,
        balance_b=10**18,
    )


def _input_to(pool: WhirlpoolPool, tick: int) -> int:
    """The B input (fee included) that moves pool's one range from price 1 up to tick."""
    net = amount_delta_b(Q64, sqrt_price_from_tick_index(tick), pool.liquidity, round_up=True)
    keep = FEE_RATE_MUL_VALUE - pool.fee_rate
    return net + -(-net * pool.fee_rate // keep)


@pytest.mark.parametrize(
    ("tick", "spacing", "a_to_b", "starts"),
    [
        (0, 64, True, (0, -5_632, -11_264)),
        (0, 64, False, (0, 5_632, 11_264)),
        (-1, 64, True, (-5_632, -11_264, -16_896)),
        # Within one spacing of the array's end, B to A starts at the next array.
        (5_567, 64, False, (0, 5_632, 11_264)),
        (5_568, 64, False, (5_632, 11_264, 16_896)),
        # Only the array holding the minimum tick exists below the range.
        (MIN_TICK_INDEX, 64, True, (-444_928,)),
        (MIN_TICK_INDEX, 64, False, (-444_928, -439_296, -433_664)),
        (MAX_TICK_INDEX - 1, 64, False, (439_296,)),
        (MAX_TICK_INDEX - 1, 64, True, (439_296, 433_664, 428_032)),
        # A full-range-only spacing: one array spans every tick above zero.
        (0, 32_896, True, (0, -2_894_848)),
        (0, 32_896, False, (0,)),
    ],
)
def test_swap_array_starts_follow_the_program(
    tick: int, spacing: int, a_to_b: bool, starts: tuple[int, ...]
) -> None:
    assert swap_array_starts(tick, spacing, a_to_b=a_to_b) == starts


def test_reach_ends_at_the_last_array_or_at_the_range_end() -> None:
    assert swap_reach(0, 64, a_to_b=True) == Reach(edge=-11_264, stop=-11_264, to_limit=False)
    assert swap_reach(0, 64, a_to_b=False) == Reach(
        edge=11_264 + 5_631, stop=11_264 + 87 * 64, to_limit=False
    )
    assert swap_reach(MIN_TICK_INDEX, 64, a_to_b=True).edge == MIN_TICK_INDEX
    assert swap_reach(MIN_TICK_INDEX, 64, a_to_b=True).to_limit
    assert swap_reach(MAX_TICK_INDEX - 1, 64, a_to_b=False).edge == MAX_TICK_INDEX


def test_a_swap_fills_up_to_the_last_arrays_edge_and_fails_one_unit_past_it() -> None:
    # Liquidity far beyond the three arrays a swap from tick 0 reads: [0, 264) at spacing 1.
    pool = _pool(((-10_000, LIQUIDITY), (10_000, -LIQUIDITY)), spacing=1)
    edge = swap_reach(0, 1, a_to_b=False).edge
    assert edge == 263
    exact = _input_to(pool, edge)
    result, after = pool.swap(exact, a_to_b=False)
    assert result.amount_in == exact
    assert (after.sqrt_price_x64, after.tick_current) == (sqrt_price_from_tick_index(edge), edge)
    with pytest.raises(InsufficientLiquidityError, match="tick arrays"):
        pool.swap(exact + 1, a_to_b=False)
    assert pool.quote_amounts([exact, exact + 1], a_to_b=False) == [result, None]


def test_crossing_an_initialized_tick_at_the_last_arrays_end_ends_the_walk() -> None:
    # Spacing 2 from tick 0: arrays start at 0, 176 and 352; the last one's final tick is 526.
    reach = swap_reach(0, 2, a_to_b=False)
    assert (reach.stop, reach.edge) == (526, 527)
    bounded = _pool(((-2, LIQUIDITY), (526, -LIQUIDITY // 2), (600, -LIQUIDITY // 2)), spacing=2)
    open_ended = _pool(((-2, LIQUIDITY), (600, -LIQUIDITY)), spacing=2)
    exact = _input_to(bounded, 526)
    assert bounded.swap(exact, a_to_b=False)[1].tick_current == 526
    with pytest.raises(InsufficientLiquidityError):
        bounded.swap(exact + 10, a_to_b=False)
    # Without an initialized tick there the walk goes on to the array's last tick index.
    assert open_ended.swap(exact + 10, a_to_b=False)[1].tick_current == 526


def test_at_the_end_of_the_range_the_program_fills_part_and_swap_refuses() -> None:
    full_range = MAX_TICK_INDEX // 32_896 * 32_896
    # Little liquidity: past the position the price runs on to the maximum at no cost.
    pool = _pool(((-full_range, 1_000), (full_range, -1_000)), spacing=32_896)
    amount = 10**17
    partial, after = pool.program_swap(amount, a_to_b=False)
    assert 0 < partial.amount_in < amount
    assert after.sqrt_price_x64 == MAX_SQRT_PRICE_X64
    assert after.balance_b == pool.balance_b + partial.amount_in
    with pytest.raises(InsufficientLiquidityError, match="end of the price range"):
        pool.swap(amount, a_to_b=False)
    assert pool.quote_amounts([amount], a_to_b=False) == [None]


def test_dust_pays_nothing_on_the_program_and_swap_refuses_it() -> None:
    pool = _pool(((-64, LIQUIDITY), (64, -LIQUIDITY)), spacing=64)
    result, after = pool.program_swap(1, a_to_b=True)
    assert (result.amount_in, result.amount_out, result.fee) == (1, 0, 1)
    assert after.balance_a == pool.balance_a + 1
    with pytest.raises(InsufficientLiquidityError, match="single unit"):
        pool.swap(1, a_to_b=True)


def test_fee_growth_and_protocol_fee_follow_the_programs_split() -> None:
    pool = _pool(((-6_400, LIQUIDITY), (6_400, -LIQUIDITY)), spacing=64)
    pool = replace(pool, protocol_fee_rate=1_300)
    result, after = pool.swap(1_000_000, a_to_b=False)
    protocol = result.fee * 1_300 // 10_000
    assert after.protocol_fee_owed_b == protocol
    assert after.fee_growth_global_b == ((result.fee - protocol) << 64) // LIQUIDITY
    assert (after.protocol_fee_owed_a, after.fee_growth_global_a) == (0, 0)

"""Whirlpool positions: ranges around a price rounded to the tick spacing, and their deposits.

What a pool built from ranges holds is what ``open_position`` and ``increase_liquidity``
would make of the same positions on chain (``manager/liquidity_manager.rs``: a position below
the current tick holds only A, above it only B, amounts rounded up).
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from math import isqrt
from typing import NamedTuple

from eterna.amm.clmm_math import (
    MAX_TICK_INDEX,
    MIN_TICK_INDEX,
    amount_delta_a,
    amount_delta_b,
    sqrt_price_from_tick_index,
    tick_index_from_sqrt_price,
)

# (lower price ratio, upper price ratio, share of the liquidity): a tight core and wider tails.
DEFAULT_RANGES: tuple[tuple[Fraction, Fraction, Fraction], ...] = (
    (Fraction(99, 100), Fraction(101, 100), Fraction(1)),
    (Fraction(95, 100), Fraction(105, 100), Fraction(1, 2)),
    (Fraction(80, 100), Fraction(120, 100), Fraction(1, 4)),
)


class Position(NamedTuple):
    """A position: liquidity over the ticks [lower, upper)."""

    lower: int
    upper: int
    liquidity: int


def sqrt_price_x64(price: Fraction) -> int:
    """Return floor(sqrt(price) * 2^64) for a raw B-per-A price."""
    if price <= 0:
        raise ValueError("price must be positive")
    return isqrt((price.numerator << 128) // price.denominator)


def position_amounts(sqrt_price: int, tick: int, position: Position) -> tuple[int, int]:
    """Return the A and B a position deposits, rounded up as ``increase_liquidity`` does."""
    lower, upper, liquidity = position
    sqrt_lower, sqrt_upper = sqrt_price_from_tick_index(lower), sqrt_price_from_tick_index(upper)
    if tick < lower:
        return amount_delta_a(sqrt_lower, sqrt_upper, liquidity, round_up=True), 0
    if tick >= upper:
        return 0, amount_delta_b(sqrt_lower, sqrt_upper, liquidity, round_up=True)
    return (
        amount_delta_a(sqrt_price, sqrt_upper, liquidity, round_up=True),
        amount_delta_b(sqrt_lower, sqrt_price, liquidity, round_up=True),
    )


def positions_for_ranges(
    price: Fraction,
    liquidity: int,
    tick_spacing: int,
    ranges: Sequence[tuple[Fraction, Fraction, Fraction]],
) -> tuple[Position, ...]:
    """Return one position per range around price, skipping ranges left without liquidity.

    Each range is ``(lower ratio, upper ratio, share)``: a position from price*lower to
    price*upper (widened outwards to the tick spacing) holding ``floor(liquidity*share)``.
    """
    lowest = -(-MIN_TICK_INDEX // tick_spacing) * tick_spacing
    highest = MAX_TICK_INDEX // tick_spacing * tick_spacing
    positions = []
    for low_ratio, high_ratio, share in ranges:
        low_tick = tick_index_from_sqrt_price(sqrt_price_x64(price * low_ratio))
        high_tick = tick_index_from_sqrt_price(sqrt_price_x64(price * high_ratio))
        lower = max(low_tick // tick_spacing * tick_spacing, lowest)
        upper = min(-(-high_tick // tick_spacing) * tick_spacing, highest)
        if lower >= upper:
            raise ValueError("a range must span at least one tick spacing")
        amount = liquidity * share.numerator // share.denominator
        if amount > 0:  # the program refuses a position without liquidity
            positions.append(Position(lower, upper, amount))
    return tuple(positions)

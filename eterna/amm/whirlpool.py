"""Orca Whirlpool concentrated liquidity: exact-in swaps stepping across initialized ticks.

Sources (orca-so/whirlpools ``programs/whirlpool/src/``): ``math/swap_math.rs``
(``compute_swap``), ``manager/swap_manager.rs`` (``swap``: the step loop, tick crossing,
``calculate_fees``) and the Q64.64 math ported in :mod:`eterna.amm.clmm_math`. One step::

    amount_calc = floor(remaining * (1e6 - fee_rate) / 1e6)
    delta       = ceil(input-token amount from sqrt_price to the target sqrt price)
    next        = target if amount_calc >= delta else next_sqrt_price(amount_calc)
    amount_in   = delta if next is target else ceil(input-token amount to next)
    amount_out  = floor(output-token amount to next)
    fee         = ceil(amount_in * fee_rate / (1e6 - fee_rate)) if next is target
                  else remaining - amount_in
    protocol    = floor(fee * protocol_fee_rate / 10_000)

Crossing an initialized tick subtracts its ``liquidity_net`` moving down (A to B) and adds it
moving up. A Whirlpool stores only liquidity, so ``balance_a``/``balance_b`` track the vault:
they start at what the constructor's positions deposit (rounded up, as the program does) and
move by each swap's full input (fee included) and output.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from math import isqrt
from typing import NamedTuple, Self

from eterna.amm.base import InsufficientLiquidityError, SwapResult
from eterna.amm.clmm_math import (
    MAX_SQRT_PRICE_X64,
    MAX_TICK_INDEX,
    MIN_SQRT_PRICE_X64,
    MIN_TICK_INDEX,
    amount_delta_a,
    amount_delta_b,
    next_sqrt_price_exact_in,
    sqrt_price_from_tick_index,
    tick_index_from_sqrt_price,
)

FEE_RATE_MUL_VALUE = 1_000_000
PROTOCOL_FEE_RATE_MUL_VALUE = 10_000

# (lower price ratio, upper price ratio, share of the liquidity): a tight core and wider tails.
DEFAULT_RANGES: tuple[tuple[Fraction, Fraction, Fraction], ...] = (
    (Fraction(99, 100), Fraction(101, 100), Fraction(1)),
    (Fraction(95, 100), Fraction(105, 100), Fraction(1, 2)),
    (Fraction(80, 100), Fraction(120, 100), Fraction(1, 4)),
)


class _Walk(NamedTuple):
    """The outcome of one swap's step loop, and the price state it leaves."""

    result: SwapResult
    protocol_fee: int
    sqrt_price: int
    liquidity: int
    tick: int


def _compute_swap(
    remaining: int, fee_rate: int, liquidity: int, sqrt_price: int, target: int, *, a_to_b: bool
) -> tuple[int, int, int, int]:
    """Run one exact-in ``compute_swap`` step towards target.

    Return (amount in, amount out, next sqrt price, fee).
    """
    amount_calc = remaining * (FEE_RATE_MUL_VALUE - fee_rate) // FEE_RATE_MUL_VALUE
    to_target = (amount_delta_a if a_to_b else amount_delta_b)(
        sqrt_price, target, liquidity, round_up=True
    )
    if amount_calc >= to_target:
        return _whole_step(to_target, fee_rate, liquidity, sqrt_price, target, a_to_b=a_to_b)
    return _short_step(remaining, amount_calc, liquidity, sqrt_price, a_to_b=a_to_b)


def _whole_step(
    to_target: int, fee_rate: int, liquidity: int, sqrt_price: int, target: int, *, a_to_b: bool
) -> tuple[int, int, int, int]:
    """Run a step that reaches its target, whose input (``to_target``) is already known."""
    fee = -(-to_target * fee_rate // (FEE_RATE_MUL_VALUE - fee_rate))
    amount_out = (amount_delta_b if a_to_b else amount_delta_a)(
        sqrt_price, target, liquidity, round_up=False
    )
    return to_target, amount_out, target, fee


def _short_step(
    remaining: int, amount_calc: int, liquidity: int, sqrt_price: int, *, a_to_b: bool
) -> tuple[int, int, int, int]:
    """Run a step that ends short of its target, spending all of remaining."""
    fixed_delta = amount_delta_a if a_to_b else amount_delta_b
    unfixed_delta = amount_delta_b if a_to_b else amount_delta_a
    next_sqrt = next_sqrt_price_exact_in(sqrt_price, liquidity, amount_calc, a_to_b=a_to_b)
    amount_in = fixed_delta(sqrt_price, next_sqrt, liquidity, round_up=True)
    amount_out = unfixed_delta(sqrt_price, next_sqrt, liquidity, round_up=False)
    # Short of the target the whole remainder is spent: what the price did not absorb is fee.
    return amount_in, amount_out, next_sqrt, remaining - amount_in


def _sqrt_price_x64(price: Fraction) -> int:
    """Return floor(sqrt(price) * 2^64) for a raw B-per-A price."""
    if price <= 0:
        raise ValueError("price must be positive")
    return isqrt((price.numerator << 128) // price.denominator)


def _position_amounts(
    sqrt_price: int, tick: int, lower: int, upper: int, liquidity: int
) -> tuple[int, int]:
    """Return the A and B a position deposits, rounded up as ``increase_liquidity`` does."""
    sqrt_lower, sqrt_upper = sqrt_price_from_tick_index(lower), sqrt_price_from_tick_index(upper)
    if tick < lower:
        return amount_delta_a(sqrt_lower, sqrt_upper, liquidity, round_up=True), 0
    if tick >= upper:
        return 0, amount_delta_b(sqrt_lower, sqrt_upper, liquidity, round_up=True)
    return (
        amount_delta_a(sqrt_price, sqrt_upper, liquidity, round_up=True),
        amount_delta_b(sqrt_lower, sqrt_price, liquidity, round_up=True),
    )


@dataclass(frozen=True, slots=True)
class WhirlpoolPool:
    """A Whirlpool snapshot: price, active liquidity, initialized ticks and vault balances.

    ``ticks`` holds ``(tick_index, liquidity_net)`` pairs sorted by index; ``fee_rate`` is in
    hundredths of a bp (3000 = 0.30 %), ``protocol_fee_rate`` in bps of the fee.
    """

    sqrt_price_x64: int
    liquidity: int
    tick_current: int
    tick_spacing: int
    fee_rate: int
    ticks: tuple[tuple[int, int], ...]
    balance_a: int
    balance_b: int
    protocol_fee_rate: int = 0
    protocol_fee_owed_a: int = 0
    protocol_fee_owed_b: int = 0

    def __post_init__(self) -> None:
        """Reject states the program could never hold."""
        if not MIN_SQRT_PRICE_X64 <= self.sqrt_price_x64 <= MAX_SQRT_PRICE_X64:
            raise ValueError("sqrt price is out of range")
        if not 0 <= self.fee_rate < FEE_RATE_MUL_VALUE:
            raise ValueError("fee_rate must be in [0, 1e6)")
        if self.liquidity < 0 or self.balance_a < 0 or self.balance_b < 0:
            raise ValueError("liquidity and balances must be non-negative")
        indexes = [index for index, _ in self.ticks]
        if indexes != sorted(set(indexes)):
            raise ValueError("ticks must be sorted by index without duplicates")

    @property
    def reserve_a(self) -> int:
        """Token A held by the pool's vault, in base units."""
        return self.balance_a

    @property
    def reserve_b(self) -> int:
        """Token B held by the pool's vault, in base units."""
        return self.balance_b

    @classmethod
    def from_price(
        cls,
        price: Fraction,
        *,
        liquidity: int,
        tick_spacing: int = 64,
        fee_rate: int = 3_000,
        protocol_fee_rate: int = 1_300,
        ranges: Sequence[tuple[Fraction, Fraction, Fraction]] = DEFAULT_RANGES,
    ) -> Self:
        """Build a pool at price (raw B per A) with one position per range around it.

        Each range is ``(lower ratio, upper ratio, share)``: a position from price*lower to
        price*upper (widened outwards to the tick spacing) holding ``floor(liquidity*share)``.
        """
        sqrt_price = _sqrt_price_x64(price)
        tick = tick_index_from_sqrt_price(sqrt_price)
        lowest = -(-MIN_TICK_INDEX // tick_spacing) * tick_spacing
        highest = MAX_TICK_INDEX // tick_spacing * tick_spacing
        nets: dict[int, int] = {}
        active = balance_a = balance_b = 0
        for low_ratio, high_ratio, share in ranges:
            low_tick = tick_index_from_sqrt_price(_sqrt_price_x64(price * low_ratio))
            high_tick = tick_index_from_sqrt_price(_sqrt_price_x64(price * high_ratio))
            lower = max(low_tick // tick_spacing * tick_spacing, lowest)
            upper = min(-(-high_tick // tick_spacing) * tick_spacing, highest)
            if lower >= upper:
                raise ValueError("a range must span at least one tick spacing")
            position = liquidity * share.numerator // share.denominator
            amount_a, amount_b = _position_amounts(sqrt_price, tick, lower, upper, position)
            balance_a, balance_b = balance_a + amount_a, balance_b + amount_b
            nets[lower] = nets.get(lower, 0) + position
            nets[upper] = nets.get(upper, 0) - position
            if lower <= tick < upper:
                active += position
        return cls(
            sqrt_price_x64=sqrt_price,
            liquidity=active,
            tick_current=tick,
            tick_spacing=tick_spacing,
            fee_rate=fee_rate,
            ticks=tuple(sorted((index, net) for index, net in nets.items() if net != 0)),
            balance_a=balance_a,
            balance_b=balance_b,
            protocol_fee_rate=protocol_fee_rate,
        )

    def swap(self, amount_in: int, *, a_to_b: bool, now: int = 0) -> tuple[SwapResult, Self]:
        """Swap amount_in exactly, stepping tick by tick as the program does."""
        del now  # the fee does not depend on time
        walk = self._walk(amount_in, a_to_b, [index for index, _ in self.ticks])
        result, protocol_fee = walk.result, walk.protocol_fee
        balance_in, balance_out = (
            (self.balance_a, self.balance_b) if a_to_b else (self.balance_b, self.balance_a)
        )
        new_in, new_out = balance_in + amount_in, balance_out - result.amount_out
        after = replace(
            self,
            sqrt_price_x64=walk.sqrt_price,
            liquidity=walk.liquidity,
            tick_current=walk.tick,
            balance_a=new_in if a_to_b else new_out,
            balance_b=new_out if a_to_b else new_in,
            protocol_fee_owed_a=self.protocol_fee_owed_a + (protocol_fee if a_to_b else 0),
            protocol_fee_owed_b=self.protocol_fee_owed_b + (0 if a_to_b else protocol_fee),
        )
        return result, after

    def quote_amounts(
        self, amounts: Sequence[int], *, a_to_b: bool, now: int = 0
    ) -> list[SwapResult | None]:
        """Return what :meth:`swap` pays for each amount on this state; None where it cannot.

        One step loop serves the whole ladder. Every amount takes the same whole steps (to
        the next initialized tick) before the step it ends in, and a whole step takes the
        same input, fee and output whatever remains after it, so those steps are computed
        once; each amount then ends with its own partial step, exactly as its own loop would.
        """
        del now  # the fee does not depend on time
        if any(amount <= 0 for amount in amounts):
            raise ValueError("amount_in must be positive")
        results: list[SwapResult | None] = [None] * len(amounts)
        pending = sorted(range(len(amounts)), key=amounts.__getitem__)
        indexes = [index for index, _ in self.ticks]
        limit = MIN_SQRT_PRICE_X64 if a_to_b else MAX_SQRT_PRICE_X64
        fixed_delta = amount_delta_a if a_to_b else amount_delta_b
        keep = FEE_RATE_MUL_VALUE - self.fee_rate
        balance_out = self.balance_b if a_to_b else self.balance_a
        sqrt_price, tick, liquidity = self.sqrt_price_x64, self.tick_current, self.liquidity
        spent = paid = fees = 0  # over the whole steps taken so far
        k = 0

        def finish(i: int, amount_out: int, fee: int) -> None:
            if 0 < amount_out <= balance_out:  # else the swap fails: None
                results[i] = SwapResult(amounts[i], amount_out, fee)

        while k < len(pending) and sqrt_price != limit:
            next_index, next_tick_sqrt, target = self._next_target(tick, indexes, a_to_b=a_to_b)
            to_target = fixed_delta(sqrt_price, target, liquidity, round_up=True)
            while k < len(pending):  # the amounts that end short of the target
                i = pending[k]
                remaining = amounts[i] - spent
                amount_calc = remaining * keep // FEE_RATE_MUL_VALUE
                if amount_calc >= to_target:
                    break  # this one and every larger one take the whole step
                _, step_out, _, step_fee = _short_step(
                    remaining, amount_calc, liquidity, sqrt_price, a_to_b=a_to_b
                )
                finish(i, paid + step_out, fees + step_fee)
                k += 1
            if k == len(pending):
                break
            _, step_out, _, step_fee = _whole_step(
                to_target, self.fee_rate, liquidity, sqrt_price, target, a_to_b=a_to_b
            )
            spent, paid, fees = spent + to_target + step_fee, paid + step_out, fees + step_fee
            while k < len(pending) and amounts[pending[k]] == spent:  # ends with this step
                finish(pending[k], paid, fees)
                k += 1
            if next_index is not None and target == next_tick_sqrt:
                liquidity, tick = self._cross(next_index, liquidity, a_to_b=a_to_b)
            sqrt_price = target  # at the limit the loop ends: the rest cannot be filled
        return results

    def _next_target(
        self, tick: int, indexes: Sequence[int], *, a_to_b: bool
    ) -> tuple[int | None, int, int]:
        """Return where the next step goes: (tick position, its sqrt price, target).

        The position is None past the last initialized tick, whose sqrt price is then the
        limit; the target is the nearer of the two. A to B searches ticks at or below the
        current one, B to A strictly above it.
        """
        limit = MIN_SQRT_PRICE_X64 if a_to_b else MAX_SQRT_PRICE_X64
        position = bisect.bisect_right(indexes, tick)
        if a_to_b:
            if position == 0:
                return None, limit, limit
            next_sqrt = sqrt_price_from_tick_index(indexes[position - 1])
            return position - 1, next_sqrt, max(next_sqrt, limit)
        if position == len(indexes):
            return None, limit, limit
        next_sqrt = sqrt_price_from_tick_index(indexes[position])
        return position, next_sqrt, min(next_sqrt, limit)

    def _cross(self, index: int, liquidity: int, *, a_to_b: bool) -> tuple[int, int]:
        """Cross the initialized tick at index; return the liquidity and tick after it."""
        crossed, net = self.ticks[index]
        liquidity += -net if a_to_b else net
        if liquidity < 0:
            raise ValueError(f"liquidity underflow crossing tick {crossed}")
        return liquidity, crossed - 1 if a_to_b else crossed

    def _walk(self, amount_in: int, a_to_b: bool, indexes: Sequence[int]) -> _Walk:
        """Run the program's step loop for an exact-in swap of amount_in."""
        if amount_in <= 0:
            raise ValueError("amount_in must be positive")
        limit = MIN_SQRT_PRICE_X64 if a_to_b else MAX_SQRT_PRICE_X64
        remaining, amount_out, fee, protocol_fee = amount_in, 0, 0, 0
        sqrt_price, tick, liquidity = self.sqrt_price_x64, self.tick_current, self.liquidity
        while remaining > 0 and sqrt_price != limit:
            next_index, next_tick_sqrt, target = self._next_target(tick, indexes, a_to_b=a_to_b)
            step_in, step_out, next_sqrt, step_fee = _compute_swap(
                remaining, self.fee_rate, liquidity, sqrt_price, target, a_to_b=a_to_b
            )
            remaining -= step_in + step_fee
            amount_out += step_out
            fee += step_fee
            protocol_fee += step_fee * self.protocol_fee_rate // PROTOCOL_FEE_RATE_MUL_VALUE
            if next_index is not None and next_sqrt == next_tick_sqrt:
                liquidity, tick = self._cross(next_index, liquidity, a_to_b=a_to_b)
            elif next_sqrt != sqrt_price:
                tick = tick_index_from_sqrt_price(next_sqrt)
            sqrt_price = next_sqrt
        if remaining > 0:
            raise InsufficientLiquidityError("swap runs past the pool's last liquidity")
        if amount_out <= 0:
            raise InsufficientLiquidityError("amount too small to pay out a single unit")
        balance_out = self.balance_b if a_to_b else self.balance_a
        # Rounding always favours the pool, so this only trips on an inconsistent state.
        if amount_out > balance_out:
            raise InsufficientLiquidityError("swap would pay out more than the vault holds")
        return _Walk(
            result=SwapResult(amount_in=amount_in, amount_out=amount_out, fee=fee),
            protocol_fee=protocol_fee,
            sqrt_price=sqrt_price,
            liquidity=liquidity,
            tick=tick,
        )

    def spot_price(self, *, a_to_b: bool) -> Fraction:
        """Return (sqrt_price / 2^64)^2 for A to B, its inverse for B to A, fee excluded."""
        price = Fraction(self.sqrt_price_x64**2, 1 << 128)
        return price if a_to_b else 1 / price

"""Orca Whirlpool concentrated liquidity: exact-in swaps stepping across initialized ticks.

Sources (orca-so/whirlpools ``programs/whirlpool/src/``, the build of February 2025):
``manager/swap_manager.rs`` (``swap``: the step loop, tick crossing, ``calculate_fees``), the
step in :mod:`eterna.amm.whirlpool_step`, the Q64.64 math in :mod:`eterna.amm.clmm_math` and
the tick arrays one swap can reach in :mod:`eterna.amm.whirlpool_reach`. Per step::

    protocol    = floor(fee * protocol_fee_rate / 10_000)
    fee growth += floor((fee - protocol) << 64 / liquidity)    (u128, wrapping)

Reaching the next tick's sqrt price crosses it when it is initialized (subtracting its
``liquidity_net`` moving down, adding it moving up) and leaves the current tick one below it
moving down, on it moving up, initialized or not. A Whirlpool stores only liquidity, so
``balance_a``/``balance_b`` track the vault: they start at what the constructor's positions
deposit (rounded up, as the program does) and move by each swap's full input (fee included)
and output.

The program takes less than the whole input when the walk ends at the minimum or maximum
sqrt price, and pays nothing for an input too small to move the price by one unit of
output; :meth:`WhirlpoolPool.program_swap` says what it does then, :meth:`WhirlpoolPool.swap`
refuses both, since Eterna never means to make such a fill.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import NamedTuple, Self

from eterna.amm.base import InsufficientLiquidityError, SwapResult
from eterna.amm.clmm_math import (
    MAX_SQRT_PRICE_X64,
    MIN_SQRT_PRICE_X64,
    amount_delta_a,
    amount_delta_b,
    sqrt_price_from_tick_index,
    tick_index_from_sqrt_price,
)
from eterna.amm.whirlpool_positions import (
    DEFAULT_RANGES,
    position_amounts,
    positions_for_ranges,
    sqrt_price_x64,
)
from eterna.amm.whirlpool_reach import Reach, ends_walk, swap_reach
from eterna.amm.whirlpool_step import FEE_RATE_MUL_VALUE, compute_swap, short_step, whole_step

PROTOCOL_FEE_RATE_MUL_VALUE = 10_000
U128_MASK = (1 << 128) - 1


class _Walk(NamedTuple):
    """The outcome of one swap's step loop, and the price state it leaves.

    ``result.amount_in`` is the input the program takes: less than asked when the walk
    stopped at the minimum or maximum sqrt price.
    """

    result: SwapResult
    protocol_fee: int
    fee_growth: int
    sqrt_price: int
    liquidity: int
    tick: int


@dataclass(frozen=True, slots=True)
class WhirlpoolPool:
    """A Whirlpool snapshot: price, active liquidity, initialized ticks and vault balances.

    ``ticks`` holds ``(tick_index, liquidity_net)`` pairs sorted by index, one per
    initialized tick (a net of zero still splits a step); ``fee_rate`` is in hundredths of a
    bp (3000 = 0.30 %), ``protocol_fee_rate`` in bps of the fee; the fee growths are the
    pool's Q64.64 ``fee_growth_global_a/b``.
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
    fee_growth_global_a: int = 0
    fee_growth_global_b: int = 0

    def __post_init__(self) -> None:
        """Reject states the program could never hold."""
        if not MIN_SQRT_PRICE_X64 <= self.sqrt_price_x64 <= MAX_SQRT_PRICE_X64:
            raise ValueError("sqrt price is out of range")
        if not 0 <= self.fee_rate < FEE_RATE_MUL_VALUE:
            raise ValueError("fee_rate must be in [0, 1e6)")
        if self.tick_spacing <= 0:
            raise ValueError("tick_spacing must be positive")
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

        Each range is as :func:`~eterna.amm.whirlpool_positions.positions_for_ranges` takes
        it; the pool holds what the positions deposit.
        """
        sqrt_price = sqrt_price_x64(price)
        tick = tick_index_from_sqrt_price(sqrt_price)
        nets: dict[int, int] = {}
        active = balance_a = balance_b = 0
        for position in positions_for_ranges(price, liquidity, tick_spacing, ranges):
            amount_a, amount_b = position_amounts(sqrt_price, tick, position)
            balance_a, balance_b = balance_a + amount_a, balance_b + amount_b
            lower, upper, amount = position
            nets[lower] = nets.get(lower, 0) + amount
            nets[upper] = nets.get(upper, 0) - amount
            if lower <= tick < upper:
                active += amount
        return cls(
            sqrt_price_x64=sqrt_price,
            liquidity=active,
            tick_current=tick,
            tick_spacing=tick_spacing,
            fee_rate=fee_rate,
            ticks=tuple(sorted(nets.items())),
            balance_a=balance_a,
            balance_b=balance_b,
            protocol_fee_rate=protocol_fee_rate,
        )

    def swap(self, amount_in: int, *, a_to_b: bool, now: int = 0) -> tuple[SwapResult, Self]:
        """Swap amount_in exactly, stepping tick by tick as the program does.

        :raises InsufficientLiquidityError: where the program fails, and where it would take
            only part of the input or pay nothing.
        """
        result, after = self.program_swap(amount_in, a_to_b=a_to_b, now=now)
        if result.amount_in < amount_in:
            raise InsufficientLiquidityError("swap runs to the end of the price range")
        if result.amount_out <= 0:
            raise InsufficientLiquidityError("amount too small to pay out a single unit")
        return result, after

    def program_swap(
        self, amount_in: int, *, a_to_b: bool, now: int = 0
    ) -> tuple[SwapResult, Self]:
        """Return what the program does with an exact-in swap of amount_in, and the pool after.

        Unlike :meth:`swap` this includes the fills the program makes and Eterna refuses: part
        of the input taken at the end of the price range, nothing paid for a dust input.

        :raises InsufficientLiquidityError: where the program's swap fails.
        """
        del now  # the fee does not depend on time
        walk = self._walk(amount_in, a_to_b, [index for index, _ in self.ticks])
        result, protocol_fee = walk.result, walk.protocol_fee
        balance_in, balance_out = (
            (self.balance_a, self.balance_b) if a_to_b else (self.balance_b, self.balance_a)
        )
        new_in, new_out = balance_in + result.amount_in, balance_out - result.amount_out
        after = replace(
            self,
            sqrt_price_x64=walk.sqrt_price,
            liquidity=walk.liquidity,
            tick_current=walk.tick,
            balance_a=new_in if a_to_b else new_out,
            balance_b=new_out if a_to_b else new_in,
            protocol_fee_owed_a=self.protocol_fee_owed_a + (protocol_fee if a_to_b else 0),
            protocol_fee_owed_b=self.protocol_fee_owed_b + (0 if a_to_b else protocol_fee),
            fee_growth_global_a=walk.fee_growth if a_to_b else self.fee_growth_global_a,
            fee_growth_global_b=self.fee_growth_global_b if a_to_b else walk.fee_growth,
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
        reach = swap_reach(self.tick_current, self.tick_spacing, a_to_b=a_to_b)
        limit = MIN_SQRT_PRICE_X64 if a_to_b else MAX_SQRT_PRICE_X64
        fixed_delta = amount_delta_a if a_to_b else amount_delta_b
        keep = FEE_RATE_MUL_VALUE - self.fee_rate
        balance_out = self.balance_b if a_to_b else self.balance_a
        sqrt_price, tick, liquidity = self.sqrt_price_x64, self.tick_current, self.liquidity
        spent = paid = fees = 0  # over the whole steps taken so far
        stopped = False
        k = 0

        def finish(i: int, amount_out: int, fee: int) -> None:
            if 0 < amount_out <= balance_out:  # else the swap fails: None
                results[i] = SwapResult(amounts[i], amount_out, fee)

        # Past the price limit or the last tick array the rest cannot be filled: None.
        while k < len(pending) and sqrt_price != limit and not stopped:
            position, next_tick = self._next_tick(tick, indexes, reach, a_to_b=a_to_b)
            target = sqrt_price_from_tick_index(next_tick)
            to_target = fixed_delta(sqrt_price, target, liquidity, round_up=True)
            while k < len(pending):  # the amounts that end short of the target
                i = pending[k]
                remaining = amounts[i] - spent
                amount_calc = remaining * keep // FEE_RATE_MUL_VALUE
                if amount_calc >= to_target:
                    break  # this one and every larger one take the whole step
                _, step_out, _, step_fee = short_step(
                    remaining, amount_calc, liquidity, sqrt_price, a_to_b=a_to_b
                )
                finish(i, paid + step_out, fees + step_fee)
                k += 1
            if k == len(pending):
                break
            _, step_out, _, step_fee = whole_step(
                to_target, self.fee_rate, liquidity, sqrt_price, target, a_to_b=a_to_b
            )
            spent, paid, fees = spent + to_target + step_fee, paid + step_out, fees + step_fee
            while k < len(pending) and amounts[pending[k]] == spent:  # ends with this step
                finish(pending[k], paid, fees)
                k += 1
            liquidity, tick = self._reach_tick(position, next_tick, liquidity, a_to_b=a_to_b)
            stopped = ends_walk(reach, next_tick, a_to_b=a_to_b)
            sqrt_price = target
        return results

    def _next_tick(
        self, tick: int, indexes: Sequence[int], reach: Reach, *, a_to_b: bool
    ) -> tuple[int | None, int]:
        """Return the tick the next step goes to, and its position if it is initialized.

        A to B searches ticks at or below the current one, B to A strictly above it; past the
        reach's edge (or with no initialized tick left) the step goes to the edge.
        """
        position = bisect.bisect_right(indexes, tick)
        if a_to_b:
            if position and indexes[position - 1] >= reach.edge:
                return position - 1, indexes[position - 1]
            return None, reach.edge
        if position < len(indexes) and indexes[position] <= reach.edge:
            return position, indexes[position]
        return None, reach.edge

    def _reach_tick(
        self, position: int | None, tick: int, liquidity: int, *, a_to_b: bool
    ) -> tuple[int, int]:
        """Arrive at tick's sqrt price, crossing it if initialized; return liquidity and tick."""
        if position is not None:
            liquidity += -self.ticks[position][1] if a_to_b else self.ticks[position][1]
            if liquidity < 0:
                raise ValueError(f"liquidity underflow crossing tick {tick}")
        # The program searches at or below the current tick moving down: step below this one.
        return liquidity, tick - 1 if a_to_b else tick

    def _walk(self, amount_in: int, a_to_b: bool, indexes: Sequence[int]) -> _Walk:
        """Run the program's step loop for an exact-in swap of amount_in."""
        if amount_in <= 0:
            raise ValueError("amount_in must be positive")
        reach = swap_reach(self.tick_current, self.tick_spacing, a_to_b=a_to_b)
        limit = MIN_SQRT_PRICE_X64 if a_to_b else MAX_SQRT_PRICE_X64
        remaining, amount_out, fee, protocol_fee = amount_in, 0, 0, 0
        growth = self.fee_growth_global_a if a_to_b else self.fee_growth_global_b
        sqrt_price, tick, liquidity = self.sqrt_price_x64, self.tick_current, self.liquidity
        stopped = False
        while remaining > 0 and sqrt_price != limit:
            if stopped:
                raise InsufficientLiquidityError("swap runs past the tick arrays it can reach")
            position, next_tick = self._next_tick(tick, indexes, reach, a_to_b=a_to_b)
            target = sqrt_price_from_tick_index(next_tick)
            step_in, step_out, next_sqrt, step_fee = compute_swap(
                remaining, self.fee_rate, liquidity, sqrt_price, target, a_to_b=a_to_b
            )
            remaining -= step_in + step_fee
            amount_out += step_out
            fee += step_fee
            step_protocol = step_fee * self.protocol_fee_rate // PROTOCOL_FEE_RATE_MUL_VALUE
            protocol_fee += step_protocol
            if liquidity > 0:
                growth = (growth + ((step_fee - step_protocol) << 64) // liquidity) & U128_MASK
            if next_sqrt == target:
                liquidity, tick = self._reach_tick(position, next_tick, liquidity, a_to_b=a_to_b)
                stopped = ends_walk(reach, next_tick, a_to_b=a_to_b)
            elif next_sqrt != sqrt_price:
                tick = tick_index_from_sqrt_price(next_sqrt)
            sqrt_price = next_sqrt
        balance_out = self.balance_b if a_to_b else self.balance_a
        # Rounding always favours the pool, so this only trips on an inconsistent state.
        if amount_out > balance_out:
            raise InsufficientLiquidityError("swap would pay out more than the vault holds")
        return _Walk(
            result=SwapResult(amount_in=amount_in - remaining, amount_out=amount_out, fee=fee),
            protocol_fee=protocol_fee,
            fee_growth=growth,
            sqrt_price=sqrt_price,
            liquidity=liquidity,
            tick=tick,
        )

    def spot_price(self, *, a_to_b: bool) -> Fraction:
        """Return (sqrt_price / 2^64)^2 for A to B, its inverse for B to A, fee excluded."""
        price = Fraction(self.sqrt_price_x64**2, 1 << 128)
        return price if a_to_b else 1 / price

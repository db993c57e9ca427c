"""Raydium AMM v4 constant product: x·y = k with the 0.25 % trade fee taken from the input.

Source: raydium-io/raydium-amm ``program/src/math.rs`` (``swap_token_amount_base_in``)::

    fee        = ceil(amount_in * 25 / 10000)
    in_net     = amount_in - fee
    amount_out = floor(y * in_net / (x + in_net))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Self

from eterna.amm.base import InsufficientLiquidityError, SwapResult

FEE_NUMERATOR = 25
FEE_DENOMINATOR = 10_000


@dataclass(frozen=True, slots=True)
class ConstantProductPool:
    """Reserves of a Raydium-style constant-product pool, with its fee rate."""

    reserve_a: int
    reserve_b: int
    fee_numerator: int = FEE_NUMERATOR
    fee_denominator: int = FEE_DENOMINATOR

    def swap(self, amount_in: int, *, a_to_b: bool, now: int = 0) -> tuple[SwapResult, Self]:
        """Swap amount_in exactly, fee first (rounded up), output rounded down."""
        del now  # the fee does not depend on time
        result = self._fill(amount_in, a_to_b=a_to_b)
        x, y = (self.reserve_a, self.reserve_b) if a_to_b else (self.reserve_b, self.reserve_a)
        new_x, new_y = x + amount_in, y - result.amount_out
        after = (
            replace(self, reserve_a=new_x, reserve_b=new_y)
            if a_to_b
            else replace(self, reserve_a=new_y, reserve_b=new_x)
        )
        return result, after

    def quote_amounts(
        self, amounts: Sequence[int], *, a_to_b: bool, now: int = 0
    ) -> list[SwapResult | None]:
        """Return what :meth:`swap` pays for each amount on this state; None where it cannot."""
        del now  # the fee does not depend on time
        results: list[SwapResult | None] = []
        for amount in amounts:
            try:
                results.append(self._fill(amount, a_to_b=a_to_b))
            except InsufficientLiquidityError:
                results.append(None)
        return results

    def _fill(self, amount_in: int, *, a_to_b: bool) -> SwapResult:
        if amount_in <= 0:
            raise ValueError("amount_in must be positive")
        x, y = (self.reserve_a, self.reserve_b) if a_to_b else (self.reserve_b, self.reserve_a)
        if x <= 0 or y <= 0:
            raise InsufficientLiquidityError("pool is empty")
        fee = -(-amount_in * self.fee_numerator // self.fee_denominator)
        in_net = amount_in - fee
        amount_out = y * in_net // (x + in_net)
        if amount_out <= 0:
            raise InsufficientLiquidityError("amount too small to pay out a single unit")
        return SwapResult(amount_in=amount_in, amount_out=amount_out, fee=fee)

    def spot_price(self, *, a_to_b: bool) -> Fraction:
        """Return y/x for the direction, fee excluded."""
        x, y = (self.reserve_a, self.reserve_b) if a_to_b else (self.reserve_b, self.reserve_a)
        return Fraction(y, x)

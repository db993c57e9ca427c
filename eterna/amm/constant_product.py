"""Raydium CP-Swap (CPMM): x·y = k, the trade fee taken from the input, fee shares kept out.

Source: raydium-io/raydium-cp-swap ``programs/cp-swap/src/curve/`` (``calculator.rs``,
``fees.rs``, ``constant_product.rs``) and ``instructions/swap_base_input.rs``, at the build
the local chain runs. Rates are in millionths (``FEE_RATE_DENOMINATOR``)::

    trade_fee    = ceil(amount_in * trade_fee_rate / 1e6)
    protocol_fee = floor(trade_fee * protocol_fee_rate / 1e6)
    fund_fee     = floor(trade_fee * fund_fee_rate / 1e6)
    in_net       = amount_in - trade_fee
    amount_out   = floor(y * in_net / (x + in_net))

The reserves ``x`` and ``y`` are the vault balances less the protocol and fund fees the pool
owes (``PoolState.vault_amount_without_fee``): after a swap the input vault holds the whole
``amount_in``, but only ``amount_in - protocol_fee - fund_fee`` joins the swap reserve. The
liquidity providers' share of the fee stays in the pool and deepens it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Self

from eterna.amm.base import InsufficientLiquidityError, SwapResult

FEE_RATE_DENOMINATOR = 1_000_000
# Raydium's standard 0.25 % pool; the protocol and fund shares depend on the pool's config.
TRADE_FEE_RATE = 2_500


@dataclass(frozen=True, slots=True)
class ConstantProductPool:
    """Swap reserves of a CP-Swap pool and the rates of its config, in millionths."""

    reserve_a: int
    reserve_b: int
    trade_fee_rate: int = TRADE_FEE_RATE
    protocol_fee_rate: int = 0
    fund_fee_rate: int = 0

    def swap(self, amount_in: int, *, a_to_b: bool, now: int = 0) -> tuple[SwapResult, Self]:
        """Swap amount_in exactly; the protocol and fund fees leave the reserves."""
        del now  # the fee does not depend on time
        result = self._fill(amount_in, a_to_b=a_to_b)
        protocol_fee, fund_fee = self.fee_shares(result.fee)
        x, y = (self.reserve_a, self.reserve_b) if a_to_b else (self.reserve_b, self.reserve_a)
        new_x = x + amount_in - protocol_fee - fund_fee
        new_y = y - result.amount_out
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

    def fee_shares(self, trade_fee: int) -> tuple[int, int]:
        """Return the protocol's and the fund's shares of a trade fee (each rounded down)."""
        return (
            trade_fee * self.protocol_fee_rate // FEE_RATE_DENOMINATOR,
            trade_fee * self.fund_fee_rate // FEE_RATE_DENOMINATOR,
        )

    def _fill(self, amount_in: int, *, a_to_b: bool) -> SwapResult:
        if amount_in <= 0:
            raise ValueError("amount_in must be positive")
        x, y = (self.reserve_a, self.reserve_b) if a_to_b else (self.reserve_b, self.reserve_a)
        if x <= 0 or y <= 0:
            raise InsufficientLiquidityError("pool is empty")
        fee = -(-amount_in * self.trade_fee_rate // FEE_RATE_DENOMINATOR)
        in_net = amount_in - fee
        amount_out = y * in_net // (x + in_net)
        if amount_out <= 0:
            # The program refuses a swap that pays nothing (require_gt!(amount_received, 0)).
            raise InsufficientLiquidityError("amount too small to pay out a single unit")
        return SwapResult(amount_in=amount_in, amount_out=amount_out, fee=fee)

    def spot_price(self, *, a_to_b: bool) -> Fraction:
        """Return y/x for the direction, fee excluded."""
        x, y = (self.reserve_a, self.reserve_b) if a_to_b else (self.reserve_b, self.reserve_a)
        return Fraction(y, x)

"""Meteora DLMM (liquidity book): constant-sum bins at fixed prices, walked one bin at a time.

Sources (MeteoraAg/dlmm-sdk ``commons/src/``): ``quote.rs`` (``quote_exact_in``) and
``extensions/lb_pair.rs`` (fees, ``update_references``, ``update_volatility_accumulator``);
one bin's fill is in :mod:`eterna.amm.dlmm_bins`::

    base_fee_rate    = base_factor * bin_step * 10 * 10^base_fee_power_factor
    variable_rate    = ceil(variable_fee_control * (v_a * bin_step)^2 / 1e11)
    rate             = min(base + variable, 1e8)                  over FEE_PRECISION = 1e9
    v_a in a bin     = min(v_r + |index_reference - bin| * 10_000, max_volatility_accumulator)
    protocol fee     = floor(fee * protocol_share / 10_000), bin by bin

Bins below the active one hold only B, bins above only A; A to B walks down, B to A walks up.
As on chain, a bin takes the input net of the fee; the fee stays in the vault outside the
bins (``fees_a``/``fees_b``, of which ``protocol_fees_*`` is the protocol's share), so the
reserves count it but later swaps cannot trade against it. The program stores the references
and the accumulator after every swap but stamps ``last_update_timestamp`` only when the swap
moves the active bin (found on the 0.12.0 binary); the model does the same.
"""

from __future__ import annotations

import bisect
import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import NamedTuple, Self

from eterna.amm.base import InsufficientLiquidityError, SwapResult
from eterna.amm.dlmm_bins import (
    BASIS_POINT_MAX,
    MAX_FEE_RATE,
    ONE,
    SCALE_OFFSET,
    BinLimit,
    bin_limit,
    bin_price,
    closest_bin,
    ends_in_bin,
    fill_bin,
)

__all__ = ["ONE", "DlmmPool", "bin_price", "closest_bin"]


class _Walk(NamedTuple):
    """The outcome of walking the bins for one swap, and the state it leaves."""

    result: SwapResult
    protocol_fee: int
    active: int
    accumulator: int
    volatility_reference: int
    index_reference: int
    filled: list[tuple[int, int, int]]  # (bin_id, amount_a, amount_b) after the swap


@dataclass(frozen=True, slots=True)
class DlmmPool:
    """A DLMM pair snapshot: bins ``(bin_id, amount_a, amount_b)`` sorted by id, fee state.

    Fee parameters mirror the pair's ``StaticParameters``; ``volatility_*``,
    ``index_reference`` and ``last_update_timestamp`` its ``VariableParameters``.
    """

    bin_step: int
    active_id: int
    bins: tuple[tuple[int, int, int], ...]
    base_factor: int = 10_000
    base_fee_power_factor: int = 0
    variable_fee_control: int = 7_500
    max_volatility_accumulator: int = 150_000
    filter_period: int = 30
    decay_period: int = 600
    reduction_factor: int = 5_000
    protocol_share: int = 500
    volatility_accumulator: int = 0
    volatility_reference: int = 0
    index_reference: int = 0
    last_update_timestamp: int = 0
    fees_a: int = 0
    fees_b: int = 0
    protocol_fees_a: int = 0
    protocol_fees_b: int = 0

    def __post_init__(self) -> None:
        """Reject bins the program could never hold."""
        ids = [bin_id for bin_id, _, _ in self.bins]
        if ids != sorted(set(ids)):
            raise ValueError("bins must be sorted by id without duplicates")
        if any(a < 0 or b < 0 for _, a, b in self.bins):
            raise ValueError("bin amounts must be non-negative")
        if self.bin_step <= 0:
            raise ValueError("bin_step must be positive")

    @property
    def reserve_a(self) -> int:
        """Token A held by the pool (all bins plus accrued fees), in base units."""
        return sum(a for _, a, _ in self.bins) + self.fees_a

    @property
    def reserve_b(self) -> int:
        """Token B held by the pool (all bins plus accrued fees), in base units."""
        return sum(b for _, _, b in self.bins) + self.fees_b

    @classmethod
    def from_price(
        cls,
        price: Fraction,
        *,
        liquidity_a_per_bin: int,
        bin_step: int = 25,
        bins_each_side: int = 35,
        base_factor: int = 10_000,
        variable_fee_control: int = 7_500,
        max_volatility_accumulator: int = 150_000,
        filter_period: int = 30,
        decay_period: int = 600,
        reduction_factor: int = 5_000,
        protocol_share: int = 500,
        now: int = 0,
    ) -> Self:
        """Build a pair around price (raw B per A) with equal value in every bin.

        The active bin is the one priced closest to price and holds half its value in each
        token; bins below hold B worth ``liquidity_a_per_bin`` of A, bins above that much A.
        """
        if price <= 0 or liquidity_a_per_bin <= 0:
            raise ValueError("price and liquidity must be positive")
        active_id = closest_bin(price, bin_step)
        bins = []
        for bin_id in range(active_id - bins_each_side, active_id + bins_each_side + 1):
            price_x64 = bin_price(bin_step, bin_id)
            if bin_id < active_id:
                bins.append((bin_id, 0, (liquidity_a_per_bin * price_x64) >> SCALE_OFFSET))
            elif bin_id > active_id:
                bins.append((bin_id, liquidity_a_per_bin, 0))
            else:
                half_a = liquidity_a_per_bin // 2
                half_b = ((liquidity_a_per_bin - half_a) * price_x64) >> SCALE_OFFSET
                bins.append((bin_id, half_a, half_b))
        return cls(
            bin_step=bin_step,
            active_id=active_id,
            bins=tuple(bins),
            base_factor=base_factor,
            variable_fee_control=variable_fee_control,
            max_volatility_accumulator=max_volatility_accumulator,
            filter_period=filter_period,
            decay_period=decay_period,
            reduction_factor=reduction_factor,
            protocol_share=protocol_share,
            index_reference=active_id,
            last_update_timestamp=now,
        )

    def fee_rate(self, volatility_accumulator: int) -> int:
        """Return the total fee rate (over 1e9) at the given volatility accumulator."""
        power: int = 10**self.base_fee_power_factor
        base = self.base_factor * self.bin_step * 10 * power
        squared = (volatility_accumulator * self.bin_step) ** 2
        variable = -(-self.variable_fee_control * squared // 100_000_000_000)
        return min(base + variable, MAX_FEE_RATE)

    def _accumulator(self, active: int, volatility_reference: int, index_reference: int) -> int:
        """Return the volatility accumulator while the swap is at bin active."""
        return min(
            volatility_reference + abs(index_reference - active) * BASIS_POINT_MAX,
            self.max_volatility_accumulator,
        )

    def _references(self, now: int) -> tuple[int, int]:
        """Return (volatility_reference, index_reference) after ``update_references(now)``."""
        elapsed = now - self.last_update_timestamp
        if elapsed < self.filter_period:
            return self.volatility_reference, self.index_reference
        if elapsed < self.decay_period:
            decayed = self.volatility_accumulator * self.reduction_factor // BASIS_POINT_MAX
            return decayed, self.active_id
        return 0, self.active_id

    def swap(self, amount_in: int, *, a_to_b: bool, now: int = 0) -> tuple[SwapResult, Self]:
        """Swap amount_in exactly, bin by bin, with the fee of each bin's volatility."""
        held = {bin_id: (a, b) for bin_id, a, b in self.bins}
        ids = [bin_id for bin_id, _, _ in self.bins]
        walk = self._walk(amount_in, a_to_b, now)
        for bin_id, amount_a, amount_b in walk.filled:
            held[bin_id] = (amount_a, amount_b)
        result, fee, protocol_fee = walk.result, walk.result.fee, walk.protocol_fee
        after = replace(
            self,
            active_id=walk.active,
            bins=tuple((bin_id, *held[bin_id]) for bin_id in ids),
            volatility_accumulator=walk.accumulator,
            volatility_reference=walk.volatility_reference,
            index_reference=walk.index_reference,
            last_update_timestamp=now
            if walk.active != self.active_id
            else self.last_update_timestamp,
            fees_a=self.fees_a + (fee if a_to_b else 0),
            fees_b=self.fees_b + (0 if a_to_b else fee),
            protocol_fees_a=self.protocol_fees_a + (protocol_fee if a_to_b else 0),
            protocol_fees_b=self.protocol_fees_b + (0 if a_to_b else protocol_fee),
        )
        return result, after

    def quote_amounts(
        self, amounts: Sequence[int], *, a_to_b: bool, now: int = 0
    ) -> list[SwapResult | None]:
        """Return what :meth:`swap` pays for each amount on this state; None where it cannot.

        One walk serves the whole ladder. Every amount empties the same bins in the same
        order before the bin it ends in, and emptying a bin takes the same input, fee and
        output whatever comes after, so those bins are filled once; each amount then ends
        with the partial fill of its own last bin, exactly as its own walk would.
        """
        if any(amount <= 0 for amount in amounts):
            raise ValueError("amount_in must be positive")
        results: list[SwapResult | None] = [None] * len(amounts)
        pending = sorted(range(len(amounts)), key=amounts.__getitem__)
        spent = paid = fees = 0  # over the bins emptied so far
        k = 0
        # Amounts still pending at the end run past the last bin or into an overflow: None.
        with contextlib.suppress(InsufficientLiquidityError):
            for _, limit in self._limits(a_to_b=a_to_b, now=now):
                while k < len(pending) and ends_in_bin(limit, amounts[pending[k]] - spent):
                    i = pending[k]
                    _, out, fee = fill_bin(limit, amounts[i] - spent, a_to_b=a_to_b)
                    if paid + out > 0:
                        results[i] = SwapResult(amounts[i], paid + out, fees + fee)
                    k += 1
                if k == len(pending):
                    break
                spent, paid, fees = spent + limit.taken, paid + limit.held_out, fees + limit.fee
        return results

    def emptying_inputs(self, *, a_to_b: bool, now: int = 0) -> list[tuple[int, int]]:
        """Return, for each bin a swap would empty in turn, its id and the input that empties it.

        The input (fee included) counts every bin before it too. Past the last entry, one
        unit more may still end in the last bin (the net input then equals what empties it,
        and the program keeps the unit as fee); two more run past the last bin, or into a
        bin the program's u64 arithmetic cannot hold.
        """
        steps: list[tuple[int, int]] = []
        spent = 0
        with contextlib.suppress(InsufficientLiquidityError):  # a bin past u64 ends the list
            for bin_id, limit in self._limits(a_to_b=a_to_b, now=now):
                spent += limit.taken
                steps.append((bin_id, spent))
        return steps

    def _limits(self, *, a_to_b: bool, now: int) -> Iterator[tuple[int, BinLimit]]:
        """Yield the bins a swap fills in turn, each with what empties it.

        :raises InsufficientLiquidityError: on reaching a bin the program's u64 cannot hold.
        """
        volatility_reference, index_reference = self._references(now)
        ids = [bin_id for bin_id, _, _ in self.bins]
        held = {bin_id: (a, b) for bin_id, a, b in self.bins}
        for active in self._bins_in_turn(ids, a_to_b=a_to_b):
            amount_a, amount_b = held.get(active, (0, 0))
            held_out = amount_b if a_to_b else amount_a
            if held_out <= 0:
                continue
            rate = self.fee_rate(self._accumulator(active, volatility_reference, index_reference))
            price = bin_price(self.bin_step, active)
            yield active, bin_limit(held_out, price, rate, a_to_b=a_to_b)

    def _bins_in_turn(self, ids: Sequence[int], *, a_to_b: bool) -> list[int]:
        """Return the bins a swap visits in turn: the active one, then each one further out.

        Empty bins in between are skipped: they only move the accumulator, which depends on
        the bin's id alone.
        """
        if a_to_b:
            return [self.active_id, *reversed(ids[: bisect.bisect_left(ids, self.active_id)])]
        return [self.active_id, *ids[bisect.bisect_right(ids, self.active_id) :]]

    def _walk(self, amount_in: int, a_to_b: bool, now: int) -> _Walk:
        """Walk the bins from the active one until amount_in is spent (``quote_exact_in``).

        The walk moves one way and visits each bin at most once, so reading the bins of the
        state before the swap is reading them as the swap left them. It records each filled
        bin's new amounts.
        """
        if amount_in <= 0:
            raise ValueError("amount_in must be positive")
        held = {bin_id: (a, b) for bin_id, a, b in self.bins}
        filled: list[tuple[int, int, int]] = []
        left, amount_out, fee, protocol_fee = amount_in, 0, 0, 0
        active = self.active_id
        for active, limit in self._limits(a_to_b=a_to_b, now=now):
            used, out, bin_fee = fill_bin(limit, left, a_to_b=a_to_b)
            amount_a, amount_b = held[active]
            into_bin = used - bin_fee
            filled.append(
                (active, amount_a + into_bin, amount_b - out)
                if a_to_b
                else (active, amount_a - out, amount_b + into_bin)
            )
            left -= used
            amount_out += out
            fee += bin_fee
            # A bin reached with one unit left takes it whole as fee, and the program books a
            # fee that no liquidity earned to the protocol alone (found on the 0.12.0 binary).
            share = BASIS_POINT_MAX if into_bin == 0 else self.protocol_share
            protocol_fee += bin_fee * share // BASIS_POINT_MAX
            if left == 0:
                break
        else:
            side = "lowest" if a_to_b else "highest"
            raise InsufficientLiquidityError(f"swap runs past the {side} bin it can fill")
        if amount_out <= 0:
            raise InsufficientLiquidityError("amount too small to pay out a single unit")
        volatility_reference, index_reference = self._references(now)
        return _Walk(
            result=SwapResult(amount_in=amount_in, amount_out=amount_out, fee=fee),
            protocol_fee=protocol_fee,
            active=active,
            accumulator=self._accumulator(active, volatility_reference, index_reference),
            volatility_reference=volatility_reference,
            index_reference=index_reference,
            filled=filled,
        )

    def spot_price(self, *, a_to_b: bool) -> Fraction:
        """Return the active bin's price for A to B, its inverse for B to A, fee excluded."""
        price = Fraction(bin_price(self.bin_step, self.active_id), ONE)
        return price if a_to_b else 1 / price

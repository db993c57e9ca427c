"""Meteora DLMM (liquidity book): constant-sum bins at fixed prices, walked one bin at a time.

Sources (MeteoraAg/dlmm-sdk ``commons/src/``): ``quote.rs`` (``quote_exact_in``),
``extensions/bin.rs`` (``Bin::swap``, ``get_max_amount_in``), ``extensions/lb_pair.rs``
(fees, ``update_references``, ``update_volatility_accumulator``), ``math/price_math.rs`` and
``math/u64x64_math.rs`` (``get_price_from_id``, ``pow``)::

    P_i              = (1 + bin_step / 10_000)^i in Q64.64    B (Y) per A (X), raw units
    X->Y in a bin    out = floor(in_net * P)    max_in = ceil(amount_y / P)
    Y->X in a bin    out = floor(in_net / P)    max_in = ceil(amount_x * P)
    base_fee_rate    = base_factor * bin_step * 10 * 10^base_fee_power_factor
    variable_rate    = ceil(variable_fee_control * (v_a * bin_step)^2 / 1e11)
    rate             = min(base + variable, 1e8)                  over FEE_PRECISION = 1e9
    bin emptied      fee = ceil(max_in * rate / (1e9 - rate)), bin takes max_in + fee
    bin not emptied  fee = ceil(in * rate / 1e9), out capped at what the bin holds
    protocol fee     = floor(fee * protocol_share / 10_000)

Bins below the active one hold only B, bins above only A; A to B walks down, B to A walks up.
Bin prices are the program's own Q64.64 values, not exact fractions: (1 + s/10_000)^i as a
fraction grows to tens of thousands of digits for real pairs (SOL/USDC sits near bin -19_000
at bin step 1), and the fixed-point values reproduce the program's amounts to the unit.
As on chain, a bin takes the input net of the fee; the fee stays in the vault outside the
bins (``fees_a``/``fees_b``, of which ``protocol_fees_*`` is the protocol's share), so the
reserves count it but later swaps cannot trade against it.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import lru_cache
from typing import NamedTuple, Self

from eterna.amm.base import InsufficientLiquidityError, SwapResult

BASIS_POINT_MAX = 10_000
SCALE_OFFSET = 64
ONE = 1 << SCALE_OFFSET
U128_MAX = (1 << 128) - 1
MIN_BIN_ID = -443_636
MAX_BIN_ID = 443_636
FEE_PRECISION = 10**9
MAX_FEE_RATE = 10**8


@lru_cache(maxsize=65_536)
def bin_price(bin_step: int, bin_id: int) -> int:
    """Return P_i in Q64.64, bit for bit as ``get_price_from_id`` and ``pow`` compute it."""
    if not MIN_BIN_ID <= bin_id <= MAX_BIN_ID:
        raise ValueError(f"bin id {bin_id} is out of range")
    base = ONE + (bin_step << SCALE_OFFSET) // BASIS_POINT_MAX
    if bin_id == 0:
        return ONE
    invert = bin_id < 0
    exponent = abs(bin_id)
    # Squaring a base above one would overflow u128, so the program squares 1/base instead.
    squared = base
    if squared >= ONE:
        squared = U128_MAX // squared
        invert = not invert
    result = ONE
    for bit in range(19):
        if bit:
            squared = (squared * squared) >> SCALE_OFFSET
        if exponent & (1 << bit):
            result = (result * squared) >> SCALE_OFFSET
    if result == 0:
        raise ValueError(f"bin id {bin_id} is out of range")
    return U128_MAX // result if invert else result


class _Walk(NamedTuple):
    """The outcome of walking the bins for one swap, and the state it leaves."""

    result: SwapResult
    protocol_fee: int
    active: int
    accumulator: int
    volatility_reference: int
    index_reference: int
    filled: list[tuple[int, int, int]]  # (bin_id, amount_a, amount_b) after the swap


def _bin_limit(held_out: int, price: int, rate: int, *, a_to_b: bool) -> tuple[int, int]:
    """Return the input and fee that empty one bin's output side (``get_max_amount_in``)."""
    if a_to_b:
        max_in = -(-(held_out << SCALE_OFFSET) // price)
    else:
        max_in = -(-(held_out * price) >> SCALE_OFFSET)
    return max_in, -(-max_in * rate // (FEE_PRECISION - rate))


def _fill_bin(
    held_out: int, price: int, amount: int, rate: int, *, a_to_b: bool
) -> tuple[int, int, int]:
    """Swap up to amount against the output side of one bin (``Bin::swap``).

    Return (input taken from the trader fee included, amount out, fee).
    """
    max_in, max_fee = _bin_limit(held_out, price, rate, a_to_b=a_to_b)
    if amount > max_in + max_fee:
        return max_in + max_fee, held_out, max_fee
    fee = -(-amount * rate // FEE_PRECISION)
    net = amount - fee
    out = (net * price) >> SCALE_OFFSET if a_to_b else (net << SCALE_OFFSET) // price
    return amount, min(out, held_out), fee


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
        # A float estimate only picks candidates; the exact comparison below decides.
        step_log = math.log1p(bin_step / BASIS_POINT_MAX)
        guess = round((math.log(price.numerator) - math.log(price.denominator)) / step_log)
        active_id = min(
            (guess - 1, guess, guess + 1),
            key=lambda bin_id: abs(Fraction(bin_price(bin_step, bin_id), ONE) - price),
        )
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
        walk = self._walk(amount_in, a_to_b, now, held, ids)
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
            last_update_timestamp=now,
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
        volatility_reference, index_reference = self._references(now)
        ids = [bin_id for bin_id, _, _ in self.bins]
        held = {bin_id: (a, b) for bin_id, a, b in self.bins}
        spent = paid = fees = 0  # over the bins emptied so far
        k = 0
        for active in self._bins_in_turn(ids, a_to_b=a_to_b):
            amount_a, amount_b = held.get(active, (0, 0))
            held_out = amount_b if a_to_b else amount_a
            if held_out <= 0:
                continue
            rate = self.fee_rate(self._accumulator(active, volatility_reference, index_reference))
            price = bin_price(self.bin_step, active)
            max_in, max_fee = _bin_limit(held_out, price, rate, a_to_b=a_to_b)
            while k < len(pending) and amounts[pending[k]] - spent <= max_in + max_fee:
                i = pending[k]
                _, out, fee = _fill_bin(held_out, price, amounts[i] - spent, rate, a_to_b=a_to_b)
                if paid + out > 0:
                    results[i] = SwapResult(amounts[i], paid + out, fees + fee)
                k += 1
            if k == len(pending):
                break
            spent, paid, fees = spent + max_in + max_fee, paid + held_out, fees + max_fee
        return results  # amounts still pending run past the last bin: None

    def _bins_in_turn(self, ids: Sequence[int], *, a_to_b: bool) -> list[int]:
        """Return the bins a swap visits in turn: the active one, then each one further out.

        Empty bins in between are skipped: they only move the accumulator, which depends on
        the bin's id alone.
        """
        if a_to_b:
            return [self.active_id, *reversed(ids[: bisect.bisect_left(ids, self.active_id)])]
        return [self.active_id, *ids[bisect.bisect_right(ids, self.active_id) :]]

    def _walk(
        self,
        amount_in: int,
        a_to_b: bool,
        now: int,
        held: Mapping[int, tuple[int, int]],
        ids: Sequence[int],
    ) -> _Walk:
        """Walk the bins from the active one until amount_in is spent (``quote_exact_in``).

        The walk moves one way and visits each bin at most once, so reading the bins of the
        state before the swap is reading them as the swap left them. It records each filled
        bin's new amounts.
        """
        if amount_in <= 0:
            raise ValueError("amount_in must be positive")
        volatility_reference, index_reference = self._references(now)
        filled: list[tuple[int, int, int]] = []
        left, amount_out, fee, protocol_fee = amount_in, 0, 0, 0
        for active in self._bins_in_turn(ids, a_to_b=a_to_b):
            accumulator = self._accumulator(active, volatility_reference, index_reference)
            amount_a, amount_b = held.get(active, (0, 0))
            held_out = amount_b if a_to_b else amount_a
            if held_out > 0:
                rate = self.fee_rate(accumulator)
                used, out, bin_fee = _fill_bin(
                    held_out, bin_price(self.bin_step, active), left, rate, a_to_b=a_to_b
                )
                into_bin = used - bin_fee
                filled.append(
                    (active, amount_a + into_bin, amount_b - out)
                    if a_to_b
                    else (active, amount_a - out, amount_b + into_bin)
                )
                left -= used
                amount_out += out
                fee += bin_fee
                protocol_fee += bin_fee * self.protocol_share // BASIS_POINT_MAX
            if left == 0:
                break
        else:
            side = "lowest" if a_to_b else "highest"
            raise InsufficientLiquidityError(f"swap runs past the {side} bin")
        if amount_out <= 0:
            raise InsufficientLiquidityError("amount too small to pay out a single unit")
        return _Walk(
            result=SwapResult(amount_in=amount_in, amount_out=amount_out, fee=fee),
            protocol_fee=protocol_fee,
            active=active,
            accumulator=accumulator,
            volatility_reference=volatility_reference,
            index_reference=index_reference,
            filled=filled,
        )

    def spot_price(self, *, a_to_b: bool) -> Fraction:
        """Return the active bin's price for A to B, its inverse for B to A, fee excluded."""
        price = Fraction(bin_price(self.bin_step, self.active_id), ONE)
        return price if a_to_b else 1 / price

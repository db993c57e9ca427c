"""Meteora DLMM bin math: bin prices, and one bin's fill, to the unit of the program.

Sources (MeteoraAg/dlmm-sdk ``commons/src/``): ``quote.rs`` (``swap_exact_in_quote_at_bin``),
``extensions/bin.rs`` (``get_amount_in``, ``get_amount_out``), ``extensions/lb_pair.rs``
(``compute_fee``, ``compute_fee_from_amount``), ``math/price_math.rs`` and
``math/u64x64_math.rs`` (``get_price_from_id``, ``pow``)::

    P_i              = (1 + bin_step / 10_000)^i in Q64.64    B (Y) per A (X), raw units
    X->Y in a bin    out = floor(net * P)    max_in = ceil(amount_y / P)
    Y->X in a bin    out = floor(net / P)    max_in = ceil(amount_x * P)
    fee first        fee = ceil(in * rate / 1e9), net = in - fee
    net > max_in     bin emptied: it takes max_in + ceil(max_in * rate / (1e9 - rate))
                     and the rest of the input moves on to the next bin
    net == max_in    bin emptied by the whole input, the swap ends in this bin
    net < max_in     the swap ends in this bin

The emptying rule is the deployed program's (lb_clmm 0.12.0; ``quote.rs`` mirrors it): the
fee is taken on the whole amount first, and the bin is emptied when what is left covers it.
The older ``Bin::swap`` rule (empty the bin only when the input exceeds max_in plus its fee)
differs where the net input equals max_in exactly: the program then keeps the unit the old
rule would carry on as fee in this bin, and the swap ends there. The program computes max_in
in u64: a bin whose max_in does not fit fails every swap that reaches it.

Bin prices are the program's own Q64.64 values, not exact fractions: (1 + s/10_000)^i as a
fraction grows to tens of thousands of digits for real pairs (SOL/USDC sits near bin -19_000
at bin step 1), and the fixed-point values reproduce the program's amounts to the unit.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache
from typing import NamedTuple

from eterna.amm.base import InsufficientLiquidityError

BASIS_POINT_MAX = 10_000
SCALE_OFFSET = 64
ONE = 1 << SCALE_OFFSET
U128_MAX = (1 << 128) - 1
U64_MAX = (1 << 64) - 1
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


def closest_bin(price: Fraction, bin_step: int) -> int:
    """Return the id of the bin whose price is closest to price (raw B per A)."""
    if price <= 0:
        raise ValueError("price must be positive")
    # A float estimate only picks candidates; the exact comparison below decides.
    step_log = math.log1p(bin_step / BASIS_POINT_MAX)
    guess = round((math.log(price.numerator) - math.log(price.denominator)) / step_log)
    return min(
        (guess - 1, guess, guess + 1),
        key=lambda bin_id: abs(Fraction(bin_price(bin_step, bin_id), ONE) - price),
    )


class BinLimit(NamedTuple):
    """One bin's output side as a swap meets it: price, fee rate, and what empties it."""

    held_out: int
    price: int
    rate: int
    max_in: int  # the input net of the fee that takes every unit out
    fee: int  # the fee charged on max_in

    @property
    def taken(self) -> int:
        """Return the input, fee included, the bin takes when a swap empties it and goes on."""
        return self.max_in + self.fee


def bin_limit(held_out: int, price: int, rate: int, *, a_to_b: bool) -> BinLimit:
    """Return what empties one bin's output side (held_out units at price, rate over 1e9).

    :raises InsufficientLiquidityError: when the net input overflows the program's u64.
    """
    if a_to_b:
        max_in = -(-(held_out << SCALE_OFFSET) // price)
    else:
        max_in = -(-(held_out * price) >> SCALE_OFFSET)
    if max_in > U64_MAX:
        raise InsufficientLiquidityError("a bin's input to empty it overflows the program's u64")
    return BinLimit(held_out, price, rate, max_in, -(-max_in * rate // (FEE_PRECISION - rate)))


def ends_in_bin(limit: BinLimit, amount: int) -> bool:
    """Tell whether amount (fee included) ends the swap in this bin rather than going on."""
    return amount + (-amount * limit.rate // FEE_PRECISION) <= limit.max_in


def fill_bin(limit: BinLimit, amount: int, *, a_to_b: bool) -> tuple[int, int, int]:
    """Swap up to amount against the output side of one bin, fee first.

    Return (input taken from the trader fee included, amount out, fee).
    """
    fee = -(-amount * limit.rate // FEE_PRECISION)
    net = amount - fee
    if net > limit.max_in:
        return limit.taken, limit.held_out, limit.fee
    if net == limit.max_in:
        return amount, limit.held_out, fee
    price = limit.price
    out = (net * price) >> SCALE_OFFSET if a_to_b else (net << SCALE_OFFSET) // price
    return amount, out, fee

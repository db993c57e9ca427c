"""The contract every pool model implements."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import NamedTuple, Protocol, Self


class InsufficientLiquidityError(ValueError):
    """The pool cannot pay out the swap (empty side, past its last bin or tick)."""


class SwapResult(NamedTuple):
    """Outcome of an exact-in swap, all in integer base units.

    ``amount_in`` is the input consumed including the fee; ``fee`` is charged in the input
    token; ``amount_out`` is what the trader receives. A named tuple, cheap to build: a
    ladder of quotes makes one per amount and pool.
    """

    amount_in: int
    amount_out: int
    fee: int


class PoolMath(Protocol):
    """An immutable pool state with exact-in swap math."""

    @property
    def reserve_a(self) -> int:
        """Token A held by the pool, in base units."""
        ...

    @property
    def reserve_b(self) -> int:
        """Token B held by the pool, in base units."""
        ...

    def swap(self, amount_in: int, *, a_to_b: bool, now: int = 0) -> tuple[SwapResult, Self]:
        """Swap amount_in exactly; return the result and the pool after it.

        ``now`` is the unix time of the swap, for venues whose fees depend on it.

        :raises InsufficientLiquidityError: when the pool cannot fill the whole amount.
        """
        ...

    def quote_amounts(
        self, amounts: Sequence[int], *, a_to_b: bool, now: int = 0
    ) -> list[SwapResult | None]:
        """Return the result :meth:`swap` would give for each amount, on this same state.

        None where the pool cannot fill the amount (where ``swap`` raises
        InsufficientLiquidityError); other errors are raised as ``swap`` raises them. A
        quote builds no pool after the swap, which makes a ladder of quotes cheap.
        """
        ...

    def spot_price(self, *, a_to_b: bool) -> Fraction:
        """Return the marginal price (output base units per input base unit), fee excluded."""
        ...


def price_impact_bps(pool: PoolMath, result: SwapResult, *, a_to_b: bool) -> int:
    """Return how far below the spot price (fee excluded) the swap filled, in bps, rounded up."""
    net_in = result.amount_in - result.fee
    if net_in <= 0:
        return 0
    spot_out = net_in * pool.spot_price(a_to_b=a_to_b)
    if spot_out <= 0:
        return 0
    shortfall = (spot_out - result.amount_out) / spot_out
    bps = shortfall * 10_000
    return max(0, -(-bps.numerator // bps.denominator))

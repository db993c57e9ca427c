"""One step of the Whirlpool swap loop: ``compute_swap`` for an exact input.

Source: orca-so/whirlpools ``programs/whirlpool/src/math/swap_math.rs`` (``compute_swap``)::

    amount_calc = floor(remaining * (1e6 - fee_rate) / 1e6)
    delta       = ceil(input-token amount from sqrt_price to the target sqrt price)
    next        = target if amount_calc >= delta else next_sqrt_price(amount_calc)
    amount_in   = delta if next is target else ceil(input-token amount to next)
    amount_out  = floor(output-token amount to next)
    fee         = ceil(amount_in * fee_rate / (1e6 - fee_rate)) if next is target
                  else remaining - amount_in

The program computes ``delta`` as a u64 and treats one past u64 as "not reachable", which
``amount_calc`` (at most a u64) could never cover either: the exact integer gives the same
branch.
"""

from __future__ import annotations

from eterna.amm.clmm_math import amount_delta_a, amount_delta_b, next_sqrt_price_exact_in

FEE_RATE_MUL_VALUE = 1_000_000


def compute_swap(
    remaining: int, fee_rate: int, liquidity: int, sqrt_price: int, target: int, *, a_to_b: bool
) -> tuple[int, int, int, int]:
    """Run one exact-in step towards target; return (amount in, amount out, next sqrt, fee)."""
    amount_calc = remaining * (FEE_RATE_MUL_VALUE - fee_rate) // FEE_RATE_MUL_VALUE
    to_target = (amount_delta_a if a_to_b else amount_delta_b)(
        sqrt_price, target, liquidity, round_up=True
    )
    if amount_calc >= to_target:
        return whole_step(to_target, fee_rate, liquidity, sqrt_price, target, a_to_b=a_to_b)
    return short_step(remaining, amount_calc, liquidity, sqrt_price, a_to_b=a_to_b)


def whole_step(
    to_target: int, fee_rate: int, liquidity: int, sqrt_price: int, target: int, *, a_to_b: bool
) -> tuple[int, int, int, int]:
    """Run a step that reaches its target, whose input (``to_target``) is already known."""
    fee = -(-to_target * fee_rate // (FEE_RATE_MUL_VALUE - fee_rate))
    amount_out = (amount_delta_b if a_to_b else amount_delta_a)(
        sqrt_price, target, liquidity, round_up=False
    )
    return to_target, amount_out, target, fee


def short_step(
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

"""Raydium CP-Swap constant-product pool model: worked examples and swap properties."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eterna.amm.base import InsufficientLiquidityError, SwapResult, price_impact_bps
from eterna.amm.constant_product import ConstantProductPool

PROPERTY_SETTINGS = settings(max_examples=200, deadline=None)


def _try_swap(pool: ConstantProductPool, amount: int, *, a_to_b: bool) -> SwapResult | None:
    try:
        return pool.swap(amount, a_to_b=a_to_b)[0]
    except InsufficientLiquidityError:
        return None


@st.composite
def trades(draw: st.DrawFn) -> tuple[ConstantProductPool, int, bool]:
    protocol_fee_rate = draw(st.sampled_from([0, 120_000]) | st.integers(0, 1_000_000))
    pool = ConstantProductPool(
        reserve_a=draw(st.integers(1, 10**18)),
        reserve_b=draw(st.integers(1, 10**18)),
        trade_fee_rate=draw(st.sampled_from([2_500, 0]) | st.integers(0, 999_999)),
        protocol_fee_rate=protocol_fee_rate,
        fund_fee_rate=draw(st.integers(0, 1_000_000 - protocol_fee_rate)),
    )
    a_to_b = draw(st.booleans())
    reserve_in = pool.reserve_a if a_to_b else pool.reserve_b
    per_mille = draw(st.integers(1, 5_000))
    amount = draw(st.integers(1, 1_000) | st.just(max(1, reserve_in * per_mille // 1_000)))
    return pool, amount, a_to_b


def test_constant_product_swap_matches_raydium_formula() -> None:
    pool = ConstantProductPool(reserve_a=1_000_000, reserve_b=2_000_000)
    result, after = pool.swap(10_000, a_to_b=True)
    # fee = ceil(10_000 * 25 / 10_000) = 25; out = floor(2e6 * 9_975 / (1e6 + 9_975)) = 19_752.
    assert result == SwapResult(amount_in=10_000, amount_out=19_752, fee=25)
    assert after == ConstantProductPool(reserve_a=1_010_000, reserve_b=1_980_248)


def test_constant_product_swap_keeps_the_protocol_and_fund_fees_out_of_the_reserves() -> None:
    # Raydium's 0.25 % config: 12 % of the fee to the protocol, 4 % to the fund.
    pool = ConstantProductPool(
        reserve_a=1_000_000,
        reserve_b=2_000_000,
        trade_fee_rate=2_500,
        protocol_fee_rate=120_000,
        fund_fee_rate=40_000,
    )
    result, after = pool.swap(10_000, a_to_b=True)
    # fee = 25; protocol = floor(25 * 0.12) = 3, fund = floor(25 * 0.04) = 1: 4 units leave.
    assert result == SwapResult(amount_in=10_000, amount_out=19_752, fee=25)
    assert pool.fee_shares(result.fee) == (3, 1)
    assert (after.reserve_a, after.reserve_b) == (1_009_996, 1_980_248)
    back, final = after.swap(19_752, a_to_b=False)
    # fee = ceil(19_752 * 0.0025) = 50 (49.38 up); shares 6 and 2 leave the B reserve.
    assert back.fee == 50
    assert (final.reserve_a, final.reserve_b) == (1_009_996 - back.amount_out, 1_980_248 + 19_744)


def test_constant_product_price_impact_excludes_the_fee_and_rounds_up() -> None:
    pool = ConstantProductPool(reserve_a=1_000_000, reserve_b=2_000_000)
    result, _ = pool.swap(10_000, a_to_b=True)
    # Spot pays 9_975 * 2 = 19_950 for the net input; 19_752 is 198 short: 99.25 bps, up to 100.
    assert price_impact_bps(pool, result, a_to_b=True) == 100


def test_constant_product_swap_too_small_to_pay_a_unit_raises_insufficient_liquidity() -> None:
    pool = ConstantProductPool(reserve_a=10**12, reserve_b=10)
    with pytest.raises(InsufficientLiquidityError):
        pool.swap(1_000, a_to_b=True)


def test_constant_product_swap_of_non_positive_amount_raises_value_error() -> None:
    pool = ConstantProductPool(reserve_a=1_000, reserve_b=1_000)
    with pytest.raises(ValueError, match="positive"):
        pool.swap(0, a_to_b=True)


@PROPERTY_SETTINGS
@given(trades())
def test_constant_product_swap_never_lowers_k_or_pays_more_than_held(
    trade: tuple[ConstantProductPool, int, bool],
) -> None:
    pool, amount, a_to_b = trade
    try:
        result, after = pool.swap(amount, a_to_b=a_to_b)
    except InsufficientLiquidityError:
        return
    reserve_out = pool.reserve_b if a_to_b else pool.reserve_a
    assert result.amount_out < reserve_out
    assert after.reserve_a * after.reserve_b >= pool.reserve_a * pool.reserve_b
    assert 0 <= result.fee < amount


@PROPERTY_SETTINGS
@given(trades())
def test_constant_product_swap_reserve_gains_the_input_less_the_fee_shares(
    trade: tuple[ConstantProductPool, int, bool],
) -> None:
    pool, amount, a_to_b = trade
    try:
        result, after = pool.swap(amount, a_to_b=a_to_b)
    except InsufficientLiquidityError:
        return
    protocol_fee, fund_fee = pool.fee_shares(result.fee)
    assert protocol_fee + fund_fee <= result.fee
    gained = (after.reserve_a - pool.reserve_a) if a_to_b else (after.reserve_b - pool.reserve_b)
    paid = (pool.reserve_b - after.reserve_b) if a_to_b else (pool.reserve_a - after.reserve_a)
    assert gained == amount - protocol_fee - fund_fee
    assert paid == result.amount_out


@PROPERTY_SETTINGS
@given(trades(), st.integers(1, 10**12))
def test_constant_product_swap_output_grows_with_input_at_a_falling_average_price(
    trade: tuple[ConstantProductPool, int, bool], extra: int
) -> None:
    pool, amount, a_to_b = trade
    small = _try_swap(pool, amount, a_to_b=a_to_b)
    large = _try_swap(pool, amount + extra, a_to_b=a_to_b)
    if small is None or large is None:
        return
    assert small.amount_out <= large.amount_out
    slack = pool.spot_price(a_to_b=a_to_b) + 1
    assert large.amount_out * amount <= (small.amount_out + slack) * (amount + extra)


@PROPERTY_SETTINGS
@given(trades())
def test_constant_product_swap_is_pure_and_round_trip_loses_value(
    trade: tuple[ConstantProductPool, int, bool],
) -> None:
    pool, amount, a_to_b = trade
    snapshot = replace(pool)
    try:
        there, after = pool.swap(amount, a_to_b=a_to_b)
        back, _ = after.swap(there.amount_out, a_to_b=not a_to_b)
    except InsufficientLiquidityError:
        return
    assert pool == snapshot
    assert pool.swap(amount, a_to_b=a_to_b) == (there, after)
    assert back.amount_out <= amount

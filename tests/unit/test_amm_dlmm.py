"""Meteora DLMM pool model: worked examples and swap properties."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eterna.amm.base import InsufficientLiquidityError, SwapResult
from eterna.amm.dlmm import ONE, DlmmPool, bin_price
from tests.unit.pool_capacity import capacity

PROPERTY_SETTINGS = settings(max_examples=200, deadline=None)
# Raw B-per-A prices: a stable pair, SOL/USDC (9 vs 6 decimals), an expensive A, a memecoin.
PRICES = (Fraction(1), Fraction(15, 100), Fraction(2_500), Fraction(3, 1_000_000))


def _single_bin_pool(bin_id: int, amount_a: int, amount_b: int, **params: int) -> DlmmPool:
    return DlmmPool(
        bin_step=25,
        active_id=bin_id,
        bins=((bin_id, amount_a, amount_b),),
        index_reference=bin_id,
        **params,
    )


def _try_swap(pool: DlmmPool, amount: int, *, a_to_b: bool) -> SwapResult | None:
    try:
        return pool.swap(amount, a_to_b=a_to_b)[0]
    except InsufficientLiquidityError:
        return None


@st.composite
def pools(draw: st.DrawFn) -> DlmmPool:
    pool = DlmmPool.from_price(
        draw(st.sampled_from(PRICES)),
        liquidity_a_per_bin=draw(st.integers(1_000, 10**12)),
        bin_step=draw(st.sampled_from([1, 10, 25, 100])),
        bins_each_side=draw(st.integers(1, 6)),
    )
    # An earlier trade leaves a half-used active bin and a live volatility accumulator.
    if draw(st.booleans()):
        a_to_b = draw(st.booleans())
        amount = capacity(pool, a_to_b=a_to_b) * draw(st.integers(1, 100)) // 100
        now = draw(st.integers(0, 60))
        with contextlib.suppress(InsufficientLiquidityError):
            _, pool = pool.swap(max(amount, 1), a_to_b=a_to_b, now=now)
    return pool


@st.composite
def trades(draw: st.DrawFn) -> tuple[DlmmPool, int, bool]:
    pool = draw(pools())
    a_to_b = draw(st.booleans())
    drains = capacity(pool, a_to_b=a_to_b)
    # Per mille of the capacity spreads sizes evenly from dust to more than the pool holds.
    per_mille = draw(st.integers(1, 1_500))
    amount = draw(st.integers(1, 1_000) | st.just(max(1, drains * per_mille // 1_000)))
    return pool, amount, a_to_b


@pytest.mark.parametrize(("bin_step", "bin_id"), [(25, 1), (25, -1), (10, -1_898), (100, 700)])
def test_dlmm_bin_price_matches_the_exact_power_within_fixed_point_error(
    bin_step: int, bin_id: int
) -> None:
    exact = Fraction(10_000 + bin_step, 10_000) ** bin_id
    price = Fraction(bin_price(bin_step, bin_id), ONE)
    assert abs(price / exact - 1) < Fraction(1, 10**13)
    assert (
        bin_price(bin_step, bin_id - 1)
        < bin_price(bin_step, bin_id)
        < bin_price(bin_step, bin_id + 1)
    )


def test_dlmm_bin_price_of_bin_zero_is_one() -> None:
    assert bin_price(25, 0) == ONE == 1 << 64


def test_dlmm_swap_inside_active_bin_pays_floor_of_net_input_times_price() -> None:
    pool = _single_bin_pool(1, 0, 10**6)
    result, after = pool.swap(10_000, a_to_b=True)
    # 0.25 % base fee, rounded up: ceil(10_000 * 2_500_000 / 1e9) = 25.
    assert result == SwapResult(amount_in=10_000, amount_out=9_999, fee=25)
    # 9_975 * 1.0025 = 9_999.9375, and the Q64.64 price is within 1e-20 of 1.0025.
    assert result.amount_out == 9_975 * bin_price(25, 1) >> 64
    assert after.bins == ((1, 9_975, 10**6 - 9_999),)
    assert after.fees_a == 25
    assert after.protocol_fees_a == 25 * 500 // 10_000


def test_dlmm_swap_b_to_a_inside_bin_pays_floor_of_net_input_over_price() -> None:
    pool = _single_bin_pool(0, 10**6, 0)
    result, _ = pool.swap(1_000, a_to_b=False)
    assert result == SwapResult(amount_in=1_000, amount_out=997, fee=3)


def test_dlmm_swap_emptying_a_bin_charges_fee_on_max_input_and_moves_down() -> None:
    pool = DlmmPool(
        bin_step=25,
        active_id=0,
        bins=((-1, 0, 4_000), (0, 0, 1_000)),
        variable_fee_control=0,
    )
    result, after = pool.swap(2_000, a_to_b=True)
    # Bin 0 (price 1) takes 1_000 + ceil(1_000 * 0.0025 / 0.9975) = 1_003 for its 1_000 B;
    # the other 997 go to bin -1 (price 400/401): fee 3, floor(994 * 400 / 401) = 991.
    assert result == SwapResult(amount_in=2_000, amount_out=1_991, fee=6)
    assert after.active_id == -1
    assert after.bins == ((-1, 994, 3_009), (0, 1_000, 0))


def test_dlmm_net_input_equal_to_max_in_empties_the_bin_and_ends_the_swap_there() -> None:
    # The program takes the fee on the whole amount first (lb_clmm 0.12.0): 401 pays
    # ceil(401 * 0.25 %) = 2 and its 399 net empty bin 0 exactly, so all 401 stay in bin 0.
    # The older rule took 399 + ceil(399 * 0.25 % / 99.75 %) = 400 there and moved 1 unit on.
    pool = DlmmPool(
        bin_step=25,
        active_id=0,
        bins=((-1, 0, 4_000), (0, 0, 399)),
        variable_fee_control=0,
    )
    result, after = pool.swap(401, a_to_b=True)
    assert result == SwapResult(amount_in=401, amount_out=399, fee=2)
    assert after.active_id == 0
    assert after.bins == ((-1, 0, 4_000), (0, 399, 0))
    # One unit more leaves 400 net: the bin takes 400 and the 2 left reach bin -1.
    result, after = pool.swap(402, a_to_b=True)
    assert result == SwapResult(amount_in=402, amount_out=399, fee=2)
    assert after.active_id == -1


def test_dlmm_unit_left_for_the_next_bin_is_all_protocol_fee() -> None:
    pool = DlmmPool(
        bin_step=25,
        active_id=0,
        bins=((-1, 0, 4_000), (0, 0, 1_000)),
        variable_fee_control=0,
        protocol_share=2_000,
    )
    # Bin 0 takes 1_003 (fee 3, of which floor(0.6) = 0 to the protocol); the last unit
    # reaches bin -1 and is all fee, which no liquidity earned: the protocol books it.
    result, after = pool.swap(1_004, a_to_b=True)
    assert result == SwapResult(amount_in=1_004, amount_out=1_000, fee=4)
    assert after.active_id == -1
    assert after.bins == ((-1, 0, 4_000), (0, 1_000, 0))
    assert after.protocol_fees_a == 1
    assert after.fees_a == 4


def test_dlmm_last_bin_takes_a_net_input_equal_to_its_max_in() -> None:
    pool = _single_bin_pool(0, 0, 399, variable_fee_control=0)
    result, _ = pool.swap(401, a_to_b=True)
    assert result.amount_out == 399
    with pytest.raises(InsufficientLiquidityError):
        pool.swap(402, a_to_b=True)


def test_dlmm_emptying_inputs_count_every_bin_before() -> None:
    pool = DlmmPool(
        bin_step=25,
        active_id=0,
        bins=((-1, 0, 4_000), (0, 0, 1_000)),
        variable_fee_control=0,
    )
    steps = pool.emptying_inputs(a_to_b=True)
    # Bin 0 takes 1_000 + 3; bin -1 ceil(4_000 / P) = 4_011 + 11, its Q64.64 price a hair
    # under 400/401.
    assert steps == [(0, 1_003), (-1, 1_003 + 4_022)]
    assert pool.swap(steps[-1][1], a_to_b=True)[0].amount_out == 5_000
    with pytest.raises(InsufficientLiquidityError):
        pool.swap(steps[-1][1] + 1, a_to_b=True)


def test_dlmm_swap_stamps_the_time_only_when_it_moves_the_active_bin() -> None:
    pool = replace(
        DlmmPool.from_price(Fraction(1), liquidity_a_per_bin=10**6, bins_each_side=5),
        volatility_accumulator=40_000,
        last_update_timestamp=1_000,
    )
    _, stayed = pool.swap(10, a_to_b=True, now=1_100)
    assert stayed.active_id == pool.active_id
    assert stayed.last_update_timestamp == 1_000
    # The references still move: the decay window has started.
    assert stayed.volatility_reference == 20_000
    assert stayed.volatility_accumulator == 20_000
    _, moved = pool.swap(2 * 10**6, a_to_b=True, now=1_100)
    assert moved.active_id < pool.active_id
    assert moved.last_update_timestamp == 1_100


def test_dlmm_crossing_bins_raises_volatility_accumulator_and_fee() -> None:
    pool = DlmmPool.from_price(Fraction(1), liquidity_a_per_bin=10**6, bins_each_side=5)
    _, after = pool.swap(3 * 10**6, a_to_b=True, now=100)
    moved = pool.active_id - after.active_id
    assert moved >= 2
    assert after.volatility_accumulator == moved * 10_000
    assert after.last_update_timestamp == 100
    assert after.fee_rate(after.volatility_accumulator) > pool.fee_rate(0) == 2_500_000


def test_dlmm_volatility_reference_decays_after_filter_period() -> None:
    pool = replace(
        DlmmPool.from_price(Fraction(1), liquidity_a_per_bin=10**6),
        volatility_accumulator=40_000,
        last_update_timestamp=1_000,
    )
    _, within_filter = pool.swap(10, a_to_b=True, now=1_010)
    _, decaying = pool.swap(10, a_to_b=True, now=1_100)
    _, decayed = pool.swap(10, a_to_b=True, now=2_000)
    assert within_filter.volatility_reference == 0
    assert decaying.volatility_reference == 20_000
    assert decaying.index_reference == pool.active_id
    assert decayed.volatility_reference == 0


def test_dlmm_fee_rate_is_capped_at_ten_percent() -> None:
    pool = DlmmPool.from_price(Fraction(1), liquidity_a_per_bin=10**6)
    assert pool.fee_rate(10**9) == 10**8


def test_dlmm_swap_past_last_bin_raises_insufficient_liquidity() -> None:
    pool = DlmmPool.from_price(Fraction(1), liquidity_a_per_bin=10**6, bins_each_side=2)
    with pytest.raises(InsufficientLiquidityError):
        pool.swap(pool.reserve_b * 2, a_to_b=True)
    with pytest.raises(InsufficientLiquidityError):
        pool.swap(pool.reserve_a * 2, a_to_b=False)


def test_dlmm_swap_of_non_positive_amount_raises_value_error() -> None:
    pool = DlmmPool.from_price(Fraction(1), liquidity_a_per_bin=10**6)
    with pytest.raises(ValueError, match="positive"):
        pool.swap(0, a_to_b=True)


def test_dlmm_from_price_picks_closest_bin_and_balances_value() -> None:
    pool = DlmmPool.from_price(Fraction(15, 100), liquidity_a_per_bin=10**9, bin_step=10)
    price = pool.spot_price(a_to_b=True)
    step = Fraction(1_001, 1_000)
    assert abs(price - Fraction(15, 100)) <= abs(price * step - Fraction(15, 100))
    assert abs(price - Fraction(15, 100)) <= abs(price / step - Fraction(15, 100))
    assert pool.spot_price(a_to_b=False) == 1 / price
    below, active, above = pool.bins[0], pool.bins[35], pool.bins[-1]
    assert below[1] == 0
    assert below[2] > 0
    assert active[0] == pool.active_id
    assert min(active[1:]) > 0
    assert above == (pool.active_id + 35, 10**9, 0)


@PROPERTY_SETTINGS
@given(trades())
def test_dlmm_swap_never_pays_more_than_the_pool_holds(trade: tuple[DlmmPool, int, bool]) -> None:
    pool, amount, a_to_b = trade
    try:
        result, after = pool.swap(amount, a_to_b=a_to_b)
    except InsufficientLiquidityError:
        return
    reserve_in, reserve_out = (pool.reserve_a, pool.reserve_b)[:: 1 if a_to_b else -1]
    after_in, after_out = (after.reserve_a, after.reserve_b)[:: 1 if a_to_b else -1]
    assert result.amount_out <= reserve_out
    assert after_out == reserve_out - result.amount_out >= 0
    assert after_in == reserve_in + amount
    assert all(a >= 0 and b >= 0 for _, a, b in after.bins)


@PROPERTY_SETTINGS
@given(trades())
def test_dlmm_swap_fee_is_non_negative_and_below_input(trade: tuple[DlmmPool, int, bool]) -> None:
    pool, amount, a_to_b = trade
    result = _try_swap(pool, amount, a_to_b=a_to_b)
    if result is not None:
        assert result.amount_in == amount
        assert 0 <= result.fee < amount


@PROPERTY_SETTINGS
@given(trades(), st.integers(1, 10**12))
def test_dlmm_swap_output_grows_with_input_at_a_falling_average_price(
    trade: tuple[DlmmPool, int, bool], extra: int
) -> None:
    pool, amount, a_to_b = trade
    try:
        small, after_small = pool.swap(amount, a_to_b=a_to_b)
        large, _ = pool.swap(amount + extra, a_to_b=a_to_b)
    except InsufficientLiquidityError:
        return
    assert small.amount_out <= large.amount_out
    # Every bin the smaller swap touches may round against it by up to two input units (the
    # ceilings on the input that empties the bin and on its fee), each worth at most the spot
    # price; the floor on the output costs one more unit.
    bins_touched = abs(after_small.active_id - pool.active_id) + 1
    slack = 2 * bins_touched * pool.spot_price(a_to_b=a_to_b) + 1
    assert large.amount_out * amount <= (small.amount_out + slack) * (amount + extra)


@PROPERTY_SETTINGS
@given(trades(), st.integers(0, 10_000))
def test_dlmm_swap_is_pure_and_quote_matches_execution(
    trade: tuple[DlmmPool, int, bool], now: int
) -> None:
    pool, amount, a_to_b = trade
    snapshot = replace(pool)
    try:
        quote, quoted_state = pool.swap(amount, a_to_b=a_to_b, now=now)
    except InsufficientLiquidityError:
        return
    executed, executed_state = snapshot.swap(amount, a_to_b=a_to_b, now=now)
    assert pool == snapshot
    assert executed == quote
    assert executed_state == quoted_state


@PROPERTY_SETTINGS
@given(trades())
def test_dlmm_round_trip_never_returns_more_than_was_sold(
    trade: tuple[DlmmPool, int, bool],
) -> None:
    pool, amount, a_to_b = trade
    try:
        there, after = pool.swap(amount, a_to_b=a_to_b)
        back, _ = after.swap(there.amount_out, a_to_b=not a_to_b)
    except InsufficientLiquidityError:
        return
    assert back.amount_out <= amount


@PROPERTY_SETTINGS
@given(pools(), st.booleans(), st.integers(0, 10_000))
def test_dlmm_last_emptying_input_is_the_most_a_swap_takes(
    pool: DlmmPool, a_to_b: bool, now: int
) -> None:
    steps = pool.emptying_inputs(a_to_b=a_to_b, now=now)
    if not steps:
        return
    most = steps[-1][1]
    assert [total for _, total in steps] == sorted(total for _, total in steps)
    result, _ = pool.swap(most, a_to_b=a_to_b, now=now)
    assert result.amount_in == most
    # One unit more ends in the last bin when its net equals what empties the bin; the fee
    # is at most 10 %, so two more never do.
    with contextlib.suppress(InsufficientLiquidityError):
        _, after = pool.swap(most + 1, a_to_b=a_to_b, now=now)
        assert after.active_id == steps[-1][0]
    with pytest.raises(InsufficientLiquidityError):
        pool.swap(most + 2, a_to_b=a_to_b, now=now)


@PROPERTY_SETTINGS
@given(pools(), st.booleans(), st.integers(0, 10_000), st.lists(st.integers(-2, 2), max_size=6))
def test_dlmm_ladder_matches_each_swap_at_every_bin_edge(
    pool: DlmmPool, a_to_b: bool, now: int, offsets: list[int]
) -> None:
    steps = pool.emptying_inputs(a_to_b=a_to_b, now=now)
    edges = [total for _, total in steps]
    amounts = sorted({max(1, e + d) for e in edges[:4] + edges[-1:] for d in offsets} | {1, 2})
    ladder = pool.quote_amounts(amounts, a_to_b=a_to_b, now=now)
    for amount, quoted in zip(amounts, ladder, strict=True):
        assert quoted == _try_swap_at(pool, amount, a_to_b=a_to_b, now=now), amount


def _try_swap_at(pool: DlmmPool, amount: int, *, a_to_b: bool, now: int) -> SwapResult | None:
    try:
        return pool.swap(amount, a_to_b=a_to_b, now=now)[0]
    except InsufficientLiquidityError:
        return None

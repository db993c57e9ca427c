"""Orca Whirlpool pool model and its Q64.64 tick math: worked examples and swap properties."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eterna.amm.base import InsufficientLiquidityError, SwapResult
from eterna.amm.clmm_math import (
    MAX_SQRT_PRICE_X64,
    MAX_TICK_INDEX,
    MIN_SQRT_PRICE_X64,
    MIN_TICK_INDEX,
    Q64,
    amount_delta_a,
    amount_delta_b,
    sqrt_price_from_tick_index,
    tick_index_from_sqrt_price,
)
from eterna.amm.whirlpool import WhirlpoolPool
from eterna.amm.whirlpool_positions import DEFAULT_RANGES
from tests.unit.pool_capacity import capacity

PROPERTY_SETTINGS = settings(max_examples=200, deadline=None)
# Raw B-per-A prices: a stable pair, SOL/USDC (9 vs 6 decimals), an expensive A, a memecoin.
PRICES = (Fraction(1), Fraction(15, 100), Fraction(2_500), Fraction(3, 1_000_000))
LIQUIDITY = 10**12


def _pool_with_ticks(ticks: tuple[tuple[int, int], ...], fee_rate: int = 3_000) -> WhirlpoolPool:
    """Build a pool at tick 0 (price 1) with generous balances and the given ticks."""
    liquidity = sum(net for index, net in ticks if index <= 0)
    return WhirlpoolPool(
        sqrt_price_x64=Q64,
        liquidity=liquidity,
        tick_current=0,
        tick_spacing=1,
        fee_rate=fee_rate,
        ticks=ticks,
        balance_a=10**15,
        balance_b=10**15,
    )


def _try_swap(pool: WhirlpoolPool, amount: int, *, a_to_b: bool) -> SwapResult | None:
    try:
        return pool.swap(amount, a_to_b=a_to_b)[0]
    except InsufficientLiquidityError:
        return None


ranges_strategy = st.lists(
    st.tuples(
        st.integers(500, 999).map(lambda per_mille: Fraction(per_mille, 1_000)),
        st.integers(1_001, 2_000).map(lambda per_mille: Fraction(per_mille, 1_000)),
        st.integers(1, 4).map(lambda quarters: Fraction(quarters, 4)),
    ),
    min_size=1,
    max_size=3,
)


@st.composite
def pools(draw: st.DrawFn) -> WhirlpoolPool:
    pool = WhirlpoolPool.from_price(
        draw(st.sampled_from(PRICES)),
        liquidity=draw(st.integers(10**6, 10**16)),
        tick_spacing=draw(st.sampled_from([1, 8, 64, 128])),
        fee_rate=draw(st.sampled_from([100, 500, 3_000, 10_000])),
        ranges=draw(st.just(DEFAULT_RANGES) | ranges_strategy),
    )
    # An earlier trade leaves the price between ticks and perhaps past a crossed tick.
    if draw(st.booleans()):
        a_to_b = draw(st.booleans())
        amount = capacity(pool, a_to_b=a_to_b) * draw(st.integers(1, 100)) // 100
        with contextlib.suppress(InsufficientLiquidityError):
            _, pool = pool.swap(max(amount, 1), a_to_b=a_to_b)
    return pool


@st.composite
def trades(draw: st.DrawFn) -> tuple[WhirlpoolPool, int, bool]:
    pool = draw(pools())
    a_to_b = draw(st.booleans())
    drains = capacity(pool, a_to_b=a_to_b)
    # Per mille of the capacity spreads sizes evenly from dust to more than the pool holds.
    per_mille = draw(st.integers(1, 1_500))
    amount = draw(st.integers(1, 1_000) | st.just(max(1, drains * per_mille // 1_000)))
    return pool, amount, a_to_b


@pytest.mark.parametrize(
    ("tick", "positive", "negative"),
    [
        (1, 18447666387855959850, 18445821805675392311),
        (16, 18461506635090006701, 18431993317065449817),
        (4096, 22639080592224303007, 15030750278693429944),
        (262144, 9078618265828848800676189, 37481735321082),
    ],
)
def test_sqrt_price_from_tick_index_matches_orca_bit_values(
    tick: int, positive: int, negative: int
) -> None:
    assert sqrt_price_from_tick_index(tick) == positive
    assert sqrt_price_from_tick_index(-tick) == negative


def test_sqrt_price_from_tick_index_at_the_bounds_is_min_and_max_sqrt_price() -> None:
    assert sqrt_price_from_tick_index(0) == Q64
    assert sqrt_price_from_tick_index(MIN_TICK_INDEX) == MIN_SQRT_PRICE_X64
    assert sqrt_price_from_tick_index(MAX_TICK_INDEX) == MAX_SQRT_PRICE_X64
    with pytest.raises(ValueError, match="out of range"):
        sqrt_price_from_tick_index(MAX_TICK_INDEX + 1)


@settings(max_examples=300, deadline=None)
@given(st.integers(MIN_TICK_INDEX, MAX_TICK_INDEX - 1))
def test_tick_index_from_sqrt_price_inverts_and_brackets_the_tick(tick: int) -> None:
    sqrt_price = sqrt_price_from_tick_index(tick)
    following = sqrt_price_from_tick_index(tick + 1)
    assert sqrt_price < following
    assert tick_index_from_sqrt_price(sqrt_price) == tick
    assert tick_index_from_sqrt_price(following - 1) == tick


def test_whirlpool_swap_b_to_a_within_one_range_matches_closed_form() -> None:
    pool = _pool_with_ticks(((-6_400, LIQUIDITY), (6_400, -LIQUIDITY)))
    result, after = pool.swap(1_000_000, a_to_b=False)
    # 0.30 % off the input leaves 997_000 B; sqrt P rises by 997_000 / L.
    next_sqrt = Q64 + (997_000 << 64) // LIQUIDITY
    assert after.sqrt_price_x64 == next_sqrt
    assert after.tick_current == 0
    # Real-number output: L * (1 - 1 / (1 + 997_000 / L)) = 996_999.006...
    real_out = LIQUIDITY * (1 - 1 / (1 + Fraction(997_000, LIQUIDITY)))
    assert int(real_out) == 996_999
    assert result == SwapResult(amount_in=1_000_000, amount_out=996_999, fee=3_000)
    assert after.balance_b == 10**15 + 1_000_000
    assert after.balance_a == 10**15 - 996_999


def test_whirlpool_swap_a_to_b_within_one_range_matches_closed_form() -> None:
    pool = replace(_pool_with_ticks(((-6_400, LIQUIDITY), (6_400, -LIQUIDITY))), fee_rate=0)
    result, after = pool.swap(2_000_000, a_to_b=True)
    # Adding A: sqrt P' = L / (L + 2_000_000) rounded up; out = L * (1 - sqrt P') floored.
    next_sqrt = -(-(LIQUIDITY * Q64 * Q64) // (LIQUIDITY * Q64 + 2_000_000 * Q64))
    assert after.sqrt_price_x64 == next_sqrt
    assert after.tick_current == -1
    # Real-number output: L * 2_000_000 / (L + 2_000_000) = 1_999_996.000008, floored.
    real_out = LIQUIDITY * (1 - Fraction(LIQUIDITY, LIQUIDITY + 2_000_000))
    assert int(real_out) == 1_999_996
    assert result == SwapResult(amount_in=2_000_000, amount_out=1_999_996, fee=0)


def test_whirlpool_swap_crossing_a_tick_drops_its_liquidity() -> None:
    inner = 3 * LIQUIDITY
    pool = _pool_with_ticks(
        ((-200, LIQUIDITY), (-50, inner), (50, -inner), (200, -LIQUIDITY)), fee_rate=0
    )
    assert pool.liquidity == 4 * LIQUIDITY
    to_inner_edge = amount_delta_a(
        sqrt_price_from_tick_index(-50), Q64, pool.liquidity, round_up=True
    )
    _, after = pool.swap(to_inner_edge + 1_000, a_to_b=True)
    assert after.liquidity == LIQUIDITY
    assert -200 <= after.tick_current < -50


def test_whirlpool_swap_past_last_tick_raises_insufficient_liquidity() -> None:
    pool = WhirlpoolPool.from_price(Fraction(1), liquidity=LIQUIDITY)
    with pytest.raises(InsufficientLiquidityError):
        pool.swap(pool.reserve_b * 10, a_to_b=True)
    with pytest.raises(InsufficientLiquidityError):
        pool.swap(pool.reserve_a * 10, a_to_b=False)


def test_whirlpool_swap_of_non_positive_amount_raises_value_error() -> None:
    pool = WhirlpoolPool.from_price(Fraction(1), liquidity=LIQUIDITY)
    with pytest.raises(ValueError, match="positive"):
        pool.swap(-1, a_to_b=False)


def test_whirlpool_from_price_deposits_what_each_position_needs() -> None:
    pool = WhirlpoolPool.from_price(
        Fraction(1),
        liquidity=LIQUIDITY,
        tick_spacing=1,
        ranges=((Fraction(1, 2), Fraction(2), Fraction(1)),),
    )
    lower, upper = pool.ticks[0][0], pool.ticks[1][0]
    assert pool.ticks == ((lower, LIQUIDITY), (upper, -LIQUIDITY))
    assert pool.liquidity == LIQUIDITY
    assert pool.spot_price(a_to_b=True) == 1 == pool.spot_price(a_to_b=False)
    assert pool.reserve_a == amount_delta_a(
        Q64, sqrt_price_from_tick_index(upper), LIQUIDITY, round_up=True
    )
    assert pool.reserve_b == amount_delta_b(
        sqrt_price_from_tick_index(lower), Q64, LIQUIDITY, round_up=True
    )


@PROPERTY_SETTINGS
@given(trades())
def test_whirlpool_swap_never_pays_more_than_the_pool_holds(
    trade: tuple[WhirlpoolPool, int, bool],
) -> None:
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


@PROPERTY_SETTINGS
@given(trades())
def test_whirlpool_swap_keeps_tick_liquidity_and_price_consistent(
    trade: tuple[WhirlpoolPool, int, bool],
) -> None:
    pool, amount, a_to_b = trade
    try:
        _, after = pool.swap(amount, a_to_b=a_to_b)
    except InsufficientLiquidityError:
        return
    sqrt_price, tick = after.sqrt_price_x64, after.tick_current
    assert sqrt_price_from_tick_index(tick) <= sqrt_price <= sqrt_price_from_tick_index(tick + 1)
    assert after.liquidity == sum(net for index, net in after.ticks if index <= tick)
    moved_down = sqrt_price <= pool.sqrt_price_x64
    assert moved_down if a_to_b else sqrt_price >= pool.sqrt_price_x64


@PROPERTY_SETTINGS
@given(trades())
def test_whirlpool_swap_fee_is_non_negative_and_below_input(
    trade: tuple[WhirlpoolPool, int, bool],
) -> None:
    pool, amount, a_to_b = trade
    result = _try_swap(pool, amount, a_to_b=a_to_b)
    if result is not None:
        assert result.amount_in == amount
        assert 0 <= result.fee < amount


@PROPERTY_SETTINGS
@given(trades(), st.integers(1, 10**12))
def test_whirlpool_swap_output_grows_with_input_at_a_falling_average_price(
    trade: tuple[WhirlpoolPool, int, bool], extra: int
) -> None:
    pool, amount, a_to_b = trade
    try:
        small, after_small = pool.swap(amount, a_to_b=a_to_b)
        large, _ = pool.swap(amount + extra, a_to_b=a_to_b)
    except InsufficientLiquidityError:
        return
    assert small.amount_out <= large.amount_out
    # Every step of the smaller swap (one per tick range it touches) may round against it by
    # up to two input units (the ceilings on the step's input and fee), each worth at most
    # the spot price; the floor on the output costs one more unit.
    low, high = sorted((pool.tick_current, after_small.tick_current))
    steps = 1 + sum(1 for index, _ in pool.ticks if low <= index <= high + 1)
    slack = 2 * steps * pool.spot_price(a_to_b=a_to_b) + 1
    assert large.amount_out * amount <= (small.amount_out + slack) * (amount + extra)


@PROPERTY_SETTINGS
@given(trades())
def test_whirlpool_swap_is_pure_and_quote_matches_execution(
    trade: tuple[WhirlpoolPool, int, bool],
) -> None:
    pool, amount, a_to_b = trade
    snapshot = replace(pool)
    try:
        quote, quoted_state = pool.swap(amount, a_to_b=a_to_b)
    except InsufficientLiquidityError:
        return
    executed, executed_state = snapshot.swap(amount, a_to_b=a_to_b)
    assert pool == snapshot
    assert executed == quote
    assert executed_state == quoted_state


@PROPERTY_SETTINGS
@given(trades())
def test_whirlpool_round_trip_never_returns_more_than_was_sold(
    trade: tuple[WhirlpoolPool, int, bool],
) -> None:
    pool, amount, a_to_b = trade
    try:
        there, after = pool.swap(amount, a_to_b=a_to_b)
        back, _ = after.swap(there.amount_out, a_to_b=not a_to_b)
    except InsufficientLiquidityError:
        return
    assert back.amount_out <= amount

"""Ladder quotes (no pool built per point) pay exactly what a swap on the same state pays."""

from __future__ import annotations

import contextlib
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eterna.amm.base import InsufficientLiquidityError, PoolMath, SwapResult
from eterna.amm.constant_product import ConstantProductPool
from eterna.amm.dlmm import DlmmPool
from eterna.amm.whirlpool import WhirlpoolPool
from eterna.routing import split
from tests.support.genesis import genesis_market
from tests.unit.pool_capacity import capacity


def _one_at_a_time(
    pool: PoolMath, amounts: list[int], *, a_to_b: bool, now: int
) -> list[SwapResult | None]:
    results: list[SwapResult | None] = []
    for amount in amounts:
        try:
            results.append(pool.swap(amount, a_to_b=a_to_b, now=now)[0])
        except InsufficientLiquidityError:
            results.append(None)
    return results


prices = st.builds(Fraction, st.integers(1, 10**9), st.integers(1, 10**9))


@st.composite
def pools(draw: st.DrawFn) -> PoolMath:
    price = draw(prices)
    kind = draw(st.sampled_from(["cp", "dlmm", "whirlpool"]))
    if kind == "cp":
        return ConstantProductPool(draw(st.integers(0, 10**15)), draw(st.integers(0, 10**15)))
    if kind == "dlmm":
        pool = DlmmPool.from_price(
            price,
            liquidity_a_per_bin=draw(st.integers(1, 10**12)),
            bin_step=draw(st.sampled_from([1, 10, 25, 100])),
            bins_each_side=draw(st.integers(0, 12)),
        )
        # A trade first, so the fee state (volatility, references) is not the initial one.
        with contextlib.suppress(InsufficientLiquidityError):
            _, pool = pool.swap(draw(st.integers(1, 10**9)), a_to_b=draw(st.booleans()), now=5)
        return pool
    return WhirlpoolPool.from_price(
        price,
        liquidity=draw(st.integers(10**3, 10**15)),
        tick_spacing=draw(st.sampled_from([1, 8, 64])),
    )


@settings(max_examples=150, deadline=None)
@given(
    pool=pools(),
    amounts=st.lists(st.integers(1, 10**16), min_size=1, max_size=12),
    a_to_b=st.booleans(),
    now=st.integers(0, 10**4),
)
def test_a_ladder_quote_equals_swapping_each_amount(
    pool: PoolMath, amounts: list[int], a_to_b: bool, now: int
) -> None:
    expected = _one_at_a_time(pool, amounts, a_to_b=a_to_b, now=now)
    assert pool.quote_amounts(amounts, a_to_b=a_to_b, now=now) == expected


@st.composite
def router_ladders(draw: st.DrawFn) -> tuple[PoolMath, list[int], bool]:
    """A pool and the ladder the router quotes it at, for a whole amount near its capacity.

    Near capacity a walk crosses many bins or ticks, where the amounts share most steps.
    """
    pool = draw(pools())
    a_to_b = draw(st.booleans())
    whole = max(1, capacity(pool, a_to_b=a_to_b) * draw(st.integers(1, 1_500)) // 1_000)
    return pool, list(split.ladder(whole, draw(st.integers(2, 20)))), a_to_b


@settings(max_examples=200, deadline=None)
@given(router_ladders(), st.integers(0, 10**4))
def test_the_routers_ladder_near_capacity_equals_swapping_each_amount(
    case: tuple[PoolMath, list[int], bool], now: int
) -> None:
    pool, amounts, a_to_b = case
    expected = _one_at_a_time(pool, amounts, a_to_b=a_to_b, now=now)
    assert pool.quote_amounts(amounts, a_to_b=a_to_b, now=now) == expected


@pytest.mark.parametrize("amount", [0, -5])
def test_a_ladder_refuses_what_a_swap_refuses(amount: int) -> None:
    market = genesis_market(3, slot_ms=0)
    for pool in market.pools():
        with pytest.raises(ValueError, match="positive"):
            pool.math.swap(amount, a_to_b=True)
        with pytest.raises(ValueError, match="positive"):
            pool.math.quote_amounts([10, amount], a_to_b=True)


def test_the_genesis_pools_quote_their_ladders_exactly() -> None:
    market = genesis_market(11, slot_ms=0)
    for pool in market.pools():
        for a_to_b in (True, False):
            reserve = pool.math.reserve_a if a_to_b else pool.math.reserve_b
            amounts = [max(1, reserve * n // 40) for n in range(1, 60)]
            expected = _one_at_a_time(pool.math, amounts, a_to_b=a_to_b, now=1234)
            assert pool.math.quote_amounts(amounts, a_to_b=a_to_b, now=1234) == expected

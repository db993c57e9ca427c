"""The sandbox's opening market and how it settles multi-swap transactions."""

from __future__ import annotations

import random
import time
from decimal import Decimal
from fractions import Fraction

import pytest

from eterna.adapters.sandbox.genesis import PAIRS, REFERENCE_USD, genesis_market, genesis_pools
from eterna.adapters.sandbox.market import MarketSandbox, Pool
from eterna.amm.base import InsufficientLiquidityError
from eterna.amm.whirlpool import WhirlpoolPool
from eterna.domain.routes import Route, RouteLeg
from eterna.domain.tokens import BONK, JUP, RAY, SOL, USDC, USDT, Token
from eterna.routing.venues import SwapInstruction, SwapRequest, Transaction, TxState

MEMO = "order-1"


def _pool(market: MarketSandbox, venue: str, a: Token, b: Token) -> Pool:
    (pool,) = [
        p for p in market.pools(venue) if {p.token_a.mint, p.token_b.mint} == {a.mint, b.mint}
    ]
    return pool


def _swap(pool: Pool, token_in: Token, amount: int | None) -> SwapInstruction:
    token_out = pool.token_b if pool.token_a == token_in else pool.token_a
    return SwapInstruction(pool.venue, pool.address, token_in.mint, token_out.mint, amount)


def _tx(
    market: MarketSandbox,
    token_in: Token,
    token_out: Token,
    swaps: tuple[SwapInstruction, ...],
    min_out: int = 1,
) -> Transaction:
    request = SwapRequest(MEMO, "alice", token_in.mint, token_out.mint, swaps, min_out)
    return market.build(request)


def _listings(market: MarketSandbox, a: Token, b: Token) -> set[str]:
    return {p.venue for p in market.pools() if {p.token_a.mint, p.token_b.mint} == {a.mint, b.mint}}


def test_genesis_lists_sol_usdc_everywhere_ray_sol_once_and_bonk_jup_nowhere() -> None:
    market = genesis_market(7, slot_ms=0)
    assert market.venues() == ["meteora", "orca", "raydium"]
    assert _listings(market, SOL, USDC) == {"raydium", "meteora", "orca"}
    assert len(_listings(market, RAY, SOL)) == 1
    assert _listings(market, BONK, JUP) == set()
    assert _listings(market, BONK, SOL)
    assert _listings(market, JUP, SOL)


def test_genesis_is_deterministic_per_seed_and_fast() -> None:
    started = time.perf_counter()
    pools = genesis_pools(7)
    elapsed = time.perf_counter() - started
    assert pools == genesis_pools(7)
    assert pools != genesis_pools(8)
    assert elapsed < 0.5


def _usd(token: Token, units: int) -> Fraction:
    return Fraction(units, 10**token.decimals) * REFERENCE_USD[token]


def test_orca_pools_hold_their_usd_depth_within_five_percent() -> None:
    depths = {(a, b): depth for a, b, depth, _ in PAIRS}
    for pool in genesis_pools(7, venues=("orca",)):
        math = pool.math
        assert isinstance(math, WhirlpoolPool)
        a, b = pool.token_a, pool.token_b
        # Same draw as genesis: (price offset, depth scale) from the pool's own generator.
        rng = random.Random(f"7/orca/{a.mint}/{b.mint}")
        rng.randint(-30, 30)
        depth = depths[a, b] * Fraction(rng.randint(60, 140), 100)
        held = _usd(a, math.balance_a) + _usd(b, math.balance_b)
        assert abs(held / depth - 1) < Fraction(5, 100), (a.symbol, b.symbol)
        stable = {a, b} == {USDC, USDT}
        assert (math.tick_spacing, math.fee_rate) == ((1, 100) if stable else (64, 3_000))


def test_orca_near_spot_depth_is_comparable_to_meteora() -> None:
    market = genesis_market(7, slot_ms=0)
    # $150k of SOL into each venue's SOL/USDC pool: the concentrated venues barely move.
    impacts = {}
    for venue in ("meteora", "orca"):
        pool = _pool(market, venue, SOL, USDC)
        result, impact = market.quote(pool.address, SOL.mint, 1_000 * 10**9)
        assert result.amount_out > 0
        impacts[venue] = impact
    assert all(impact <= 20 for impact in impacts.values()), impacts


def test_two_hop_second_swap_spends_exactly_the_first_output() -> None:
    market = genesis_market(7, slot_ms=0)
    first, second = _pool(market, "meteora", BONK, SOL), _pool(market, "orca", JUP, SOL)
    amount = 10**12
    hop, _ = market.quote(first.address, BONK.mint, amount)
    final, _ = market.quote(second.address, SOL.mint, hop.amount_out)
    tx = _tx(market, BONK, JUP, (_swap(first, BONK, amount), _swap(second, SOL, None)))
    status = market.send(tx)
    assert status.state is TxState.CONFIRMED
    assert status.amount_out == final.amount_out
    (row,) = market.ledger(MEMO)
    assert (row.amount_in, row.amount_out, row.success) == (amount, final.amount_out, True)


def test_swaps_through_one_pool_settle_in_order_against_the_moved_state() -> None:
    market = genesis_market(7, slot_ms=0)
    pool = _pool(market, "raydium", SOL, USDC)
    one, _ = market.quote(pool.address, SOL.mint, 10**12)
    tx = _tx(market, SOL, USDC, (_swap(pool, SOL, 10**12), _swap(pool, SOL, 10**12)))
    status = market.send(tx)
    assert status.amount_out is not None
    assert status.amount_out < 2 * one.amount_out


def test_slippage_fails_the_whole_transaction_and_moves_no_pool() -> None:
    market = genesis_market(7, slot_ms=0)
    first, second = _pool(market, "meteora", BONK, SOL), _pool(market, "orca", JUP, SOL)
    before = market.pools()
    swaps = (_swap(first, BONK, 10**12), _swap(second, SOL, None))
    status = market.send(_tx(market, BONK, JUP, swaps, min_out=10**18))
    assert status.state is TxState.FAILED
    assert status.error == "SlippageToleranceExceeded"
    assert market.pools() == before
    assert market.ledger(MEMO)[0].amount_out == 0


def test_insufficient_liquidity_in_a_later_swap_fails_the_whole_transaction() -> None:
    market = genesis_market(7, slot_ms=0)
    small, deep = _pool(market, "raydium", SOL, USDC), _pool(market, "meteora", RAY, USDC)
    before = market.pools()
    swaps = (_swap(small, SOL, 10**9), _swap(deep, USDC, 10**18))
    status = market.send(_tx(market, SOL, RAY, swaps))
    assert status.state is TxState.FAILED
    assert status.error is not None
    assert status.error.startswith("InsufficientLiquidity")
    assert market.pools() == before


@pytest.mark.parametrize(
    ("chained_first", "expected"),
    [(True, "InvalidInstruction"), (False, "InsufficientFunds")],
)
def test_spending_what_no_earlier_swap_paid_fails(chained_first: bool, expected: str) -> None:
    market = genesis_market(7, slot_ms=0)
    first, second = _pool(market, "meteora", BONK, SOL), _pool(market, "orca", JUP, SOL)
    swaps: tuple[SwapInstruction, ...]
    if chained_first:
        swaps = (_swap(first, BONK, None),)
    else:
        # The second swap asks for far more SOL than the first one pays out.
        swaps = (_swap(first, BONK, 10**9), _swap(second, SOL, 10**11))
    status = market.send(_tx(market, BONK, JUP, swaps))
    assert status.error is not None
    assert status.error.startswith(expected)


def test_a_transaction_sent_twice_lands_once() -> None:
    market = genesis_market(7, slot_ms=0)
    pool = _pool(market, "orca", SOL, USDC)
    tx = _tx(market, SOL, USDC, (_swap(pool, SOL, 10**9),))
    assert market.send(tx) == market.send(tx)
    assert len(market.ledger(MEMO)) == 1


def _leg(pool: Pool, token_in: Token, token_out: Token, amount_in: str) -> RouteLeg:
    amount = Decimal(amount_in)
    return RouteLeg(pool.venue, pool.address, token_in, token_out, amount, amount, Decimal(0))


def test_instructions_for_a_route_chain_two_hops_and_keep_split_amounts() -> None:
    market = genesis_market(7, slot_ms=0)
    bonk_sol, jup_sol = _pool(market, "meteora", BONK, SOL), _pool(market, "orca", JUP, SOL)
    two_hop = Route(
        BONK,
        JUP,
        Decimal(5),
        Decimal(3),
        Decimal(2),
        1,
        (_leg(bonk_sol, BONK, SOL, "5"), _leg(jup_sol, SOL, JUP, "0.1")),
    )
    first, second = SwapInstruction.for_route(two_hop)
    assert (first.amount_in, second.amount_in) == (5 * 10**5, None)
    assert SwapInstruction.from_json(second.to_json()) == second
    old = {**first.to_json(), "amountIn": "500000"}
    assert SwapInstruction.from_json(old) == first
    ray, orca = _pool(market, "raydium", SOL, USDC), _pool(market, "orca", SOL, USDC)
    chunked = Route(
        SOL,
        USDC,
        Decimal(3),
        Decimal(450),
        Decimal(440),
        1,
        (_leg(ray, SOL, USDC, "2"), _leg(orca, SOL, USDC, "1")),
    )
    assert [s.amount_in for s in SwapInstruction.for_route(chunked)] == [2 * 10**9, 10**9]


def test_a_swap_without_amount_spends_everything_earlier_swaps_paid_out() -> None:
    market = genesis_market(7, slot_ms=0)
    meteora, raydium = _pool(market, "meteora", BONK, SOL), _pool(market, "raydium", BONK, SOL)
    onward = _pool(market, "orca", JUP, SOL)
    one, _ = market.quote(meteora.address, BONK.mint, 10**12)
    two, _ = market.quote(raydium.address, BONK.mint, 10**11)
    final, _ = market.quote(onward.address, SOL.mint, one.amount_out + two.amount_out)
    swaps = (
        _swap(meteora, BONK, 10**12),
        _swap(raydium, BONK, 10**11),
        _swap(onward, SOL, None),
    )
    status = market.send(_tx(market, BONK, JUP, swaps))
    assert status.amount_out == final.amount_out


def test_a_ladder_of_quotes_matches_one_quote_at_a_time() -> None:
    market = genesis_market(7, slot_ms=0)
    for pool in market.pools():
        for token_in in (pool.token_a, pool.token_b):
            reserve = pool.math.reserve_a if token_in == pool.token_a else pool.math.reserve_b
            amounts = [max(1, reserve // 10**k) for k in (7, 5, 3, 2)]
            ladder = market.quote_amounts(pool.address, token_in.mint, amounts)
            for amount, answer in zip(amounts, ladder, strict=True):
                try:
                    alone = market.quote(pool.address, token_in.mint, amount)
                except InsufficientLiquidityError:
                    alone = None
                assert answer == alone, (pool.venue, token_in.symbol, amount)

"""The node's market: drift by a market maker's real swaps, price moves, token launches."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from fractions import Fraction

import pytest
from solders.pubkey import Pubkey

from eterna.adapters.localchain.launches import Launch, LaunchError, launch_keypair
from eterna.adapters.localchain.maker import MAKER_MEMO, PriceMoveError
from eterna.adapters.localchain.market import UnknownPoolError
from eterna.adapters.localchain.node import LocalNode, NodeConfig
from eterna.adapters.localchain.pools import read_math
from eterna.adapters.localchain.programs import ProgramFile
from eterna.adapters.solana import cpswap
from eterna.adapters.solana.dlmm import decode_lb_pair
from eterna.adapters.solana.ids import mint_of
from eterna.adapters.solana.spl import decode_mint
from eterna.adapters.solana.whirlpool import decode_whirlpool
from eterna.domain.tokens import BONK, JUP, SOL, USDC, b58encode
from tests.chain.node_support import manual_node, pool_of, swap_tx


def _prices(node: LocalNode) -> dict[Pubkey, Fraction]:
    return {p.address: node.pool_math(p.address).spot_price(a_to_b=True) for p in node.pools()}


def test_drift_moves_prices_with_real_swaps_one_per_slot(
    program_files: list[ProgramFile],
) -> None:
    node = manual_node(program_files, drift=True)
    before, ledger = _prices(node), len(node.ledger)
    node.advance(5)
    maker_swaps = [e for e in node.transactions()[ledger:] if (e.memo or "").startswith(MAKER_MEMO)]
    assert 1 <= len(maker_swaps) <= 5
    assert all(e.ok for e in maker_swaps)
    after = _prices(node)
    moved = [a for a in before if after[a] != before[a]]
    assert moved
    assert all(abs(after[a] / before[a] - 1) < Fraction(1, 100) for a in moved)


def test_drift_is_the_same_for_the_same_seed(program_files: list[ProgramFile]) -> None:
    one, two = manual_node(program_files, drift=True), manual_node(program_files, drift=True)
    for node in (one, two):
        node.advance(3)
        node.advance(20)  # a long pause makes at most eight swaps
    assert _prices(one) == _prices(two)
    assert one.maker.swaps == two.maker.swaps <= 3 + 8


def test_no_drift_when_it_is_off(program_files: list[ProgramFile]) -> None:
    node = manual_node(program_files)
    before = _prices(node)
    node.advance(10)
    assert _prices(node) == before


@pytest.mark.parametrize("venue", ["raydium", "orca", "meteora"])
@pytest.mark.parametrize("a_to_b", [True, False])
def test_move_price_moves_a_pool_by_about_the_bps_asked(
    program_files: list[ProgramFile], venue: str, *, a_to_b: bool
) -> None:
    node = manual_node(program_files)
    pool = pool_of(node, venue, JUP, USDC)
    start = node.pool_math(pool.address).spot_price(a_to_b=True)
    price = node.move_price(pool.address, 150, a_to_b=a_to_b)
    assert price == node.pool_math(pool.address).spot_price(a_to_b=True)
    moved_bps = (price / start - 1) * 10_000
    # DLMM moves in bins of 20 bps; the others to within a unit of the input.
    expected = -150 if a_to_b else 150
    assert abs(moved_bps - expected) <= 20
    assert node.transactions()[-1].memo is not None


def test_move_price_refuses_impossible_moves(program_files: list[ProgramFile]) -> None:
    node = manual_node(program_files)
    pool = pool_of(node, "meteora", JUP, USDC)
    with pytest.raises(PriceMoveError):
        node.move_price(pool.address, 0, a_to_b=True)
    with pytest.raises(PriceMoveError):
        node.move_price(pool.address, 9_000, a_to_b=True)  # past the pair's 40 bins
    with pytest.raises(UnknownPoolError):
        node.move_price(Pubkey.new_unique(), 10, a_to_b=True)


@pytest.mark.parametrize("venue", ["raydium", "orca", "meteora"])
def test_a_launch_creates_a_mint_and_a_pool_the_decoders_read(
    program_files: list[ProgramFile], venue: str
) -> None:
    node = manual_node(program_files)
    feed = node.subscribe_pools()
    request = Launch(
        symbol="PUMP", decimals=6, quote="SOL", price=Fraction(1, 10_000), liquidity=Fraction(50)
    )
    pool, token = node.launch(replace(request, venue=venue))
    mint = mint_of(token)
    assert mint == launch_keypair(7, 1, "PUMP").pubkey()
    assert decode_mint(node.chain.account_data(mint)).decimals == 6
    assert node.tokens()[mint] == token
    data = node.chain.account_data(pool.address)
    if venue == "raydium":
        state = cpswap.decode_pool_state(data)
        assert {state.token_0_mint, state.token_1_mint} == {mint, mint_of(SOL)}
    elif venue == "orca":
        assert {decode_whirlpool(data).mint_a, decode_whirlpool(data).mint_b} == {
            mint,
            mint_of(SOL),
        }
    else:
        pair = decode_lb_pair(data)
        assert {pair.token_x_mint, pair.token_y_mint} == {mint, mint_of(SOL)}
    math = read_math(node.chain, pool)
    sol_per_token = math.spot_price(a_to_b=pool.mint_a == mint) * Fraction(10**6, 10**9)
    assert abs(sol_per_token / Fraction(1, 10_000) - 1) < Fraction(2, 1_000)
    sol_held = math.reserve_b if pool.mint_b == mint_of(SOL) else math.reserve_a
    assert 45 * 10**9 <= sol_held <= 55 * 10**9  # Whirlpool ranges split value unevenly
    assert {c.address for c in feed.pending()} >= set(pool.accounts)
    assert node.pool(pool.address) == pool


def test_a_launched_pool_trades_at_once(program_files: list[ProgramFile]) -> None:
    node = manual_node(program_files)
    pool, token = node.launch(
        Launch(
            symbol="SNIPE",
            decimals=9,
            quote="USDC",
            price=Fraction(1, 100),
            liquidity=Fraction(10_000),
        )
    )
    buy = swap_tx(node, pool, a_to_b=pool.mint_a == mint_of(USDC), amount=100 * 10**6)
    entry = node.transaction(node.send_transaction(buy))
    assert entry is not None
    assert entry.ok, entry.error
    assert token.mint in {b.mint.__str__() for b in entry.post_token_balances.values()}


def test_a_launch_at_a_chosen_mint_and_the_refusals(program_files: list[ProgramFile]) -> None:
    node = manual_node(program_files)
    chosen = b58encode(bytes(range(32)))
    pool, token = node.launch(
        Launch(
            symbol=None,
            decimals=5,
            quote="USDC",
            price=Fraction(1),
            liquidity=Fraction(1_000),
            venue="meteora",
            mint=chosen,
        )
    )
    assert token.mint == chosen
    base = Launch(symbol="X", decimals=6, quote="USDC", price=Fraction(1), liquidity=Fraction(10))
    refusals = [
        replace(base, mint=chosen, venue="meteora"),  # that pool exists
        replace(base, venue="phoenix"),
        replace(base, quote="NOPE"),
        replace(base, decimals=13),
        replace(base, price=Fraction(0)),
        replace(base, mint="not-a-mint"),
        replace(base, symbol="way-too-long-a-symbol"),
        replace(base, mint=BONK.mint, quote="BONK"),
        replace(base, mint=str(node.wallet.pubkey())),  # an account that is no mint
        replace(base, price=Fraction(1, 10**15), liquidity=Fraction(10**9)),  # past a u64
    ]
    for request in refusals:
        with pytest.raises(LaunchError):
            node.launch(request)
    assert pool in node.pools()


def test_random_launches_follow_chain_time_and_the_seed(program_files: list[ProgramFile]) -> None:
    one = manual_node(program_files, launch_every_seconds=10)
    two = manual_node(program_files, launch_every_seconds=10)
    for node in (one, two):
        node.advance(24)  # 9.6 s: none yet
        assert node.launcher.launches == 0
        node.advance(1)
        assert node.launcher.launches == 1
    assert [p.address for p in one.pools()] == [p.address for p in two.pools()]
    symbols = {t.symbol for t in one.tokens().values()}
    assert "NEW1" in symbols


@pytest.mark.anyio
async def test_drift_runs_on_its_own_when_slots_follow_the_wall_clock(
    program_files: list[ProgramFile],
) -> None:
    node = LocalNode(program_files, NodeConfig(slot_ms=20, drift=True))
    feed = node.subscribe_pools()
    node.start()
    try:
        change = await asyncio.wait_for(anext(feed), 2)
    finally:
        await node.stop()
    assert node.maker.swaps >= 1
    assert node.market.pool_of(change.address) is not None

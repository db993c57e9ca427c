"""The local chain's genesis: the model market's pairs and prices, made of real pools, and a
funded wallet."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest
from solders.keypair import Keypair

from eterna.adapters.localchain.genesis import (
    REFERENCE_USD,
    WalletFileError,
    build_genesis,
    genesis,
    genesis_terms,
    load_keypair,
    wallet_keypair,
)
from eterna.adapters.localchain.node import LocalNode, NodeConfig
from eterna.adapters.localchain.pools import read_math, swap_instruction
from eterna.adapters.localchain.programs import ProgramFile
from eterna.adapters.localchain.svm import LocalChain
from eterna.adapters.solana import cpswap
from eterna.adapters.solana.dlmm import decode_lb_pair
from eterna.adapters.solana.ids import mint_of
from eterna.adapters.solana.spl import associated_token_address
from eterna.adapters.solana.whirlpool import decode_whirlpool
from eterna.amm.base import PoolMath
from eterna.domain.tokens import SOL, WELL_KNOWN
from tests.chain.node_support import manual_node
from tests.support.genesis import genesis_pools

SEED = 7


def _restored(programs: list[ProgramFile], seed: int = SEED) -> LocalChain:
    opening = genesis(programs, seed)
    chain = LocalChain(programs, seed=opening.snapshot.seed)
    chain.restore(opening.snapshot)
    return chain


def _listing_view(math: PoolMath, *, inverted: bool) -> tuple[Fraction, int, int]:
    """Return (price of the listed A in B, reserve of A, reserve of B) of a chain pool."""
    spot = math.spot_price(a_to_b=True)
    if inverted:
        return 1 / spot, math.reserve_b, math.reserve_a
    return spot, math.reserve_a, math.reserve_b


def test_genesis_lists_the_model_market_pairs_on_the_same_venues(
    program_files: list[ProgramFile],
) -> None:
    opening = genesis(program_files, SEED)
    listed = {(p.venue, frozenset({p.token_a.mint, p.token_b.mint})) for p in opening.pools}
    model = {(p.venue, frozenset({p.token_a.mint, p.token_b.mint})) for p in genesis_pools(SEED)}
    assert listed == model
    assert len(listed) == len(opening.pools) == 23


def test_every_pool_is_a_real_program_account_with_ordered_mints(
    program_files: list[ProgramFile],
) -> None:
    chain = _restored(program_files)
    for pool in genesis(program_files, SEED).pools:
        account = chain.account(pool.address)
        assert account is not None
        assert account.owner == pool.program
        assert bytes(pool.mint_a) < bytes(pool.mint_b)
        data = account.data
        if pool.venue == "raydium":
            state = cpswap.decode_pool_state(data)
            mints = (state.token_0_mint, state.token_1_mint)
        elif pool.venue == "orca":
            whirlpool = decode_whirlpool(data)
            mints = (whirlpool.mint_a, whirlpool.mint_b)
        else:
            pair = decode_lb_pair(data)
            mints = (pair.token_x_mint, pair.token_y_mint)
        assert mints == (pool.mint_a, pool.mint_b)


def test_opening_prices_are_the_model_market_prices_and_depths_are_within_two_percent(
    program_files: list[ProgramFile],
) -> None:
    chain = _restored(program_files)
    model = {(p.venue, p.token_a, p.token_b): p for p in genesis_pools(SEED)}
    opening = genesis(program_files, SEED)
    for pool, terms in zip(opening.pools, genesis_terms(SEED), strict=True):
        inverted = pool.token_a != terms.token_a
        price, reserve_a, reserve_b = _listing_view(read_math(chain, pool), inverted=inverted)
        twin = model[(terms.venue, terms.token_a, terms.token_b)].math
        where = f"{terms.venue} {terms.token_a.label}/{terms.token_b.label}"
        assert abs(price / twin.spot_price(a_to_b=True) - 1) < Fraction(1, 10**6), where
        b = terms.token_b
        value_usd = (reserve_a * price + reserve_b) / 10**b.decimals * REFERENCE_USD[b]
        assert abs(value_usd / terms.depth_usd - 1) < Fraction(2, 100), where


def test_genesis_is_the_same_for_a_seed_and_differs_between_seeds(
    program_files: list[ProgramFile],
) -> None:
    cached, rebuilt = genesis(program_files, SEED), build_genesis(program_files, SEED)
    assert [p.address for p in cached.pools] == [p.address for p in rebuilt.pools]
    assert dict(cached.snapshot.accounts) == dict(rebuilt.snapshot.accounts)
    other = genesis_terms(SEED + 1)
    assert [t.price for t in other] != [t.price for t in genesis_terms(SEED)]


def test_a_restored_chain_trades_like_the_one_genesis_built(
    program_files: list[ProgramFile],
) -> None:
    one, two = _restored(program_files), _restored(program_files)
    pool = genesis(program_files, SEED).pools[0]
    for chain in (one, two):
        chain.advance(seconds=60, slots=1)
    results = []
    for chain in (one, two):
        trader = chain.new_wallet()
        chain.fund(trader.pubkey(), pool.mint_a, 10**9)
        chain.create_token_account(trader.pubkey(), pool.mint_b)
        ix = swap_instruction(chain, pool, trader.pubkey(), a_to_b=True, amount_in=10**9)
        result = chain.send([ix], payer=trader).check()
        out = associated_token_address(trader.pubkey(), pool.mint_b)
        results.append(result.token_change(out))
    assert results[0] == results[1] > 0


def test_the_wallet_is_funded_with_sol_and_every_token(program_files: list[ProgramFile]) -> None:
    node = manual_node(program_files)
    owner = node.wallet.pubkey()
    assert node.chain.lamports(owner) >= 1_000_000 * 10**9
    for token in WELL_KNOWN:
        if token == SOL:
            continue
        account = associated_token_address(owner, mint_of(token))
        held = node.chain.token_balance(account)
        assert held / 10**token.decimals * REFERENCE_USD[token] >= 10**8 - 1, token.label


def test_a_wallet_keypair_file_is_read_as_the_solana_cli_writes_it(tmp_path: Path) -> None:
    keypair = Keypair()
    path = tmp_path / "wallet.json"
    path.write_text(json.dumps(list(bytes(keypair))), encoding="utf-8")
    path.chmod(0o600)
    assert load_keypair(path).pubkey() == keypair.pubkey()
    for bad in ("[1, 2, 3]", "not json", json.dumps([0] * 64), json.dumps([256] * 64)):
        path.write_text(bad, encoding="utf-8")
        with pytest.raises(WalletFileError):
            load_keypair(path)
    with pytest.raises(WalletFileError):
        load_keypair(tmp_path / "missing.json")


def test_a_node_runs_with_the_wallet_it_is_given(program_files: list[ProgramFile]) -> None:
    given = Keypair()
    node = LocalNode(program_files, NodeConfig(slot_ms=0, drift=False), wallet=given)
    assert node.wallet == given
    assert node.chain.lamports(given.pubkey()) >= 1_000_000 * 10**9
    assert node.chain.lamports(wallet_keypair(SEED).pubkey()) == 0

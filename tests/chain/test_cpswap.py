"""Raydium CP-Swap on the local chain: layouts the binary wrote, PDAs, swap and its refusals."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from eterna.adapters.localchain.cpswap_pools import (
    CpswapPool,
    create_pool,
    put_amm_config,
    read_pool,
)
from eterna.adapters.localchain.svm import LocalChain
from eterna.adapters.solana import cpswap
from eterna.adapters.solana.anchor import AccountLayoutError
from eterna.adapters.solana.ids import TOKEN_PROGRAM
from eterna.amm.base import InsufficientLiquidityError

RAYDIUM_CONFIG_0 = {"trade_fee_rate": 2_500, "protocol_fee_rate": 120_000, "fund_fee_rate": 40_000}


@pytest.fixture
def pool(chain: LocalChain) -> CpswapPool:
    config = put_amm_config(
        chain,
        0,
        trade_fee_rate=RAYDIUM_CONFIG_0["trade_fee_rate"],
        protocol_fee_rate=RAYDIUM_CONFIG_0["protocol_fee_rate"],
        fund_fee_rate=RAYDIUM_CONFIG_0["fund_fee_rate"],
    )
    usd, sol = chain.create_mint(6), chain.create_mint(9)
    return create_pool(chain, config, (usd, 150_000 * 10**6), (sol, 1_000 * 10**9))


def _swap(
    chain: LocalChain, pool: CpswapPool, amount: int, *, zero_for_one: bool, minimum: int = 0
) -> tuple[Keypair, Pubkey, Pubkey, cpswap.PoolState]:
    trader = chain.new_wallet()
    mint_in, mint_out = (pool.mint_0, pool.mint_1) if zero_for_one else (pool.mint_1, pool.mint_0)
    source = chain.fund(trader.pubkey(), mint_in, amount)
    target = chain.create_token_account(trader.pubkey(), mint_out)
    return trader, source, target, read_pool(chain, pool.address).state


def test_pool_state_written_by_initialize_decodes_to_what_was_asked(
    chain: LocalChain, pool: CpswapPool
) -> None:
    snapshot = read_pool(chain, pool.address)
    state = snapshot.state
    assert (state.token_0_mint, state.token_1_mint) == (pool.mint_0, pool.mint_1)
    assert (state.token_0_vault, state.token_1_vault) == (pool.vault_0, pool.vault_1)
    assert state.amm_config == pool.config
    assert state.lp_mint == cpswap.lp_mint_address(pool.address)
    assert state.observation_key == cpswap.observation_address(pool.address)
    assert state.token_0_program == state.token_1_program == TOKEN_PROGRAM
    decimals = (chain.mint(pool.mint_0).decimals, chain.mint(pool.mint_1).decimals)
    assert (state.mint_0_decimals, state.mint_1_decimals) == decimals
    assert state.lp_mint_decimals == 9
    assert state.open_time == chain.unix_time + 1
    assert state.swap_enabled
    deposits = {6: 150_000 * 10**6, 9: 1_000 * 10**9}
    vaults = (snapshot.vault_0_amount, snapshot.vault_1_amount)
    assert vaults == (deposits[decimals[0]], deposits[decimals[1]])
    # The program mints isqrt(x * y) LP units and records them as the supply.
    assert state.lp_supply == math.isqrt(150_000 * 10**6 * 1_000 * 10**9)
    assert (state.protocol_fees_token_0, state.fund_fees_token_1) == (0, 0)


def test_amm_config_round_trips_and_is_read_back_from_the_chain(
    chain: LocalChain, pool: CpswapPool
) -> None:
    config = read_pool(chain, pool.address).config
    assert (config.trade_fee_rate, config.protocol_fee_rate, config.fund_fee_rate) == (
        2_500,
        120_000,
        40_000,
    )
    assert pool.config == cpswap.amm_config_address(config.index)
    assert cpswap.decode_amm_config(cpswap.encode_amm_config(config)) == config
    assert len(cpswap.encode_amm_config(config)) == cpswap.AMM_CONFIG_LEN


def test_decoders_refuse_the_other_account_kind(chain: LocalChain, pool: CpswapPool) -> None:
    with pytest.raises(AccountLayoutError, match="not a AmmConfig"):
        cpswap.decode_amm_config(chain.account_data(pool.address))
    with pytest.raises(AccountLayoutError, match="not a PoolState"):
        cpswap.decode_pool_state(chain.account_data(pool.config))


def test_a_swap_pays_the_quote_and_keeps_owed_fees_out_of_the_reserves(
    chain: LocalChain, pool: CpswapPool
) -> None:
    chain.advance(seconds=1, slots=1)
    before = read_pool(chain, pool.address)
    trader, source, target, state = _swap(chain, pool, 2 * 10**9, zero_for_one=False)
    quote, expected = before.math.swap(2 * 10**9, a_to_b=False)
    ix = cpswap.swap_base_input(
        pool.address,
        state,
        payer=trader.pubkey(),
        zero_for_one=False,
        input_account=source,
        output_account=target,
        amount_in=2 * 10**9,
        minimum_amount_out=quote.amount_out,
    )
    result = chain.send([ix], payer=trader).check()
    assert result.token_change(target) == quote.amount_out
    assert result.token_change(source) == -(2 * 10**9)
    after = read_pool(chain, pool.address)
    assert after.math == expected
    assert after.state.protocol_fees_token_1 == quote.fee * 120_000 // 1_000_000
    assert after.state.fund_fees_token_1 == quote.fee * 40_000 // 1_000_000
    # The vault holds the whole input; the owed fees sit in it outside the reserve.
    assert after.vault_1_amount == before.vault_1_amount + 2 * 10**9


def test_a_swap_below_its_minimum_fails_with_the_slippage_code_and_moves_nothing(
    chain: LocalChain, pool: CpswapPool
) -> None:
    chain.advance(seconds=1, slots=1)
    trader, source, target, state = _swap(chain, pool, 10**6, zero_for_one=True)
    quote, _ = read_pool(chain, pool.address).math.swap(10**6, a_to_b=True)
    ix = cpswap.swap_base_input(
        pool.address,
        state,
        payer=trader.pubkey(),
        zero_for_one=True,
        input_account=source,
        output_account=target,
        amount_in=10**6,
        minimum_amount_out=quote.amount_out + 1,
    )
    result = chain.send([ix], payer=trader)
    assert result.error is not None
    assert result.error.custom_code == cpswap.ErrorCode.EXCEEDED_SLIPPAGE
    assert (chain.token_balance(source), chain.token_balance(target)) == (10**6, 0)


def test_a_swap_before_the_open_time_or_with_swaps_disabled_is_not_approved(
    chain: LocalChain, pool: CpswapPool
) -> None:
    trader, source, target, state = _swap(chain, pool, 10**6, zero_for_one=True)
    ix = cpswap.swap_base_input(
        pool.address,
        state,
        payer=trader.pubkey(),
        zero_for_one=True,
        input_account=source,
        output_account=target,
        amount_in=10**6,
        minimum_amount_out=0,
    )
    early = chain.send([ix], payer=trader)
    assert early.error is not None
    assert early.error.custom_code == cpswap.ErrorCode.NOT_APPROVED
    chain.advance(seconds=1, slots=1)
    data = bytearray(chain.account_data(pool.address))
    data[329] = cpswap.SWAP_DISABLED_BIT  # PoolState.status, as update_pool_status writes it
    chain.put_account(pool.address, bytes(data), cpswap.PROGRAM)
    assert not read_pool(chain, pool.address).state.swap_enabled
    disabled = chain.send([ix], payer=trader)
    assert disabled.error is not None
    assert disabled.error.custom_code == cpswap.ErrorCode.NOT_APPROVED


def test_a_swap_that_pays_nothing_is_refused_by_both(chain: LocalChain, pool: CpswapPool) -> None:
    chain.advance(seconds=1, slots=1)
    # One unit of the cheaper token buys nothing of the dearer one.
    snapshot = read_pool(chain, pool.address)
    zero_for_one = snapshot.math.spot_price(a_to_b=True) < 1
    with pytest.raises(InsufficientLiquidityError):
        snapshot.math.swap(1, a_to_b=zero_for_one)
    trader, source, target, state = _swap(chain, pool, 1, zero_for_one=zero_for_one)
    ix = cpswap.swap_base_input(
        pool.address,
        state,
        payer=trader.pubkey(),
        zero_for_one=zero_for_one,
        input_account=source,
        output_account=target,
        amount_in=1,
        minimum_amount_out=0,
    )
    result = chain.send([ix], payer=trader)
    assert result.error is not None
    assert result.error.custom_code == 2505  # Anchor's RequireGtViolated: nothing received


def test_amm_config_refuses_rates_the_program_would_refuse(chain: LocalChain) -> None:
    with pytest.raises(ValueError, match="below 1,000,000"):
        put_amm_config(chain, 1, trade_fee_rate=1_000_000)
    with pytest.raises(ValueError, match="exceed the whole fee"):
        put_amm_config(chain, 1, trade_fee_rate=1, protocol_fee_rate=600_000, fund_fee_rate=400_001)


def test_pool_math_nets_the_owed_fees_out_of_the_vaults(
    chain: LocalChain, pool: CpswapPool
) -> None:
    snapshot = read_pool(chain, pool.address)
    owing = replace(snapshot.state, protocol_fees_token_0=7, fund_fees_token_0=3)
    math = cpswap.pool_math(owing, snapshot.config, 1_000, 2_000)
    assert (math.reserve_a, math.reserve_b) == (990, 2_000)
    assert (math.trade_fee_rate, math.protocol_fee_rate, math.fund_fee_rate) == (
        2_500,
        120_000,
        40_000,
    )

"""Orca Whirlpool on the local chain: layouts the binary wrote, PDAs, swap_v2 and refusals."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import pytest
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from eterna.adapters.localchain.results import TransactionFailedError, TxResult
from eterna.adapters.localchain.svm import LocalChain
from eterna.adapters.localchain.whirlpool_pools import (
    ChainWhirlpool,
    WhirlpoolSpec,
    create_whirlpool,
    read_whirlpool,
    spec_from_price,
)
from eterna.adapters.solana.anchor import AccountLayoutError
from eterna.adapters.solana.whirlpool import (
    SwapV2,
    WhirlpoolProgramError,
    WhirlpoolSwapError,
    decode_tick_array,
    decode_whirlpool,
    swap_tick_arrays,
    swap_v2,
    tick_array_address,
    whirlpool_address,
)
from eterna.adapters.solana.whirlpool_math import (
    PoolNotFoundError,
    TickArraysError,
    load_pool,
    pool_math,
    quote_array_starts,
)
from eterna.adapters.solana.whirlpool_setup import decode_position
from eterna.amm.clmm_math import (
    MIN_TICK_INDEX,
    Q64,
    sqrt_price_from_tick_index,
    tick_index_from_sqrt_price,
)
from eterna.amm.whirlpool import WhirlpoolPool
from eterna.amm.whirlpool_positions import Position, position_amounts
from eterna.amm.whirlpool_reach import tick_array_start

PRICE = Fraction(3, 20)  # 150 USDC (6 decimals) per SOL (9 decimals), in raw units
LIQUIDITY = 10**13


def _mints(chain: LocalChain) -> tuple[Pubkey, Pubkey]:
    first, second = sorted((chain.create_mint(9), chain.create_mint(6)), key=bytes)
    return first, second


def _trader(chain: LocalChain, pool: ChainWhirlpool) -> tuple[Keypair, Pubkey, Pubkey]:
    trader = chain.new_wallet()
    account_a = chain.fund(trader.pubkey(), pool.mint_a, 10**15)
    account_b = chain.fund(trader.pubkey(), pool.mint_b, 10**15)
    return trader, account_a, account_b


def _send(chain: LocalChain, trader: Keypair, pool: ChainWhirlpool, order: SwapV2) -> TxResult:
    state = read_whirlpool(chain, pool.address)[0]
    return chain.send([swap_v2(pool.address, state, order)], [trader], payer=trader)


@pytest.fixture
def pool(chain: LocalChain) -> ChainWhirlpool:
    spec = spec_from_price(_mints(chain), PRICE, LIQUIDITY, fee_rate=3_000, protocol_fee_rate=1_300)
    return create_whirlpool(chain, spec)


def test_the_pool_the_program_wrote_decodes_to_what_it_was_asked(
    chain: LocalChain, pool: ChainWhirlpool
) -> None:
    spec = spec_from_price((pool.mint_a, pool.mint_b), PRICE, LIQUIDITY)
    state = decode_whirlpool(chain.account_data(pool.address))
    assert pool.address == whirlpool_address(pool.config, pool.mint_a, pool.mint_b, 64)
    assert (state.whirlpools_config, state.mint_a, state.mint_b) == (
        pool.config,
        pool.mint_a,
        pool.mint_b,
    )
    assert (state.vault_a, state.vault_b) == (pool.vault_a, pool.vault_b)
    assert (state.tick_spacing, state.fee_rate, state.protocol_fee_rate) == (64, 3_000, 1_300)
    assert state.sqrt_price_x64 == spec.sqrt_price_x64
    assert state.tick_current == tick_index_from_sqrt_price(spec.sqrt_price_x64)
    active = [p for p in spec.positions if p.lower <= state.tick_current < p.upper]
    assert state.liquidity == sum(p.liquidity for p in active) > 0
    assert state.reward_last_updated_timestamp == chain.unix_time
    assert (state.protocol_fee_owed_a, state.fee_growth_global_b) == (0, 0)
    needs = [position_amounts(spec.sqrt_price_x64, state.tick_current, p) for p in spec.positions]
    assert chain.token_balance(pool.vault_a) == sum(a for a, _ in needs)
    assert chain.token_balance(pool.vault_b) == sum(b for _, b in needs)
    # Read back, it is the pool our math builds from the same price and ranges.
    modelled = WhirlpoolPool.from_price(PRICE, liquidity=LIQUIDITY)
    assert read_whirlpool(chain, pool.address)[1] == modelled


def test_tick_arrays_and_positions_hold_each_positions_liquidity(chain: LocalChain) -> None:
    positions = (Position(-128, 256, 5_000_000), Position(0, 256, 7_000_000))
    pool = create_whirlpool(chain, WhirlpoolSpec(_mints(chain), 64, 500, 0, Q64, positions))
    array = decode_tick_array(chain.account_data(tick_array_address(pool.address, 0)), 64)
    assert (array.start_tick_index, array.whirlpool) == (0, pool.address)
    ticks = {t.index: (t.liquidity_net, t.liquidity_gross) for t in array.ticks}
    assert ticks == {0: (7_000_000, 7_000_000), 256: (-12_000_000, 12_000_000)}
    below = decode_tick_array(chain.account_data(tick_array_address(pool.address, -5_632)), 64)
    assert [(t.index, t.liquidity_net) for t in below.ticks] == [(-128, 5_000_000)]
    opened = [decode_position(chain.account_data(p)) for p in pool.positions]
    assert [(p.tick_lower, p.tick_upper, p.liquidity) for p in opened] == list(positions)
    assert {p.whirlpool for p in opened} == {pool.address}


def test_a_swap_pays_what_our_math_quotes_from_the_accounts(
    chain: LocalChain, pool: ChainWhirlpool
) -> None:
    trader, account_a, account_b = _trader(chain, pool)
    quote, after = read_whirlpool(chain, pool.address)[1].swap(10**9, a_to_b=True)
    order = SwapV2(trader.pubkey(), account_a, account_b, 10**9, quote.amount_out, a_to_b=True)
    result = _send(chain, trader, pool, order).check()
    moved = (result.token_change(account_a), result.token_change(account_b))
    assert moved == (-(10**9), quote.amount_out)
    assert read_whirlpool(chain, pool.address)[1] == after
    # Asking one unit more than the program pays is refused on chain, and nothing moves.
    next_quote = after.swap(10**9, a_to_b=True)[0]
    greedy = replace(order, other_amount_threshold=next_quote.amount_out + 1)
    refused = _send(chain, trader, pool, greedy)
    assert refused.error is not None
    assert refused.error.custom_code == WhirlpoolProgramError.AMOUNT_OUT_BELOW_MINIMUM
    assert refused.token_change(account_a) == 0


def test_supplemental_arrays_let_a_swap_land_after_the_price_left_its_array(
    chain: LocalChain,
) -> None:
    # Spacing 1: an array spans 88 ticks, so a modest swap moves the price to another one.
    wide = (Position(-2_000, 2_000, LIQUIDITY),)
    pool = create_whirlpool(chain, WhirlpoolSpec(_mints(chain), 1, 3_000, 0, Q64, wide))
    trader, account_a, account_b = _trader(chain, pool)
    stale = read_whirlpool(chain, pool.address)[0]
    down = SwapV2(trader.pubkey(), account_a, account_b, 10**6, 0, a_to_b=True)
    helped = replace(down, supplemental_tick_arrays=[tick_array_address(pool.address, 88)])
    up = SwapV2(trader.pubkey(), account_a, account_b, 6 * 10**10, 0, a_to_b=False)
    _send(chain, trader, pool, up).check()
    moved, math = read_whirlpool(chain, pool.address)
    assert 88 <= moved.tick_current < 176  # the array above the one the stale swap starts in
    lost = chain.send([swap_v2(pool.address, stale, down)], [trader], payer=trader)
    assert lost.error is not None
    assert lost.error.custom_code == WhirlpoolProgramError.INVALID_TICK_ARRAY_SEQUENCE
    landed = chain.send([swap_v2(pool.address, stale, helped)], [trader], payer=trader).check()
    assert landed.token_change(account_b) == math.swap(10**6, a_to_b=True)[0].amount_out


def test_near_the_minimum_tick_the_swap_passes_the_arrays_that_exist(chain: LocalChain) -> None:
    bottom = -(-MIN_TICK_INDEX // 64) * 64
    positions = (Position(bottom, bottom + 640, 10**6),)
    sqrt_price = sqrt_price_from_tick_index(-443_000)
    spec = WhirlpoolSpec(_mints(chain), 64, 3_000, 0, sqrt_price, positions)
    pool = create_whirlpool(chain, spec)
    state, math = read_whirlpool(chain, pool.address)
    assert state.tick_current == -443_000
    arrays = swap_tick_arrays(pool.address, state, a_to_b=True)
    assert len(set(arrays)) == 1  # only the array holding the minimum tick exists
    trader, account_a, account_b = _trader(chain, pool)
    result, _ = math.program_swap(10**15, a_to_b=True)
    order = SwapV2(trader.pubkey(), account_a, account_b, 10**15, 0, a_to_b=True)
    landed = _send(chain, trader, pool, order).check()
    # Below the position the price runs free to the minimum, where the program stops and
    # takes only part of the input (for nothing: B is worth too much there to pay a unit).
    assert 0 < result.amount_in < 10**15
    moved = (-landed.token_change(account_a), landed.token_change(account_b))
    assert moved == (result.amount_in, result.amount_out)


def test_bad_swap_requests_raise_before_anything_is_sent(
    chain: LocalChain, pool: ChainWhirlpool
) -> None:
    state = read_whirlpool(chain, pool.address)[0]
    key = Keypair().pubkey()
    for amount in (0, 1 << 64):
        with pytest.raises(WhirlpoolSwapError, match="u64"):
            swap_v2(pool.address, state, SwapV2(key, key, key, amount, 0, a_to_b=True))
    too_many = SwapV2(key, key, key, 1, 0, a_to_b=True, supplemental_tick_arrays=[key] * 4)
    with pytest.raises(WhirlpoolSwapError, match="three"):
        swap_v2(pool.address, state, too_many)


def test_quoting_needs_every_array_a_swap_reads_and_only_the_pools_own(
    chain: LocalChain, pool: ChainWhirlpool
) -> None:
    state = read_whirlpool(chain, pool.address)[0]
    starts = quote_array_starts(state)
    arrays = dict.fromkeys(starts)
    with pytest.raises(TickArraysError, match="was not read"):
        pool_math(pool.address, state, dict(list(arrays.items())[1:]), balance_a=0, balance_b=0)
    other = create_whirlpool(chain, spec_from_price(_mints(chain), PRICE, LIQUIDITY))
    start = tick_array_start(state.tick_current, 64)
    foreign = decode_tick_array(chain.account_data(tick_array_address(other.address, start)), 64)
    with pytest.raises(TickArraysError, match="not that pool's"):
        pool_math(pool.address, state, {**arrays, start: foreign}, balance_a=0, balance_b=0)
    with pytest.raises(PoolNotFoundError):
        load_pool(lambda keys: [None] * len(keys), pool.address)
    with pytest.raises(AccountLayoutError):
        decode_whirlpool(chain.account_data(pool.vault_a))


def test_the_program_refuses_a_fee_rate_above_its_maximum(chain: LocalChain) -> None:
    spec = spec_from_price(_mints(chain), PRICE, LIQUIDITY, fee_rate=60_001)
    with pytest.raises(TransactionFailedError, match="FeeRateMaxExceeded"):
        create_whirlpool(chain, spec)

"""Meteora DLMM on the local chain: layouts the binary wrote, PDAs, swap2, and its edges."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import pytest
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from eterna.adapters.localchain.dlmm_pools import Deposit, DlmmFees, DlmmPools
from eterna.adapters.localchain.fidelity.dlmm import CANNOT_FILL, read_state
from eterna.adapters.localchain.results import TxResult
from eterna.adapters.localchain.svm import LocalChain
from eterna.adapters.solana import dlmm, dlmm_swap
from eterna.adapters.solana.anchor import AccountLayoutError
from eterna.adapters.solana.ids import TOKEN_PROGRAM
from eterna.amm.base import InsufficientLiquidityError
from eterna.amm.dlmm import DlmmPool, bin_price

FEES = DlmmFees(
    bin_step=25,
    base_factor=10_000,
    filter_period=30,
    decay_period=600,
    reduction_factor=5_000,
    variable_fee_control=40_000,
    max_volatility_accumulator=350_000,
    protocol_share=500,
)
# Flat fees (0.25 %, no variable part): amounts in the edge tests are worked by hand.
FLAT = DlmmFees(bin_step=25, base_factor=10_000, variable_fee_control=0, protocol_share=2_000)


@dataclass(frozen=True, slots=True)
class Pair:
    """A pair on the chain, its liquidity provider, and a trader holding both tokens."""

    pools: DlmmPools
    address: Pubkey
    trader: Keypair
    x: Pubkey
    y: Pubkey


def _pair(chain: LocalChain, fees: DlmmFees, active_id: int, *deposits: Deposit) -> Pair:
    pools = DlmmPools(chain)
    mint_x, mint_y = sorted((chain.create_mint(6), chain.create_mint(9)), key=bytes)
    address = pools.create_pair(mint_x, mint_y, fees, active_id=active_id)
    provider = chain.new_wallet()
    chain.fund(provider.pubkey(), mint_x, 2**62)
    chain.fund(provider.pubkey(), mint_y, 2**62)
    for deposit in deposits:
        pools.deposit(address, provider, deposit)
    trader = chain.new_wallet()
    x, y = chain.fund(trader.pubkey(), mint_x, 2**62), chain.fund(trader.pubkey(), mint_y, 2**62)
    return Pair(pools, address, trader, x, y)


def _swap(
    pair: Pair, amount: int, *, swap_for_y: bool, arrays: list[int] | None = None
) -> tuple[DlmmPool, TxResult]:
    """Read the pair, send swap2 (minimum out 0); return the state before and the result."""
    state = pair.pools.pair(pair.address)
    extension = pair.pools.extension(pair.address)
    bitmap = (
        dlmm.decode_bitmap_extension(pair.pools.chain.account_data(extension))
        if extension
        else None
    )
    before = read_state(pair.pools, pair.address)
    user_in, user_out = (pair.x, pair.y) if swap_for_y else (pair.y, pair.x)
    if arrays is None:
        arrays = dlmm_swap.bin_arrays_for_swap(
            state, swap_for_y=swap_for_y, count=8, extension=bitmap
        )
    instruction = dlmm_swap.swap2(
        pair.address,
        state,
        user=pair.trader.pubkey(),
        user_token_in=user_in,
        user_token_out=user_out,
        amount_in=amount,
        min_amount_out=0,
        bin_arrays=arrays,
        bitmap_extension=extension,
    )
    result = pair.pools.chain.send(
        [instruction], [pair.trader], payer=pair.trader, compute_unit_limit=1_400_000
    )
    return before, result


@pytest.fixture
def pair(chain: LocalChain) -> Pair:
    """Three positions over bin arrays -3, 0 and 1 around bin 69 (the last of array 0)."""
    return _pair(
        chain,
        FEES,
        69,
        Deposit(0, tuple(range(1, 71)), 10**12, 10**12),
        Deposit(70, (5,) * 40, 10**12, 10**12),
        Deposit(-150, (10,) * 10, 10**12, 10**12),
    )


def test_lb_pair_written_by_the_program_decodes_to_its_preset_and_addresses(
    chain: LocalChain, pair: Pair
) -> None:
    state = pair.pools.pair(pair.address)
    for name in ("base_factor", "filter_period", "decay_period", "reduction_factor"):
        assert getattr(state, name) == getattr(FEES, name)
    assert state.variable_fee_control == FEES.variable_fee_control
    assert state.max_volatility_accumulator == FEES.max_volatility_accumulator
    assert state.protocol_share == FEES.protocol_share
    assert state.base_fee_power_factor == FEES.base_fee_power_factor
    assert state.collect_fee_mode == dlmm.COLLECT_FEE_INPUT_ONLY
    assert (state.bin_step, state.active_id, state.index_reference) == (25, 69, 69)
    assert (state.min_bin_id, state.max_bin_id) == (-(351_639 // 25), 351_639 // 25)
    assert state.status == dlmm.STATUS_ENABLED
    assert state.reserve_x == dlmm.reserve_address(pair.address, state.token_x_mint)
    assert state.reserve_y == dlmm.reserve_address(pair.address, state.token_y_mint)
    assert state.oracle == dlmm.oracle_address(pair.address)
    assert state.token_x_program == state.token_y_program == TOKEN_PROGRAM
    assert chain.token_account(pair.x).mint == state.token_x_mint
    assert (state.protocol_fee_x, state.protocol_fee_y) == (0, 0)


def test_bin_arrays_hold_the_program_prices_and_the_deposits(chain: LocalChain, pair: Pair) -> None:
    state = pair.pools.pair(pair.address)
    assert dlmm_swap.liquid_bin_arrays(state) == [-3, 0, 1]
    arrays = [
        dlmm.decode_bin_array(chain.account_data(dlmm.bin_array_address(pair.address, i)))
        for i in (-3, 0, 1)
    ]
    assert [a.index for a in arrays] == [-3, 0, 1]
    assert all(a.lb_pair == pair.address for a in arrays)
    bins = dlmm_swap.bins_of(arrays)
    assert all(b.price == bin_price(25, bin_id) for bin_id, b in bins)
    holding = {bin_id for bin_id, b in bins if b.amount_x or b.amount_y}
    assert holding == {*range(-150, -140), *range(110)}
    assert all(b.liquidity_supply > 0 for bin_id, b in bins if bin_id in holding)
    # Below the active bin only Y, above only X, the active bin both.
    assert all(b.amount_x == 0 for bin_id, b in bins if bin_id < 69)
    assert all(b.amount_y == 0 for bin_id, b in bins if bin_id > 69)
    total_x = sum(b.amount_x for _, b in bins)
    total_y = sum(b.amount_y for _, b in bins)
    assert (chain.token_balance(state.reserve_x), chain.token_balance(state.reserve_y)) == (
        total_x,
        total_y,
    )


def test_swap_walks_the_bin_arrays_in_swap_order_across_empty_ones(pair: Pair) -> None:
    state = pair.pools.pair(pair.address)
    assert dlmm_swap.bin_arrays_for_swap(state, swap_for_y=True, count=8) == [0, -3]
    assert dlmm_swap.bin_arrays_for_swap(state, swap_for_y=False, count=8) == [0, 1]
    assert dlmm_swap.bin_arrays_for_swap(state, swap_for_y=True, count=1) == [0]
    # Past bins 69..0 of array 0: the swap jumps the empty arrays -1 and -2 to reach -3,
    # whose highest bin (-141) it empties too.
    before = read_state(pair.pools, pair.address)
    amount = before.emptying_inputs(a_to_b=True)[70][1]
    quote, after = before.swap(amount, a_to_b=True)
    _, result = _swap(pair, amount, swap_for_y=True)
    assert result.ok, result.error
    assert result.token_change(pair.y) == quote.amount_out
    assert after.active_id == pair.pools.pair(pair.address).active_id == -141


def test_swap_without_a_bin_array_it_reaches_fails_on_chain(pair: Pair) -> None:
    before = read_state(pair.pools, pair.address)
    amount = before.emptying_inputs(a_to_b=True)[75][1]
    _, missing = _swap(pair, amount, swap_for_y=True, arrays=[0])
    assert not missing.ok
    _, reversed_order = _swap(pair, amount, swap_for_y=True, arrays=[-3, 0])
    assert not reversed_order.ok
    assert pair.pools.pair(pair.address).active_id == 69


@pytest.mark.parametrize("swap_for_y", [True, False])
def test_swap2_pays_the_quote_from_accounts_and_leaves_the_predicted_state(
    pair: Pair, swap_for_y: bool
) -> None:
    for amount in (10**6, 3 * 10**10, 7):
        before, result = _swap(pair, amount, swap_for_y=swap_for_y)
        now = pair.pools.chain.unix_time
        quote, expected = before.swap(amount, a_to_b=swap_for_y, now=now)
        assert result.ok, result.error
        paid_in = pair.x if swap_for_y else pair.y
        got_out = pair.y if swap_for_y else pair.x
        assert result.token_change(paid_in) == -amount
        assert result.token_change(got_out) == quote.amount_out
        assert read_state(pair.pools, pair.address) == expected
        pair.pools.chain.advance(seconds=7, slots=1)


def test_net_input_equal_to_max_in_empties_the_bin_and_the_swap_stays_there(
    chain: LocalChain,
) -> None:
    # Bin 0 (price 1) holds 399 Y: 401 pays ceil(401 * 0.25 %) = 2 and its 399 net empty
    # the bin exactly, so the program keeps all 401 there (the old rule moved 1 unit on).
    pair = _pair(chain, FLAT, 0, Deposit(0, (1,), 1_000, 399), Deposit(-1, (1,), 1, 4_000))
    before, result = _swap(pair, 401, swap_for_y=True)
    assert [(b, x, y) for b, x, y in before.bins if b == 0] == [(0, 399, 399)]
    assert result.ok, result.error
    assert (result.token_change(pair.x), result.token_change(pair.y)) == (-401, 399)
    after = read_state(pair.pools, pair.address)
    assert after.active_id == 0
    assert after.bins == ((-1, 0, 4_000), (0, 399 + 399, 0))
    assert after.fees_a == 2


def test_a_unit_left_for_the_next_bin_is_booked_to_the_protocol(chain: LocalChain) -> None:
    pair = _pair(chain, FLAT, 0, Deposit(0, (1,), 1_000, 1_000), Deposit(-1, (1,), 1, 4_000))
    # Bin 0 takes 1_000 + 3 for its 1_000 Y; the last unit reaches bin -1, all fee.
    _, result = _swap(pair, 1_004, swap_for_y=True)
    assert result.ok, result.error
    state = pair.pools.pair(pair.address)
    assert state.active_id == -1
    assert state.protocol_fee_x == 1  # floor(3 * 20 %) = 0 from bin 0, and the unit


def test_the_program_stamps_the_time_only_when_the_active_bin_moves(pair: Pair) -> None:
    chain = pair.pools.chain
    chain.advance(seconds=100, slots=1)
    _swap(pair, 10**6, swap_for_y=True)
    state = pair.pools.pair(pair.address)
    assert (state.active_id, state.last_update_timestamp) == (69, 0)
    assert state.index_reference == 69
    chain.advance(seconds=5, slots=1)
    _, result = _swap(pair, 10**11, swap_for_y=True)
    assert result.ok, result.error
    moved = pair.pools.pair(pair.address)
    assert moved.active_id < 69
    assert moved.last_update_timestamp == chain.unix_time
    assert moved.volatility_accumulator == (69 - moved.active_id) * 10_000


def test_a_swap_past_the_last_bin_fails_on_chain_and_in_our_math(pair: Pair) -> None:
    before = read_state(pair.pools, pair.address)
    most = before.emptying_inputs(a_to_b=False)[-1][1]
    with pytest.raises(InsufficientLiquidityError):
        before.swap(most + 2, a_to_b=False)
    _, result = _swap(pair, most + 2, swap_for_y=False)
    assert result.error is not None
    assert result.error.custom_code in CANNOT_FILL
    _, result = _swap(pair, most, swap_for_y=False)
    assert result.ok, result.error


def test_a_bin_too_deep_for_u64_fails_every_swap_that_reaches_it(chain: LocalChain) -> None:
    # 10^18 Y at a price near 4.8e-5: emptying the bin would take 2 * 10^22 X.
    fees = DlmmFees(bin_step=100, base_factor=1_000)
    pair = _pair(chain, fees, -1_000, Deposit(-1_001, (1,), 1, 10**18))
    before, result = _swap(pair, 10**6, swap_for_y=True)
    with pytest.raises(InsufficientLiquidityError, match="u64"):
        before.swap(10**6, a_to_b=True)
    assert result.error is not None
    assert result.error.custom_code == 6019  # TypeCastFailed: the u64 cast of that input


def test_a_pair_past_its_own_bitmap_lists_its_bin_arrays_in_the_extension(
    chain: LocalChain,
) -> None:
    fees = DlmmFees(bin_step=1, base_factor=10_000)
    active = 40_000  # bin array 571, past -512..511
    pair = _pair(chain, fees, active, Deposit(active - 20, (1,) * 41, 10**12, 10**12))
    extension = pair.pools.extension(pair.address)
    assert extension == dlmm.bitmap_extension_address(pair.address)
    bitmap = dlmm.decode_bitmap_extension(chain.account_data(extension))
    assert bitmap.lb_pair == pair.address
    assert bitmap.flagged() == [571]
    state = pair.pools.pair(pair.address)
    assert state.bin_array_bitmap == 0
    assert dlmm_swap.liquid_bin_arrays(state, bitmap) == [571]
    before, result = _swap(pair, 10**9, swap_for_y=False)
    assert result.ok, result.error
    assert result.token_change(pair.x) == before.swap(10**9, a_to_b=False)[0].amount_out


def test_pool_state_refuses_a_pair_that_charges_its_fee_on_the_output(
    chain: LocalChain,
) -> None:
    fees = DlmmFees(bin_step=25, base_factor=10_000, collect_fee_mode=dlmm.COLLECT_FEE_ONLY_Y)
    pair = _pair(chain, fees, 0, Deposit(-5, (1,) * 11, 10**9, 10**9))
    state = pair.pools.pair(pair.address)
    assert state.collect_fee_mode == dlmm.COLLECT_FEE_ONLY_Y
    with pytest.raises(dlmm_swap.UnsupportedPairError, match="collect fee mode"):
        read_state(pair.pools, pair.address)


def test_decoders_refuse_other_accounts_and_short_data(chain: LocalChain, pair: Pair) -> None:
    pair_data = chain.account_data(pair.address)
    array_data = chain.account_data(dlmm.bin_array_address(pair.address, 0))
    with pytest.raises(AccountLayoutError, match="LbPair"):
        dlmm.decode_lb_pair(array_data)
    with pytest.raises(AccountLayoutError, match="BinArray"):
        dlmm.decode_bin_array(pair_data)
    with pytest.raises(AccountLayoutError):
        dlmm.decode_lb_pair(pair_data[:500])
    with pytest.raises(AccountLayoutError):
        dlmm.decode_bitmap_extension(pair_data)


def test_a_pair_created_at_a_price_spreads_liquidity_around_it(chain: LocalChain) -> None:
    pools = DlmmPools(chain)
    mint_x, mint_y = sorted((chain.create_mint(9), chain.create_mint(6)), key=bytes)
    # 150 units of Y per unit of X, in base units of 9 and 6 decimals.
    price = Fraction(150 * 10**6, 10**9)
    address = pools.create_pair_at_price(mint_x, mint_y, FEES, price)
    provider = chain.new_wallet()
    # 10,000 X and the 1.5M Y they are worth: by equal weights each bin holds equal value.
    amount_x, amount_y = 10**13, 15 * 10**11
    chain.fund(provider.pubkey(), mint_x, amount_x)
    chain.fund(provider.pubkey(), mint_y, amount_y)
    positions = pools.spread(
        address, provider, bins_each_side=100, amount_x=amount_x, amount_y=amount_y
    )
    assert len(positions) == 3  # 201 bins in positions of at most 70
    state = read_state(pools, address)
    spot = state.spot_price(a_to_b=True)
    assert abs(spot / price - 1) <= Fraction(FEES.bin_step, 2 * 10_000)
    ids = [bin_id for bin_id, _, _ in state.bins]
    assert ids == list(range(state.active_id - 100, state.active_id + 101))
    assert all(x == 0 for b, x, _ in state.bins if b < state.active_id)
    assert all(y == 0 for b, _, y in state.bins if b > state.active_id)
    assert amount_x * 98 // 100 < state.reserve_a <= amount_x
    assert amount_y * 98 // 100 < state.reserve_b <= amount_y

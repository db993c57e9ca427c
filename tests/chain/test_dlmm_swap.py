"""DLMM swap2 instruction, swap order of bin arrays, and our math's state, without a chain."""

from __future__ import annotations

from dataclasses import replace

import pytest
from solders.pubkey import Pubkey

from eterna.adapters.solana import dlmm, dlmm_swap
from eterna.adapters.solana.anchor import instruction_discriminator
from eterna.adapters.solana.ids import DLMM_PROGRAM, MEMO_PROGRAM, TOKEN_2022_PROGRAM, TOKEN_PROGRAM

KEYS = [Pubkey.new_unique() for _ in range(8)]


def _pair(**changes: object) -> dlmm.LbPair:
    pair = dlmm.LbPair(
        base_factor=10_000,
        filter_period=30,
        decay_period=600,
        reduction_factor=5_000,
        variable_fee_control=40_000,
        max_volatility_accumulator=350_000,
        min_bin_id=-14_065,
        max_bin_id=14_065,
        protocol_share=500,
        base_fee_power_factor=0,
        function_type=2,
        collect_fee_mode=0,
        volatility_accumulator=30_000,
        volatility_reference=10_000,
        index_reference=-3,
        last_update_timestamp=1_767_225_600,
        pair_type=3,
        active_id=-1,
        bin_step=25,
        status=0,
        activation_type=dlmm.ACTIVATION_SLOT,
        token_x_mint=KEYS[0],
        token_y_mint=KEYS[1],
        reserve_x=KEYS[2],
        reserve_y=KEYS[3],
        protocol_fee_x=7,
        protocol_fee_y=9,
        oracle=KEYS[4],
        bin_array_bitmap=0,
        activation_point=0,
        token_x_program_flag=0,
        token_y_program_flag=1,
    )
    return replace(pair, **changes)  # type: ignore[arg-type]


def _bitmap(*indexes: int) -> int:
    return sum(1 << (index + dlmm.BITMAP_SIZE) for index in indexes)


def _array(index: int, amounts: dict[int, tuple[int, int]], **orders: int) -> dlmm.BinArray:
    bins = []
    for bin_id in range(index * 70, index * 70 + 70):
        x, y = amounts.get(bin_id, (0, 0))
        open_amount = orders.get("open", 0) if bin_id in amounts else 0
        bins.append(dlmm.Bin(x, y, 0, x + y, open_amount, 0, limit_order_ask_side=False))
    return dlmm.BinArray(index, KEYS[5], tuple(bins))


def test_bin_array_index_floors_negative_bins_as_the_program_does() -> None:
    assert [dlmm_swap.bin_array_index(b) for b in (-71, -70, -69, -1, 0, 69, 70)] == [
        -2,
        -1,
        -1,
        -1,
        0,
        0,
        1,
    ]


def test_bin_arrays_for_swap_start_at_the_active_array_and_skip_empty_ones() -> None:
    pair = _pair(active_id=-1, bin_array_bitmap=_bitmap(-5, -1, 0, 3, 511))
    assert dlmm_swap.bin_arrays_for_swap(pair, swap_for_y=True, count=8) == [-1, -5]
    assert dlmm_swap.bin_arrays_for_swap(pair, swap_for_y=False, count=2) == [-1, 0]
    # An active array the bitmap marks empty is skipped: the program shifts past it.
    empty_start = _pair(active_id=150, bin_array_bitmap=_bitmap(0, 3))
    assert dlmm_swap.bin_arrays_for_swap(empty_start, swap_for_y=True, count=8) == [0]
    assert dlmm_swap.bin_arrays_for_swap(empty_start, swap_for_y=False, count=8) == [3]


def test_the_bitmap_extension_adds_arrays_past_the_pairs_own_bitmap() -> None:
    rows = [0] * dlmm.EXTENSION_ROWS
    positive, negative = list(rows), list(rows)
    positive[0] = 1 << 59  # bin array 512 + 59
    negative[1] = 1 << 3  # bin array -(2 * 512 + 3) - 1
    extension = dlmm.BitmapExtension(KEYS[5], tuple(positive), tuple(negative))
    assert extension.flagged() == [-1028, 571]
    pair = _pair(active_id=571 * 70 + 5, bin_array_bitmap=_bitmap(-2))
    assert dlmm_swap.liquid_bin_arrays(pair, extension) == [-1028, -2, 571]
    arrays = dlmm_swap.bin_arrays_for_swap(pair, swap_for_y=True, count=8, extension=extension)
    assert arrays == [571, -2, -1028]


def test_swap2_lists_the_accounts_in_the_order_of_the_0_12_0_idl() -> None:
    lb_pair, user, source, target = KEYS[5], KEYS[6], KEYS[7], Pubkey.new_unique()
    pair = _pair()
    ix = dlmm_swap.swap2(
        lb_pair,
        pair,
        user=user,
        user_token_in=source,
        user_token_out=target,
        amount_in=10**9,
        min_amount_out=12_345,
        bin_arrays=[-1, -2],
    )
    assert ix.program_id == DLMM_PROGRAM
    assert ix.data == (
        instruction_discriminator("swap2")
        + (10**9).to_bytes(8, "little")
        + (12_345).to_bytes(8, "little")
        + bytes(4)
    )
    keys = [(m.pubkey, m.is_signer, m.is_writable) for m in ix.accounts]
    assert keys == [
        (lb_pair, False, True),
        (DLMM_PROGRAM, False, False),  # no bitmap extension: Anchor's None
        (pair.reserve_x, False, True),
        (pair.reserve_y, False, True),
        (source, False, True),
        (target, False, True),
        (pair.token_x_mint, False, False),
        (pair.token_y_mint, False, False),
        (pair.oracle, False, True),
        (DLMM_PROGRAM, False, False),  # no host fee account
        (user, True, False),
        (TOKEN_PROGRAM, False, False),
        (TOKEN_2022_PROGRAM, False, False),  # mint Y's program flag says Token-2022
        (MEMO_PROGRAM, False, False),
        (dlmm.event_authority_address(), False, False),
        (DLMM_PROGRAM, False, False),
        (dlmm.bin_array_address(lb_pair, -1), False, True),
        (dlmm.bin_array_address(lb_pair, -2), False, True),
    ]


def test_pool_state_copies_the_fee_state_and_keeps_bins_holding_tokens() -> None:
    pair = _pair()
    arrays = [_array(-1, {-2: (0, 500), -1: (40, 60)}), _array(0, {3: (700, 0)})]
    pool = dlmm_swap.pool_state(pair, arrays, vault_x=800, vault_y=600)
    assert pool.bins == ((-2, 0, 500), (-1, 40, 60), (3, 700, 0))
    assert (pool.active_id, pool.bin_step, pool.base_factor) == (-1, 25, 10_000)
    assert (pool.volatility_accumulator, pool.volatility_reference) == (30_000, 10_000)
    assert (pool.index_reference, pool.last_update_timestamp) == (-3, 1_767_225_600)
    assert (pool.fees_a, pool.fees_b) == (800 - 740, 600 - 560)
    assert (pool.protocol_fees_a, pool.protocol_fees_b) == (7, 9)


def test_pool_state_refuses_limit_orders_waiting_in_a_bin() -> None:
    arrays = [_array(-1, {-1: (40, 60)}, open=5)]
    with pytest.raises(dlmm_swap.UnsupportedPairError, match="limit orders"):
        dlmm_swap.pool_state(_pair(), arrays)


def test_check_tradable_refuses_disabled_and_not_yet_open_pairs() -> None:
    dlmm_swap.check_tradable(_pair(), slot=10, unix_time=1_000)
    with pytest.raises(dlmm_swap.PairNotTradableError, match="disabled"):
        dlmm_swap.check_tradable(_pair(status=1), slot=10, unix_time=1_000)
    opens_later = _pair(activation_type=dlmm.ACTIVATION_TIMESTAMP, activation_point=2_000)
    with pytest.raises(dlmm_swap.PairNotTradableError, match="opens at 2000"):
        dlmm_swap.check_tradable(opens_later, slot=10**9, unix_time=1_000)
    dlmm_swap.check_tradable(opens_later, slot=0, unix_time=2_000)

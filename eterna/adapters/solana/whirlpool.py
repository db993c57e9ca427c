"""Orca Whirlpool on any cluster: the accounts a swap reads, its PDAs and ``swap_v2``.

Layouts are those of the build Eterna runs (orca-so/whirlpools ``programs/whirlpool/src/``
at the February 2025 release: ``state/whirlpool.rs``, ``state/tick.rs``,
``instructions/v2/swap.rs``), checked against accounts that binary wrote. That build has no
adaptive fee: ``swap_v2`` still takes the ``oracle`` account, and checks only that it is the
PDA ``["oracle", whirlpool]``, which need not exist.

``swap_v2`` passes the three tick arrays the program derives from the pool's current tick
(:func:`eterna.amm.whirlpool_reach.swap_array_starts`) in swap order; arrays that were never
initialized are passed as their PDAs and read as empty by the program.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from solders.instruction import Instruction
from solders.pubkey import Pubkey

from eterna.adapters.solana.anchor import (
    Reader,
    encode_args,
    expect_account,
    instruction_discriminator,
)
from eterna.adapters.solana.ids import MEMO_PROGRAM, TOKEN_PROGRAM, WHIRLPOOL_PROGRAM
from eterna.adapters.solana.instruction import readonly, signer, writable
from eterna.adapters.solana.pda import program_address
from eterna.amm.whirlpool_reach import swap_array_starts
from eterna.domain.errors import EternaError

WHIRLPOOL_LEN = 653
TICK_ARRAY_LEN = 9_988
TICK_LEN = 113
TICKS_PER_ARRAY = 88
_TICKS_OFFSET = 12  # discriminator, start_tick_index
U64_MAX = (1 << 64) - 1
_SUPPLEMENTAL_TICK_ARRAYS = 6  # AccountsType::SupplementalTickArrays
MAX_SUPPLEMENTAL_TICK_ARRAYS = 3


class WhirlpoolProgramError(IntEnum):
    """The program's custom error codes a swap can meet (``errors.rs``)."""

    INVALID_TICK_ARRAY_SEQUENCE = 6023
    FEE_RATE_MAX_EXCEEDED = 6028
    PROTOCOL_FEE_RATE_MAX_EXCEEDED = 6029
    ZERO_TRADABLE_AMOUNT = 6035
    AMOUNT_OUT_BELOW_MINIMUM = 6036
    AMOUNT_IN_ABOVE_MAXIMUM = 6037
    TICK_ARRAY_SEQUENCE_INVALID_INDEX = 6038
    TOO_MANY_SUPPLEMENTAL_TICK_ARRAYS = 6055


class WhirlpoolSwapError(EternaError, ValueError):
    """A swap_v2 request the program would refuse before running (bad amount, too many arrays)."""


@dataclass(frozen=True, slots=True)
class WhirlpoolState:
    """A decoded ``Whirlpool`` account: the fields a swap reads and changes."""

    whirlpools_config: Pubkey
    bump: int
    tick_spacing: int
    fee_rate: int
    protocol_fee_rate: int
    liquidity: int
    sqrt_price_x64: int
    tick_current: int
    protocol_fee_owed_a: int
    protocol_fee_owed_b: int
    mint_a: Pubkey
    vault_a: Pubkey
    fee_growth_global_a: int
    mint_b: Pubkey
    vault_b: Pubkey
    fee_growth_global_b: int
    reward_last_updated_timestamp: int


@dataclass(frozen=True, slots=True)
class InitializedTick:
    """An initialized tick of a tick array: its index and liquidity."""

    index: int
    liquidity_net: int
    liquidity_gross: int


@dataclass(frozen=True, slots=True)
class TickArrayState:
    """A decoded ``TickArray``: its start, its pool and its initialized ticks by index."""

    start_tick_index: int
    whirlpool: Pubkey
    ticks: tuple[InitializedTick, ...]


def decode_whirlpool(data: bytes) -> WhirlpoolState:
    """Decode a Whirlpool account.

    :raises AccountLayoutError: when data is not one.
    """
    expect_account(data, "Whirlpool", WHIRLPOOL_LEN)
    r = Reader(data, 8)
    config, bump, spacing = r.pubkey(), r.u8(), r.u16()
    r.skip(2)  # tick_spacing_seed: the same two bytes as tick_spacing
    return WhirlpoolState(
        whirlpools_config=config,
        bump=bump,
        tick_spacing=spacing,
        fee_rate=r.u16(),
        protocol_fee_rate=r.u16(),
        liquidity=r.u128(),
        sqrt_price_x64=r.u128(),
        tick_current=r.i32(),
        protocol_fee_owed_a=r.u64(),
        protocol_fee_owed_b=r.u64(),
        mint_a=r.pubkey(),
        vault_a=r.pubkey(),
        fee_growth_global_a=r.u128(),
        mint_b=r.pubkey(),
        vault_b=r.pubkey(),
        fee_growth_global_b=r.u128(),
        reward_last_updated_timestamp=r.u64(),
    )


def decode_tick_array(data: bytes, tick_spacing: int) -> TickArrayState:
    """Decode a TickArray account, keeping its initialized ticks.

    :raises AccountLayoutError: when data is not one.
    """
    expect_account(data, "TickArray", TICK_ARRAY_LEN)
    start = int.from_bytes(data[8:12], "little", signed=True)
    ticks = []
    for slot in range(TICKS_PER_ARRAY):
        at = _TICKS_OFFSET + slot * TICK_LEN
        if data[at]:
            ticks.append(
                InitializedTick(
                    index=start + slot * tick_spacing,
                    liquidity_net=int.from_bytes(data[at + 1 : at + 17], "little", signed=True),
                    liquidity_gross=int.from_bytes(data[at + 17 : at + 33], "little"),
                )
            )
    whirlpool_at = _TICKS_OFFSET + TICKS_PER_ARRAY * TICK_LEN
    whirlpool = Pubkey.from_bytes(data[whirlpool_at : whirlpool_at + 32])
    return TickArrayState(start, whirlpool, tuple(ticks))


# -- PDAs -----------------------------------------------------------------------------------


def _pda(*seeds: bytes) -> tuple[Pubkey, int]:
    return program_address(seeds, WHIRLPOOL_PROGRAM)


def whirlpool_pda(
    config: Pubkey, mint_a: Pubkey, mint_b: Pubkey, tick_spacing: int
) -> tuple[Pubkey, int]:
    """Return the pool's PDA and bump: ``["whirlpool", config, mint_a, mint_b, spacing u16]``."""
    spacing = encode_args("H", tick_spacing)
    return _pda(b"whirlpool", bytes(config), bytes(mint_a), bytes(mint_b), spacing)


def whirlpool_address(config: Pubkey, mint_a: Pubkey, mint_b: Pubkey, tick_spacing: int) -> Pubkey:
    """Return the pool's PDA."""
    return whirlpool_pda(config, mint_a, mint_b, tick_spacing)[0]


def fee_tier_address(config: Pubkey, tick_spacing: int) -> Pubkey:
    """Return the fee tier's PDA: ``["fee_tier", config, tick_spacing u16]``."""
    return _pda(b"fee_tier", bytes(config), encode_args("H", tick_spacing))[0]


def tick_array_address(whirlpool: Pubkey, start_tick_index: int) -> Pubkey:
    """Return a tick array's PDA: ``["tick_array", whirlpool, start index in decimal]``."""
    return _pda(b"tick_array", bytes(whirlpool), str(start_tick_index).encode())[0]


def position_pda(position_mint: Pubkey) -> tuple[Pubkey, int]:
    """Return a position's PDA and bump: ``["position", position_mint]``."""
    return _pda(b"position", bytes(position_mint))


def oracle_address(whirlpool: Pubkey) -> Pubkey:
    """Return the oracle PDA ``swap_v2`` checks: ``["oracle", whirlpool]``."""
    return _pda(b"oracle", bytes(whirlpool))[0]


def swap_tick_arrays(whirlpool: Pubkey, state: WhirlpoolState, *, a_to_b: bool) -> list[Pubkey]:
    """Return the three tick-array accounts of a swap, in swap order.

    Near the ends of the tick range fewer than three arrays exist: the last one repeats, and
    the program reads each account once.
    """
    starts = swap_array_starts(state.tick_current, state.tick_spacing, a_to_b=a_to_b)
    arrays = [tick_array_address(whirlpool, start) for start in starts]
    return (arrays + [arrays[-1]] * 3)[:3]


# -- swap_v2 --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SwapV2:
    """What one exact-in ``swap_v2`` on a pool needs besides the pool's own accounts."""

    authority: Pubkey
    owner_account_a: Pubkey
    owner_account_b: Pubkey
    amount: int
    other_amount_threshold: int
    a_to_b: bool
    sqrt_price_limit: int = 0  # 0: no limit (the program's minimum or maximum sqrt price)
    token_program_a: Pubkey = TOKEN_PROGRAM
    token_program_b: Pubkey = TOKEN_PROGRAM
    supplemental_tick_arrays: Sequence[Pubkey] = ()


def swap_v2(whirlpool: Pubkey, state: WhirlpoolState, swap: SwapV2) -> Instruction:
    """Build an exact-in ``swap_v2`` on the pool at whirlpool, whose decoded state is state.

    Supplemental tick arrays (remaining accounts) let the swap land if the price has moved
    to a neighbouring array by then; the program picks its three arrays among all of them.

    :raises WhirlpoolSwapError: on an amount outside [1, u64] or more than three extra arrays.
    """
    if not 0 < swap.amount <= U64_MAX or not 0 <= swap.other_amount_threshold <= U64_MAX:
        raise WhirlpoolSwapError("swap amounts must fit a u64 and the amount be positive")
    extra = list(swap.supplemental_tick_arrays)
    if len(extra) > MAX_SUPPLEMENTAL_TICK_ARRAYS:
        raise WhirlpoolSwapError("at most three supplemental tick arrays")
    remaining_info = b"\0"  # Option::None
    if extra:
        remaining_info = b"\1" + encode_args("IBB", 1, _SUPPLEMENTAL_TICK_ARRAYS, len(extra))
    data = (
        instruction_discriminator("swap_v2")
        + encode_args("QQ", swap.amount, swap.other_amount_threshold)
        + swap.sqrt_price_limit.to_bytes(16, "little")
        + bytes([1, int(swap.a_to_b)])  # amount_specified_is_input, a_to_b
        + remaining_info
    )
    arrays = swap_tick_arrays(whirlpool, state, a_to_b=swap.a_to_b)
    accounts = [
        readonly(swap.token_program_a),
        readonly(swap.token_program_b),
        readonly(MEMO_PROGRAM),
        signer(swap.authority),
        writable(whirlpool),
        readonly(state.mint_a),
        readonly(state.mint_b),
        writable(swap.owner_account_a),
        writable(state.vault_a),
        writable(swap.owner_account_b),
        writable(state.vault_b),
        *(writable(array) for array in arrays),
        writable(oracle_address(whirlpool)),
        *(writable(array) for array in extra),
    ]
    return Instruction(WHIRLPOOL_PROGRAM, data, accounts)

"""Meteora DLMM (lb_clmm 0.12.0): the accounts a swap reads, their PDAs, and ``swap2``.

Layouts are the zero-copy structs of the 0.12.0 IDL (``idls/dlmm.json`` in MeteoraAg/dlmm-sdk,
the release of the deployed binary), byte for byte after the 8-byte discriminator; the chain
tests decode accounts the binary itself wrote and check them field by field. Only the fields
a swap or a quote needs are kept. The program's source is not public: where the IDL and
``commons/`` leave a behaviour open, the binary decided (see :mod:`eterna.amm.dlmm`).

A bin array holds 70 bins; bin array ``i`` holds bins ``70 i .. 70 i + 69``. The pair keeps
one bit per bin array that holds liquidity, for arrays -512..511; the bitmap extension
account keeps the bits of the arrays beyond, twelve 512-bit rows on each side.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import lru_cache
from typing import Final, NamedTuple

from solders.pubkey import Pubkey

from eterna.adapters.solana.anchor import Reader, expect_account
from eterna.adapters.solana.ids import DLMM_PROGRAM, TOKEN_2022_PROGRAM, TOKEN_PROGRAM
from eterna.adapters.solana.pda import program_address

PROGRAM: Final = DLMM_PROGRAM
# The base key of every customizable permissionless pair's PDA (``ILM_BASE_KEY``).
ILM_BASE_KEY: Final = Pubkey.from_string("MFGQxwAmB91SwuYX36okv2Qmdc9aMuHTwWGUrp4AtB1")
BINS_PER_ARRAY: Final = 70
BITMAP_SIZE: Final = 512
EXTENSION_ROWS: Final = 12
LB_PAIR_LEN: Final = 904
BIN_ARRAY_LEN: Final = 8 + 48 + BINS_PER_ARRAY * 144
# Decoded bin arrays remembered by content (about 10 KiB of account and 20 KiB decoded each).
DECODED_BIN_ARRAYS: Final = 512
BITMAP_EXTENSION_LEN: Final = 8 + 32 + 2 * EXTENSION_ROWS * 64

STATUS_ENABLED: Final = 0
COLLECT_FEE_INPUT_ONLY: Final = 0
COLLECT_FEE_ONLY_Y: Final = 1
ACTIVATION_SLOT: Final = 0
ACTIVATION_TIMESTAMP: Final = 1

# amount_x, amount_y, price and liquidity_supply (u128 as two u64 each), 64 bytes of order
# and fee counters a swap does not read, open_order_amount, total_processing_order_amount,
# processed_order_remaining_amount, order_age, limit_order_ask_side, padding.
_BIN = struct.Struct("<QQQQQQ64xQ8xQ4xB3x")


@dataclass(frozen=True, slots=True)
class LbPair:
    """The fields of an ``LbPair`` account a swap and a quote need."""

    # StaticParameters
    base_factor: int
    filter_period: int
    decay_period: int
    reduction_factor: int
    variable_fee_control: int
    max_volatility_accumulator: int
    min_bin_id: int
    max_bin_id: int
    protocol_share: int
    base_fee_power_factor: int
    function_type: int
    collect_fee_mode: int
    # VariableParameters
    volatility_accumulator: int
    volatility_reference: int
    index_reference: int
    last_update_timestamp: int
    pair_type: int
    active_id: int
    bin_step: int
    status: int
    activation_type: int
    token_x_mint: Pubkey
    token_y_mint: Pubkey
    reserve_x: Pubkey
    reserve_y: Pubkey
    protocol_fee_x: int
    protocol_fee_y: int
    oracle: Pubkey
    # Bit i + 512 is set when bin array i (-512 <= i < 512) holds liquidity.
    bin_array_bitmap: int
    activation_point: int
    token_x_program_flag: int
    token_y_program_flag: int

    @property
    def token_x_program(self) -> Pubkey:
        """Return the token program of mint X (SPL Token or Token-2022)."""
        return TOKEN_2022_PROGRAM if self.token_x_program_flag else TOKEN_PROGRAM

    @property
    def token_y_program(self) -> Pubkey:
        """Return the token program of mint Y (SPL Token or Token-2022)."""
        return TOKEN_2022_PROGRAM if self.token_y_program_flag else TOKEN_PROGRAM


class Bin(NamedTuple):
    """One bin of a bin array: market-making amounts, price, limit orders waiting in it."""

    amount_x: int
    amount_y: int
    price: int  # Q64.64, zero until the program first stores it
    liquidity_supply: int
    open_order_amount: int
    processed_order_remaining_amount: int
    limit_order_ask_side: bool

    @property
    def has_limit_orders(self) -> bool:
        """Tell whether limit orders wait in the bin (our math does not model them)."""
        return bool(self.open_order_amount or self.processed_order_remaining_amount)


@dataclass(frozen=True, slots=True)
class BinArray:
    """A ``BinArray`` account: 70 consecutive bins of one pair."""

    index: int
    lb_pair: Pubkey
    bins: tuple[Bin, ...]

    @property
    def lower_bin_id(self) -> int:
        """Return the id of the array's first bin."""
        return self.index * BINS_PER_ARRAY

    def bin_ids(self) -> range:
        """Return the ids of the array's bins, in order."""
        return range(self.lower_bin_id, self.lower_bin_id + BINS_PER_ARRAY)


@dataclass(frozen=True, slots=True)
class BitmapExtension:
    """A ``BinArrayBitmapExtension``: liquidity bits of bin arrays beyond -512..511."""

    lb_pair: Pubkey
    positive: tuple[int, ...]  # row r, bit b: bin array (r + 1) * 512 + b
    negative: tuple[int, ...]  # row r, bit b: bin array -((r + 1) * 512 + b) - 1

    def flagged(self) -> list[int]:
        """Return the indexes of the bin arrays this extension marks as holding liquidity."""
        found = []
        for row, (up, down) in enumerate(zip(self.positive, self.negative, strict=True)):
            base = (row + 1) * BITMAP_SIZE
            found += [base + bit for bit in set_bits(up)]
            found += [-(base + bit) - 1 for bit in set_bits(down)]
        return sorted(found)


def set_bits(value: int) -> list[int]:
    """Return the positions of value's set bits, ascending (one step per set bit)."""
    if value < 0:
        raise ValueError(f"a bitmap is unsigned, not {value}")
    found = []
    while value:
        lowest = value & -value
        found.append(lowest.bit_length() - 1)
        value ^= lowest
    return found


def decode_lb_pair(data: bytes) -> LbPair:
    """Decode an ``LbPair`` account.

    :raises AccountLayoutError: when data is not an LbPair of the 0.12.0 size.
    """
    expect_account(data, "LbPair", LB_PAIR_LEN)
    r = Reader(data, 8)
    # Arguments are evaluated left to right: each reads the next field of the layout.
    return LbPair(
        base_factor=r.u16(),
        filter_period=r.u16(),
        decay_period=r.u16(),
        reduction_factor=r.u16(),
        variable_fee_control=r.u32(),
        max_volatility_accumulator=r.u32(),
        min_bin_id=r.i32(),
        max_bin_id=r.i32(),
        protocol_share=r.u16(),
        base_fee_power_factor=r.u8(),
        function_type=r.u8(),
        collect_fee_mode=r.u8(),
        volatility_accumulator=r.skip(3).u32(),
        volatility_reference=r.u32(),
        index_reference=r.i32(),
        last_update_timestamp=r.skip(4).i64(),
        pair_type=r.skip(8 + 1 + 2).u8(),  # padding, bump seed, bin step seed
        active_id=r.i32(),
        bin_step=r.u16(),
        status=r.u8(),
        activation_type=r.skip(1 + 2).u8(),  # base factor seed and its flag
        token_x_mint=r.skip(1).pubkey(),  # creator's on/off control
        token_y_mint=r.pubkey(),
        reserve_x=r.pubkey(),
        reserve_y=r.pubkey(),
        protocol_fee_x=r.u64(),
        protocol_fee_y=r.u64(),
        oracle=r.skip(32 + 2 * 144).pubkey(),  # padding, two reward infos
        bin_array_bitmap=int.from_bytes(r.raw(128), "little"),
        # last_updated_at, padding, pre-activation swap address, base key
        activation_point=r.skip(8 + 32 + 32 + 32).u64(),
        # pre-activation duration, two paddings, creator
        token_x_program_flag=r.skip(8 + 8 + 8 + 32).u8(),
        token_y_program_flag=r.u8(),
    )


@lru_cache(maxsize=DECODED_BIN_ARRAYS)
def decode_bin_array(data: bytes) -> BinArray:
    """Decode a ``BinArray`` account.

    Remembered by content: a swap changes one or two of a pool's arrays, and every read of
    the pool after it finds the others as they were (a decode is 70 bins; a look-up hashes
    the bytes once).

    :raises AccountLayoutError: when data is not a BinArray of the 0.12.0 size.
    """
    expect_account(data, "BinArray", BIN_ARRAY_LEN)
    r = Reader(data, 8)
    index, lb_pair = r.i64(), r.skip(8).pubkey()
    # One struct call per bin: a quote decodes a few arrays of 70 bins each.
    bins = tuple(
        Bin(ax, ay, p_lo | p_hi << 64, l_lo | l_hi << 64, open_, processed, ask != 0)
        for ax, ay, p_lo, p_hi, l_lo, l_hi, open_, processed, ask in _BIN.iter_unpack(
            data[56:BIN_ARRAY_LEN]
        )
    )
    return BinArray(index, lb_pair, bins)


def decode_bitmap_extension(data: bytes) -> BitmapExtension:
    """Decode a ``BinArrayBitmapExtension`` account.

    :raises AccountLayoutError: when data is not a bitmap extension of the 0.12.0 size.
    """
    expect_account(data, "BinArrayBitmapExtension", BITMAP_EXTENSION_LEN)
    r = Reader(data, 8)
    lb_pair = r.pubkey()
    rows = [int.from_bytes(r.raw(64), "little") for _ in range(2 * EXTENSION_ROWS)]
    return BitmapExtension(lb_pair, tuple(rows[:EXTENSION_ROWS]), tuple(rows[EXTENSION_ROWS:]))


def _pda(*seeds: bytes) -> Pubkey:
    return program_address(seeds, PROGRAM)[0]


def _ordered(mint_a: Pubkey, mint_b: Pubkey) -> tuple[bytes, bytes]:
    low, high = sorted((bytes(mint_a), bytes(mint_b)))
    return low, high


def customizable_pair_address(mint_x: Pubkey, mint_y: Pubkey) -> Pubkey:
    """Return the PDA of the customizable permissionless pair of two mints."""
    return _pda(bytes(ILM_BASE_KEY), *_ordered(mint_x, mint_y))


def preset_pair_address(preset: Pubkey, mint_x: Pubkey, mint_y: Pubkey) -> Pubkey:
    """Return the PDA of the pair of two mints created with a ``PresetParameter2``."""
    return _pda(bytes(preset), *_ordered(mint_x, mint_y))


def preset_parameter2_address(index: int) -> Pubkey:
    """Return the PDA of the ``PresetParameter2`` with the given index."""
    return _pda(b"preset_parameter2", index.to_bytes(2, "little"))


def reserve_address(lb_pair: Pubkey, mint: Pubkey) -> Pubkey:
    """Return the PDA of the pair's vault of one mint."""
    return _pda(bytes(lb_pair), bytes(mint))


def oracle_address(lb_pair: Pubkey) -> Pubkey:
    """Return the PDA of the pair's oracle."""
    return _pda(b"oracle", bytes(lb_pair))


@lru_cache(maxsize=4096)
def bin_array_address(lb_pair: Pubkey, index: int) -> Pubkey:
    """Return the PDA of the pair's bin array with the given index."""
    return _pda(b"bin_array", bytes(lb_pair), index.to_bytes(8, "little", signed=True))


def bitmap_extension_address(lb_pair: Pubkey) -> Pubkey:
    """Return the PDA of the pair's bin array bitmap extension."""
    return _pda(b"bitmap", bytes(lb_pair))


@lru_cache(maxsize=1)
def event_authority_address() -> Pubkey:
    """Return the program's ``__event_authority`` PDA, which every event-emitting call lists."""
    return _pda(b"__event_authority")

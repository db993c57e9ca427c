"""Anchor discriminators and the little-endian layout reader."""

from __future__ import annotations

import struct

import pytest
from solders.pubkey import Pubkey

from eterna.adapters.solana.anchor import (
    AccountLayoutError,
    Reader,
    account_discriminator,
    encode_args,
    expect_account,
    instruction_discriminator,
)


def test_discriminators_match_the_values_the_programs_idls_publish() -> None:
    # As printed in shared/programs' orca_whirlpool.idl.json and meteora_dlmm.idl.json.
    assert list(instruction_discriminator("swap_v2")) == [43, 4, 237, 11, 26, 201, 30, 98]
    assert list(instruction_discriminator("swap2")) == [65, 75, 63, 76, 235, 91, 91, 136]
    assert list(account_discriminator("FeeTier")) == [56, 75, 159, 76, 142, 68, 190, 105]
    assert list(account_discriminator("BinArray")) == [92, 142, 92, 220, 5, 148, 70, 181]


def test_reader_reads_little_endian_fields_in_order() -> None:
    key = Pubkey.new_unique()
    data = struct.pack("<BHIQ", 7, 0xBEEF, 0xDEADBEEF, 2**64 - 1)
    data += (2**127 + 5).to_bytes(16, "little") + struct.pack("<iq", -3, -(2**62))
    data += b"\x01" + bytes(key)
    r = Reader(data)
    assert (r.u8(), r.u16(), r.u32(), r.u64()) == (7, 0xBEEF, 0xDEADBEEF, 2**64 - 1)
    assert r.u128() == 2**127 + 5
    assert (r.i32(), r.i64()) == (-3, -(2**62))
    assert r.boolean() is True
    assert r.pubkey() == key
    assert r.offset == len(data)


def test_reader_past_the_end_raises_a_layout_error_and_keeps_its_place() -> None:
    r = Reader(b"\x01\x02\x03")
    r.skip(2)
    with pytest.raises(AccountLayoutError, match="needs 10 bytes"):
        r.u64()
    assert r.offset == 2
    assert r.u8() == 3


def test_reader_signed_fields_read_twos_complement() -> None:
    r = Reader((-(2**100)).to_bytes(16, "little", signed=True) + b"\xff\xff" + b"\x80")
    assert r.i128() == -(2**100)
    assert r.i16() == -1
    assert r.i8() == -128


def test_expect_account_refuses_another_kind_and_a_short_account() -> None:
    data = account_discriminator("PoolState") + bytes(100)
    expect_account(data, "PoolState", 108)
    with pytest.raises(AccountLayoutError, match="not a AmmConfig"):
        expect_account(data, "AmmConfig", 108)
    with pytest.raises(AccountLayoutError, match="108 bytes, expected 200"):
        expect_account(data, "PoolState", 200)


def test_encode_args_packs_little_endian() -> None:
    assert encode_args("QB", 1, 2) == b"\x01" + bytes(7) + b"\x02"

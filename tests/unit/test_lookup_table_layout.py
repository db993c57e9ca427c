"""Address lookup tables: their layout, what a slot may look up, and which tables a route needs."""

from __future__ import annotations

import struct

import pytest
from solders.address_lookup_table_account import AddressLookupTableAccount
from solders.pubkey import Pubkey

from eterna.adapters.solana.lookup_tables import (
    LOOKUP_TABLE_HEADER,
    LOOKUP_TABLE_PROGRAM,
    LookupTableLayoutError,
    create_lookup_table,
    decode_lookup_table,
    extend_lookup_table,
    lookup_table_address,
    pick_tables,
)

ACTIVE = 2**64 - 1


def key(n: int) -> Pubkey:
    return Pubkey.from_bytes(n.to_bytes(32, "big"))


def table_data(
    addresses: list[Pubkey],
    *,
    deactivated: int = ACTIVE,
    extended: int = 10,
    start: int = 0,
    authority: Pubkey | None = None,
) -> bytes:
    header = struct.pack("<IQQB", 1, deactivated, extended, start)
    header += b"\x01" + bytes(authority) if authority else b"\x00" + bytes(32)
    header += bytes(2)
    assert len(header) == LOOKUP_TABLE_HEADER
    return header + b"".join(bytes(a) for a in addresses)


def test_decode_reads_header_and_addresses() -> None:
    addresses = [key(i) for i in range(1, 4)]
    table = decode_lookup_table(key(99), table_data(addresses, authority=key(7), start=1))

    assert table.addresses == tuple(addresses)
    assert table.authority == key(7)
    assert table.active
    assert table.last_extended_slot == 10
    assert table.last_extended_start == 1


def test_a_table_without_authority_and_a_deactivated_one() -> None:
    table = decode_lookup_table(key(99), table_data([key(1)], deactivated=50))

    assert table.authority is None
    assert not table.active


@pytest.mark.parametrize(
    "data",
    [b"", table_data([key(1)])[:-1], b"\x02" + table_data([key(1)])[1:]],
    ids=["empty", "ragged", "not-a-table"],
)
def test_decode_refuses_what_is_no_table(data: bytes) -> None:
    with pytest.raises(LookupTableLayoutError):
        decode_lookup_table(key(99), data)


def test_addresses_extended_in_a_slot_are_usable_from_the_next() -> None:
    table = decode_lookup_table(key(99), table_data([key(1), key(2), key(3)], start=1))

    assert table.usable_at(10) == (key(1),)
    assert table.usable_at(11) == (key(1), key(2), key(3))


def test_create_and_extend_encode_the_program_instructions() -> None:
    authority, payer = key(5), key(6)
    table, create = create_lookup_table(authority, payer, 1_234)
    address, bump = lookup_table_address(authority, 1_234)

    assert table == address
    assert create.program_id == LOOKUP_TABLE_PROGRAM
    assert bytes(create.data) == struct.pack("<IQB", 0, 1_234, bump)
    assert [m.pubkey for m in create.accounts][:3] == [table, authority, payer]
    extend = extend_lookup_table(table, authority, payer, [key(1), key(2)])
    assert bytes(extend.data) == struct.pack("<IQ", 2, 2) + bytes(key(1)) + bytes(key(2))
    assert extend.accounts[1].is_signer


def test_pick_tables_takes_the_fewest_that_hold_the_keys() -> None:
    wide = AddressLookupTableAccount(key(90), [key(i) for i in range(1, 6)])
    narrow = AddressLookupTableAccount(key(91), [key(1), key(2)])
    other = AddressLookupTableAccount(key(92), [key(6), key(20)])
    unrelated = AddressLookupTableAccount(key(93), [key(30)])

    picked = pick_tables([narrow, unrelated, wide, other], [key(1), key(2), key(5), key(6)])

    assert [t.key for t in picked] == [key(90), key(92)]
    assert pick_tables([unrelated], [key(1)]) == []

"""Address lookup tables: the pools' static accounts, so a route of three or four swaps fits.

A v0 message may name an account by a one-byte index into a lookup table instead of its 32
bytes. A table is an account of the Address Lookup Table program: a 56-byte header (a u32
type tag, 1; the slot it was deactivated at, ``u64::MAX`` while active; the slot of its last
extension and how many addresses it held before that slot's first extension; an optional
authority, one tag byte and 32 bytes; two bytes of padding) followed by its addresses, 32
bytes each. Addresses added in a slot can be looked up from the next slot on; a deactivated
table is not used.

Tables are made by :func:`create_lookup_table` and :func:`extend_lookup_table`, signed by an
authority (the deployment wallet, or the local chain's faucet at genesis) that pays their
rent: 1,280,640 lamports for the header, 222,720 more per address (about 0.0068 SOL for a
table of 25), given back when the table is deactivated and, some 513 slots later, closed.
Anyone may use any table.

:class:`LookupTableRegistry` knows the tables a process may use: the addresses it is given
(``ETERNA_LOOKUP_TABLES`` on a real cluster) and, on the local chain, every table there
(``getProgramAccounts`` of the program). It reads them and keeps them for
``refresh_seconds``; a table that is missing, not a table, or deactivated is left out (the
transaction then names those accounts in full, or is refused as too large).
"""

from __future__ import annotations

import asyncio
import logging
import struct
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from solders.address_lookup_table_account import AddressLookupTableAccount
from solders.instruction import Instruction
from solders.pubkey import Pubkey

from eterna.adapters.solana.ids import SYSTEM_PROGRAM
from eterna.adapters.solana.instruction import readonly, signer, writable
from eterna.adapters.solana.pda import program_address
from eterna.adapters.solana.rpc import AccountInfo, SolanaRpc

log = logging.getLogger(__name__)

LOOKUP_TABLE_PROGRAM: Final = Pubkey.from_string("AddressLookupTab1e1111111111111111111111111")
LOOKUP_TABLE_HEADER: Final = 56
LOOKUP_TABLE_MAX_ADDRESSES: Final = 256
# How many addresses one extension adds at most: its transaction stays under 1,232 bytes.
MAX_ADDRESSES_PER_EXTENSION: Final = 20
_ACTIVE: Final = 2**64 - 1
_TABLE_TAG: Final = 1
_CREATE, _EXTEND = 0, 2
_HEADER: Final = struct.Struct("<IQQB")  # type tag, deactivation slot, last extended slot, index
_AUTHORITY_AT: Final = _HEADER.size  # 21: the option tag, then the key


class LookupTableLayoutError(ValueError):
    """An account's data is not an address lookup table."""


@dataclass(frozen=True, slots=True)
class LookupTable:
    """A decoded address lookup table."""

    address: Pubkey
    deactivation_slot: int
    last_extended_slot: int
    last_extended_start: int
    authority: Pubkey | None
    addresses: tuple[Pubkey, ...]

    @property
    def active(self) -> bool:
        """Tell whether the table was never deactivated."""
        return self.deactivation_slot == _ACTIVE

    def usable_at(self, slot: int) -> tuple[Pubkey, ...]:
        """Return the addresses a transaction processed at slot may look up."""
        if slot > self.last_extended_slot:
            return self.addresses
        return self.addresses[: self.last_extended_start]


def decode_lookup_table(address: Pubkey, data: bytes) -> LookupTable:
    """Decode a lookup table account's data (see the module docstring).

    :raises LookupTableLayoutError: when data is not a table.
    """
    size = len(data)
    if size < LOOKUP_TABLE_HEADER or (size - LOOKUP_TABLE_HEADER) % 32:
        raise LookupTableLayoutError(f"{address}: {size} bytes is not a lookup table")
    tag, deactivation, extended, start = _HEADER.unpack_from(data)
    if tag != _TABLE_TAG:
        raise LookupTableLayoutError(f"{address}: type {tag} is not a lookup table")
    has_authority = data[_AUTHORITY_AT]
    if has_authority > 1:
        raise LookupTableLayoutError(f"{address}: bad authority tag {has_authority}")
    authority = (
        Pubkey.from_bytes(data[_AUTHORITY_AT + 1 : _AUTHORITY_AT + 33]) if has_authority else None
    )
    addresses = tuple(
        Pubkey.from_bytes(data[at : at + 32]) for at in range(LOOKUP_TABLE_HEADER, size, 32)
    )
    return LookupTable(address, deactivation, extended, start, authority, addresses)


def lookup_table_address(authority: Pubkey, recent_slot: int) -> tuple[Pubkey, int]:
    """Return the address of authority's table made at recent_slot, and its bump seed."""
    return program_address(
        [bytes(authority), recent_slot.to_bytes(8, "little")], LOOKUP_TABLE_PROGRAM
    )


def create_lookup_table(
    authority: Pubkey, payer: Pubkey, recent_slot: int
) -> tuple[Pubkey, Instruction]:
    """Return a new table's address and the instruction creating it.

    recent_slot must be one of the cluster's recent slots (its SlotHashes): a finalized slot
    read just before.
    """
    table, bump = lookup_table_address(authority, recent_slot)
    data = struct.pack("<IQB", _CREATE, recent_slot, bump)
    accounts = [
        writable(table),
        readonly(authority),
        signer(payer, mutable=True),
        readonly(SYSTEM_PROGRAM),
    ]
    return table, Instruction(LOOKUP_TABLE_PROGRAM, data, accounts)


def extend_lookup_table(
    table: Pubkey, authority: Pubkey, payer: Pubkey, addresses: Sequence[Pubkey]
) -> Instruction:
    """Return the instruction appending addresses to a table (the authority signs)."""
    data = struct.pack("<IQ", _EXTEND, len(addresses)) + b"".join(bytes(a) for a in addresses)
    accounts = [
        writable(table),
        signer(authority),
        signer(payer, mutable=True),
        readonly(SYSTEM_PROGRAM),
    ]
    return Instruction(LOOKUP_TABLE_PROGRAM, data, accounts)


def pick_tables(
    tables: Iterable[AddressLookupTableAccount], keys: Iterable[Pubkey]
) -> list[AddressLookupTableAccount]:
    """Return the fewest tables (greedily) that hold as many of keys as the tables hold.

    Each table named costs 34 bytes before its indexes, so a table adding no key is left out,
    and the table holding the most of what is still missing goes first.
    """
    missing = set(keys)
    candidates = [(t, set(t.addresses) & missing) for t in tables]
    picked: list[AddressLookupTableAccount] = []
    while missing:
        best, held = max(candidates, key=lambda c: len(c[1] & missing), default=(None, set()))
        held &= missing
        if best is None or not held:
            break
        picked.append(best)
        missing -= held
    return picked


class LookupTableRegistry:
    """The lookup tables a process may use, read from the chain and kept a while."""

    def __init__(
        self,
        rpc: SolanaRpc,
        addresses: Sequence[Pubkey] = (),
        *,
        discover: bool = False,
        refresh_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rpc = rpc
        self._addresses = tuple(dict.fromkeys(addresses))
        self._discover = discover
        self._refresh_seconds = refresh_seconds
        self._clock = clock
        self._read_at: float | None = None
        self._tables: tuple[AddressLookupTableAccount, ...] = ()
        self._reading: asyncio.Future[tuple[AddressLookupTableAccount, ...]] | None = None

    def __repr__(self) -> str:
        return f"LookupTableRegistry({len(self._addresses)} given, discover={self._discover})"

    @property
    def enabled(self) -> bool:
        """Tell whether any table may be known (given addresses, or discovery)."""
        return bool(self._addresses) or self._discover

    async def tables(self) -> tuple[AddressLookupTableAccount, ...]:
        """Return the usable tables, read again once ``refresh_seconds`` passed.

        :raises VenueUnavailableError: when the node does not answer.
        """
        if not self.enabled:
            return ()
        now = self._clock()
        if self._read_at is not None and now - self._read_at < self._refresh_seconds:
            return self._tables
        if self._reading is None or self._reading.done():
            self._reading = asyncio.ensure_future(self._read())
        reading = self._reading
        tables = await asyncio.shield(reading)
        if self._reading is reading:
            self._tables, self._read_at = tables, now
        return tables

    def forget(self) -> None:
        """Read the tables again at the next use (a transaction found one wrong)."""
        self._read_at = None

    async def _read(self) -> tuple[AddressLookupTableAccount, ...]:
        found: dict[Pubkey, AccountInfo | None] = {}
        slot = 0
        if self._addresses:
            given = await self._rpc.get_multiple_accounts(self._addresses)
            slot = given.slot
            found.update(zip(self._addresses, given.value, strict=True))
        if self._discover:
            every = await self._rpc.get_program_accounts(LOOKUP_TABLE_PROGRAM)
            slot = max(slot, every.slot)
            found.update((k.address, k.account) for k in every.value)
        tables = []
        for address, account in found.items():
            table = _usable(address, account)
            if table is not None:
                # A transaction lands at a later slot than the read: what is usable now stays so.
                tables.append(AddressLookupTableAccount(address, list(table.usable_at(slot))))
        return tuple(t for t in tables if t.addresses)


def _usable(address: Pubkey, account: AccountInfo | None) -> LookupTable | None:
    if account is None or account.owner != LOOKUP_TABLE_PROGRAM:
        log.warning("lookup table %s: no such table, not used", address)
        return None
    try:
        table = decode_lookup_table(address, account.data)
    except LookupTableLayoutError as exc:
        log.warning("lookup table %s: %s, not used", address, exc)
        return None
    if not table.active:
        log.warning("lookup table %s: deactivated, not used", address)
        return None
    return table

"""Anchor's wire conventions: 8-byte discriminators, and a little-endian layout reader.

An Anchor instruction starts with ``sha256("global:<snake_name>")[:8]``; an Anchor account
with ``sha256("account:<TypeName>")[:8]``, followed by the fields in declaration order
(Borsh for ``#[account]``, the ``repr(C, packed)`` bytes for zero-copy accounts; both are
little-endian, so one reader serves both).
"""

from __future__ import annotations

import hashlib
import struct
from functools import cache

from solders.pubkey import Pubkey

from eterna.domain.errors import EternaError

DISCRIMINATOR_LEN = 8


class AccountLayoutError(EternaError):
    """Account bytes do not have the layout the decoder expects (too short, wrong kind)."""


@cache
def instruction_discriminator(name: str) -> bytes:
    """Return the 8 bytes that start an Anchor instruction, from its snake_case name."""
    return hashlib.sha256(f"global:{name}".encode()).digest()[:DISCRIMINATOR_LEN]


@cache
def account_discriminator(name: str) -> bytes:
    """Return the 8 bytes that start an Anchor account, from its type name."""
    return hashlib.sha256(f"account:{name}".encode()).digest()[:DISCRIMINATOR_LEN]


def expect_account(data: bytes, name: str, size: int) -> None:
    """Check that data is an Anchor account of type name, at least size bytes long.

    :raises AccountLayoutError: when the discriminator or the length is wrong.
    """
    if data[:DISCRIMINATOR_LEN] != account_discriminator(name):
        raise AccountLayoutError(f"not a {name} account (discriminator {data[:8].hex()})")
    if len(data) < size:
        raise AccountLayoutError(f"{name} account is {len(data)} bytes, expected {size}")


class Reader:
    """Read little-endian fields from account bytes, front to back or at fixed offsets."""

    __slots__ = ("_data", "offset")

    def __init__(self, data: bytes, offset: int = 0) -> None:
        self._data = data
        self.offset = offset

    def _take(self, size: int) -> int:
        start = self.offset
        if start + size > len(self._data):
            raise AccountLayoutError(
                f"layout needs {start + size} bytes, the account has {len(self._data)}"
            )
        self.offset = start + size
        return start

    def _unsigned(self, size: int) -> int:
        start = self._take(size)
        return int.from_bytes(self._data[start : start + size], "little")

    def _signed(self, size: int) -> int:
        start = self._take(size)
        return int.from_bytes(self._data[start : start + size], "little", signed=True)

    def skip(self, size: int) -> Reader:
        """Move past size bytes (padding, fields the caller does not need)."""
        self._take(size)
        return self

    def raw(self, size: int) -> bytes:
        """Return the next size bytes as they are."""
        start = self._take(size)
        return bytes(self._data[start : start + size])

    def u8(self) -> int:
        """Read an unsigned 8-bit integer."""
        return self._unsigned(1)

    def boolean(self) -> bool:
        """Read a one-byte boolean."""
        return self._unsigned(1) != 0

    def u16(self) -> int:
        """Read an unsigned 16-bit integer."""
        return self._unsigned(2)

    def u32(self) -> int:
        """Read an unsigned 32-bit integer."""
        return self._unsigned(4)

    def u64(self) -> int:
        """Read an unsigned 64-bit integer."""
        return self._unsigned(8)

    def u128(self) -> int:
        """Read an unsigned 128-bit integer."""
        return self._unsigned(16)

    def i8(self) -> int:
        """Read a signed 8-bit integer."""
        return self._signed(1)

    def i16(self) -> int:
        """Read a signed 16-bit integer."""
        return self._signed(2)

    def i32(self) -> int:
        """Read a signed 32-bit integer."""
        return self._signed(4)

    def i64(self) -> int:
        """Read a signed 64-bit integer."""
        return self._signed(8)

    def i128(self) -> int:
        """Read a signed 128-bit integer."""
        return self._signed(16)

    def pubkey(self) -> Pubkey:
        """Read a 32-byte public key."""
        return Pubkey.from_bytes(self.raw(32))


def encode_args(fmt: str, *values: int) -> bytes:
    """Pack instruction arguments little-endian (a ``struct`` format without byte order)."""
    return struct.pack("<" + fmt, *values)

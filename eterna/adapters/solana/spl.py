"""SPL Token, Associated Token Account and Memo: account layouts and the instructions we send.

Layouts are the SPL Token program's packed ``Mint`` (82 bytes) and ``Account`` (165 bytes);
a Token-2022 account starts with the same bytes and appends its extensions, so the decoders
read the base and ignore the rest.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

from solders.instruction import Instruction
from solders.pubkey import Pubkey

from eterna.adapters.solana.anchor import AccountLayoutError, Reader
from eterna.adapters.solana.ids import (
    ASSOCIATED_TOKEN_PROGRAM,
    MEMO_PROGRAM,
    SYSTEM_PROGRAM,
    TOKEN_PROGRAM,
)
from eterna.adapters.solana.instruction import readonly, signer, writable
from eterna.adapters.solana.pda import program_address

MINT_LEN = 82
TOKEN_ACCOUNT_LEN = 165
_NONE = b"\0" * 4


class TokenInstruction(IntEnum):
    """The SPL Token instruction tags Eterna uses."""

    TRANSFER = 3
    MINT_TO = 7
    CLOSE_ACCOUNT = 9
    TRANSFER_CHECKED = 12
    SYNC_NATIVE = 17
    INITIALIZE_MINT2 = 20


class AccountState(IntEnum):
    """A token account's state byte."""

    UNINITIALIZED = 0
    INITIALIZED = 1
    FROZEN = 2


@dataclass(frozen=True, slots=True)
class MintInfo:
    """A decoded mint: supply, decimals and authorities."""

    mint_authority: Pubkey | None
    supply: int
    decimals: int
    is_initialized: bool
    freeze_authority: Pubkey | None


@dataclass(frozen=True, slots=True)
class TokenAccountInfo:
    """A decoded token account: whose, of which mint, and how much."""

    mint: Pubkey
    owner: Pubkey
    amount: int
    delegate: Pubkey | None
    state: AccountState
    # The rent-exempt reserve of a wrapped-SOL account; None for every other mint.
    native_reserve: int | None
    delegated_amount: int
    close_authority: Pubkey | None


def _optional_key(reader: Reader) -> Pubkey | None:
    tag = reader.u32()
    key = reader.pubkey()
    return key if tag else None


def _pack_optional_key(key: Pubkey | None) -> bytes:
    return _NONE + bytes(32) if key is None else b"\1\0\0\0" + bytes(key)


def decode_mint(data: bytes) -> MintInfo:
    """Decode a mint account (SPL Token or the base of a Token-2022 mint)."""
    if len(data) < MINT_LEN:
        raise AccountLayoutError(f"a mint is {MINT_LEN} bytes, got {len(data)}")
    r = Reader(data)
    authority = _optional_key(r)
    supply, decimals, initialized = r.u64(), r.u8(), r.boolean()
    return MintInfo(authority, supply, decimals, initialized, _optional_key(r))


def encode_mint(mint: MintInfo) -> bytes:
    """Return the 82 bytes of a mint account."""
    return (
        _pack_optional_key(mint.mint_authority)
        + struct.pack("<QB?", mint.supply, mint.decimals, mint.is_initialized)
        + _pack_optional_key(mint.freeze_authority)
    )


def decode_token_account(data: bytes) -> TokenAccountInfo:
    """Decode a token account (SPL Token or the base of a Token-2022 account)."""
    if len(data) < TOKEN_ACCOUNT_LEN:
        raise AccountLayoutError(f"a token account is {TOKEN_ACCOUNT_LEN} bytes, got {len(data)}")
    r = Reader(data)
    mint, owner, amount = r.pubkey(), r.pubkey(), r.u64()
    delegate = _optional_key(r)
    state = AccountState(r.u8())
    native_tag, native_reserve = r.u32(), r.u64()
    delegated = r.u64()
    return TokenAccountInfo(
        mint=mint,
        owner=owner,
        amount=amount,
        delegate=delegate,
        state=state,
        native_reserve=native_reserve if native_tag else None,
        delegated_amount=delegated,
        close_authority=_optional_key(r),
    )


def encode_token_account(account: TokenAccountInfo) -> bytes:
    """Return the 165 bytes of a token account."""
    native = (
        _NONE + bytes(8)
        if account.native_reserve is None
        else b"\1\0\0\0" + struct.pack("<Q", account.native_reserve)
    )
    return (
        bytes(account.mint)
        + bytes(account.owner)
        + struct.pack("<Q", account.amount)
        + _pack_optional_key(account.delegate)
        + bytes([account.state])
        + native
        + struct.pack("<Q", account.delegated_amount)
        + _pack_optional_key(account.close_authority)
    )


def associated_token_address(
    owner: Pubkey, mint: Pubkey, token_program: Pubkey = TOKEN_PROGRAM
) -> Pubkey:
    """Return the associated token account of owner for mint."""
    seeds = [bytes(owner), bytes(token_program), bytes(mint)]
    return program_address(seeds, ASSOCIATED_TOKEN_PROGRAM)[0]


def create_associated_token_account_idempotent(
    payer: Pubkey, owner: Pubkey, mint: Pubkey, token_program: Pubkey = TOKEN_PROGRAM
) -> Instruction:
    """Create owner's associated token account for mint unless it exists (ATA tag 1)."""
    accounts = [
        signer(payer, mutable=True),
        writable(associated_token_address(owner, mint, token_program)),
        readonly(owner),
        readonly(mint),
        readonly(SYSTEM_PROGRAM),
        readonly(token_program),
    ]
    return Instruction(ASSOCIATED_TOKEN_PROGRAM, b"\x01", accounts)


def initialize_mint(
    mint: Pubkey,
    decimals: int,
    mint_authority: Pubkey,
    freeze_authority: Pubkey | None = None,
    token_program: Pubkey = TOKEN_PROGRAM,
) -> Instruction:
    """Initialize a created, rent-exempt account of MINT_LEN bytes as a mint (InitializeMint2)."""
    freeze = b"\0" if freeze_authority is None else b"\1" + bytes(freeze_authority)
    data = bytes([TokenInstruction.INITIALIZE_MINT2, decimals]) + bytes(mint_authority) + freeze
    return Instruction(token_program, data, [writable(mint)])


def mint_to(
    mint: Pubkey,
    destination: Pubkey,
    authority: Pubkey,
    amount: int,
    token_program: Pubkey = TOKEN_PROGRAM,
) -> Instruction:
    """Mint amount base units into destination, signed by the mint authority."""
    data = struct.pack("<BQ", TokenInstruction.MINT_TO, amount)
    accounts = [
        writable(mint),
        writable(destination),
        signer(authority),
    ]
    return Instruction(token_program, data, accounts)


def transfer(
    source: Pubkey,
    destination: Pubkey,
    owner: Pubkey,
    amount: int,
    token_program: Pubkey = TOKEN_PROGRAM,
) -> Instruction:
    """Move amount base units between two token accounts of one mint, signed by the owner."""
    data = struct.pack("<BQ", TokenInstruction.TRANSFER, amount)
    accounts = [
        writable(source),
        writable(destination),
        signer(owner),
    ]
    return Instruction(token_program, data, accounts)


def transfer_checked(
    source: Pubkey,
    mint: Pubkey,
    destination: Pubkey,
    owner: Pubkey,
    *,
    amount: int,
    decimals: int,
    token_program: Pubkey = TOKEN_PROGRAM,
) -> Instruction:
    """Move amount base units, the program checking the mint and its decimals."""
    data = struct.pack("<BQB", TokenInstruction.TRANSFER_CHECKED, amount, decimals)
    accounts = [
        writable(source),
        readonly(mint),
        writable(destination),
        signer(owner),
    ]
    return Instruction(token_program, data, accounts)


def sync_native(account: Pubkey, token_program: Pubkey = TOKEN_PROGRAM) -> Instruction:
    """Set a wrapped-SOL account's token amount to its lamports above the rent reserve."""
    data = bytes([TokenInstruction.SYNC_NATIVE])
    return Instruction(token_program, data, [writable(account)])


def close_account(
    account: Pubkey, destination: Pubkey, owner: Pubkey, token_program: Pubkey = TOKEN_PROGRAM
) -> Instruction:
    """Close an empty token account (or any wrapped-SOL one), its lamports to destination."""
    accounts = [
        writable(account),
        writable(destination),
        signer(owner),
    ]
    return Instruction(token_program, bytes([TokenInstruction.CLOSE_ACCOUNT]), accounts)


def memo(text: str, signers: tuple[Pubkey, ...] = ()) -> Instruction:
    """Write text into the transaction's logs with the Memo program (an order id, a label)."""
    accounts = [signer(s) for s in signers]
    return Instruction(MEMO_PROGRAM, text.encode(), accounts)

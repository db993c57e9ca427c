"""The Whirlpool instructions that make a pool and its liquidity, and the Position layout.

Accounts and arguments as the February 2025 build declares them (orca-so/whirlpools
``programs/whirlpool/src/instructions/``: ``initialize_config``, ``initialize_fee_tier``,
``initialize_pool``, ``initialize_tick_array``, ``open_position``, ``increase_liquidity``).
That build lets anyone create a config, so a local chain needs no admin key.
"""

from __future__ import annotations

from dataclasses import dataclass

from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey

from eterna.adapters.solana.anchor import (
    Reader,
    encode_args,
    expect_account,
    instruction_discriminator,
)
from eterna.adapters.solana.ids import (
    ASSOCIATED_TOKEN_PROGRAM,
    RENT_SYSVAR,
    SYSTEM_PROGRAM,
    TOKEN_PROGRAM,
    WHIRLPOOL_PROGRAM,
)
from eterna.adapters.solana.instruction import readonly, signer, writable
from eterna.adapters.solana.spl import associated_token_address
from eterna.adapters.solana.whirlpool import (
    fee_tier_address,
    position_pda,
    tick_array_address,
    whirlpool_pda,
)

POSITION_LEN = 216
MAX_FEE_RATE = 60_000  # hundredths of a bp: 6 %
MAX_PROTOCOL_FEE_RATE = 2_500  # bps of the fee: 25 %


@dataclass(frozen=True, slots=True)
class PositionState:
    """A decoded ``Position``: its pool, range and liquidity."""

    whirlpool: Pubkey
    position_mint: Pubkey
    liquidity: int
    tick_lower: int
    tick_upper: int


def decode_position(data: bytes) -> PositionState:
    """Decode a Position account.

    :raises AccountLayoutError: when data is not one.
    """
    expect_account(data, "Position", POSITION_LEN)
    r = Reader(data, 8)
    return PositionState(r.pubkey(), r.pubkey(), r.u128(), r.i32(), r.i32())


def _ix(name: str, args: bytes, *accounts: AccountMeta) -> Instruction:
    return Instruction(WHIRLPOOL_PROGRAM, instruction_discriminator(name) + args, list(accounts))


def initialize_config(
    config: Pubkey, funder: Pubkey, authority: Pubkey, default_protocol_fee_rate: int
) -> Instruction:
    """Create a config (config signs) with authority holding every role."""
    args = bytes(authority) * 3 + encode_args("H", default_protocol_fee_rate)
    return _ix(
        "initialize_config",
        args,
        signer(config, mutable=True),
        signer(funder, mutable=True),
        readonly(SYSTEM_PROGRAM),
    )


def initialize_fee_tier(
    config: Pubkey, funder: Pubkey, fee_authority: Pubkey, tick_spacing: int, fee_rate: int
) -> Instruction:
    """Create the config's fee tier for tick_spacing with a default fee rate."""
    return _ix(
        "initialize_fee_tier",
        encode_args("HH", tick_spacing, fee_rate),
        readonly(config),
        writable(fee_tier_address(config, tick_spacing)),
        signer(funder, mutable=True),
        signer(fee_authority),
        readonly(SYSTEM_PROGRAM),
    )


def initialize_pool(
    config: Pubkey,
    mints: tuple[Pubkey, Pubkey],
    vaults: tuple[Pubkey, Pubkey],
    funder: Pubkey,
    *,
    tick_spacing: int,
    sqrt_price_x64: int,
) -> Instruction:
    """Create the pool of mints (A < B) at a sqrt price; the two vault keypairs sign."""
    mint_a, mint_b = mints
    pool, bump = whirlpool_pda(config, mint_a, mint_b, tick_spacing)
    args = bytes([bump]) + encode_args("H", tick_spacing) + sqrt_price_x64.to_bytes(16, "little")
    return _ix(
        "initialize_pool",
        args,
        readonly(config),
        readonly(mint_a),
        readonly(mint_b),
        signer(funder, mutable=True),
        writable(pool),
        signer(vaults[0], mutable=True),
        signer(vaults[1], mutable=True),
        readonly(fee_tier_address(config, tick_spacing)),
        readonly(TOKEN_PROGRAM),
        readonly(SYSTEM_PROGRAM),
        readonly(RENT_SYSVAR),
    )


def initialize_tick_array(whirlpool: Pubkey, funder: Pubkey, start_tick_index: int) -> Instruction:
    """Create the pool's tick array starting at start_tick_index."""
    return _ix(
        "initialize_tick_array",
        encode_args("i", start_tick_index),
        readonly(whirlpool),
        signer(funder, mutable=True),
        writable(tick_array_address(whirlpool, start_tick_index)),
        readonly(SYSTEM_PROGRAM),
    )


def open_position(
    whirlpool: Pubkey, funder: Pubkey, owner: Pubkey, position_mint: Pubkey, ticks: tuple[int, int]
) -> Instruction:
    """Open an empty position over ticks (lower, upper) owned by owner; its mint signs."""
    position, bump = position_pda(position_mint)
    return _ix(
        "open_position",
        bytes([bump]) + encode_args("ii", *ticks),
        signer(funder, mutable=True),
        readonly(owner),
        writable(position),
        signer(position_mint, mutable=True),
        writable(associated_token_address(owner, position_mint, TOKEN_PROGRAM)),
        readonly(whirlpool),
        readonly(TOKEN_PROGRAM),
        readonly(SYSTEM_PROGRAM),
        readonly(RENT_SYSVAR),
        readonly(ASSOCIATED_TOKEN_PROGRAM),
    )


@dataclass(frozen=True, slots=True)
class Deposit:
    """Where an ``increase_liquidity`` takes its tokens from and puts them."""

    owner: Pubkey
    owner_account_a: Pubkey
    owner_account_b: Pubkey
    vault_a: Pubkey
    vault_b: Pubkey


def increase_liquidity(
    whirlpool: Pubkey,
    position_mint: Pubkey,
    deposit: Deposit,
    *,
    range_arrays: tuple[int, int],
    liquidity: int,
    token_max: tuple[int, int],
) -> Instruction:
    """Add liquidity to the position of position_mint; range_arrays hold its two ticks."""
    args = liquidity.to_bytes(16, "little") + encode_args("QQ", *token_max)
    return _ix(
        "increase_liquidity",
        args,
        writable(whirlpool),
        readonly(TOKEN_PROGRAM),
        signer(deposit.owner),
        writable(position_pda(position_mint)[0]),
        readonly(associated_token_address(deposit.owner, position_mint, TOKEN_PROGRAM)),
        writable(deposit.owner_account_a),
        writable(deposit.owner_account_b),
        writable(deposit.vault_a),
        writable(deposit.vault_b),
        writable(tick_array_address(whirlpool, range_arrays[0])),
        writable(tick_array_address(whirlpool, range_arrays[1])),
    )

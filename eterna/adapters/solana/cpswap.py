"""Raydium CP-Swap: account layouts, PDAs, the swap and initialize instructions, pool math.

Layouts follow raydium-io/raydium-cp-swap ``programs/cp-swap/src/states/`` at 0011e63, the
last source before creator fees (the code of swap, pool and config is the same back to
183ddbb), which is the build the local chain runs; tests/chain decodes accounts the binary
wrote to confirm every offset. ``PoolState`` is zero-copy (``repr(C, packed)``), ``AmmConfig``
Borsh; both little-endian after the 8-byte Anchor discriminator.

The program's id differs by cluster (devnet's build declares another: clusters.py); every PDA
and instruction here takes it as ``program``, the mainnet (and local chain) id by default.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import Final

from solders.instruction import Instruction
from solders.pubkey import Pubkey

from eterna.adapters.solana.anchor import Reader, account_discriminator, expect_account
from eterna.adapters.solana.anchor import instruction_discriminator as ix_tag
from eterna.adapters.solana.ids import (
    ASSOCIATED_TOKEN_PROGRAM,
    CPSWAP_PROGRAM,
    RENT_SYSVAR,
    SYSTEM_PROGRAM,
    TOKEN_PROGRAM,
)
from eterna.adapters.solana.instruction import readonly, signer, writable
from eterna.adapters.solana.pda import program_address
from eterna.adapters.solana.spl import associated_token_address
from eterna.amm.constant_product import ConstantProductPool

PROGRAM: Final = CPSWAP_PROGRAM
# The program's hard-coded receiver of the pool-creation fee (a wrapped-SOL token account).
CREATE_POOL_FEE_RECEIVER: Final = Pubkey.from_string("DNXgeM9EiiaAbaWvwjHj9fQQLAX5ZsfHyvmYUNRAdNC8")
AMM_CONFIG_LEN: Final = 236
POOL_STATE_LEN: Final = 637
SWAP_DISABLED_BIT: Final = 1 << 2  # PoolStatusBitIndex::Swap


class ErrorCode(IntEnum):
    """The program's custom error codes (``error.rs``: Anchor numbers them from 6000)."""

    NOT_APPROVED = 6000  # swaps disabled, or before the pool's open_time
    INVALID_OWNER = 6001
    EMPTY_SUPPLY = 6002
    INVALID_INPUT = 6003
    INCORRECT_LP_MINT = 6004
    EXCEEDED_SLIPPAGE = 6005
    ZERO_TRADING_TOKENS = 6006
    NOT_SUPPORT_MINT = 6007
    INVALID_VAULT = 6008
    INIT_LP_AMOUNT_TOO_LESS = 6009


@dataclass(frozen=True, slots=True)
class AmmConfig:
    """A fee configuration pools belong to; rates in millionths (of the amount, of the fee)."""

    bump: int
    disable_create_pool: bool
    index: int
    trade_fee_rate: int
    protocol_fee_rate: int
    fund_fee_rate: int
    create_pool_fee: int
    protocol_owner: Pubkey
    fund_owner: Pubkey


@dataclass(frozen=True, slots=True)
class PoolState:
    """The fields of a pool the swap reads: its accounts, status, owed fees and open time."""

    amm_config: Pubkey
    pool_creator: Pubkey
    token_0_vault: Pubkey
    token_1_vault: Pubkey
    lp_mint: Pubkey
    token_0_mint: Pubkey
    token_1_mint: Pubkey
    token_0_program: Pubkey
    token_1_program: Pubkey
    observation_key: Pubkey
    auth_bump: int
    status: int
    lp_mint_decimals: int
    mint_0_decimals: int
    mint_1_decimals: int
    lp_supply: int
    protocol_fees_token_0: int
    protocol_fees_token_1: int
    fund_fees_token_0: int
    fund_fees_token_1: int
    open_time: int
    recent_epoch: int

    @property
    def swap_enabled(self) -> bool:
        """Tell whether the pool's status lets swaps through."""
        return not self.status & SWAP_DISABLED_BIT


def decode_amm_config(data: bytes) -> AmmConfig:
    """Decode an AmmConfig account."""
    expect_account(data, "AmmConfig", AMM_CONFIG_LEN)
    r = Reader(data, 8)
    return AmmConfig(
        bump=r.u8(),
        disable_create_pool=r.boolean(),
        index=r.u16(),
        trade_fee_rate=r.u64(),
        protocol_fee_rate=r.u64(),
        fund_fee_rate=r.u64(),
        create_pool_fee=r.u64(),
        protocol_owner=r.pubkey(),
        fund_owner=r.pubkey(),
    )


def encode_amm_config(config: AmmConfig) -> bytes:
    """Return the bytes of an AmmConfig account (only its admin can create one on a cluster)."""
    body = struct.pack(
        "<B?HQQQQ",
        config.bump,
        config.disable_create_pool,
        config.index,
        config.trade_fee_rate,
        config.protocol_fee_rate,
        config.fund_fee_rate,
        config.create_pool_fee,
    )
    body += bytes(config.protocol_owner) + bytes(config.fund_owner)
    data = account_discriminator("AmmConfig") + body
    return data + bytes(AMM_CONFIG_LEN - len(data))


def decode_pool_state(data: bytes) -> PoolState:
    """Decode a PoolState account."""
    expect_account(data, "PoolState", POOL_STATE_LEN)
    r = Reader(data, 8)
    return PoolState(
        amm_config=r.pubkey(),
        pool_creator=r.pubkey(),
        token_0_vault=r.pubkey(),
        token_1_vault=r.pubkey(),
        lp_mint=r.pubkey(),
        token_0_mint=r.pubkey(),
        token_1_mint=r.pubkey(),
        token_0_program=r.pubkey(),
        token_1_program=r.pubkey(),
        observation_key=r.pubkey(),
        auth_bump=r.u8(),
        status=r.u8(),
        lp_mint_decimals=r.u8(),
        mint_0_decimals=r.u8(),
        mint_1_decimals=r.u8(),
        lp_supply=r.u64(),
        protocol_fees_token_0=r.u64(),
        protocol_fees_token_1=r.u64(),
        fund_fees_token_0=r.u64(),
        fund_fees_token_1=r.u64(),
        open_time=r.u64(),
        recent_epoch=r.u64(),
    )


def amm_config_address(index: int, program: Pubkey = PROGRAM) -> Pubkey:
    """Return the AmmConfig PDA of a config index."""
    return program_address([b"amm_config", struct.pack(">H", index)], program)[0]


def authority_address(program: Pubkey = PROGRAM) -> Pubkey:
    """Return the PDA that owns every vault and the LP mints."""
    return program_address([b"vault_and_lp_mint_auth_seed"], program)[0]


def pool_address(
    amm_config: Pubkey, token_0_mint: Pubkey, token_1_mint: Pubkey, program: Pubkey = PROGRAM
) -> Pubkey:
    """Return the PDA of the pool of a config and an ordered mint pair."""
    seeds = [b"pool", bytes(amm_config), bytes(token_0_mint), bytes(token_1_mint)]
    return program_address(seeds, program)[0]


def vault_address(pool: Pubkey, mint: Pubkey, program: Pubkey = PROGRAM) -> Pubkey:
    """Return the PDA of a pool's vault for one of its mints."""
    return program_address([b"pool_vault", bytes(pool), bytes(mint)], program)[0]


def lp_mint_address(pool: Pubkey, program: Pubkey = PROGRAM) -> Pubkey:
    """Return the PDA of a pool's LP mint."""
    return program_address([b"pool_lp_mint", bytes(pool)], program)[0]


def observation_address(pool: Pubkey, program: Pubkey = PROGRAM) -> Pubkey:
    """Return the PDA of a pool's oracle observations."""
    return program_address([b"observation", bytes(pool)], program)[0]


def pool_math(
    pool: PoolState, config: AmmConfig, vault_0_amount: int, vault_1_amount: int
) -> ConstantProductPool:
    """Return our math's state of a pool: token 0 is A, reserves net of the fees it owes."""
    return ConstantProductPool(
        reserve_a=vault_0_amount - pool.protocol_fees_token_0 - pool.fund_fees_token_0,
        reserve_b=vault_1_amount - pool.protocol_fees_token_1 - pool.fund_fees_token_1,
        trade_fee_rate=config.trade_fee_rate,
        protocol_fee_rate=config.protocol_fee_rate,
        fund_fee_rate=config.fund_fee_rate,
    )


def swap_base_input(
    pool_id: Pubkey,
    pool: PoolState,
    *,
    payer: Pubkey,
    zero_for_one: bool,
    input_account: Pubkey,
    output_account: Pubkey,
    amount_in: int,
    minimum_amount_out: int,
    program: Pubkey = PROGRAM,
) -> Instruction:
    """Swap exactly amount_in of one of the pool's tokens, refusing less than the minimum.

    program: the CP-Swap id of the cluster (devnet's is not mainnet's); the pools' authority
    is derived from it.
    """
    if zero_for_one:
        vaults = (pool.token_0_vault, pool.token_1_vault)
        mints = (pool.token_0_mint, pool.token_1_mint)
        programs = (pool.token_0_program, pool.token_1_program)
    else:
        vaults = (pool.token_1_vault, pool.token_0_vault)
        mints = (pool.token_1_mint, pool.token_0_mint)
        programs = (pool.token_1_program, pool.token_0_program)
    accounts = [
        signer(payer),
        readonly(authority_address(program)),
        readonly(pool.amm_config),
        writable(pool_id),
        writable(input_account),
        writable(output_account),
        writable(vaults[0]),
        writable(vaults[1]),
        readonly(programs[0]),
        readonly(programs[1]),
        readonly(mints[0]),
        readonly(mints[1]),
        writable(pool.observation_key),
    ]
    data = ix_tag("swap_base_input") + struct.pack("<QQ", amount_in, minimum_amount_out)
    return Instruction(program, data, accounts)


def initialize(
    creator: Pubkey,
    amm_config: Pubkey,
    mints: tuple[Pubkey, Pubkey],
    creator_accounts: tuple[Pubkey, Pubkey],
    amounts: tuple[int, int],
    *,
    open_time: int = 0,
    token_programs: tuple[Pubkey, Pubkey] = (TOKEN_PROGRAM, TOKEN_PROGRAM),
    program: Pubkey = PROGRAM,
) -> Instruction:
    """Create the pool of an ordered mint pair with its first liquidity (permissionless).

    The program opens the pool no earlier than one second after the current clock. program:
    its id on the cluster, from which every PDA is derived.
    """
    pool = pool_address(amm_config, *mints, program)
    lp_mint = lp_mint_address(pool, program)
    accounts = [
        signer(creator, mutable=True),
        readonly(amm_config),
        readonly(authority_address(program)),
        writable(pool),
        readonly(mints[0]),
        readonly(mints[1]),
        writable(lp_mint),
        writable(creator_accounts[0]),
        writable(creator_accounts[1]),
        writable(associated_token_address(creator, lp_mint)),
        writable(vault_address(pool, mints[0], program)),
        writable(vault_address(pool, mints[1], program)),
        writable(CREATE_POOL_FEE_RECEIVER),
        writable(observation_address(pool, program)),
        readonly(TOKEN_PROGRAM),
        readonly(token_programs[0]),
        readonly(token_programs[1]),
        readonly(ASSOCIATED_TOKEN_PROGRAM),
        readonly(SYSTEM_PROGRAM),
        readonly(RENT_SYSVAR),
    ]
    data = ix_tag("initialize") + struct.pack("<QQQ", *amounts, open_time)
    return Instruction(program, data, accounts)

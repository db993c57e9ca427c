"""Raydium CP-Swap pools on the local chain, created by the program's own ``initialize``.

Two things the program does not let anyone do are written directly: the ``AmmConfig`` (only
Raydium's hard-coded admin may create one) and the pool-creation fee receiver, a token account
at a hard-coded address that ``initialize`` requires to exist. Everything else - vaults, LP
mint, pool state, observations, the first liquidity - is the program's work.
"""

from __future__ import annotations

from dataclasses import dataclass

from solders.keypair import Keypair
from solders.pubkey import Pubkey

from eterna.adapters.localchain.svm import LocalChain
from eterna.adapters.solana import cpswap
from eterna.adapters.solana.ids import TOKEN_PROGRAM, WSOL_MINT
from eterna.adapters.solana.spl import AccountState, TokenAccountInfo, encode_token_account
from eterna.amm.constant_product import FEE_RATE_DENOMINATOR, ConstantProductPool

# The program's lowest compute budget that fits initialize (vaults, LP mint, ATA) with room.
INITIALIZE_COMPUTE_UNITS = 400_000


@dataclass(frozen=True, slots=True)
class CpswapPool:
    """The addresses of one CP-Swap pool: state, config, ordered mints and vaults."""

    address: Pubkey
    config: Pubkey
    mint_0: Pubkey
    mint_1: Pubkey
    vault_0: Pubkey
    vault_1: Pubkey


@dataclass(frozen=True, slots=True)
class CpswapSnapshot:
    """A pool read from the chain: its decoded accounts, vault balances and our math's state."""

    state: cpswap.PoolState
    config: cpswap.AmmConfig
    vault_0_amount: int
    vault_1_amount: int

    @property
    def math(self) -> ConstantProductPool:
        """Return our math's state of the pool (token 0 is A)."""
        return cpswap.pool_math(self.state, self.config, self.vault_0_amount, self.vault_1_amount)


def put_amm_config(
    chain: LocalChain,
    index: int,
    *,
    trade_fee_rate: int,
    protocol_fee_rate: int = 0,
    fund_fee_rate: int = 0,
    program: Pubkey = cpswap.PROGRAM,
) -> Pubkey:
    """Write the AmmConfig of an index (rates in millionths), as Raydium's admin would.

    program: the id the chain runs CP-Swap at (the config is its PDA and its account).
    """
    if not 0 <= trade_fee_rate < FEE_RATE_DENOMINATOR:
        raise ValueError("trade_fee_rate must be below 1,000,000")
    if protocol_fee_rate < 0 or fund_fee_rate < 0:
        raise ValueError("fee shares cannot be negative")
    if protocol_fee_rate + fund_fee_rate > FEE_RATE_DENOMINATOR:
        raise ValueError("protocol and fund shares cannot exceed the whole fee")
    address, bump = Pubkey.find_program_address([b"amm_config", index.to_bytes(2, "big")], program)
    config = cpswap.AmmConfig(
        bump=bump,
        disable_create_pool=False,
        index=index,
        trade_fee_rate=trade_fee_rate,
        protocol_fee_rate=protocol_fee_rate,
        fund_fee_rate=fund_fee_rate,
        create_pool_fee=0,
        protocol_owner=chain.faucet.pubkey(),
        fund_owner=chain.faucet.pubkey(),
    )
    chain.put_account(address, cpswap.encode_amm_config(config), program)
    return address


def put_create_pool_fee_receiver(chain: LocalChain) -> None:
    """Write the wrapped-SOL account ``initialize`` insists on, unless it exists."""
    if chain.account(cpswap.CREATE_POOL_FEE_RECEIVER) is not None:
        return
    reserve = chain.rent_exempt(165)
    account = TokenAccountInfo(
        mint=WSOL_MINT,
        owner=chain.faucet.pubkey(),
        amount=0,
        delegate=None,
        state=AccountState.INITIALIZED,
        native_reserve=reserve,
        delegated_amount=0,
        close_authority=None,
    )
    chain.put_account(
        cpswap.CREATE_POOL_FEE_RECEIVER,
        encode_token_account(account),
        TOKEN_PROGRAM,
        lamports=reserve,
    )


def create_pool(
    chain: LocalChain,
    config: Pubkey,
    first: tuple[Pubkey, int],
    second: tuple[Pubkey, int],
    *,
    creator: Keypair | None = None,
    program: Pubkey = cpswap.PROGRAM,
) -> CpswapPool:
    """Create the pool of two mints holding the given amounts, through ``initialize``.

    The mints may come in any order. The creator (a new wallet by default) is funded by the
    faucet and keeps the LP tokens. The pool opens one second after the clock: advance it.
    program: the id the chain runs CP-Swap at (the pool's PDAs are derived from it).
    """
    put_create_pool_fee_receiver(chain)
    (mint_0, amount_0), (mint_1, amount_1) = sorted((first, second), key=lambda m: bytes(m[0]))
    owner = creator or chain.new_wallet()
    accounts = (
        chain.fund(owner.pubkey(), mint_0, amount_0),
        chain.fund(owner.pubkey(), mint_1, amount_1),
    )
    ix = cpswap.initialize(
        owner.pubkey(),
        config,
        (mint_0, mint_1),
        accounts,
        (amount_0, amount_1),
        token_programs=(chain.token_program_of(mint_0), chain.token_program_of(mint_1)),
        program=program,
    )
    chain.send([ix], payer=owner, compute_unit_limit=INITIALIZE_COMPUTE_UNITS).check()
    address = cpswap.pool_address(config, mint_0, mint_1, program)
    return CpswapPool(
        address=address,
        config=config,
        mint_0=mint_0,
        mint_1=mint_1,
        vault_0=cpswap.vault_address(address, mint_0, program),
        vault_1=cpswap.vault_address(address, mint_1, program),
    )


def read_pool(chain: LocalChain, address: Pubkey) -> CpswapSnapshot:
    """Read and decode a pool's state, its config and its vault balances from the chain."""
    state = cpswap.decode_pool_state(chain.account_data(address))
    config = cpswap.decode_amm_config(chain.account_data(state.amm_config))
    return CpswapSnapshot(
        state=state,
        config=config,
        vault_0_amount=chain.token_balance(state.token_0_vault),
        vault_1_amount=chain.token_balance(state.token_1_vault),
    )

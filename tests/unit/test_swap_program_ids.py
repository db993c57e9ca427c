"""Swap transactions call the DEX programs at the ids of the cluster they are built for."""

from __future__ import annotations

from solders.hash import Hash
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.signature import Signature

from eterna.adapters.solana import cpswap
from eterna.adapters.solana.clusters import MAINNET_PROGRAMS, Cluster, ProgramIds, programs_on
from eterna.adapters.solana.ids import CPSWAP_PROGRAM, TOKEN_PROGRAM, USDC_MINT, WSOL_MINT
from eterna.adapters.solana.legs import PlannedSwap
from eterna.adapters.solana.pools import PoolEntry
from eterna.adapters.solana.snapshots import PoolSnapshot
from eterna.adapters.solana.transactions import (
    TransactionConfig,
    build_swap_transaction,
    pool_table_addresses,
)
from eterna.amm.constant_product import ConstantProductPool
from eterna.domain.tokens import SOL, USDC

DEVNET_CPSWAP = Pubkey.from_string("DRaycpLY18LhpbydsBWbVJtxpNv9oXPgjRSfpF2bWpYb")


def key(n: int) -> Pubkey:
    return Pubkey.from_bytes(n.to_bytes(32, "big"))


def cpswap_swap() -> PlannedSwap:
    state = cpswap.PoolState(
        amm_config=key(1),
        pool_creator=key(2),
        token_0_vault=key(3),
        token_1_vault=key(4),
        lp_mint=key(5),
        token_0_mint=WSOL_MINT,
        token_1_mint=USDC_MINT,
        token_0_program=TOKEN_PROGRAM,
        token_1_program=TOKEN_PROGRAM,
        observation_key=key(6),
        auth_bump=255,
        status=0,
        lp_mint_decimals=9,
        mint_0_decimals=9,
        mint_1_decimals=6,
        lp_supply=10**12,
        protocol_fees_token_0=0,
        protocol_fees_token_1=0,
        fund_fees_token_0=0,
        fund_fees_token_1=0,
        open_time=0,
        recent_epoch=0,
    )
    entry = PoolEntry("raydium", CPSWAP_PROGRAM, key(7), SOL, USDC)
    snapshot = PoolSnapshot(
        entry,
        slot=1,
        unix_time=0,
        math=ConstantProductPool(10**12, 10**11),
        state=state,
        vaults=(key(3), key(4)),
        reserves=(10**12, 10**11),
    )
    return PlannedSwap(snapshot, True, WSOL_MINT, USDC_MINT, 10**9, 10**8, 10**8)


def swap_call(program_ids: ProgramIds | None) -> tuple[Pubkey, list[Pubkey]]:
    """Return the program the swap instruction calls, and its accounts (None: the default)."""
    swaps, wallet, config = [cpswap_swap()], Keypair.from_seed(bytes(32)), TransactionConfig()
    if program_ids is None:
        built = build_swap_transaction(
            swaps, wallet=wallet, memo_text="order-1", blockhash=Hash.default(), config=config
        )
    else:
        built = build_swap_transaction(
            swaps,
            wallet=wallet,
            memo_text="order-1",
            blockhash=Hash.default(),
            config=config,
            program_ids=program_ids,
        )
    message = built.transaction.message
    keys = message.account_keys
    for instruction in message.instructions:
        program = keys[instruction.program_id_index]
        if program in (CPSWAP_PROGRAM, DEVNET_CPSWAP):
            return program, [keys[i] for i in bytes(instruction.accounts)]
    raise AssertionError("no CP-Swap instruction")


def test_devnet_swaps_call_the_devnet_cpswap_program_and_its_authority() -> None:
    program, accounts = swap_call(programs_on(Cluster.DEVNET))

    assert program == DEVNET_CPSWAP
    assert accounts[1] == cpswap.authority_address(DEVNET_CPSWAP)
    assert accounts[1] != cpswap.authority_address()


def test_mainnet_and_the_local_chain_keep_the_mainnet_id() -> None:
    for program_ids in (None, MAINNET_PROGRAMS, programs_on(Cluster.LOCALNET)):
        program, accounts = swap_call(program_ids)

        assert program == CPSWAP_PROGRAM
        assert accounts[1] == cpswap.authority_address()


def test_a_pools_table_holds_the_authority_of_its_clusters_cpswap() -> None:
    snapshot = cpswap_swap().snapshot

    on_devnet = pool_table_addresses(snapshot, programs_on(Cluster.DEVNET))
    on_mainnet = pool_table_addresses(snapshot)

    assert cpswap.authority_address(DEVNET_CPSWAP) in on_devnet
    assert cpswap.authority_address() not in on_devnet
    assert cpswap.authority_address() in on_mainnet
    assert DEVNET_CPSWAP not in on_devnet  # a called program is never looked up


def test_an_unsigned_build_is_the_same_message_with_zero_signatures() -> None:
    swaps, wallet, config = [cpswap_swap()], Keypair.from_seed(bytes(32)), TransactionConfig()
    common = {"wallet": wallet, "memo_text": "order-1", "blockhash": Hash.default()}
    signed = build_swap_transaction(swaps, config=config, **common)  # type: ignore[arg-type]
    unsigned = build_swap_transaction(swaps, config=config, signed=False, **common)  # type: ignore[arg-type]
    assert unsigned.transaction.message == signed.transaction.message
    assert unsigned.transaction.signatures == [Signature.default()]
    assert signed.transaction.verify_with_results() == [True]
    assert len(unsigned.wire) == len(signed.wire)

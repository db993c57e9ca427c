"""Pools are recognised by the program ids of the node's cluster (CP-Swap's differ on devnet)."""

from __future__ import annotations

import pytest
from solders.pubkey import Pubkey

from eterna.adapters.solana import cpswap
from eterna.adapters.solana.anchor import account_discriminator
from eterna.adapters.solana.clusters import (
    MAINNET_PROGRAMS,
    PROGRAM_IDS,
    Cluster,
    clusters_running,
    is_venue_program,
    programs_on,
)
from eterna.adapters.solana.discovery import kinds_for, pool_kind, pool_kinds, pool_mints
from eterna.adapters.solana.ids import (
    CPSWAP_PROGRAM,
    DLMM_PROGRAM,
    USDC_MINT,
    WHIRLPOOL_PROGRAM,
    WSOL_MINT,
)
from eterna.adapters.solana.pool_list import (
    MINT_OFFSETS,
    InvalidPoolError,
    discovery_filters,
    validate_pool,
)
from eterna.adapters.solana.pools import PoolEntry
from eterna.adapters.solana.rpc import AccountInfo, MemcmpFilter
from eterna.domain.tokens import SOL, USDC

DEVNET = programs_on(Cluster.DEVNET)
DEVNET_CPSWAP = Pubkey.from_string("DRaycpLY18LhpbydsBWbVJtxpNv9oXPgjRSfpF2bWpYb")
# PoolState: discriminator, ten pubkeys, auth_bump, then the status byte.
STATUS_AT = 8 + 10 * 32 + 1


def cpswap_pool(owner: Pubkey, *, status: int = 0) -> AccountInfo:
    """Return a CP-Swap PoolState account of SOL/USDC owned by owner."""
    data = bytearray(cpswap.POOL_STATE_LEN)
    data[:8] = account_discriminator("PoolState")
    mint_0, mint_1 = MINT_OFFSETS["raydium"]
    data[mint_0 : mint_0 + 32] = bytes(WSOL_MINT)
    data[mint_1 : mint_1 + 32] = bytes(USDC_MINT)
    data[STATUS_AT] = status
    return AccountInfo(10**7, owner, bytes(data), False, 0, len(data))


def test_the_devnet_table_names_devnets_cpswap_and_the_shared_programs() -> None:
    assert DEVNET.raydium == DEVNET_CPSWAP
    assert DEVNET.venue_of(DEVNET_CPSWAP) == "raydium"
    assert DEVNET.venue_of(CPSWAP_PROGRAM) is None
    assert DEVNET.venue_of(WHIRLPOOL_PROGRAM) == "orca"
    assert DEVNET.program_of("meteora") == DLMM_PROGRAM
    assert MAINNET_PROGRAMS.venue_of(DEVNET_CPSWAP) is None
    assert programs_on(Cluster.LOCALNET) == MAINNET_PROGRAMS
    with pytest.raises(KeyError):
        DEVNET.program_of("serum")


def test_which_clusters_run_an_id() -> None:
    assert clusters_running(DEVNET_CPSWAP) == [Cluster.DEVNET]
    assert clusters_running(CPSWAP_PROGRAM) == [Cluster.MAINNET, Cluster.LOCALNET]
    assert clusters_running(WHIRLPOOL_PROGRAM) == list(PROGRAM_IDS)
    assert clusters_running(USDC_MINT) == []


def test_an_entry_names_its_venues_program_on_some_cluster() -> None:
    assert is_venue_program("raydium", DEVNET_CPSWAP)
    assert is_venue_program("raydium", CPSWAP_PROGRAM)
    assert not is_venue_program("orca", DEVNET_CPSWAP)
    assert PoolEntry("raydium", DEVNET_CPSWAP, Pubkey.new_unique(), SOL, USDC).program == (
        DEVNET_CPSWAP
    )
    with pytest.raises(ValueError, match="is not the program"):
        PoolEntry("orca", DEVNET_CPSWAP, Pubkey.new_unique(), SOL, USDC)


def test_pool_kinds_are_at_the_clusters_ids_with_the_same_filters() -> None:
    devnet = {k.venue: k for k in pool_kinds(DEVNET)}
    mainnet = {k.venue: k for k in pool_kinds(MAINNET_PROGRAMS)}
    assert devnet["raydium"].program == DEVNET_CPSWAP
    assert mainnet["raydium"].program == CPSWAP_PROGRAM
    for venue in ("raydium", "orca", "meteora"):
        assert devnet[venue].filters == mainnet[venue].filters
    assert devnet["orca"].program == mainnet["orca"].program == WHIRLPOOL_PROGRAM
    assert pool_kind(CPSWAP_PROGRAM, DEVNET) is None
    assert pool_kind(DEVNET_CPSWAP, MAINNET_PROGRAMS) is None
    kind = pool_kind(DEVNET_CPSWAP, DEVNET)
    assert kind is not None
    assert kind.venue == "raydium"
    assert [k.program for k in kinds_for(["raydium", "meteora"], DEVNET)] == [
        DEVNET_CPSWAP,
        DLMM_PROGRAM,
    ]
    filters = discovery_filters(kind, USDC_MINT)
    assert [f[-1] for f in filters] == [
        MemcmpFilter(168, bytes(USDC_MINT)),
        MemcmpFilter(200, bytes(USDC_MINT)),
    ]


def test_validation_takes_a_pool_of_the_clusters_cpswap_only() -> None:
    address = Pubkey.new_unique()
    on_devnet = cpswap_pool(DEVNET_CPSWAP)
    on_mainnet = cpswap_pool(CPSWAP_PROGRAM)

    assert validate_pool(address, on_devnet, DEVNET) == (WSOL_MINT, USDC_MINT)
    assert validate_pool(address, on_mainnet, MAINNET_PROGRAMS) == (WSOL_MINT, USDC_MINT)
    with pytest.raises(InvalidPoolError, match="on mainnet, localnet, not on this cluster"):
        validate_pool(address, on_mainnet, DEVNET)
    with pytest.raises(InvalidPoolError, match="on devnet, not on this cluster"):
        validate_pool(address, on_devnet, MAINNET_PROGRAMS)
    with pytest.raises(InvalidPoolError, match="swaps are disabled"):
        validate_pool(address, cpswap_pool(DEVNET_CPSWAP, status=cpswap.SWAP_DISABLED_BIT), DEVNET)
    stranger = cpswap_pool(Pubkey.new_unique())
    with pytest.raises(InvalidPoolError, match=r"not a DEX program$"):
        validate_pool(address, stranger, DEVNET)


def test_mints_are_read_by_venue_whatever_the_id() -> None:
    assert pool_mints("raydium", cpswap_pool(DEVNET_CPSWAP).data) == (WSOL_MINT, USDC_MINT)

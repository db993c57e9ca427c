"""The pool registry of a real cluster, against the local chain over JSON-RPC.

A pools file lists pools by address and tokens whose pools are discovered with
getProgramAccounts (size, discriminator and mint filters per program); every pool is
validated (owner, layout, swaps enabled), tokens get their decimals from the mint accounts,
and a refresh adds and drops pools as the chain changes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from solders.pubkey import Pubkey

from eterna.adapters.localchain.node import LocalNode
from eterna.adapters.localchain.programs import ProgramFile
from eterna.adapters.solana.clusters import MAINNET_PROGRAMS
from eterna.adapters.solana.discovery import pool_mints
from eterna.adapters.solana.ids import CPSWAP_PROGRAM, USDC_MINT, WSOL_MINT
from eterna.adapters.solana.pool_list import (
    MINT_OFFSETS,
    ClusterPools,
    PoolList,
    PoolListError,
    read_pool_list,
)
from eterna.domain.tokens import BONK, SOL, USDC
from eterna.entrypoints.config import Settings
from eterna.entrypoints.market import open_chain
from tests.chain.eterna_support import registry_of
from tests.chain.node_support import manual_node, pool_of
from tests.chain.rpc_support import http_rpc, served

pytestmark = pytest.mark.anyio

# PoolState: discriminator, ten pubkeys, auth_bump, then the status byte.
CPSWAP_STATUS_OFFSET = 8 + 10 * 32 + 1
SWAP_DISABLED = 4


def _set_cpswap_status(node: LocalNode, pool: Pubkey, status: int) -> None:
    account = node.chain.account(pool)
    assert account is not None
    data = bytearray(account.data)
    data[CPSWAP_STATUS_OFFSET] = status
    node.chain.put_account(pool, bytes(data), account.owner, lamports=account.lamports)


async def test_discovery_finds_every_pool_between_the_listed_tokens(
    program_files: list[ProgramFile],
) -> None:
    node = manual_node(program_files)
    expected = {e.address: e for e in registry_of(node) if set(e.mints) <= {SOL.mint, USDC.mint}}
    listed = PoolList(symbols={WSOL_MINT: "SOL", USDC_MINT: None}, discover=True)
    async with http_rpc(node) as (rpc, _):
        entries, rejected = await ClusterPools(rpc, listed, programs=MAINNET_PROGRAMS).load()

    assert {e.address for e in entries} == set(expected)
    assert {e.venue for e in entries} == {"raydium", "orca", "meteora"}
    for entry in entries:
        assert entry == expected[entry.address]  # venue, program, tokens with decimals
    assert not rejected


async def test_listed_addresses_are_validated_and_bad_ones_left_out(
    program_files: list[ProgramFile],
) -> None:
    node = manual_node(program_files)
    good = pool_of(node, "orca", SOL, USDC).address
    disabled = pool_of(node, "raydium", SOL, USDC).address
    _set_cpswap_status(node, disabled, SWAP_DISABLED)
    nothing = Pubkey.new_unique()
    listed = PoolList(pools=(good, WSOL_MINT, nothing, disabled, CPSWAP_PROGRAM))
    async with http_rpc(node) as (rpc, _):
        entries, rejected = await ClusterPools(rpc, listed, programs=MAINNET_PROGRAMS).load()

    assert [e.address for e in entries] == [good]
    assert entries[0].token_a.decimals == SOL.decimals
    assert "not a DEX program" in rejected[WSOL_MINT]
    assert "no account" in rejected[nothing]
    assert "swaps are disabled" in rejected[disabled]
    assert CPSWAP_PROGRAM in rejected


async def test_a_refresh_drops_a_pool_that_stopped_and_takes_it_back(
    program_files: list[ProgramFile],
) -> None:
    node = manual_node(program_files)
    pool = pool_of(node, "raydium", SOL, USDC).address
    other = pool_of(node, "meteora", SOL, USDC).address
    async with http_rpc(node) as (rpc, _):
        pools = ClusterPools(
            rpc, PoolList(pools=(pool, other)), programs=MAINNET_PROGRAMS, refresh_seconds=3600
        )
        first = await pools.start()
        try:
            assert {e.address for e in first.added} == {pool, other}
            _set_cpswap_status(node, pool, SWAP_DISABLED)
            dropped = await pools.refresh()
            assert dropped.removed == (pool,)
            assert pool not in pools.registry
            assert not pools.registry.pools("raydium", SOL.mint, USDC.mint)
            _set_cpswap_status(node, pool, 0)
            back = await pools.refresh()
            assert [e.address for e in back.added] == [pool]
            assert pools.registry.pools("raydium", SOL.mint, USDC.mint)
        finally:
            await pools.stop()


async def test_symbols_come_from_the_file_else_the_well_known_tokens(
    program_files: list[ProgramFile],
) -> None:
    node = manual_node(program_files)
    bonk = Pubkey.from_string(BONK.mint)
    listed = PoolList(symbols={WSOL_MINT: "WSOL", bonk: None}, discover=True)
    async with http_rpc(node) as (rpc, _):
        entries, _ = await ClusterPools(rpc, listed, programs=MAINNET_PROGRAMS).load()
    assert entries
    for entry in entries:
        by_mint = {t.mint: t for t in (entry.token_a, entry.token_b)}
        assert by_mint[SOL.mint].symbol == "WSOL"
        assert by_mint[BONK.mint].symbol == "BONK"
        assert by_mint[BONK.mint].decimals == BONK.decimals


def test_the_mint_offsets_are_where_each_program_keeps_its_mints(
    program_files: list[ProgramFile],
) -> None:
    node = manual_node(program_files)
    for venue in ("raydium", "orca", "meteora"):
        address = pool_of(node, venue, SOL, USDC).address
        account = node.chain.account(address)
        assert account is not None
        offsets = MINT_OFFSETS[venue]
        at = tuple(Pubkey.from_bytes(account.data[o : o + 32]) for o in offsets)
        assert at == pool_mints(venue, account.data)


def test_a_pools_file_is_read_and_a_bad_one_refused(tmp_path: Path) -> None:
    path = tmp_path / "pools.json"
    path.write_text(
        json.dumps({"pools": [str(WSOL_MINT)], "tokens": [{"mint": USDC.mint, "symbol": "USDC"}]})
    )
    listed = read_pool_list(path)
    assert listed.pools == (WSOL_MINT,)
    assert listed.symbols == {USDC_MINT: "USDC"}
    assert listed.discover
    bad_files: list[object] = [
        {"pools": ["nope"]},
        {"tokens": [{"symbol": "X"}]},
        {"pool": []},
        {},
        [],
    ]
    for bad in bad_files:
        path.write_text(json.dumps(bad))
        with pytest.raises(PoolListError):
            read_pool_list(path)
    with pytest.raises(PoolListError):
        read_pool_list(tmp_path / "missing.json")


async def test_a_process_given_a_pools_file_trades_those_pools(
    program_files: list[ProgramFile], tmp_path: Path
) -> None:
    node = manual_node(program_files)
    listed = pool_of(node, "orca", SOL, USDC).address
    path = tmp_path / "pools.json"
    path.write_text(json.dumps({"pools": [str(listed)], "discover": False}))
    async with served(node) as url:
        settings = Settings(solana_rpc_url=url, pools_file=path, pools_refresh_seconds=3600)
        link = await open_chain(settings)
        try:
            assert link.pools is not None
            assert [e.address for e in link.pools.registry] == [listed]
            quotes = await next(v for v in link.venues if v.name == "orca").quote_amounts(
                SOL, USDC, [10**9]
            )
            assert quotes[0] is not None
            assert Pubkey.from_string(quotes[0].pool) == listed
        finally:
            await link.close()

"""Eterna's Solana adapters over real HTTP and websockets: ``eterna chain``'s app on a port.

The same adapters as in the embedded mode, given HttpRpc instead of LocalRpc: a quote, the
transaction built from it, its fill, and a pool change seen through a websocket subscription;
a route of three swaps through the node's lookup tables; and the pool registry a process
that did not build the genesis reads from the chain's list.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

from eterna.adapters.localchain.programs import ProgramFile
from eterna.adapters.solana.clusters import MAINNET_PROGRAMS
from eterna.adapters.solana.gateway import SolanaGateway
from eterna.adapters.solana.http_rpc import HttpRpc
from eterna.adapters.solana.landing import LandingConfig
from eterna.adapters.solana.lookup_tables import LookupTableRegistry
from eterna.adapters.solana.market_data import SolanaMarketData
from eterna.adapters.solana.pools import PoolEntry, PoolRegistry
from eterna.adapters.solana.reader import PoolReader
from eterna.adapters.solana.venues import SolanaVenue
from eterna.domain.tokens import SOL, USDC
from eterna.routing.venues import TxState
from tests.chain.eterna_support import expected_out, registry_of, request_for, single, split
from tests.chain.node_support import manual_node, pool_of
from tests.chain.rpc_support import http_rpc, served

pytestmark = pytest.mark.anyio


async def test_quote_fill_and_pool_changes_over_http(program_files: list[ProgramFile]) -> None:
    node = manual_node(program_files)
    registry = registry_of(node)
    async with served(node) as url, httpx.AsyncClient() as client:
        rpc = HttpRpc(client, url)
        reader = PoolReader(rpc)
        gateway = SolanaGateway(rpc, registry, reader, node.wallet)
        market = SolanaMarketData(rpc, registry, reader, programs=MAINNET_PROGRAMS)
        try:
            cursor = await market.cursor()
            quotes = await SolanaVenue("meteora", registry, reader).quote_amounts(
                USDC, SOL, [100 * 10**6]
            )
            route = single(quotes[0])

            tx = await gateway.build(request_for(route))
            await gateway.send(tx)
            status = await gateway.status(tx)

            assert status.state is TxState.CONFIRMED
            assert status.amount_out == expected_out(route)
            update = await asyncio.wait_for(anext(aiter(market.updates(cursor))), 5)
            pool = pool_of(node, "meteora", SOL, USDC)
            assert update.pool.address == str(pool.address)
            assert Pubkey.from_string(quotes[0].pool) == pool.address
        finally:
            await market.stop()


async def test_the_chain_pool_list_reads_as_the_registry(program_files: list[ProgramFile]) -> None:
    node = manual_node(program_files)
    async with http_rpc(node) as (_, client):
        answer = await client.get("/admin/pools")

    entries = [PoolEntry.from_json(pool) for pool in answer.json()]

    assert PoolRegistry(entries).pools("orca", SOL.mint, USDC.mint)
    assert entries == list(registry_of(node))


async def test_three_swaps_with_lookup_tables_fill_their_quote_over_http(
    program_files: list[ProgramFile],
) -> None:
    node = manual_node(program_files)
    registry = registry_of(node)
    async with served(node) as url, httpx.AsyncClient() as client:
        rpc = HttpRpc(client, url)
        reader = PoolReader(rpc)
        gateway = SolanaGateway(
            rpc,
            registry,
            reader,
            node.wallet,
            landing=LandingConfig(simulate=True),
            lookup_tables=LookupTableRegistry(rpc, discover=True),
        )
        quotes = [
            (await SolanaVenue(v, registry, reader).quote_amounts(USDC, SOL, [10**9]))[0]
            for v in ("raydium", "orca", "meteora")
        ]
        route = split(quotes)

        tx = await gateway.build(request_for(route))
        assert tx.landing is not None
        assert tx.landing.amount_out == expected_out(route)
        await gateway.send(tx)
        status = await gateway.status(tx)

        assert status.state is TxState.CONFIRMED
        assert status.amount_out == expected_out(route)
        assert tx.wire is not None
        message = VersionedTransaction.from_bytes(tx.wire).message
        assert isinstance(message, MessageV0)
        assert message.address_table_lookups

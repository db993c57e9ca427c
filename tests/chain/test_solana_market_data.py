"""Market data on the local node: pools from accounts, changes and launches from subscriptions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from fractions import Fraction

import pytest
from solders.pubkey import Pubkey

from eterna.adapters.localchain.faults import FaultSettings
from eterna.adapters.localchain.launches import Launch
from eterna.adapters.localchain.node import LocalNode
from eterna.adapters.localchain.programs import ProgramFile
from eterna.adapters.solana.clusters import MAINNET_PROGRAMS
from eterna.adapters.solana.discovery import PoolDiscovery
from eterna.adapters.solana.market_data import SolanaMarketData
from eterna.adapters.solana.pools import PoolEntry
from eterna.domain.errors import VenueUnavailableError
from eterna.domain.tokens import SOL, USDC
from eterna.domain.triggers import MarketUpdate
from tests.chain.eterna_support import Eterna, eterna_on, eventually
from tests.chain.node_support import manual_node, pool_of

pytestmark = pytest.mark.anyio


@pytest.fixture
def node(program_files: list[ProgramFile]) -> LocalNode:
    """A node at genesis whose slots move by hand, without drift."""
    return manual_node(program_files)


@pytest.fixture
def eterna(node: LocalNode) -> Eterna:
    """Eterna's adapters over the node."""
    return eterna_on(node)


@pytest.fixture
async def market(eterna: Eterna) -> AsyncIterator[SolanaMarketData]:
    """The market data adapter, stopped after the test."""
    data = SolanaMarketData(eterna.rpc, eterna.registry, eterna.reader, programs=MAINNET_PROGRAMS)
    yield data
    await data.stop()


async def next_update(feed: AsyncIterator[MarketUpdate]) -> MarketUpdate:
    """Return the feed's next update (the test fails when none comes)."""
    return await asyncio.wait_for(anext(feed), 5)


def vault_balances(node: LocalNode, address: Pubkey) -> tuple[int, int]:
    """Return what the pool's vaults hold, read from the node's own accounts."""
    _, vault_a, vault_b = node.pool(address).accounts[:3]  # the node lists state, then vaults
    return node.chain.token_balance(vault_a), node.chain.token_balance(vault_b)


async def test_pools_of_a_mint_are_every_pool_trading_it(
    eterna: Eterna, market: SolanaMarketData
) -> None:
    pools = await market.pools_of(USDC.mint)

    expected = {str(p.address) for p in eterna.node.pools() if USDC in (p.token_a, p.token_b)}
    assert {p.address for p in pools} == expected
    for state in pools:
        address = Pubkey.from_string(state.address)
        assert (state.reserve_a, state.reserve_b) == vault_balances(eterna.node, address)
        assert state.price == eterna.node.pool_math(address).spot_price(a_to_b=True)
    assert await market.pools_of(str(Pubkey.new_unique())) == []


async def test_a_swap_after_the_cursor_is_one_changed_update(
    eterna: Eterna, market: SolanaMarketData
) -> None:
    node = eterna.node
    pool = pool_of(node, "orca", SOL, USDC)
    cursor = await market.cursor()
    before = node.pool_math(pool.address).spot_price(a_to_b=True)
    selling_a = pool.direction(Pubkey.from_string(SOL.mint))
    assert selling_a is not None

    node.move_price(pool.address, 50, a_to_b=selling_a)
    update = await next_update(aiter(market.updates(cursor)))

    assert (update.seq, update.kind, update.pool.address) == (
        cursor + 1,
        "changed",
        str(pool.address),
    )
    assert update.pool.venue == "orca"
    assert (update.pool.reserve_a, update.pool.reserve_b) == vault_balances(node, pool.address)
    assert update.pool.price is not None
    assert (update.pool.price < before) is selling_a
    assert await market.cursor() == cursor + 1


async def test_no_change_no_update(eterna: Eterna, market: SolanaMarketData) -> None:
    cursor = await market.cursor()
    feed = aiter(market.updates(cursor))
    eterna.node.advance(5)

    with pytest.raises(TimeoutError):
        await asyncio.wait_for(anext(feed), 0.2)
    assert await market.cursor() == cursor


async def test_a_launch_is_a_created_update_and_its_pool_then_quotes(
    eterna: Eterna, market: SolanaMarketData
) -> None:
    cursor = await market.cursor()
    feed = aiter(market.updates(cursor))
    launched, token = eterna.node.launch(
        Launch(
            symbol="PUMP",
            decimals=6,
            quote="USDC",
            price=Fraction(1, 100),
            liquidity=Fraction(50_000),
            venue="meteora",
        )
    )

    update = await next_update(feed)
    while update.kind != "created":  # the pool's later deposits may come first as changes
        update = await next_update(feed)

    assert update.pool.address == str(launched.address)
    assert update.pool.venue == "meteora"
    mints = {update.pool.token_a.mint, update.pool.token_b.mint}
    assert mints == {token.mint, USDC.mint}
    new = update.pool.token(token.mint)
    assert new is not None
    assert (new.decimals, new.symbol) == (6, None)
    assert launched.address in eterna.registry
    while update.pool.reserve(token.mint) == 0:  # the pair first, then its deposits
        update = await next_update(feed)
    assert update.pool.address == str(launched.address)
    quotes = await eterna.venue("meteora").quote_amounts(USDC, new, [10**6])
    assert [q.pool for q in quotes] == [str(launched.address)]
    assert quotes[0].amount_out > 0


async def test_a_start_the_node_refused_is_tried_again(
    eterna: Eterna, market: SolanaMarketData
) -> None:
    eterna.node.faults.settings = FaultSettings(error_rate=1.0)
    with pytest.raises(VenueUnavailableError):
        await market.cursor()

    eterna.node.faults.settings = FaultSettings()
    cursor = await market.cursor()
    pool = pool_of(eterna.node, "raydium", SOL, USDC)
    eterna.node.move_price(pool.address, 30, a_to_b=True)

    update = await next_update(aiter(market.updates(cursor)))
    assert update.pool.address == str(pool.address)


async def test_discovery_alone_registers_a_launch_for_a_worker_venues(eterna: Eterna) -> None:
    seen: list[PoolEntry] = []
    discovery = PoolDiscovery(
        eterna.rpc, eterna.registry, programs=MAINNET_PROGRAMS, registered=seen.append
    )
    await discovery.start()
    try:
        launched, token = eterna.node.launch(
            Launch(
                symbol="ZAP",
                decimals=9,
                quote="SOL",
                price=Fraction(1, 1_000),
                liquidity=Fraction(200),
                venue="raydium",
            )
        )
        await eventually(lambda: launched.address in eterna.registry)
    finally:
        await discovery.stop()

    assert [e.address for e in seen] == [launched.address]
    new = eterna.registry.token(token.mint)
    assert new is not None
    assert new.decimals == 9
    quotes = await eterna.venue("raydium").quote_amounts(SOL, new, [10**8])
    assert [q.pool for q in quotes] == [str(launched.address)]

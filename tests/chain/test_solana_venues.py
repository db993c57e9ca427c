"""Venue adapters on the local node: quotes from pool accounts, read at once, cached by slot."""

from __future__ import annotations

import asyncio

import pytest
from solders.pubkey import Pubkey

from eterna.adapters.localchain.faults import FaultSettings
from eterna.adapters.localchain.node import LocalNode
from eterna.adapters.localchain.programs import ProgramFile
from eterna.adapters.solana.clusters import MAINNET_PROGRAMS
from eterna.adapters.solana.pools import PoolEntry, PoolRegistry
from eterna.adapters.solana.reader import PoolReader
from eterna.adapters.solana.slots import SlotFeed
from eterna.adapters.solana.snapshots import PoolStateError
from eterna.adapters.solana.venues import InvalidQuoteRequestError, SolanaVenue
from eterna.domain.tokens import JUP, RAY, SOL, USDC, USDT
from tests.chain.eterna_support import Eterna, eterna_on, eventually, registry_of
from tests.chain.node_support import manual_node

pytestmark = pytest.mark.anyio

LADDER = [10**8, 5 * 10**8, 10**9, 10**12]


@pytest.fixture
def node(program_files: list[ProgramFile]) -> LocalNode:
    """A node at genesis whose slots move by hand, without drift."""
    return manual_node(program_files)


@pytest.fixture
def eterna(node: LocalNode) -> Eterna:
    """Eterna's adapters over the node."""
    return eterna_on(node)


@pytest.mark.parametrize("venue", ["raydium", "orca", "meteora"])
async def test_ladder_equals_our_math_on_the_node_accounts(eterna: Eterna, venue: str) -> None:
    quotes = await eterna.venue(venue).quote_amounts(SOL, USDC, LADDER)

    (pool,) = [
        p for p in eterna.node.pools() if p.venue == venue and {p.token_a, p.token_b} == {SOL, USDC}
    ]
    a_to_b = pool.direction(Pubkey.from_string(SOL.mint))
    assert a_to_b is not None
    expected = eterna.node.pool_math(pool.address).quote_amounts(
        LADDER, a_to_b=a_to_b, now=eterna.node.unix_time
    )
    assert [(q.amount_in, q.amount_out, q.fee) for q in quotes] == [
        (r.amount_in, r.amount_out, r.fee) for r in expected if r is not None
    ]
    assert all(q.pool == str(pool.address) and q.venue == venue for q in quotes)
    impacts = [q.price_impact_bps for q in quotes]
    assert impacts == sorted(impacts)


async def test_a_warm_quote_is_one_get_multiple_accounts(eterna: Eterna) -> None:
    venue = eterna.venue("meteora")
    await venue.quote_amounts(SOL, USDC, LADDER)  # learns which accounts the pair needs
    before = eterna.reader.calls

    await venue.quote_amounts(USDC, SOL, LADDER)

    assert eterna.reader.calls - before == 1


async def test_concurrent_quotes_of_one_pool_share_a_read(
    program_files: list[ProgramFile],
) -> None:
    # Latency makes the node answer later, as over a network: the quotes overlap.
    eterna = eterna_on(manual_node(program_files, faults=FaultSettings(latency_ms=20)))
    venue = eterna.venue("orca")
    await venue.quote_amounts(SOL, USDC, LADDER)
    before = eterna.reader.calls

    answers = await asyncio.gather(*(venue.quote_amounts(SOL, USDC, [10**9]) for _ in range(5)))

    assert eterna.reader.calls - before == 1
    assert len({a[0].amount_out for a in answers}) == 1


async def test_quotes_in_one_slot_read_once_and_a_new_slot_reads_again(
    eterna: Eterna, node: LocalNode
) -> None:
    slots = SlotFeed(eterna.rpc)
    slots.start()
    try:
        await asyncio.wait_for(slots.subscribed.wait(), 5)
        node.advance(1)
        await eventually(lambda: slots.current == node.slot)
        venue = SolanaVenue("raydium", eterna.registry, PoolReader(eterna.rpc, slots=slots))
        await venue.quote_amounts(SOL, USDC, LADDER)
        reader_calls = venue._reader.calls

        await venue.quote_amounts(USDC, SOL, LADDER)
        await venue.quote_amounts(SOL, USDC, [10**9])
        assert venue._reader.calls == reader_calls

        node.advance(1)
        await eventually(lambda: slots.current == node.slot)
        await venue.quote_amounts(SOL, USDC, [10**9])
        assert venue._reader.calls == reader_calls + 1
    finally:
        await slots.stop()


async def test_pair_without_a_pool_on_the_venue_has_no_quote(eterna: Eterna) -> None:
    assert await eterna.venue("orca").quote_amounts(RAY, USDC, LADDER) == []
    assert await eterna.venue("raydium").quote_amounts(JUP, USDT, LADDER) == []


async def test_amounts_must_be_positive(eterna: Eterna) -> None:
    with pytest.raises(InvalidQuoteRequestError):
        await eterna.venue("raydium").quote_amounts(SOL, USDC, [10**9, 0])


@pytest.mark.parametrize("venue", ["raydium", "orca", "meteora"])
async def test_pool_without_an_account_is_a_typed_venue_error(eterna: Eterna, venue: str) -> None:
    missing = Pubkey.new_unique()
    registry = PoolRegistry(
        [PoolEntry(venue, MAINNET_PROGRAMS.program_of(venue), missing, SOL, USDC)]
    )
    adapter = SolanaVenue(venue, registry, PoolReader(eterna.rpc))

    with pytest.raises(PoolStateError, match=f"no pool account at {missing}"):
        await adapter.quote_amounts(SOL, USDC, LADDER)


async def test_account_of_another_kind_is_a_typed_venue_error(eterna: Eterna) -> None:
    # A Whirlpool's address registered as a CP-Swap pool: its bytes are not a PoolState.
    orca = next(e for e in registry_of(eterna.node) if e.venue == "orca")
    registry = PoolRegistry(
        [PoolEntry("raydium", MAINNET_PROGRAMS.raydium, orca.address, orca.token_a, orca.token_b)]
    )
    adapter = SolanaVenue("raydium", registry, PoolReader(eterna.rpc))

    with pytest.raises(PoolStateError, match="not a PoolState account"):
        await adapter.quote_amounts(orca.token_a, orca.token_b, LADDER)


async def test_info_counts_the_venue_pools(eterna: Eterna) -> None:
    infos = {name: await eterna.venue(name).info() for name in ("raydium", "orca", "meteora")}

    assert {name: info.pool_count for name, info in infos.items()} == {
        name: sum(1 for p in eterna.node.pools() if p.venue == name) for name in infos
    }
    assert "CP-Swap" in infos["raydium"].kind


def test_registry_entries_survive_json(node: LocalNode) -> None:
    registry = registry_of(node)

    again = PoolRegistry(PoolEntry.from_json(e.to_json()) for e in registry)

    assert list(again) == list(registry)
    with pytest.raises(ValueError, match="not a pool entry"):
        PoolEntry.from_json({"venue": "orca"})

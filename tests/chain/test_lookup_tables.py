"""Address lookup tables on the local node: routes of three and four swaps in one transaction.

Genesis makes one table per venue holding its pools' static accounts; the gateway finds them
through JSON-RPC (``getProgramAccounts`` of the Address Lookup Table program) and uses them
only when a route does not fit without. What it builds is simulated, sent and read back
through LocalRpc, and the fill must be the quote to the base unit. A table that is missing or
lacks the route's accounts makes the build fail typed, before anything is sent.
"""

from __future__ import annotations

import pytest
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction

from eterna.adapters.localchain.lookups import UnresolvedLookupError, loaded_addresses
from eterna.adapters.localchain.node import LocalNode
from eterna.adapters.localchain.programs import ProgramFile
from eterna.adapters.localchain.tx_swaps import first_swap
from eterna.adapters.solana.gateway import SolanaGateway
from eterna.adapters.solana.landing import LandingConfig
from eterna.adapters.solana.lookup_tables import (
    LOOKUP_TABLE_HEADER,
    LOOKUP_TABLE_PROGRAM,
    LookupTableRegistry,
    decode_lookup_table,
)
from eterna.adapters.solana.transactions import MAX_TRANSACTION_BYTES, TransactionTooLargeError
from eterna.domain.routes import Route
from eterna.domain.tokens import BONK, JUP, SOL, USDC
from eterna.routing import candidates
from eterna.routing.venues import PoolQuote, Transaction, TxState
from tests.chain.eterna_support import (
    SLIPPAGE_BPS,
    Eterna,
    eterna_on,
    expected_out,
    request_for,
    split,
)
from tests.chain.node_support import manual_node

pytestmark = pytest.mark.anyio

VENUES = ("raydium", "orca", "meteora")
ONE_SOL = 10**9


@pytest.fixture
def node(program_files: list[ProgramFile]) -> LocalNode:
    """A node at genesis whose slots move by hand, without drift."""
    return manual_node(program_files)


def gateway_with(eterna: Eterna, tables: LookupTableRegistry | None) -> SolanaGateway:
    """Return a gateway over the node that simulates first, with these lookup tables."""
    return SolanaGateway(
        eterna.rpc,
        eterna.registry,
        eterna.reader,
        eterna.node.wallet,
        landing=LandingConfig(simulate=True),
        lookup_tables=tables,
    )


@pytest.fixture
def eterna(node: LocalNode) -> Eterna:
    """Eterna's adapters over the node; the gateway finds the node's tables and simulates."""
    eterna = eterna_on(node)
    eterna.gateway = gateway_with(eterna, LookupTableRegistry(eterna.rpc, discover=True))
    return eterna


def signed(tx: Transaction) -> VersionedTransaction:
    assert tx.wire is not None
    return VersionedTransaction.from_bytes(tx.wire)


def lookups_of(tx: Transaction) -> int:
    """Return how many tables the transaction's message reads."""
    message = signed(tx).message
    assert isinstance(message, MessageV0)
    return len(message.address_table_lookups)


async def land_and_check_fill(eterna: Eterna, route: Route, memo: str) -> Transaction:
    """Build, simulate, send and read back the route; its fill must be its quote."""
    tx = await eterna.gateway.build(request_for(route, memo=memo))
    assert tx.landing is not None
    assert tx.landing.failure is None, tx.landing.error
    assert tx.landing.amount_out == expected_out(route)  # the simulation's fill
    assert len(tx.wire or b"") <= MAX_TRANSACTION_BYTES

    await eterna.gateway.send(tx)
    status = await eterna.gateway.status(tx)

    assert status.state is TxState.CONFIRMED, status.error
    assert status.amount_out == expected_out(route)
    (entry,) = eterna.node.transactions(memo=memo)
    assert str(entry.signature) == tx.signature
    return tx


async def two_hop_split(
    eterna: Eterna, first_venues: tuple[str, str], second_venues: tuple[str, str]
) -> Route:
    """Return BONK -> SOL split over two pools, then SOL -> JUP split over two more."""
    first = [await eterna.quote(v, BONK, SOL, 5 * 10**10) for v in first_venues]
    middle = sum(q.amount_out for q in first)
    halves = (middle // 2, middle - middle // 2)
    second: list[PoolQuote] = [
        await eterna.quote(v, SOL, JUP, amount)
        for v, amount in zip(second_venues, halves, strict=True)
    ]
    return candidates.two_hop(first, second).to_route(SLIPPAGE_BPS)


async def test_genesis_makes_one_table_per_venue_holding_every_pool(eterna: Eterna) -> None:
    found = await eterna.rpc.get_program_accounts(LOOKUP_TABLE_PROGRAM)
    tables = [decode_lookup_table(k.address, k.account.data) for k in found.value]

    assert len(tables) == len(VENUES)
    held = {address for table in tables for address in table.addresses}
    for pool in eterna.node.pools():
        assert pool.address in held
    for table in tables:
        assert table.active
        assert table.authority == eterna.node.chain.faucet.pubkey()
        assert table.last_extended_slot < found.slot  # usable now
        assert len(found.value[0].account.data) >= LOOKUP_TABLE_HEADER


async def test_split_over_three_programs_fits_with_tables_and_fills_its_quote(
    eterna: Eterna,
) -> None:
    route = split([await eterna.quote(v, SOL, USDC, ONE_SOL) for v in VENUES])
    assert len(route.legs) == 3

    tx = await land_and_check_fill(eterna, route, "order-three")

    assert lookups_of(tx) >= 1
    record = await eterna.rpc.get_transaction(signed(tx).signatures[0], commitment="confirmed")
    assert record is not None
    # Keys past the static ones are the looked-up accounts, resolved by the node.
    assert len(record.account_keys) > len(signed(tx).message.account_keys)


@pytest.mark.parametrize(
    ("first_venues", "second_venues"),
    [(("raydium", "orca"), ("orca", "meteora")), (("meteora", "raydium"), ("raydium", "orca"))],
    ids=["ray-orca-orca-met", "met-ray-ray-orca"],
)
async def test_four_swaps_of_mixed_programs_fit_with_tables_and_fill_their_quote(
    eterna: Eterna, first_venues: tuple[str, str], second_venues: tuple[str, str]
) -> None:
    route = await two_hop_split(eterna, first_venues, second_venues)
    assert len(route.legs) == 4
    assert len({leg.pool for leg in route.legs}) == 4

    tx = await land_and_check_fill(eterna, route, "order-four")

    assert lookups_of(tx) >= 2


async def test_one_and_two_swaps_use_no_table_and_sign_as_before(eterna: Eterna) -> None:
    plain = eterna_on(eterna.node)
    plain.gateway = gateway_with(plain, None)
    one = split([await eterna.quote("orca", SOL, USDC, ONE_SOL)])
    two = split([await eterna.quote(v, USDC, SOL, 10**8) for v in ("orca", "meteora")])

    for route in (one, two):
        with_tables = await eterna.gateway.build(request_for(route))
        without = await plain.gateway.build(request_for(route))

        assert lookups_of(with_tables) == 0
        assert with_tables.wire == without.wire


async def test_missing_table_refuses_three_swaps_before_sending(eterna: Eterna) -> None:
    nowhere = Pubkey.find_program_address([b"no table here"], LOOKUP_TABLE_PROGRAM)[0]
    eterna.gateway = gateway_with(eterna, LookupTableRegistry(eterna.rpc, [nowhere]))
    route = split([await eterna.quote(v, SOL, USDC, ONE_SOL) for v in VENUES])

    with pytest.raises(TransactionTooLargeError, match="bytes"):
        await eterna.gateway.build(request_for(route, memo="order-missing"))

    assert eterna.node.transactions(memo="order-missing") == []


async def test_table_lacking_the_route_accounts_refuses_it_before_sending(
    eterna: Eterna,
) -> None:
    # A table holding only one of the mints: the route's pools are named in full.
    partial = eterna.node.chain.create_lookup_table([Pubkey.from_string(USDC.mint)])
    eterna.node.advance(1)
    eterna.gateway = gateway_with(eterna, LookupTableRegistry(eterna.rpc, [partial]))
    route = split([await eterna.quote(v, SOL, USDC, ONE_SOL) for v in VENUES])

    with pytest.raises(TransactionTooLargeError, match="with the lookup tables known"):
        await eterna.gateway.build(request_for(route, memo="order-partial"))

    assert eterna.node.transactions(memo="order-partial") == []


async def test_the_node_reads_looked_up_accounts_of_a_swap(eterna: Eterna) -> None:
    route = split([await eterna.quote(v, SOL, USDC, ONE_SOL) for v in VENUES])
    tx = await eterna.gateway.build(request_for(route))
    message = signed(tx).message
    pools = {pool.address: pool for pool in eterna.node.pools()}

    seen = first_swap(eterna.node.chain, message, pools)

    assert seen is not None
    assert str(seen.pool.address) == route.legs[0].pool
    assert len(loaded_addresses(eterna.node.chain.account, message)) > 0


async def test_a_lookup_into_no_table_does_not_resolve(eterna: Eterna) -> None:
    route = split([await eterna.quote(v, SOL, USDC, ONE_SOL) for v in VENUES])
    tx = await eterna.gateway.build(request_for(route))
    message = signed(tx).message
    assert isinstance(message, MessageV0)

    with pytest.raises(UnresolvedLookupError):
        loaded_addresses(lambda _: None, message)


async def test_fees_count_the_accounts_a_transaction_looked_up(node: LocalNode) -> None:
    eterna = eterna_on(node, lookup_tables=True)  # signs at the configured price, 1,000
    route = split([await eterna.quote(v, SOL, USDC, ONE_SOL) for v in VENUES])
    tx = await eterna.gateway.build(request_for(route, memo="order-fees"))
    await eterna.gateway.send(tx)

    # Another transaction of the slot pays no priority: the slot's lowest price is 0.
    payee = node.chain.new_keypair().pubkey()
    pay = TransferParams(from_pubkey=node.chain.faucet.pubkey(), to_pubkey=payee, lamports=10**9)
    node.chain.send([transfer(pay)]).check()

    (entry,) = node.transactions(memo="order-fees")
    assert entry.loaded.writable  # the pools and vaults, looked up
    looked_up = dict(node.prioritization_fees([entry.loaded.writable[0]]))
    elsewhere = dict(node.prioritization_fees([payee]))
    assert (looked_up[entry.slot], elsewhere[entry.slot]) == (1_000, 0)

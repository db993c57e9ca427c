"""A CP-Swap pool of devnet's program id: recognised, discovered, quoted and traded.

The local chain runs CP-Swap at its mainnet id; here a second CP-Swap runs beside it at
devnet's id (``DRaycp...``), built from the same binary with its declared id rewritten
(:func:`~eterna.adapters.localchain.programs.redeclared`): an Anchor build answers at its own
id only and checks the accounts it owns against it, so every PDA the engine derives must be
devnet's or the program refuses the instruction. Pools are made by the program's own
``initialize``; Eterna's side is given devnet's ids, as it is on a devnet node.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

from eterna.adapters.localchain.cpswap_pools import CpswapPool, create_pool, put_amm_config
from eterna.adapters.localchain.local_rpc import LocalRpc
from eterna.adapters.localchain.node import LocalNode
from eterna.adapters.localchain.programs import CPSWAP, ProgramFile, ProgramsError, redeclared
from eterna.adapters.localchain.results import TransactionFailedError
from eterna.adapters.localchain.svm import LocalChain
from eterna.adapters.solana import cpswap
from eterna.adapters.solana.clusters import GENESIS_HASHES, MAINNET_PROGRAMS, Cluster, programs_on
from eterna.adapters.solana.discovery import PoolDiscovery
from eterna.adapters.solana.gateway import SolanaGateway
from eterna.adapters.solana.ids import CPSWAP_PROGRAM, USDC_MINT, WSOL_MINT
from eterna.adapters.solana.pool_list import ClusterPools, InvalidPoolError, PoolList, validate_pool
from eterna.adapters.solana.pools import PoolRegistry
from eterna.adapters.solana.reader import PoolReader
from eterna.adapters.solana.rpc import AccountInfo
from eterna.adapters.solana.venues import SolanaVenue
from eterna.domain.tokens import SOL, USDC, Token
from eterna.entrypoints.config import Settings
from eterna.entrypoints.market import open_chain
from eterna.routing.venues import TxState
from tests.chain.eterna_support import eventually, expected_out, request_for, single
from tests.chain.node_support import manual_node, pool_of
from tests.chain.rpc_support import served

pytestmark = pytest.mark.anyio

DEVNET = programs_on(Cluster.DEVNET)
DEVNET_CPSWAP = DEVNET.raydium
DEVNET_GENESIS = next(h for h, c in GENESIS_HASHES.items() if c is Cluster.DEVNET)
ONE_SOL = 10**9


def devnet_build(program_files: list[ProgramFile]) -> bytes:
    """Return the CP-Swap binary declaring devnet's id."""
    path = next(f.path for f in program_files if f.spec == CPSWAP)
    return redeclared(path.read_bytes(), CPSWAP_PROGRAM, DEVNET_CPSWAP)


def devnet_pool(
    chain: LocalChain, sol: int = 400 * ONE_SOL, usdc: int = 60_000 * 10**6
) -> CpswapPool:
    """Create a SOL/USDC pool of devnet's CP-Swap, through its initialize."""
    config = put_amm_config(
        chain, 0, trade_fee_rate=2_500, protocol_fee_rate=120_000, program=DEVNET_CPSWAP
    )
    return create_pool(chain, config, (WSOL_MINT, sol), (USDC_MINT, usdc), program=DEVNET_CPSWAP)


@pytest.fixture
def node(program_files: list[ProgramFile]) -> LocalNode:
    """The local node, with devnet's CP-Swap beside the mainnet programs."""
    node = manual_node(program_files)
    node.chain.load_program(DEVNET_CPSWAP, devnet_build(program_files))
    return node


def account_info(node: LocalNode, address: Pubkey) -> AccountInfo:
    account = node.account(address)
    assert account is not None
    return AccountInfo(
        account.lamports,
        account.owner,
        bytes(account.data),
        account.executable,
        account.rent_epoch,
        len(account.data),
    )


def test_the_mainnet_build_does_not_answer_at_devnets_id(
    program_files: list[ProgramFile],
) -> None:
    chain = LocalChain(program_files)
    chain.put_well_known_mints()
    path = next(f.path for f in program_files if f.spec == CPSWAP)
    chain.load_program(DEVNET_CPSWAP, path.read_bytes())
    with pytest.raises(TransactionFailedError, match="DeclaredProgramIdMismatch"):
        devnet_pool(chain)


def test_the_devnet_pool_is_the_devnet_programs_and_its_pdas(node: LocalNode) -> None:
    pool = devnet_pool(node.chain)
    account = node.account(pool.address)
    assert account is not None
    assert account.owner == DEVNET_CPSWAP
    state = cpswap.decode_pool_state(bytes(account.data))
    assert state.observation_key == cpswap.observation_address(pool.address, DEVNET_CPSWAP)
    assert state.lp_mint == cpswap.lp_mint_address(pool.address, DEVNET_CPSWAP)
    assert pool.address != cpswap.pool_address(pool.config, pool.mint_0, pool.mint_1)
    vault = node.account(pool.vault_0)
    assert vault is not None
    # The vaults belong to the authority derived from devnet's id, not mainnet's.
    assert node.chain.token_account(pool.vault_0).owner == cpswap.authority_address(DEVNET_CPSWAP)


def test_validation_accepts_it_with_devnet_ids_and_refuses_it_with_mainnets(
    node: LocalNode,
) -> None:
    pool = devnet_pool(node.chain)
    devnet_account = account_info(node, pool.address)
    mainnet_pool = pool_of(node, "raydium", SOL, USDC).address
    mainnet_account = account_info(node, mainnet_pool)

    assert validate_pool(pool.address, devnet_account, DEVNET) == (WSOL_MINT, USDC_MINT)
    with pytest.raises(InvalidPoolError, match=r"not a DEX program \(a DEX program on devnet"):
        validate_pool(pool.address, devnet_account, MAINNET_PROGRAMS)
    # A mainnet-id CP-Swap pool listed while connected to devnet.
    with pytest.raises(InvalidPoolError, match=r"not a DEX program \(a DEX program on mainnet"):
        validate_pool(mainnet_pool, mainnet_account, DEVNET)
    assert validate_pool(mainnet_pool, mainnet_account, MAINNET_PROGRAMS)


async def test_the_pools_file_discovers_it_with_devnet_ids_only(node: LocalNode) -> None:
    pool = devnet_pool(node.chain)
    mainnet_pool = pool_of(node, "raydium", SOL, USDC).address
    listed = PoolList(symbols={WSOL_MINT: "SOL", USDC_MINT: "USDC"}, discover=True)
    rpc = LocalRpc(node)

    on_devnet, _ = await ClusterPools(rpc, listed, programs=DEVNET).load()
    raydium = [e for e in on_devnet if e.venue == "raydium"]
    assert [(e.address, e.program) for e in raydium] == [(pool.address, DEVNET_CPSWAP)]
    # Whirlpool and DLMM run at one id on both clusters: their pools are found as well.
    assert {e.venue for e in on_devnet} == {"raydium", "orca", "meteora"}

    on_mainnet, _ = await ClusterPools(rpc, listed, programs=MAINNET_PROGRAMS).load()
    assert [e.address for e in on_mainnet if e.venue == "raydium"] == [mainnet_pool]

    listed_both = PoolList(pools=(pool.address, mainnet_pool))
    entries, rejected = await ClusterPools(rpc, listed_both, programs=DEVNET).load()
    assert [e.address for e in entries] == [pool.address]
    assert "not a DEX program" in rejected[mainnet_pool]


async def test_program_subscriptions_find_a_pool_devnets_program_creates(node: LocalNode) -> None:
    registry = PoolRegistry()
    discovery = PoolDiscovery(LocalRpc(node), registry, programs=DEVNET, venues=("raydium",))
    await discovery.start()
    try:
        pool = devnet_pool(node.chain)
        await eventually(lambda: pool.address in registry)
    finally:
        await discovery.stop()
    entry = registry.get(pool.address)
    assert (entry.venue, entry.program) == ("raydium", DEVNET_CPSWAP)
    assert entry.mints == (SOL.mint, USDC.mint)


@pytest.mark.parametrize(
    ("token_in", "token_out", "amount"),
    [(SOL, USDC, 3 * ONE_SOL), (USDC, SOL, 500 * 10**6)],
    ids=["sol-in", "sol-out"],
)
async def test_a_swap_built_with_devnet_ids_fills_its_quote(
    node: LocalNode, token_in: Token, token_out: Token, amount: int
) -> None:
    pool = devnet_pool(node.chain)
    node.advance(10)  # the pool opens a second after its creation
    rpc = LocalRpc(node)
    listed = PoolList(pools=(pool.address,))
    pools = ClusterPools(rpc, listed, programs=DEVNET)
    await pools.refresh()
    reader = PoolReader(rpc)
    gateway = SolanaGateway(rpc, pools.registry, reader, node.wallet, programs=DEVNET)
    venue = SolanaVenue("raydium", pools.registry, reader)

    (quote,) = await venue.quote(token_in, token_out, amount)
    assert quote.pool == str(pool.address)
    route = single(quote)
    tx = await gateway.build(request_for(route, memo="order-devnet"))
    await gateway.send(tx)
    status = await gateway.status(tx)

    assert status.state is TxState.CONFIRMED, status.error
    assert status.amount_out == expected_out(route)
    (entry,) = node.transactions(memo="order-devnet")
    assert str(entry.signature) == tx.signature
    message = entry.transaction.message
    called = {message.account_keys[ix.program_id_index] for ix in message.instructions}
    assert DEVNET_CPSWAP in called
    assert CPSWAP_PROGRAM not in called
    assert f"Program {DEVNET_CPSWAP} success" in entry.logs


def test_a_build_is_redeclared_only_from_the_id_it_declares(
    program_files: list[ProgramFile],
) -> None:
    path = next(f.path for f in program_files if f.spec == CPSWAP)
    elf = path.read_bytes()
    build = redeclared(elf, CPSWAP_PROGRAM, DEVNET_CPSWAP)
    assert len(build) == len(elf)
    assert bytes(CPSWAP_PROGRAM) not in build
    assert bytes(DEVNET_CPSWAP) in build
    # Only the id's bytes change: 32 in the ID constant, 8 per lddw quarter.
    changed = sum(a != b for a, b in zip(elf, build, strict=True))
    assert 32 < changed < 32 * 20
    with pytest.raises(ProgramsError, match="does not declare"):
        redeclared(build, CPSWAP_PROGRAM, DEVNET_CPSWAP)


async def test_a_process_on_a_devnet_node_trades_its_devnet_pools_only(
    node: LocalNode, tmp_path: Path
) -> None:
    node.genesis_hash = DEVNET_GENESIS  # the node now answers as devnet does
    pool = devnet_pool(node.chain)
    node.advance(10)
    mainnet_pool = pool_of(node, "raydium", SOL, USDC).address
    orca = pool_of(node, "orca", SOL, USDC).address
    pools_file = tmp_path / "pools.json"
    listed = [str(pool.address), str(mainnet_pool), str(orca)]
    pools_file.write_text(json.dumps({"pools": listed, "discover": False}))
    wallet = tmp_path / "wallet.json"
    wallet.write_text(json.dumps(list(bytes(node.wallet))))
    wallet.chmod(0o600)
    async with served(node) as url:
        settings = Settings(
            solana_rpc_url=url, pools_file=pools_file, wallet=wallet, pools_refresh_seconds=3600
        )
        link = await open_chain(settings)
        try:
            assert link.pools is not None
            assert {e.address for e in link.pools.registry} == {pool.address, orca}
            raydium = next(v for v in link.venues if v.name == "raydium")
            (quote,) = await raydium.quote(SOL, USDC, ONE_SOL)
            assert quote.pool == str(pool.address)
            route = single(quote)
            tx = await link.gateway.build(request_for(route, memo="order-dry"))
        finally:
            await link.close()

    assert tx.dry_run  # devnet without ETERNA_LIVE: simulated, never sent
    assert tx.landing is not None
    assert tx.landing.simulated
    assert tx.landing.amount_out == expected_out(route)
    assert tx.wire is not None
    message = VersionedTransaction.from_bytes(tx.wire).message
    called = {message.account_keys[ix.program_id_index] for ix in message.instructions}
    assert DEVNET_CPSWAP in called
    assert CPSWAP_PROGRAM not in called

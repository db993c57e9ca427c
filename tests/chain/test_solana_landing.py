"""Landing on the local chain: simulation before sending, compute limit, priority fee, dry run.

The gateway simulates each transaction through ``simulateTransaction`` (inner instructions
asked for), signs it with the units it consumed plus the margin and the recent fees' price,
and says what the simulation paid; a failing simulation is a typed failure. The local node
answers ``getRecentPrioritizationFees`` and ``getGenesisHash`` as a cluster does.
"""

from __future__ import annotations

import asyncio
import math
from pathlib import Path
from typing import Any

import pytest
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

from eterna.adapters.localchain.local_rpc import LocalRpc
from eterna.adapters.localchain.node import LocalNode
from eterna.adapters.localchain.programs import ProgramFile
from eterna.adapters.solana import gateway as gateway_module
from eterna.adapters.solana.clusters import Cluster, ClusterMismatchError, cluster_of
from eterna.adapters.solana.gateway import SolanaGateway
from eterna.adapters.solana.ids import TOKEN_2022_PROGRAM, USDC_MINT
from eterna.adapters.solana.landing import DryRunSendError, LandingConfig, TransferFeeMintError
from eterna.adapters.solana.reader import PoolReader
from eterna.adapters.solana.rpc_errors import RpcUnavailableError
from eterna.adapters.solana.transactions import MAX_COMPUTE_UNITS
from eterna.domain.failures import FailureKind
from eterna.domain.tokens import SOL, USDC
from eterna.entrypoints.config import Settings
from eterna.entrypoints.market import open_chain
from eterna.routing.venues import TxState
from tests.chain.eterna_support import (
    Eterna,
    eterna_on,
    expected_out,
    registry_of,
    request_for,
    single,
)
from tests.chain.node_support import manual_node

pytestmark = pytest.mark.anyio

ONE_SOL = 10**9
HUNDRED_USDC = 100 * 10**6


@pytest.fixture
def node(program_files: list[ProgramFile]) -> LocalNode:
    """A node at genesis whose slots move by hand, without drift."""
    return manual_node(program_files)


def landing_on(node: LocalNode, config: LandingConfig) -> Eterna:
    """Return Eterna's adapters over the node, its gateway readying transactions as said."""
    eterna = eterna_on(node)
    registry = registry_of(node)
    reader = PoolReader(eterna.rpc)
    eterna.gateway = SolanaGateway(eterna.rpc, registry, reader, node.wallet, landing=config)
    eterna.registry, eterna.reader = registry, reader
    return eterna


def compute_budget(wire: bytes) -> tuple[int, int]:
    """Return the (limit, price) a signed transaction's ComputeBudget instructions set."""
    message = VersionedTransaction.from_bytes(wire).message
    keys = message.account_keys
    limit = price = 0
    for instruction in message.instructions:
        if str(keys[instruction.program_id_index]) != "ComputeBudget111111111111111111111111111111":
            continue
        data = bytes(instruction.data)
        if data[0] == 2:  # SetComputeUnitLimit, u32
            limit = int.from_bytes(data[1:5], "little")
        elif data[0] == 3:  # SetComputeUnitPrice, u64
            price = int.from_bytes(data[1:9], "little")
    return limit, price


@pytest.mark.parametrize("venue", ["raydium", "orca", "meteora"])
@pytest.mark.parametrize(
    ("token_in", "token_out", "amount"), [(SOL, USDC, ONE_SOL), (USDC, SOL, HUNDRED_USDC)]
)
async def test_the_simulation_pays_the_quote_and_sets_the_compute_limit(
    node: LocalNode, venue: str, token_in: object, token_out: object, amount: int
) -> None:
    eterna = landing_on(node, LandingConfig(simulate=True, compute_unit_margin_percent=20))
    quote = await eterna.quote(venue, token_in, token_out, amount)  # type: ignore[arg-type]
    route = single(quote)
    tx = await eterna.gateway.build(request_for(route))
    landing = tx.landing
    assert landing is not None
    assert landing.simulated
    assert landing.failure is None
    assert landing.amount_out == expected_out(route)  # what the program would pay, exactly
    assert landing.units_consumed is not None
    assert 10_000 < landing.units_consumed < 400_000
    assert landing.compute_unit_limit == math.ceil(landing.units_consumed * 1.2)
    assert tx.wire is not None
    assert compute_budget(tx.wire)[0] == landing.compute_unit_limit
    # The signed transaction lands within its limit and pays what the simulation said.
    await eterna.gateway.send(tx)
    status = await eterna.gateway.status(tx)
    assert status.state is TxState.CONFIRMED
    assert status.amount_out == landing.amount_out
    assert status.compute_units is not None
    assert status.compute_units <= landing.compute_unit_limit


async def test_a_simulation_below_the_minimum_is_a_slippage_failure_and_nothing_lands(
    node: LocalNode,
) -> None:
    eterna = landing_on(node, LandingConfig(simulate=True))
    quote = await eterna.quote("orca", SOL, USDC, ONE_SOL)
    route = single(quote)
    request = request_for(route)
    # Ask for more than the pool pays: the program refuses it in the simulation.
    greedy = type(request)(
        memo="greedy",
        payer=request.payer,
        mint_in=request.mint_in,
        mint_out=request.mint_out,
        swaps=request.swaps,
        min_amount_out=expected_out(route) + 1,
    )
    tx = await eterna.gateway.build(greedy)
    assert tx.landing is not None
    assert tx.landing.failure is FailureKind.SLIPPAGE
    assert tx.landing.error is not None
    assert "SlippageToleranceExceeded" in tx.landing.error
    assert tx.landing.amount_out is None
    assert compute_budget(tx.wire or b"")[0] == MAX_COMPUTE_UNITS
    assert node.transactions("greedy") == []


async def test_the_priority_fee_is_the_percentile_of_recent_fees_capped(node: LocalNode) -> None:
    eterna = landing_on(node, LandingConfig(simulate=True, priority_fee_percentile=50))
    quote = await eterna.quote("raydium", SOL, USDC, ONE_SOL)
    # Land transactions writing the pool at known prices, one slot each.
    for price in (5_000, 7_000, 9_000):
        paying = SolanaGateway(
            eterna.rpc,
            eterna.registry,
            eterna.reader,
            node.wallet,
            landing=LandingConfig(simulate=False),
        )
        paying._config = type(paying._config)(compute_unit_price=price)
        tx = await paying.build(request_for(single(quote), memo=f"fee-{price}"))
        await paying.send(tx)
        node.advance(1)
    fees = await eterna.rpc.get_recent_prioritization_fees([Pubkey.from_string(quote.pool)])
    assert sorted(f.fee for f in fees if f.fee)[-3:] == [5_000, 7_000, 9_000]
    tx = await eterna.gateway.build(request_for(single(quote), memo="estimated"))
    assert tx.landing is not None
    window = [f.fee for f in fees]
    ranked = sorted(window)
    assert tx.landing.priority_fee == ranked[math.ceil(len(ranked) / 2) - 1]
    assert compute_budget(tx.wire or b"")[1] == tx.landing.priority_fee
    capped = landing_on(
        node, LandingConfig(simulate=True, priority_fee_percentile=100, max_priority_fee=6_000)
    )
    tx = await capped.gateway.build(request_for(single(quote), memo="capped"))
    assert tx.landing is not None
    assert tx.landing.priority_fee == 6_000
    highest = landing_on(node, LandingConfig(simulate=True, priority_fee_percentile=100))
    tx = await highest.gateway.build(request_for(single(quote), memo="highest"))
    assert tx.landing is not None
    assert tx.landing.priority_fee == 9_000


async def test_prioritization_fees_are_the_lowest_landed_price_raised_per_account(
    node: LocalNode,
) -> None:
    eterna = landing_on(node, LandingConfig(simulate=False))
    rpc = eterna.rpc
    fees = await rpc.get_recent_prioritization_fees()
    assert fees
    assert all(f.fee == 0 for f in fees)  # nothing paid anything yet
    assert fees[-1].slot == node.slot
    assert len(fees) <= 150
    node.advance(1)
    pools = {}
    for venue, price in (("raydium", 9_000), ("orca", 3_000)):
        quote = await eterna.quote(venue, SOL, USDC, ONE_SOL)
        pools[venue] = Pubkey.from_string(quote.pool)
        paying = SolanaGateway(
            rpc, eterna.registry, eterna.reader, node.wallet, landing=LandingConfig(simulate=False)
        )
        paying._config = type(paying._config)(compute_unit_price=price)
        tx = await paying.build(request_for(single(quote), memo=f"{venue}-{price}"))
        await paying.send(tx)
    slot = node.slot

    async def fee_at(*accounts: Pubkey) -> int:
        found = await rpc.get_recent_prioritization_fees(list(accounts))
        return {f.slot: f.fee for f in found}[slot]

    assert await fee_at() == 3_000  # the lowest price that landed in the slot
    assert await fee_at(pools["raydium"]) == 9_000  # what writing that pool took
    assert await fee_at(pools["orca"]) == 3_000
    assert await fee_at(pools["raydium"], pools["orca"]) == 9_000
    assert await fee_at(Pubkey.new_unique()) == 3_000  # an account nobody wrote


async def test_a_dry_run_transaction_is_never_sent(node: LocalNode) -> None:
    eterna = landing_on(node, LandingConfig(simulate=True, dry_run=True))
    quote = await eterna.quote("meteora", SOL, USDC, ONE_SOL)
    tx = await eterna.gateway.build(request_for(single(quote), memo="dry"))
    assert tx.dry_run
    with pytest.raises(DryRunSendError):
        await eterna.gateway.send(tx)
    assert node.transactions("dry") == []


async def test_the_local_chain_has_its_own_genesis_hash(node: LocalNode) -> None:
    genesis = await LocalRpc(node).get_genesis_hash()
    assert genesis == node.genesis_hash
    assert cluster_of(genesis) is Cluster.LOCALNET


async def test_a_token_2022_mint_with_a_transfer_fee_is_refused_before_anything_is_built(
    node: LocalNode,
) -> None:
    eterna = landing_on(node, LandingConfig(simulate=True))
    quote = await eterna.quote("orca", SOL, USDC, ONE_SOL)
    # USDC's mint as Token-2022 with the transfer-fee extension (the base mint kept).
    base = node.chain.account_data(USDC_MINT)[:82]
    fee_config = bytes(108)
    data = base + bytes(165 - 82) + bytes([1]) + (1).to_bytes(2, "little")
    data += len(fee_config).to_bytes(2, "little") + fee_config
    node.chain.put_account(USDC_MINT, data, TOKEN_2022_PROGRAM)
    with pytest.raises(TransferFeeMintError, match="transfer fee") as refused:
        await eterna.gateway.build(request_for(single(quote), memo="fee-mint"))
    assert refused.value.failure is FailureKind.UNSUPPORTED_TOKEN
    assert node.transactions("fee-mint") == []


async def test_a_process_refuses_a_node_of_another_cluster_than_configured(
    tmp_path: Path, program_files: list[ProgramFile]
) -> None:
    folder = program_files[0].path.parent
    told = Settings(
        data_dir=tmp_path, chain_slot_ms=0, programs_dir=folder, solana_cluster="mainnet"
    )
    with pytest.raises(ClusterMismatchError, match="localnet"):
        await open_chain(told)
    link = await open_chain(Settings(data_dir=tmp_path, chain_slot_ms=0, programs_dir=folder))
    try:
        assert link.execution.cluster is Cluster.LOCALNET
        assert not link.execution.dry_run
        assert link.gateway.landing.simulate
    finally:
        await link.close()


async def test_prioritization_fees_are_read_while_slots_bring_drift_swaps(
    program_files: list[ProgramFile],
) -> None:
    node = manual_node(program_files, drift=True)
    rpc = LocalRpc(node)
    for _ in range(5):
        node.clock.advance(1)  # the node reaches the slot (and drifts) inside the call
        fees = await rpc.get_recent_prioritization_fees()
        assert fees[-1].slot == node.slot


async def test_builds_for_the_same_pools_share_one_fee_read_for_a_second(
    node: LocalNode, monkeypatch: pytest.MonkeyPatch
) -> None:
    eterna = landing_on(node, LandingConfig(simulate=True))
    clock = [1_000.0]
    eterna.gateway = SolanaGateway(
        eterna.rpc,
        eterna.registry,
        eterna.reader,
        node.wallet,
        landing=LandingConfig(simulate=True),
        clock=lambda: clock[0],
    )
    quote = await eterna.quote("raydium", SOL, USDC, ONE_SOL)
    reads = 0
    real = eterna.rpc.get_recent_prioritization_fees

    async def counted(accounts: Any = ()) -> Any:
        nonlocal reads
        reads += 1
        if reads == 3:
            raise RpcUnavailableError("getRecentPrioritizationFees: HTTP 503")
        return await real(accounts)

    monkeypatch.setattr(eterna.rpc, "get_recent_prioritization_fees", counted)
    built = await asyncio.gather(
        *(eterna.gateway.build(request_for(single(quote), memo=f"same-{i}")) for i in range(5))
    )
    assert reads == 1  # five builds at once, one read
    assert len({tx.landing.priority_fee for tx in built if tx.landing}) == 1
    clock[0] += gateway_module.FEE_TTL_SECONDS + 0.1
    await eterna.gateway.build(request_for(single(quote), memo="later"))
    assert reads == 2  # older than the TTL: read again
    clock[0] += gateway_module.FEE_TTL_SECONDS + 0.1
    with pytest.raises(RpcUnavailableError):
        await eterna.gateway.build(request_for(single(quote), memo="failed"))
    await eterna.gateway.build(request_for(single(quote), memo="after"))
    assert reads == 4  # a failed read is not kept

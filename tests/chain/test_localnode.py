"""The local node as a cluster: slots, blockhashes, sends, ledger, statuses, simulation, feeds."""

from __future__ import annotations

import asyncio

import pytest
from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import Message
from solders.signature import Signature
from solders.transaction import Transaction

from eterna.adapters.localchain.feed import Feed, SubscriptionLaggedError
from eterna.adapters.localchain.node import (
    FINALITY_DEPTH,
    BlockhashNotFoundError,
    LocalNode,
    NodeConfig,
    SignatureVerificationError,
    TransactionRejectedError,
)
from eterna.adapters.localchain.programs import ProgramFile
from eterna.adapters.localchain.slots import GENESIS_SLOT, MAX_BLOCKHASH_AGE
from eterna.adapters.localchain.svm import GENESIS_UNIX_TIME
from eterna.adapters.solana import cpswap
from eterna.adapters.solana.ids import USDC_MINT, USDT_MINT
from eterna.adapters.solana.spl import associated_token_address
from eterna.domain.tokens import JUP, USDC, USDT
from tests.chain.node_support import manual_node, pool_of, swap_tx


@pytest.fixture
def node(program_files: list[ProgramFile]) -> LocalNode:
    """A node at genesis whose slots move by hand, without drift."""
    return manual_node(program_files)


def test_manual_slots_move_the_block_height_unix_time_and_programs_clock(node: LocalNode) -> None:
    assert node.slot == GENESIS_SLOT
    assert node.unix_time == GENESIS_UNIX_TIME
    height = node.block_height
    assert height < node.slot
    node.advance(25)
    assert (node.slot, node.block_height) == (GENESIS_SLOT + 25, height + 25)
    assert node.unix_time == GENESIS_UNIX_TIME + 10  # 25 slots of 400 ms
    clock = node.chain.svm.get_clock()
    assert (clock.slot, clock.unix_timestamp) == (node.slot, node.unix_time)
    with pytest.raises(ValueError, match="forward"):
        node.advance(-1)


def test_wall_clock_slots_refuse_to_be_moved_by_hand(program_files: list[ProgramFile]) -> None:
    node = LocalNode(program_files, NodeConfig(slot_ms=400, drift=False))
    with pytest.raises(ValueError, match="wall clock"):
        node.advance(1)


@pytest.mark.anyio
async def test_wall_clock_slots_advance_and_are_announced(program_files: list[ProgramFile]) -> None:
    node = LocalNode(program_files, NodeConfig(slot_ms=20, drift=False))
    slots = node.subscribe_slots()
    node.start()
    try:
        first = await asyncio.wait_for(anext(slots), 2)
        second = await asyncio.wait_for(anext(slots), 2)
    finally:
        await node.stop()
    assert second.slot == first.slot + 1 == second.parent + 1
    assert node.slot >= second.slot
    rest = [change.slot async for change in slots]  # ends: the node stopped
    assert rest == list(range(second.slot + 1, second.slot + 1 + len(rest)))


def test_a_swap_lands_at_the_current_slot_with_its_memo_fee_and_token_changes(
    node: LocalNode,
) -> None:
    pool = pool_of(node, "raydium", USDC, USDT)
    node.advance(3)
    tx = swap_tx(node, pool, a_to_b=pool.mint_a == USDC_MINT, amount=1_000_000, memo_text="ord-7")
    signature = node.send_transaction(tx)
    entry = node.transaction(signature)
    assert entry is not None
    assert entry.ok
    assert (entry.slot, entry.block_time, entry.memo) == (node.slot, node.unix_time, "ord-7")
    assert entry.fee == 5_000
    assert 0 < entry.compute_units < 200_000
    owner = node.wallet.pubkey()
    assert entry.token_change(associated_token_address(owner, USDC_MINT)) == -1_000_000
    assert entry.token_change(associated_token_address(owner, USDT_MINT)) > 990_000
    payer = entry.account_keys.index(owner)
    assert entry.pre_balances[payer] - entry.post_balances[payer] == 5_000
    assert node.transactions("ord-7") == [entry]
    assert node.transactions("ord-8") == []


def test_a_resent_signature_is_processed_once(node: LocalNode) -> None:
    pool = pool_of(node, "raydium", USDC, USDT)
    tx = swap_tx(node, pool, a_to_b=True, amount=1_000_000)
    before = len(node.ledger)
    assert node.send_transaction(tx) == node.send_transaction(tx)
    assert len(node.ledger) == before + 1


def test_a_failed_swap_is_recorded_with_the_programs_error_and_its_fee(node: LocalNode) -> None:
    pool = pool_of(node, "raydium", JUP, USDC)
    tx = swap_tx(node, pool, a_to_b=True, amount=10**6, min_out=10**15, memo_text="ord-9")
    entry = node.transaction(node.send_transaction(tx))
    assert entry is not None
    assert entry.error is not None
    assert entry.error.custom_code == cpswap.ErrorCode.EXCEEDED_SLIPPAGE
    assert entry.fee == 5_000
    assert node.transactions("ord-9") == [entry]
    (state,) = node.signature_statuses([entry.signature])
    assert state is not None
    assert state.error == entry.error


def test_a_blockhash_is_usable_for_150_slots_then_refused(node: LocalNode) -> None:
    pool = pool_of(node, "orca", USDC, USDT)
    issued = node.latest_blockhash()
    assert issued.last_valid_block_height == node.block_height + MAX_BLOCKHASH_AGE
    node.advance(MAX_BLOCKHASH_AGE)
    assert node.is_blockhash_valid(issued.blockhash)
    node.send_transaction(swap_tx(node, pool, a_to_b=True, amount=10, blockhash=issued.blockhash))
    node.advance(1)
    assert node.block_height > issued.last_valid_block_height
    stale = swap_tx(node, pool, a_to_b=True, amount=11, blockhash=issued.blockhash)
    with pytest.raises(BlockhashNotFoundError):
        node.send_transaction(stale)
    assert node.transaction(stale.signatures[0]) is None


def test_an_unknown_blockhash_is_refused(node: LocalNode) -> None:
    pool = pool_of(node, "orca", USDC, USDT)
    tx = swap_tx(node, pool, a_to_b=True, amount=10, blockhash=Hash.new_unique())
    with pytest.raises(BlockhashNotFoundError):
        node.send_transaction(tx)


def test_a_wrong_signature_is_refused_and_nothing_lands(node: LocalNode) -> None:
    pool = pool_of(node, "orca", USDC, USDT)
    signed = swap_tx(node, pool, a_to_b=True, amount=10)
    forged = Transaction.populate(signed.message, [Signature.new_unique()])
    with pytest.raises(SignatureVerificationError):
        node.send_transaction(forged)
    assert node.signature_statuses([forged.signatures[0]]) == [None]


def test_statuses_are_confirmed_when_processed_then_finalized(node: LocalNode) -> None:
    pool = pool_of(node, "meteora", USDC, USDT)
    signature = node.send_transaction(swap_tx(node, pool, a_to_b=True, amount=10_000))
    unknown = Signature.new_unique()
    state, missing = node.signature_statuses([signature, unknown])
    assert missing is None
    assert state is not None
    assert (state.confirmation_status, state.confirmations, state.error) == ("confirmed", 0, None)
    node.advance(FINALITY_DEPTH - 1)
    (state,) = node.signature_statuses([signature])
    assert state is not None
    assert (state.confirmation_status, state.confirmations) == ("confirmed", FINALITY_DEPTH - 1)
    node.advance(1)
    (state,) = node.signature_statuses([signature])
    assert state is not None
    assert (state.confirmation_status, state.confirmations) == ("finalized", None)


def test_simulation_reports_the_outcome_and_commits_nothing(node: LocalNode) -> None:
    pool = pool_of(node, "orca", JUP, USDC)
    tx = swap_tx(node, pool, a_to_b=True, amount=10**6)
    before = node.account(pool.address)
    simulation = node.simulate_transaction(tx, sig_verify=True)
    assert simulation.ok
    assert simulation.units_consumed > 0
    assert any("Instruction: SwapV2" in line for line in simulation.logs)
    assert dict(simulation.accounts)[pool.address] != before
    assert node.account(pool.address) == before
    assert node.transaction(tx.signatures[0]) is None
    failing = swap_tx(node, pool, a_to_b=True, amount=10**6, min_out=10**15)
    assert node.simulate_transaction(failing).error is not None


def test_simulation_of_a_stale_or_unsigned_transaction(node: LocalNode) -> None:
    pool = pool_of(node, "orca", JUP, USDC)
    stale = swap_tx(node, pool, a_to_b=True, amount=10**6, blockhash=Hash.new_unique())
    refused = node.simulate_transaction(stale)
    assert refused.error is not None
    assert refused.error.message.endswith("BlockhashNotFound")
    replaced = node.simulate_transaction(stale, replace_recent_blockhash=True)
    assert replaced.ok
    assert replaced.replacement_blockhash is not None
    assert replaced.replacement_blockhash.slot == node.slot
    unsigned = Transaction.new_unsigned(
        Message.new_with_blockhash([], node.wallet.pubkey(), node.latest_blockhash().blockhash)
    )
    assert node.simulate_transaction(unsigned).ok
    with pytest.raises(SignatureVerificationError):
        node.simulate_transaction(unsigned, sig_verify=True)


@pytest.mark.anyio
async def test_the_pool_feed_reports_the_accounts_a_swap_changed(node: LocalNode) -> None:
    pool = pool_of(node, "meteora", USDC, USDT)
    changes = node.subscribe_pools()
    watched = node.subscribe_accounts([pool.address])
    node.send_transaction(swap_tx(node, pool, a_to_b=True, amount=10**9))
    seen = changes.pending()
    assert {c.address for c in seen} <= set(pool.accounts) | {
        p for other in node.pools() for p in other.accounts
    }
    state_change = next(c for c in seen if c.address == pool.address)
    assert state_change.slot == node.slot
    assert state_change.account == node.account(pool.address)
    vaults = {c.address for c in seen} & set(pool.accounts[1:3])
    assert len(vaults) == 2
    first = await asyncio.wait_for(anext(watched), 1)
    assert first.address == pool.address


@pytest.mark.anyio
async def test_a_subscriber_that_falls_behind_is_cut_off() -> None:
    feed: Feed[int] = Feed(queue_size=3)
    slow, picky = feed.subscribe(), feed.subscribe(lambda n: n % 2 == 0)
    for n in range(5):
        feed.publish(n)
    assert [await anext(slow) for _ in range(3)] == [0, 1, 2]
    with pytest.raises(SubscriptionLaggedError):
        await anext(slow)
    assert picky.pending() == [0, 2, 4]
    picky.close()
    with pytest.raises(StopAsyncIteration):
        await anext(picky)
    assert not feed.active


def test_the_ledger_forgets_the_oldest_only_once_their_blockhash_expired(
    program_files: list[ProgramFile],
) -> None:
    node = LocalNode(program_files, NodeConfig(slot_ms=0, drift=False, ledger_capacity=2))
    pool = pool_of(node, "raydium", USDC, USDT)
    first = node.send_transaction(swap_tx(node, pool, a_to_b=True, amount=10, memo_text="old"))
    node.send_transaction(swap_tx(node, pool, a_to_b=True, amount=11, memo_text="kept"))
    assert len(node.ledger) > 2  # genesis funding and both swaps: all may still be re-sent
    node.advance(MAX_BLOCKHASH_AGE + 1)
    node.send_transaction(swap_tx(node, pool, a_to_b=True, amount=12, memo_text="new"))
    assert len(node.ledger) == 2
    assert node.transaction(first) is None
    assert node.transactions("old") == []
    assert [e.memo for e in node.transactions()] == ["kept", "new"]


def test_a_transaction_refused_before_it_runs_never_lands(node: LocalNode) -> None:
    pool = pool_of(node, "raydium", USDC, USDT)
    broke = Keypair()  # no lamports to pay the fee
    node.fund(broke.pubkey(), USDC_MINT, 10**6)
    tx = swap_tx(node, pool, a_to_b=True, amount=10**6, signer=broke, memo_text="broke")
    with pytest.raises(TransactionRejectedError) as refused:
        node.send_transaction(tx)
    assert refused.value.error.instruction_index is None
    assert node.signature_statuses([tx.signatures[0]]) == [None]
    assert node.transactions("broke") == []

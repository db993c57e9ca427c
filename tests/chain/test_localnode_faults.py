"""The node's fault plan: drops, stale blockhashes, adverse moves, lost answers, RPC errors."""

from __future__ import annotations

import time

import pytest

from eterna.adapters.localchain.faults import (
    FaultPlan,
    FaultSettings,
    FaultSettingsError,
    InjectedRpcError,
)
from eterna.adapters.localchain.maker import MAKER_MEMO
from eterna.adapters.localchain.node import BlockhashNotFoundError
from eterna.adapters.localchain.programs import ProgramFile
from eterna.adapters.localchain.slots import MAX_BLOCKHASH_AGE
from eterna.adapters.solana.ids import USDC_MINT
from eterna.adapters.solana.spl import associated_token_address
from eterna.domain.tokens import JUP, USDC, USDT
from tests.chain.node_support import manual_node, pool_of, swap_tx


def test_a_dropped_transaction_never_lands(program_files: list[ProgramFile]) -> None:
    node = manual_node(program_files, faults=FaultSettings(drop_rate=1.0))
    pool = pool_of(node, "raydium", USDC, USDT)
    issued = node.latest_blockhash()
    tx = swap_tx(node, pool, a_to_b=True, amount=10**6, memo_text="dropped")
    before = node.account(pool.address)
    assert node.send_transaction(tx) == tx.signatures[0]
    assert node.faults.injected["droppedTransactions"] == 1
    node.advance(MAX_BLOCKHASH_AGE + 1)
    assert node.signature_statuses([tx.signatures[0]]) == [None]
    assert node.transactions("dropped") == []
    assert node.account(pool.address) == before
    assert node.block_height > issued.last_valid_block_height
    node.faults.settings = FaultSettings()
    with pytest.raises(BlockhashNotFoundError):  # too late to re-send it now
        node.send_transaction(tx)


def test_a_dropped_transaction_resent_in_time_may_land(program_files: list[ProgramFile]) -> None:
    node = manual_node(program_files, faults=FaultSettings(drop_rate=1.0))
    pool = pool_of(node, "raydium", USDC, USDT)
    tx = swap_tx(node, pool, a_to_b=True, amount=10**6, memo_text="resent")
    node.send_transaction(tx)
    node.faults.settings = FaultSettings()
    node.advance(10)
    node.send_transaction(tx)
    (state,) = node.signature_statuses([tx.signatures[0]])
    assert state is not None
    assert state.error is None


def test_an_injected_expiry_hands_out_a_blockhash_already_too_old(
    program_files: list[ProgramFile],
) -> None:
    node = manual_node(program_files, faults=FaultSettings(expire_rate=1.0))
    pool = pool_of(node, "orca", USDC, USDT)
    stale = node.latest_blockhash()
    assert stale.last_valid_block_height < node.block_height
    assert node.faults.injected["expiredBlockhashes"] == 1
    tx = swap_tx(node, pool, a_to_b=True, amount=10**6, blockhash=stale.blockhash)
    with pytest.raises(BlockhashNotFoundError):
        node.send_transaction(tx)
    assert node.transaction(tx.signatures[0]) is None


def test_an_adverse_swap_lands_just_before_the_transaction(
    program_files: list[ProgramFile],
) -> None:
    quiet = manual_node(program_files)
    moved = manual_node(program_files, faults=FaultSettings(price_move_rate=1.0, price_move_bps=50))
    outputs = []
    for node in (quiet, moved):
        pool = pool_of(node, "orca", JUP, USDC)
        selling_usdc = pool.mint_a == USDC_MINT
        tx = swap_tx(node, pool, a_to_b=selling_usdc, amount=1_000 * 10**6, memo_text="order")
        node.send_transaction(tx)
        (ours,) = node.transactions("order")
        assert ours.ok
        outputs.append(
            ours.token_change(
                associated_token_address(
                    node.wallet.pubkey(), pool.mint_a if not selling_usdc else pool.mint_b
                )
            )
        )
        entries = node.transactions()
        if node is moved:
            mover = entries[entries.index(ours) - 1]
            assert (mover.memo or "").startswith(MAKER_MEMO)
            assert mover.slot == ours.slot
            assert node.faults.injected["priceMoves"] == 1
    assert 0 < outputs[1] < outputs[0] * 9_960 // 10_000  # about 50 bps worse, at least 40


def test_a_lost_answer_still_lands_the_transaction(program_files: list[ProgramFile]) -> None:
    # Half the error rate hits answers to sends: at 1.0, about one send in two.
    node = manual_node(program_files, faults=FaultSettings(error_rate=1.0))
    pool = pool_of(node, "meteora", USDC, USDT)
    lost = []
    for n in range(20):
        tx = swap_tx(node, pool, a_to_b=True, amount=10**6 + n, memo_text=f"order-{n}")
        try:
            node.send_transaction(tx)
        except InjectedRpcError as exc:
            lost.append((tx, exc.accepted))
        assert len(node.transactions(f"order-{n}")) == 1
    assert 0 < len(lost) < 20
    assert all(accepted for _, accepted in lost)
    first = lost[0][0]
    node.faults.settings = FaultSettings()
    assert node.send_transaction(first) == first.signatures[0]  # re-sending is harmless
    entry = node.transaction(first.signatures[0])
    assert entry is not None
    assert node.transactions(entry.memo or "") == [entry]


@pytest.mark.anyio
async def test_rpc_calls_wait_the_latency_and_fail_at_the_error_rate() -> None:
    plan = FaultPlan(FaultSettings(latency_ms=30), seed=1)
    started = time.monotonic()
    await plan.before_call()
    assert time.monotonic() - started >= 0.03
    plan.settings = FaultSettings(error_rate=0.5)
    refused: list[bool] = []
    for _ in range(200):
        try:
            await plan.before_call()
        except InjectedRpcError as exc:
            refused.append(exc.accepted)
    failures = len(refused)
    assert 60 < failures < 140
    assert not any(refused)
    assert plan.injected["rpcErrors"] == failures


def test_fault_settings_merge_their_json_form_and_refuse_nonsense() -> None:
    settings = FaultSettings().merged({"dropRate": 0.25, "latencyMs": 5})
    assert (settings.drop_rate, settings.latency_ms) == (0.25, 5)
    assert settings.to_json()["dropRate"] == 0.25
    for bad in ({"dropRate": 1.5}, {"latencyMs": -1}, {"dropRates": 0.1}, {"errorRate": "x"}):
        with pytest.raises(FaultSettingsError):
            FaultSettings().merged(bad)


def test_the_same_seed_injects_the_same_faults() -> None:
    one, two = (FaultPlan(FaultSettings(drop_rate=0.3), seed=9) for _ in range(2))
    assert [one.drops() for _ in range(50)] == [two.drops() for _ in range(50)]

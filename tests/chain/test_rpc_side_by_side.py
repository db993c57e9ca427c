"""LocalRpc answers exactly as HttpRpc does against `eterna chain`, values and errors alike.

Two nodes built alike (same seed, manual slots, same wallet) run the same script of calls:
one through HttpRpc over the server app, one through LocalRpc. Their outcomes - decoded
values, and the class, message and payload of every error - must be equal, and each step
must also be what a Solana node answers.
"""

from __future__ import annotations

from typing import Any

import pytest
from solders.hash import Hash
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import Transaction

from eterna.adapters.localchain.faults import FaultSettings
from eterna.adapters.localchain.local_rpc import LocalRpc
from eterna.adapters.localchain.node import LocalNode
from eterna.adapters.localchain.programs import ProgramFile
from eterna.adapters.localchain.slots import MAX_BLOCKHASH_AGE
from eterna.adapters.solana.rpc_client import RpcClient
from eterna.domain.tokens import USDC, USDT
from tests.chain.node_support import manual_node, pool_of, swap_tx
from tests.chain.rpc_support import http_rpc, outcome

pytestmark = pytest.mark.anyio


async def _script(rpc: RpcClient, node: LocalNode) -> list[tuple[str, Any]]:
    """Run the calls Eterna makes, good and bad, and return each outcome in order."""
    pool = pool_of(node, "raydium", USDC, USDT)
    accounts = [*pool.accounts, Pubkey.from_string("11111111111111111111111111111112")]
    stale = node.latest_blockhash().blockhash
    swap = swap_tx(node, pool, a_to_b=True, amount=1_000_000)
    too_greedy = swap_tx(node, pool, a_to_b=True, amount=1_000_000, min_out=10**15, memo_text="g")
    signed = swap_tx(node, pool, a_to_b=True, amount=5, memo_text="f")
    forged = Transaction.populate(signed.message, [Keypair().sign_message(b"not this one")])
    steps = [
        rpc.get_health(),
        rpc.get_slot(),
        rpc.get_block_height(commitment="confirmed"),
        rpc.get_latest_blockhash(),
        rpc.get_account_info(pool.address),
        rpc.get_account_info(accounts[-1]),
        rpc.get_multiple_accounts(accounts),
        rpc.simulate_transaction(too_greedy),
        rpc.send_transaction(too_greedy),
        rpc.send_transaction(forged),
        rpc.send_transaction(swap),
        rpc.send_transaction(swap),  # a re-send: already processed
        rpc.get_signature_statuses([swap.signatures[0], Signature.default()]),
        rpc.get_transaction(swap.signatures[0]),  # finalized by default: not yet
        rpc.get_transaction(swap.signatures[0], commitment="confirmed"),
        rpc.get_transaction(too_greedy.signatures[0], commitment="confirmed"),
        rpc.call("getAccountInfo", ["not-an-address"]),
        rpc.call("getAccountInfo", [str(pool.address), {"encoding": "jsonParsed"}]),
        rpc.call("getTransaction", [str(swap.signatures[0]), {"commitment": "processed"}]),
        rpc.call("getMultipleAccounts", [[str(pool.address)] * 101]),
        rpc.call("getBlock", [1]),
    ]
    outcomes = [await outcome(step) for step in steps]
    node.advance(MAX_BLOCKHASH_AGE + 1)
    late = swap_tx(node, pool, a_to_b=False, amount=1_000, memo_text="late", blockhash=stale)
    outcomes.append(await outcome(rpc.send_transaction(late)))
    outcomes.append(await outcome(rpc.send_transaction(late, skip_preflight=True)))
    outcomes.append(await outcome(rpc.get_signature_statuses([late.signatures[0]])))
    outcomes.append(await outcome(rpc.get_transaction(swap.signatures[0])))  # finalized now
    node.faults.settings = FaultSettings(error_rate=1.0)
    outcomes.append(await outcome(rpc.get_slot()))
    return outcomes


@pytest.fixture
def nodes(program_files: list[ProgramFile]) -> tuple[LocalNode, LocalNode]:
    """Two nodes built alike: same seed, manual slots, no drift."""
    return manual_node(program_files), manual_node(program_files)


async def test_local_rpc_answers_as_http_rpc_against_the_server(
    nodes: tuple[LocalNode, LocalNode],
) -> None:
    over_http, in_process = nodes
    async with http_rpc(over_http) as (rpc, _):
        remote = await _script(rpc, over_http)
    local = await _script(LocalRpc(in_process), in_process)
    assert len(remote) == len(local)
    for index, (a, b) in enumerate(zip(remote, local, strict=True)):
        assert a == b, f"step {index}: {a!r} != {b!r}"
    _check_the_answers_are_a_nodes(remote)


def _error(step: tuple[str, Any]) -> tuple[str, str, dict[str, Any]]:
    kind, detail = step
    assert kind == "error", step
    return detail  # type: ignore[no-any-return]


def _check_the_answers_are_a_nodes(steps: list[tuple[str, Any]]) -> None:
    assert steps[0] == ("ok", None)
    slot, height = steps[1][1], steps[2][1]
    assert height < slot
    assert steps[3][1].value.last_valid_block_height == height + MAX_BLOCKHASH_AGE
    assert isinstance(steps[3][1].value.blockhash, Hash)
    assert steps[4][1].value is not None
    assert steps[5][1].value is None
    multiple = steps[6][1]
    assert multiple.value[-1] is None
    assert all(a is not None for a in multiple.value[:-1])
    simulated = steps[7][1].value
    assert simulated.err.kind == "InstructionError"
    assert simulated.err.custom_code == 6005  # CP-Swap's ExceededSlippage
    greedy = _error(steps[8])
    assert greedy[0] == "PreflightFailureError"
    assert greedy[2]["code"] == -32002
    assert greedy[2]["simulation"].err.custom_code == 6005
    assert _error(steps[9])[0] == "SignatureVerificationError"
    assert steps[10][0] == "ok"
    assert _error(steps[11])[0] == "AlreadyProcessedError"
    statuses = steps[12][1].value
    assert statuses[0].confirmation_status == "confirmed"
    assert statuses[0].err is None
    assert statuses[1] is None
    assert steps[13] == ("ok", None)
    record = steps[14][1]
    assert record.err is None
    assert record.fee == 5000
    assert record.compute_units_consumed > 0
    assert steps[15] == ("ok", None)  # refused at preflight: never processed
    for index in (16, 17, 18, 19):
        assert _error(steps[index])[0] == "InvalidParamsError", steps[index]
    assert _error(steps[20])[0] == "MethodNotFoundError"
    assert _error(steps[21])[0] == "BlockhashNotFoundError"
    assert steps[22][0] == "ok"  # skipPreflight: accepted, then dropped
    assert steps[23][1].value == [None]
    assert steps[24][1] is not None  # 151 slots later the swap is finalized
    assert _error(steps[25])[0] == "RpcUnavailableError"

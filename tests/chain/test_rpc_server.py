"""`eterna chain` over HTTP: JSON-RPC framing, answers Solana clients parse, faults, admin."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from solders.pubkey import Pubkey
from solders.rpc.errors import SendTransactionPreflightFailureMessage
from solders.rpc.responses import (
    GetAccountInfoResp,
    GetLatestBlockhashResp,
    GetMultipleAccountsResp,
    GetSignatureStatusesResp,
    GetTransactionResp,
    SendTransactionResp,
    SimulateTransactionResp,
)

from eterna.adapters.localchain.node import LocalNode
from eterna.adapters.localchain.programs import ProgramFile
from eterna.adapters.solana.rpc_codec import encode_transaction
from eterna.adapters.solana.rpc_errors import AlreadyProcessedError, RpcUnavailableError
from eterna.domain.tokens import SOL, USDC, USDT
from tests.chain.node_support import manual_node, pool_of, swap_tx
from tests.chain.rpc_support import http_rpc

pytestmark = pytest.mark.anyio


@pytest.fixture
def node(program_files: list[ProgramFile]) -> LocalNode:
    """A node at genesis with manual slots and no drift."""
    return manual_node(program_files)


def _request(method: str, params: list[Any], request_id: int = 1) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}


async def _post(client: httpx.AsyncClient, body: Any) -> httpx.Response:
    return await client.post("/", content=orjson.dumps(body))


async def test_solders_parses_every_answer_eterna_relies_on(node: LocalNode) -> None:
    pool = pool_of(node, "raydium", USDC, USDT)
    swap = swap_tx(node, pool, a_to_b=True, amount=10_000_000)
    greedy = swap_tx(node, pool, a_to_b=True, amount=1_000, min_out=10**12, memo_text="greedy")
    base64 = {"encoding": "base64"}
    calls: list[tuple[Any, dict[str, Any]]] = [
        (GetAccountInfoResp, _request("getAccountInfo", [str(pool.address), base64])),
        (
            GetMultipleAccountsResp,
            _request("getMultipleAccounts", [[str(a) for a in pool.accounts], base64]),
        ),
        (GetLatestBlockhashResp, _request("getLatestBlockhash", [])),
        (
            SimulateTransactionResp,
            _request("simulateTransaction", [encode_transaction(swap), base64]),
        ),
        (SendTransactionResp, _request("sendTransaction", [encode_transaction(swap), base64])),
        (
            SendTransactionPreflightFailureMessage,
            _request("sendTransaction", [encode_transaction(greedy), base64]),
        ),
        (GetSignatureStatusesResp, _request("getSignatureStatuses", [[str(swap.signatures[0])]])),
        (
            GetTransactionResp,
            _request(
                "getTransaction",
                [str(swap.signatures[0]), {**base64, "commitment": "confirmed"}],
            ),
        ),
    ]
    async with http_rpc(node) as (_, client):
        for parser, body in calls:
            response = await _post(client, body)
            assert response.status_code == 200
            reader = SendTransactionResp if body["method"] == "sendTransaction" else parser
            parsed = reader.from_json(response.text)
            assert isinstance(parsed, parser), (body["method"], response.text[:300])
    parsed_tx = GetTransactionResp.from_json(response.text)
    assert isinstance(parsed_tx, GetTransactionResp)
    assert parsed_tx.value is not None
    meta = parsed_tx.value.transaction.meta
    assert meta is not None
    assert meta.err is None
    assert meta.fee == 5000


async def test_a_batch_is_answered_in_order_with_each_error_in_place(node: LocalNode) -> None:
    batch = [
        _request("getSlot", [], 1),
        _request("noSuchMethod", [], 2),
        {"jsonrpc": "2.0", "method": "getSlot"},  # a notification: no answer
        _request("getBlockHeight", [], 3),
    ]
    async with http_rpc(node) as (_, client):
        answers = (await _post(client, batch)).json()
        empty = (await _post(client, [])).json()
        garbled = await client.post("/", content=b"{not json")
    assert [a["id"] for a in answers] == [1, 2, 3]
    assert answers[0]["result"] == node.slot
    assert answers[1]["error"] == {"code": -32601, "message": "Method not found"}
    assert answers[2]["result"] == node.block_height
    assert empty["error"]["code"] == -32600
    assert garbled.json() == {
        "jsonrpc": "2.0",
        "error": {"code": -32700, "message": "Parse error"},
        "id": None,
    }


async def test_an_injected_rpc_error_is_an_http_503_and_the_client_calls_it_unavailable(
    node: LocalNode,
) -> None:
    async with http_rpc(node) as (rpc, client):
        answer = await client.post("/admin/faults", json={"errorRate": 1})
        assert answer.json()["errorRate"] == 1
        response = await _post(client, _request("getSlot", []))
        assert response.status_code == 503
        with pytest.raises(RpcUnavailableError, match="HTTP 503"):
            await rpc.get_slot()
        faults = (await client.get("/admin/faults")).json()
        assert faults["injected"]["rpcErrors"] == 2
        refused = await client.post("/admin/faults", json={"errorRate": 2})
        assert refused.status_code == 400


async def test_a_send_whose_answer_is_lost_landed_all_the_same(
    node: LocalNode, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = pool_of(node, "raydium", USDC, USDT)
    swap = swap_tx(node, pool, a_to_b=True, amount=1_000_000, memo_text="order-lost-answer")
    monkeypatch.setattr(node.faults, "fails_after_send", lambda: True)
    async with http_rpc(node) as (rpc, client):
        with pytest.raises(RpcUnavailableError, match="HTTP 503"):
            await rpc.send_transaction(swap)
        with pytest.raises(AlreadyProcessedError):
            await rpc.send_transaction(swap)
        statuses = await rpc.get_signature_statuses([swap.signatures[0]])
        ledger = (await client.get("/admin/ledger", params={"memo": "order-lost-answer"})).json()
    assert [row["signature"] for row in ledger] == [str(swap.signatures[0])]
    assert ledger[0]["success"] is True
    status = statuses.value[0]
    assert status is not None
    assert status.err is None


async def test_admin_launches_a_pool_whose_accounts_are_readable_over_rpc(node: LocalNode) -> None:
    async with http_rpc(node) as (rpc, client):
        response = await client.post(
            "/admin/launch",
            json={
                "symbol": "PEPE",
                "decimals": 6,
                "quote": "SOL",
                "price": "0.001",
                "liquidity": "50",
            },
        )
        assert response.status_code == 200, response.text
        launched = response.json()
        pools = (await client.get("/admin/pools")).json()
        address = Pubkey.from_string(launched["pool"]["address"])
        accounts = await rpc.get_multiple_accounts(list(node.pool(address).accounts))
        bad = await client.post(
            "/admin/launch", json={"symbol": "X", "quote": "NOPE", "price": "1"}
        )
    assert launched["symbol"] == "PEPE"
    assert launched["pool"]["address"] in {p["address"] for p in pools}
    assert all(account is not None for account in accounts.value)
    assert bad.status_code == 400


async def test_admin_move_price_lands_an_adverse_swap(node: LocalNode) -> None:
    pool = pool_of(node, "meteora", SOL, USDC)
    before = node.pool_math(pool.address).spot_price(a_to_b=True)
    async with http_rpc(node) as (_, client):
        moved = await client.post(
            "/admin/move-price", json={"pool": str(pool.address), "bps": 100, "side": "sellA"}
        )
        unknown = await client.post(
            "/admin/move-price", json={"pool": str(USDC.mint), "bps": 100, "side": "sellA"}
        )
        health = await client.get("/health")
    assert moved.status_code == 200, moved.text
    assert node.pool_math(pool.address).spot_price(a_to_b=True) < before
    assert unknown.status_code == 400
    assert health.text == "ok"


async def test_admin_move_price_moves_several_pools_back_to_back(node: LocalNode) -> None:
    meteora, raydium = pool_of(node, "meteora", SOL, USDC), pool_of(node, "raydium", SOL, USDC)
    before = [node.pool_math(p.address).spot_price(a_to_b=True) for p in (meteora, raydium)]
    move = {"bps": 100, "side": "sellA"}
    async with http_rpc(node) as (_, client):
        moved = await client.post(
            "/admin/move-price",
            json={"moves": [{"pool": str(p.address)} | move for p in (meteora, raydium)]},
        )
        after = [node.pool_math(p.address).spot_price(a_to_b=True) for p in (meteora, raydium)]
        stuck = await client.post(
            "/admin/move-price",
            json={
                "moves": [{"pool": str(raydium.address)} | move, {"pool": str(USDC.mint)} | move]
            },
        )
        moved_again = node.pool_math(raydium.address).spot_price(a_to_b=True)
        malformed = await client.post(
            "/admin/move-price", json={"moves": [{"pool": str(raydium.address), "side": "up"}]}
        )
    assert moved.status_code == 200, moved.text
    assert len(moved.json()["prices"]) == 2
    assert all(a < b for a, b in zip(after, before, strict=True))
    # The unknown pool stops the batch; the move before it has landed.
    assert stuck.status_code == 400
    assert stuck.json()["failed"] == 1
    assert moved_again < after[1]
    assert malformed.status_code == 400
    assert node.pool_math(raydium.address).spot_price(a_to_b=True) == moved_again


async def test_admin_advance_moves_manual_slots(node: LocalNode) -> None:
    start = node.slot
    async with http_rpc(node) as (rpc, client):
        answer = (await client.post("/admin/advance", json={"slots": 5})).json()
        slot = await rpc.get_slot()
    assert answer["slot"] == slot == start + 5

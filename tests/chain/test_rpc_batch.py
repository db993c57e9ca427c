"""JSON-RPC calls of one loop turn share one request, and each keeps its own outcome.

Against a scripted node (what was posted, answers out of order, failures of the request and
of one call) and against ``eterna chain`` itself, over HTTP and in process.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import orjson
import pytest
from solders.pubkey import Pubkey

from eterna.adapters.localchain.local_rpc import LocalRpc
from eterna.adapters.localchain.programs import ProgramFile
from eterna.adapters.solana.http_rpc import HttpRpc
from eterna.adapters.solana.rpc_batch import CallBatcher
from eterna.adapters.solana.rpc_errors import (
    InvalidParamsError,
    InvalidResponseError,
    NodeUnhealthyError,
    RpcUnavailableError,
)
from eterna.core.fair_gate import FairGate
from tests.chain.node_support import manual_node
from tests.chain.rpc_support import outcome, served

pytestmark = pytest.mark.anyio
URL = "https://rpc.example/"

Answer = Callable[[dict[str, Any]], dict[str, Any] | None]


def _node(answer: Answer, posted: list[Any], *, status: int = 200) -> httpx.AsyncClient:
    """A node answering each call with answer(request), the batch's answers reversed."""

    def handler(request: httpx.Request) -> httpx.Response:
        body = orjson.loads(request.content)
        posted.append(body)
        if status != 200:
            return httpx.Response(status, text="overloaded")
        if isinstance(body, list):
            answers = [a for a in (answer(item) for item in body) if a is not None]
            return httpx.Response(200, json=answers[::-1])
        return httpx.Response(200, json=answer(body))

    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


def _slot_of_id(request: dict[str, Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "result": request["id"] * 10, "id": request["id"]}


async def test_calls_of_one_turn_go_in_one_request_and_each_gets_its_own_answer() -> None:
    posted: list[Any] = []
    async with _node(_slot_of_id, posted) as client:
        rpc = HttpRpc(client, URL)
        slots = await asyncio.gather(*(rpc.get_slot() for _ in range(5)))
        assert slots == [10, 20, 30, 40, 50]  # answered in reverse, matched by id
        (batch,) = posted
        assert [r["id"] for r in batch] == [1, 2, 3, 4, 5]
        assert {r["method"] for r in batch} == {"getSlot"}
        # A call made alone goes alone, as a plain request object.
        assert await rpc.get_slot() == 60
        assert posted[-1] == {"jsonrpc": "2.0", "id": 6, "method": "getSlot", "params": []}


async def test_a_request_carries_at_most_batch_calls_and_batch_one_sends_each_alone() -> None:
    posted: list[Any] = []
    async with _node(_slot_of_id, posted) as client:
        rpc = HttpRpc(client, URL, batch=3)
        assert await asyncio.gather(*(rpc.get_slot() for _ in range(7))) == [
            10 * i for i in range(1, 8)
        ]
        assert [len(body) if isinstance(body, list) else 1 for body in posted] == [3, 3, 1]
        posted.clear()
        alone = HttpRpc(client, URL, batch=1)
        await asyncio.gather(*(alone.get_slot() for _ in range(3)))
        assert all(isinstance(body, dict) for body in posted)
        assert len(posted) == 3


async def test_one_calls_error_object_fails_that_call_only() -> None:
    def answer(request: dict[str, Any]) -> dict[str, Any]:
        if request["method"] == "getBlockHeight":
            error = {"code": -32005, "message": "Node is behind by 42 slots"}
            return {"jsonrpc": "2.0", "error": error, "id": request["id"]}
        return _slot_of_id(request)

    posted: list[Any] = []
    async with _node(answer, posted) as client:
        rpc = HttpRpc(client, URL)
        slot, height = await asyncio.gather(
            outcome(rpc.get_slot()), outcome(rpc.get_block_height())
        )
    assert slot == ("ok", 10)
    assert height[0] == "error"
    assert height[1][0] == NodeUnhealthyError.__name__
    assert len(posted) == 1


async def test_a_call_left_unanswered_in_a_batch_is_an_invalid_response() -> None:
    def answer(request: dict[str, Any]) -> dict[str, Any] | None:
        return None if request["method"] == "getBlockHeight" else _slot_of_id(request)

    async with _node(answer, []) as client:
        rpc = HttpRpc(client, URL)
        slot, height = await asyncio.gather(
            rpc.get_slot(), rpc.get_block_height(), return_exceptions=True
        )
    assert slot == 10
    assert isinstance(height, InvalidResponseError)
    assert str(height).startswith("getBlockHeight:")


@pytest.mark.parametrize("status", [429, 503])
async def test_a_failed_request_fails_every_call_in_it_naming_each_method(status: int) -> None:
    posted: list[Any] = []
    async with _node(_slot_of_id, posted, status=status) as client:
        rpc = HttpRpc(client, URL)
        failures = await asyncio.gather(
            rpc.get_slot(), rpc.get_block_height(), return_exceptions=True
        )
    assert len(posted) == 1
    assert [type(f) for f in failures] == [RpcUnavailableError, RpcUnavailableError]
    named = [f"getSlot: HTTP {status}", f"getBlockHeight: HTTP {status}"]
    assert [str(f) for f in failures] == named


async def test_a_batch_answered_with_one_error_object_fails_every_call() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        error = {"code": -32600, "message": "batch requests are not allowed"}
        return httpx.Response(200, json={"jsonrpc": "2.0", "error": error, "id": None})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        rpc = HttpRpc(client, URL)
        failures = await asyncio.gather(
            rpc.get_slot(), rpc.get_block_height(), return_exceptions=True
        )
    assert all("batch requests are not allowed" in str(f) for f in failures)


async def test_a_batch_answered_with_one_result_answers_no_call() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"jsonrpc": "2.0", "result": 7, "id": 1})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        rpc = HttpRpc(client, URL)
        failures = await asyncio.gather(
            rpc.get_slot(), rpc.get_block_height(), return_exceptions=True
        )
    assert [type(f) for f in failures] == [InvalidResponseError, InvalidResponseError]


async def test_a_caller_cancelled_before_the_request_leaves_is_left_out_of_it() -> None:
    posted: list[Any] = []
    async with _node(_slot_of_id, posted) as client:
        rpc = HttpRpc(client, URL)
        gone = asyncio.ensure_future(rpc.get_block_height())
        kept = asyncio.ensure_future(rpc.get_slot())
        await asyncio.sleep(0)  # both queued, the request not yet sent
        gone.cancel()
        assert await kept == 20
    assert posted == [{"jsonrpc": "2.0", "id": 2, "method": "getSlot", "params": []}]


async def test_batches_to_eterna_chain_answer_as_single_calls_do(
    program_files: list[ProgramFile],
) -> None:
    node = manual_node(program_files)
    pool = next(iter(node.pools())).address
    script: list[tuple[str, list[Any]]] = [
        ("getSlot", []),
        ("getMultipleAccounts", [[str(pool), str(Pubkey.new_unique())], {"encoding": "base64"}]),
        ("getMultipleAccounts", [["not a key"]]),
        ("getBlockHeight", []),
        ("noSuchMethod", []),
    ]

    async def run(rpc: HttpRpc | LocalRpc) -> list[tuple[str, Any]]:
        return list(await asyncio.gather(*(outcome(rpc.call(m, p)) for m, p in script)))

    async with served(node) as url, httpx.AsyncClient() as client:
        alone = await run(HttpRpc(client, url, batch=1))
        together = await run(HttpRpc(client, url))
    assert together == alone
    assert await run(LocalRpc(node)) == alone
    assert await run(LocalRpc(node, batch=1)) == alone
    assert alone[2][0] == "error"
    assert alone[2][1][0] == InvalidParamsError.__name__


async def test_a_call_is_over_for_the_node_before_its_caller_runs_again() -> None:
    seen: list[str] = []

    async def exchange(body: Any) -> tuple[int, Any]:
        return 200, {"jsonrpc": "2.0", "result": 7, "id": body["id"]}

    async def caller() -> None:
        await batcher.call("getSlot", [], answered=lambda: seen.append("answered"))
        seen.append("resumed")

    batcher = CallBatcher(exchange)
    await caller()
    assert seen == ["answered", "resumed"]


async def test_a_calls_gate_slot_is_given_back_answered_or_dropped() -> None:
    gate = FairGate(2)
    async with _node(_slot_of_id, []) as client:
        rpc = HttpRpc(client, URL, gate=gate)
        assert list(await asyncio.gather(rpc.get_slot(), rpc.get_slot())) == [10, 20]
        assert gate.in_use == 0
        # A caller cancelled before its request left gives its slot back too.
        gone = asyncio.ensure_future(rpc.get_block_height())
        await asyncio.sleep(0)
        assert gate.in_use == 1
        gone.cancel()
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert gate.in_use == 0
        assert await rpc.get_slot() == 40  # the dropped call took id 3, never sent

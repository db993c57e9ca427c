"""Subscriptions: account, program and slot notifications over a real websocket and in process.

HttpRpc subscribes to `eterna chain` served by uvicorn on a local port; LocalRpc subscribes
to a node of its own built alike. The same swaps and slots must bring the same updates.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

import httpx
import orjson
import pytest
from solders.pubkey import Pubkey
from websockets.asyncio.client import connect

from eterna.adapters.localchain.local_rpc import LocalRpc
from eterna.adapters.localchain.node import LocalNode
from eterna.adapters.localchain.programs import ProgramFile
from eterna.adapters.localchain.rpc_pubsub import SessionClosedError
from eterna.adapters.localchain.rpc_service import ChainRpc
from eterna.adapters.solana.cpswap import POOL_STATE_LEN
from eterna.adapters.solana.http_rpc import HttpRpc
from eterna.adapters.solana.ids import CPSWAP_PROGRAM
from eterna.adapters.solana.rpc import AccountUpdate, DataSizeFilter, MemcmpFilter, SlotUpdate
from eterna.adapters.solana.rpc_client import RpcClient
from eterna.adapters.solana.rpc_errors import InvalidParamsError, RpcUnavailableError
from eterna.domain.tokens import USDC, USDT
from tests.chain.node_support import manual_node, pool_of, swap_tx
from tests.chain.rpc_support import served

pytestmark = pytest.mark.anyio
T = TypeVar("T")
WAIT = 5.0


async def _take(updates: AsyncIterator[T], count: int) -> list[T]:
    async with asyncio.timeout(WAIT):
        return [await anext(updates) for _ in range(count)]


async def _pool_story(rpc: RpcClient, node: LocalNode) -> list[list[AccountUpdate]]:
    """Subscribe to a pool's accounts and its program's pool states; swap; collect."""
    pool = pool_of(node, "raydium", USDC, USDT)
    state_size = DataSizeFilter(POOL_STATE_LEN)
    mint_at = MemcmpFilter(168, bytes(pool.mint_a))  # CP-Swap's PoolState keeps token0 there
    async with (
        rpc.account_updates(pool.accounts) as accounts,
        rpc.program_updates(CPSWAP_PROGRAM, [state_size, mint_at]) as states,
    ):
        node.chain.send_transaction(swap_tx(node, pool, a_to_b=True, amount=2_000_000)).check()
        changed = await _take(accounts, len(pool.accounts))
        (state,) = await _take(states, 1)
    return [sorted(changed, key=lambda u: bytes(u.address)), [state]]


async def test_account_and_program_updates_match_over_websocket_and_in_process(
    program_files: list[ProgramFile],
) -> None:
    remote_node, local_node = manual_node(program_files), manual_node(program_files)
    async with served(remote_node) as url, httpx.AsyncClient() as http:
        remote = await _pool_story(HttpRpc(http, url), remote_node)
    local = await _pool_story(LocalRpc(local_node), local_node)
    assert remote == local
    pool = pool_of(local_node, "raydium", USDC, USDT)
    changed, (state,) = local
    assert {u.address for u in changed} == set(pool.accounts)
    assert state.address == pool.address
    assert state.account.data == local_node.account(pool.address).data  # type: ignore[union-attr]


async def _slots(rpc: RpcClient, node: LocalNode) -> list[SlotUpdate]:
    async with rpc.slot_updates() as slots:
        node.advance(3)
        return await _take(slots, 3)


async def test_slot_updates_match_over_websocket_and_in_process(
    program_files: list[ProgramFile],
) -> None:
    remote_node, local_node = manual_node(program_files), manual_node(program_files)
    async with served(remote_node) as url, httpx.AsyncClient() as http:
        remote = await _slots(HttpRpc(http, url), remote_node)
    local = await _slots(LocalRpc(local_node), local_node)
    assert remote == local
    start = local[0].slot
    assert [u.slot for u in local] == [start, start + 1, start + 2]
    assert all(u.parent == u.slot - 1 for u in local)


async def test_a_bad_subscription_is_refused_with_the_nodes_error(
    program_files: list[ProgramFile],
) -> None:
    node = manual_node(program_files)
    bad = Pubkey.from_string("11111111111111111111111111111111")
    filters = [DataSizeFilter(1)] * 5  # a node takes four filters at most
    async with served(node) as url, httpx.AsyncClient() as http:
        for rpc in (HttpRpc(http, url), LocalRpc(node)):
            with pytest.raises(InvalidParamsError):
                async with rpc.program_updates(bad, filters):
                    pass


async def test_leaving_the_context_unsubscribes(program_files: list[ProgramFile]) -> None:
    node = manual_node(program_files)
    pool = pool_of(node, "raydium", USDC, USDT)
    async with served(node) as url, httpx.AsyncClient() as http:
        for rpc in (HttpRpc(http, url), LocalRpc(node)):
            async with rpc.account_updates([pool.address]):
                assert _listeners(node) == 1
            await _until(lambda: _listeners(node) == 0)


def _listeners(node: LocalNode) -> int:
    feed = node._account_feed  # what the node holds for its subscribers
    return sum(1 for s in feed._subscriptions if not s.closed)


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(int(WAIT / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition never held")


async def test_a_subscriber_that_falls_behind_is_cut_off(program_files: list[ProgramFile]) -> None:
    node = manual_node(program_files)
    rpc = LocalRpc(ChainRpc(node, outbox_size=4))
    async with rpc.slot_updates() as slots:
        node.advance(10)
        with pytest.raises(RpcUnavailableError):
            await _take(slots, 10)


def _context(rpc: RpcClient) -> AbstractAsyncContextManager[AsyncIterator[SlotUpdate]]:
    return rpc.slot_updates()


async def test_a_websocket_that_cannot_connect_is_unavailable() -> None:
    async with httpx.AsyncClient() as http:
        rpc = HttpRpc(http, "http://127.0.0.1:9/", timeout_seconds=1.0)
        with pytest.raises(RpcUnavailableError):
            async with _context(rpc):
                pass


async def test_a_session_answers_bad_requests_as_a_node_does(
    program_files: list[ProgramFile],
) -> None:
    session = ChainRpc(manual_node(program_files)).session()
    requests: list[Any] = [
        {"jsonrpc": "2.0", "id": 1, "method": "getSlot", "params": []},
        {"jsonrpc": "2.0", "id": 2, "method": "slotUnsubscribe", "params": [12345]},
        {"jsonrpc": "2.0", "id": 3, "method": "slotSubscribe"},
        ["not", "a", "request"],
    ]
    for request in requests:
        await session.handle(request)
    answers = [await session.next_message() for _ in requests]
    assert answers[0]["error"]["code"] == -32601
    assert answers[1]["error"] == {"code": -32602, "message": "Invalid subscription id."}
    sub = answers[2]["result"]
    assert isinstance(sub, int)
    assert answers[3]["error"]["code"] == -32600
    await session.handle({"jsonrpc": "2.0", "id": 4, "method": "slotUnsubscribe", "params": [sub]})
    assert await session.next_message() == {"jsonrpc": "2.0", "result": True, "id": 4}
    await session.close()
    with pytest.raises(SessionClosedError):
        await session.next_message()


async def test_the_websocket_answers_garbage_with_a_parse_error_and_reads_binary_json(
    program_files: list[ProgramFile],
) -> None:
    node = manual_node(program_files)
    async with served(node) as url, connect(url.replace("http", "ws", 1)) as ws:
        await ws.send("{not json")
        garbled = orjson.loads(await ws.recv())
        await ws.send(orjson.dumps({"jsonrpc": "2.0", "id": 7, "method": "slotSubscribe"}))
        answer = orjson.loads(await ws.recv())
    assert garbled["error"] == {"code": -32700, "message": "Parse error"}
    assert answer["id"] == 7
    assert isinstance(answer["result"], int)

"""HttpRpc: the requests it posts, and every transport failure translated at the boundary.

Also the aiohttp transport processes give it: the same answers as httpx's own against
``eterna chain``, and its failures translated the same way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import orjson
import pytest
from solders.pubkey import Pubkey

from eterna.adapters.localchain.programs import ProgramFile
from eterna.adapters.solana.http_rpc import HttpRpc, websocket_url
from eterna.adapters.solana.http_transport import AiohttpTransport
from eterna.adapters.solana.ids import TOKEN_PROGRAM, USDC_MINT
from eterna.adapters.solana.rpc_errors import (
    InvalidParamsError,
    InvalidResponseError,
    NodeUnhealthyError,
    RpcUnavailableError,
)
from eterna.core.fair_gate import CALLER, FairGate
from eterna.domain.errors import TransientError
from tests.chain.node_support import manual_node
from tests.chain.rpc_support import served

pytestmark = pytest.mark.anyio
URL = "https://rpc.example/"


def _rpc(handler: Callable[[httpx.Request], httpx.Response]) -> tuple[HttpRpc, httpx.AsyncClient]:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return HttpRpc(client, URL, timeout_seconds=0.5), client


async def test_requests_are_json_rpc_with_base64_accounts_and_the_commitment() -> None:
    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(orjson.loads(request.content))
        result = {"context": {"slot": 9}, "value": [None, None]}
        return httpx.Response(200, json={"jsonrpc": "2.0", "result": result, "id": 1})

    rpc, client = _rpc(handler)
    async with client:
        answer = await rpc.get_multiple_accounts([USDC_MINT, TOKEN_PROGRAM], commitment="confirmed")
    assert answer.slot == 9
    assert answer.value == [None, None]
    (body,) = seen
    assert body["jsonrpc"] == "2.0"
    assert body["method"] == "getMultipleAccounts"
    assert body["params"] == [
        [str(USDC_MINT), str(TOKEN_PROGRAM)],
        {"encoding": "base64", "commitment": "confirmed"},
    ]


@pytest.mark.parametrize(
    ("respond", "error"),
    [
        (lambda: httpx.Response(429, text="slow down"), RpcUnavailableError),
        (lambda: httpx.Response(502, text="<html>bad gateway</html>"), RpcUnavailableError),
        (lambda: httpx.Response(200, text="<html>a captive portal</html>"), InvalidResponseError),
        (lambda: httpx.Response(200, json={"jsonrpc": "2.0", "id": 1}), InvalidResponseError),
        (
            lambda: httpx.Response(
                200,
                json={
                    "jsonrpc": "2.0",
                    "error": {"code": -32005, "message": "Node is behind by 42 slots"},
                    "id": 1,
                },
            ),
            NodeUnhealthyError,
        ),
    ],
)
async def test_answers_that_are_not_results_become_typed_transient_errors(
    respond: Callable[[], httpx.Response], error: type[Exception]
) -> None:
    rpc, client = _rpc(lambda _: respond())
    async with client:
        with pytest.raises(error) as raised:
            await rpc.get_slot()
    assert isinstance(raised.value, TransientError)


@pytest.mark.parametrize(
    "failure",
    [httpx.ReadTimeout("slow"), httpx.ConnectError("refused"), httpx.RemoteProtocolError("cut")],
)
async def test_transport_failures_become_rpc_unavailable(failure: httpx.HTTPError) -> None:
    def handler(_: httpx.Request) -> httpx.Response:
        raise failure

    rpc, client = _rpc(handler)
    async with client:
        with pytest.raises(RpcUnavailableError) as raised:
            await rpc.get_account_info(Pubkey.default())
    assert raised.value.__cause__ is failure


async def test_a_refused_connection_to_a_real_port_is_unavailable() -> None:
    async with httpx.AsyncClient() as client:
        rpc = HttpRpc(client, "http://127.0.0.1:9/", timeout_seconds=1.0)
        with pytest.raises(RpcUnavailableError):
            await rpc.get_health()


def test_the_websocket_url_follows_the_http_one() -> None:
    assert websocket_url("https://rpc.example/key") == "wss://rpc.example/key"
    assert websocket_url("http://127.0.0.1:8899") == "ws://127.0.0.1:8899"


async def test_the_aiohttp_transport_answers_as_httpx_does_against_eterna_chain(
    program_files: list[ProgramFile],
) -> None:
    node = manual_node(program_files)
    keys = [next(iter(node.pools())).address, Pubkey.new_unique()]  # a pool, and no account
    async with served(node) as url:
        async with httpx.AsyncClient() as plain:
            expected = await HttpRpc(plain, url).get_multiple_accounts(keys)
            slot = await HttpRpc(plain, url).get_slot()
        transport = AiohttpTransport()
        async with httpx.AsyncClient(transport=transport) as lean:
            rpc = HttpRpc(lean, url)
            answer = await rpc.get_multiple_accounts(keys)
            assert await rpc.get_slot() == slot
            with pytest.raises(InvalidParamsError):
                await rpc.call("getMultipleAccounts", ["not a key"])
            posted = HttpRpc(lean, url, poster=transport)  # the lean path, same session
            assert await posted.get_multiple_accounts(keys) == expected
            assert await posted.get_slot() == slot
            with pytest.raises(InvalidParamsError):
                await posted.call("getMultipleAccounts", ["not a key"])
    assert answer == expected
    assert answer.value[0] is not None
    assert answer.value[1] is None


@pytest.mark.parametrize("lean", [False, True])
async def test_the_aiohttp_transport_turns_a_refused_connection_into_rpc_unavailable(
    lean: bool,
) -> None:
    transport = AiohttpTransport()
    async with httpx.AsyncClient(transport=transport) as client:
        poster = transport if lean else None
        rpc = HttpRpc(client, "http://127.0.0.1:9/", timeout_seconds=1.0, poster=poster)
        with pytest.raises(RpcUnavailableError) as raised:
            await rpc.get_health()
    assert isinstance(raised.value.__cause__, httpx.TransportError)


@pytest.mark.parametrize("lean", [False, True])
async def test_the_aiohttp_transport_times_out_as_rpc_unavailable(lean: bool) -> None:
    hung_up = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # answers nothing, until the client gives up and hangs up
        writer.close()
        await writer.wait_closed()
        hung_up.set()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        transport = AiohttpTransport()
        async with httpx.AsyncClient(transport=transport) as client:
            poster = transport if lean else None
            rpc = HttpRpc(client, f"http://127.0.0.1:{port}/", timeout_seconds=0.2, poster=poster)
            with pytest.raises(RpcUnavailableError, match="no answer"):
                await rpc.get_health()
        await asyncio.wait_for(hung_up.wait(), 5)


async def test_with_a_gate_calls_wait_for_a_connection_in_their_users_turn() -> None:
    """One user's queued calls do not hold back another user's call beyond one of them."""
    arrived: list[int] = []
    release = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        arrived.append(orjson.loads(request.content)["params"][0])
        await release.wait()
        return httpx.Response(200, json={"jsonrpc": "2.0", "result": 1, "id": 1})

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    rpc = HttpRpc(client, URL, timeout_seconds=5, gate=FairGate(1))

    async def call(user: str, n: int) -> None:
        CALLER.set(user)
        await rpc.call("getBalance", [n])

    async with client:
        calls = [asyncio.create_task(call("flooder", n)) for n in range(5)]
        await asyncio.sleep(0.01)
        calls.append(asyncio.create_task(call("quiet", 99)))
        await asyncio.sleep(0.01)
        assert arrived == [0]  # one connection: the rest wait
        release.set()
        await asyncio.gather(*calls)
    # After the call in flight, one call of the flooder (first in the ring), then the quiet one.
    assert arrived == [0, 1, 99, 2, 3, 4]

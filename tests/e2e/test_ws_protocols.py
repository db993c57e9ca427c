"""Both websocket protocols, message by message: what each answers and how each closes."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from httpx_ws import AsyncWebSocketSession, WebSocketDisconnect, aconnect_ws

from tests import graphql_ws
from tests.e2e.conftest import Api
from tests.e2e.ws_session import init, session

pytestmark = pytest.mark.anyio

TOKENS = "{ tokens { symbol } }"
MINE = "subscription { myOrderEvents { seq } }"


def _subscribe(op_id: str, query: str, *, legacy: bool = False) -> dict[str, Any]:
    kind = "start" if legacy else "subscribe"
    return {"id": op_id, "type": kind, "payload": {"query": query}}


async def test_a_handshake_without_a_known_subprotocol_is_closed_4406(api: Api) -> None:
    ended = await session(api.client, [], protocol="graphql-sse")
    assert (ended.code, ended.reason) == (4406, "Subprotocol not acceptable")


@pytest.mark.parametrize(
    ("messages", "code", "reason"),
    [
        ([_subscribe("1", TOKENS)], 4401, "Unauthorized"),
        ([{"type": "connection_init", "payload": "x"}], 4400, "Invalid connection init"),
        ([{"type": "hello"}], 4400, "Unknown message type: hello"),
        ([{"type": "subscribe", "id": 7, "payload": {"query": TOKENS}}], 4400, "Invalid message"),
        ([[1, 2]], 4400, "Invalid message"),
    ],
)
async def test_graphql_transport_ws_closes_on_protocol_errors(
    api: Api, messages: list[Any], code: int, reason: str
) -> None:
    # connection_init without a token is refused; these messages fail before that matters.
    ended = await session(api.client, messages)
    assert ended.code == code
    assert ended.reason.startswith(reason)


async def _raw(api: Api, frame: str | bytes, protocol: str) -> tuple[int | None, str]:
    """Send one raw frame on a new websocket; return the code and reason it is closed with."""
    ended: tuple[int | None, str] = (None, "")
    ws: AsyncWebSocketSession
    try:
        async with aconnect_ws("/graphql", api.client, subprotocols=[protocol]) as ws:
            await (ws.send_bytes(frame) if isinstance(frame, bytes) else ws.send_text(frame))
            await ws.receive_text()
    except* WebSocketDisconnect as closed:
        first = closed.exceptions[0]
        if isinstance(first, WebSocketDisconnect):
            ended = (first.code, first.reason)
    return ended


async def test_graphql_transport_ws_refuses_an_id_in_use_a_second_init_and_not_json(
    api: Api,
) -> None:
    token = api.token("alice")
    twice = await session(api.client, [init(token), _subscribe("a", MINE), _subscribe("a", MINE)])
    assert (twice.code, twice.reason) == (4409, "Subscriber for a already exists")
    again = await session(api.client, [init(token), init(token)])
    assert (again.code, again.reason) == (4429, "Too many initialisation requests")
    assert await _raw(api, "{not json", "graphql-transport-ws") == (
        4400,
        "WebSocket message must be valid JSON",
    )
    assert await _raw(api, b"{}", "graphql-transport-ws") == (
        4400,
        "WebSocket message type must be text",
    )


async def test_graphql_transport_ws_answers_ping_and_runs_a_query_once(api: Api) -> None:
    ws: AsyncWebSocketSession
    async with aconnect_ws("/graphql", api.client, subprotocols=["graphql-transport-ws"]) as ws:
        assert (await graphql_ws.init(ws, api.token("alice")))["type"] == "connection_ack"
        await ws.send_text(json.dumps({"type": "ping"}))
        assert json.loads(await ws.receive_text()) == {"type": "pong"}
        items, end = await graphql_ws.collect(ws, TOKENS, op_id="q")
    assert [len(i["tokens"]) > 0 for i in items] == [True]
    assert end == {"id": "q", "type": "complete"}


async def test_a_completed_subscription_frees_its_id_for_the_next(api: Api) -> None:
    ws: AsyncWebSocketSession
    async with aconnect_ws("/graphql", api.client, subprotocols=["graphql-transport-ws"]) as ws:
        assert (await graphql_ws.init(ws, api.token("alice")))["type"] == "connection_ack"
        await ws.send_text(json.dumps(_subscribe("s", MINE)))
        await asyncio.sleep(0.05)
        await ws.send_text(json.dumps({"id": "s", "type": "complete"}))
        await asyncio.sleep(0.05)
        _, end = await graphql_ws.collect(ws, TOKENS, op_id="s")  # not 4409: the id is free
    assert end == {"id": "s", "type": "complete"}


async def test_a_syntax_error_closes_graphql_transport_ws_and_is_an_error_on_graphql_ws(
    api: Api,
) -> None:
    token = api.token("alice")
    broken = "subscription { myOrderEvents { seq }"
    closed = await session(api.client, [init(token), _subscribe("1", broken)])
    assert closed.code == 4400
    assert closed.reason.startswith("Syntax Error")
    legacy = await session(
        api.client,
        [init(token), _subscribe("1", broken, legacy=True)],
        protocol="graphql-ws",
        wait=0.5,
    )
    assert legacy.code is None  # still open
    assert [m["type"] for m in legacy.received] == ["connection_ack", "error"]
    assert legacy.received[1]["payload"]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"


async def test_graphql_ws_stops_with_complete_and_ignores_what_is_not_json(api: Api) -> None:
    ws: AsyncWebSocketSession
    async with aconnect_ws("/graphql", api.client, subprotocols=["graphql-ws"]) as ws:
        assert (await graphql_ws.init(ws, api.token("alice")))["type"] == "connection_ack"
        await ws.send_text("{not json")
        await ws.send_text(json.dumps(_subscribe("s", MINE, legacy=True)))
        await asyncio.sleep(0.05)
        await ws.send_text(json.dumps({"id": "s", "type": "stop"}))
        assert json.loads(await ws.receive_text()) == {"type": "complete", "id": "s"}


async def test_graphql_ws_closes_1002_on_binary_and_1000_on_terminate(api: Api) -> None:
    assert (await _raw(api, b"\x00", "graphql-ws"))[0] == 1002
    token = api.token("alice")
    ended = await session(
        api.client, [init(token), {"type": "connection_terminate"}], protocol="graphql-ws"
    )
    assert (ended.code, [m["type"] for m in ended.received]) == (1000, ["connection_ack"])

"""Worst-case documents within the limits, through the app: each refused with its code or answered.

The same documents as ``bench/abuse.py`` (``bench/abuse_documents.py``), sent once each over
HTTP, and the refused ones over both websocket protocols: a refusal is a GraphQL error with
``extensions.code``, never a 500, a traceback or (on graphql-transport-ws) a closed socket.
How long they take is the benchmark's business.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from httpx_ws import AsyncWebSocketSession, WebSocketDisconnect, aconnect_ws

from tests import graphql_ws
from tests.e2e.conftest import Api

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
# bench/ is no package: its modules import each other by name.
from abuse_documents import (
    ANSWERED,
    INVALID,
    PARSE_FAILED,
    TOO_COMPLEX,
    documents,
    fan_out,
    repeated,
)

pytestmark = pytest.mark.anyio

ABUSES = {abuse.name: abuse for abuse in documents()}
DOCUMENT_CODES = {TOO_COMPLEX, PARSE_FAILED, INVALID}


def outcome(body: dict[str, Any]) -> str:
    """Return the code of the document's refusal, or ANSWERED."""
    codes = {(e.get("extensions") or {}).get("code") for e in body.get("errors") or ()}
    found = codes & DOCUMENT_CODES
    assert len(found) <= 1, body
    if found:
        assert body.get("data") is None, body
        return str(found.pop())
    return ANSWERED


def test_every_shape_has_documents_on_both_sides_of_its_limits() -> None:
    expected = {abuse.expect for abuse in ABUSES.values()}
    assert expected == {ANSWERED, TOO_COMPLEX, PARSE_FAILED, INVALID}
    assert sum(a.expect == TOO_COMPLEX for a in ABUSES.values()) >= 20


@pytest.mark.parametrize("name", sorted(ABUSES))
async def test_each_document_is_refused_with_its_code_or_answered_over_http(
    api: Api, name: str
) -> None:
    abuse = ABUSES[name]
    headers = {"Authorization": f"Bearer {api.token('abuser')}"}
    response = await api.client.post("/graphql", json=abuse.body(), headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert outcome(body) == abuse.expect, body
    messages = [e["message"] for e in body.get("errors") or ()]
    assert "Unexpected error." not in messages, body


async def test_refusals_over_graphql_transport_ws_leave_the_connection_open(api: Api) -> None:
    refused = [a for a in ABUSES.values() if a.expect in {TOO_COMPLEX, INVALID}]
    ws: AsyncWebSocketSession
    async with aconnect_ws("/graphql", api.client, subprotocols=["graphql-transport-ws"]) as ws:
        assert (await graphql_ws.init(ws, api.token("abuser")))["type"] == "connection_ack"
        for i, abuse in enumerate(refused):
            payload = abuse.body()
            message = {"id": str(i), "type": "subscribe", "payload": payload}
            await ws.send_text(json.dumps(message))
            answer = await graphql_ws._recv(ws)
            assert answer["type"] == "error", (abuse.name, answer)
            assert {e["extensions"]["code"] for e in answer["payload"]} == {abuse.expect}
        items, end = await graphql_ws.collect(ws, "{ tokens { symbol } }", op_id="last")
    assert items, end  # still open and serving


SUBSCRIPTION_ABUSES = {
    "fan-out": fan_out(25, leaf="seq", root="subscription { myOrderEvents", on="OrderEvent"),
    "repeated fields": repeated("myOrderEvents { seq }", 11).replace("{", "subscription {", 1),
    "tokens": "subscription { myOrderEvents {" + " seq" * 5_001 + " } }",
    "nesting": "subscription { myOrderEvents " + "{ a " * 201 + "}" * 201 + " }",
}


@pytest.mark.parametrize("name", sorted(SUBSCRIPTION_ABUSES))
@pytest.mark.parametrize("protocol", ["graphql-ws", "graphql-transport-ws"])
async def test_costly_subscriptions_are_refused_with_their_code(
    api: Api, name: str, protocol: str
) -> None:
    legacy = protocol == "graphql-ws"
    ws: AsyncWebSocketSession
    async with aconnect_ws("/graphql", api.client, subprotocols=[protocol]) as ws:
        assert (await graphql_ws.init(ws, api.token("abuser")))["type"] == "connection_ack"
        _, end = await graphql_ws.collect(ws, SUBSCRIPTION_ABUSES[name], legacy=legacy)
    assert end is not None
    assert end["type"] == "error", end
    errors = [end["payload"]] if legacy else end["payload"]
    assert [e["extensions"]["code"] for e in errors] == [TOO_COMPLEX], end


def test_the_subscription_documents_are_what_they_say() -> None:
    fan = SUBSCRIPTION_ABUSES["fan-out"]
    assert "fragment F25 on OrderEvent { seq }" in fan
    assert fan.count("...F") == 51


async def test_a_syntax_error_closes_graphql_transport_ws_and_is_an_error_on_graphql_ws(
    api: Api,
) -> None:
    ws: AsyncWebSocketSession
    async with aconnect_ws("/graphql", api.client, subprotocols=["graphql-ws"]) as ws:
        assert (await graphql_ws.init(ws, api.token("abuser")))["type"] == "connection_ack"
        _, end = await graphql_ws.collect(ws, "subscription { myOrderEvents {", legacy=True)
    assert end is not None
    assert end["type"] == "error"
    assert end["payload"]["extensions"] == {"code": PARSE_FAILED}
    code = None
    try:
        async with aconnect_ws("/graphql", api.client, subprotocols=["graphql-transport-ws"]) as ws:
            assert (await graphql_ws.init(ws, api.token("abuser")))["type"] == "connection_ack"
            await graphql_ws.collect(ws, "{ tokens {")
    except* WebSocketDisconnect as closed:
        first = closed.exceptions[0]
        code = first.code if isinstance(first, WebSocketDisconnect) else None
    assert code == 4400

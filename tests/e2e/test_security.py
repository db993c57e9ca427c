"""Security of the API: ownership, authentication, cost limits, rate limits, input, origins.

Every test drives the real app in-process over HTTP and websockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from httpx_ws import AsyncWebSocketSession, WebSocketDisconnect, aconnect_ws

from eterna.core.clock import utcnow
from eterna.domain.tokens import b58encode
from eterna.entrypoints.config import Settings
from tests import graphql_ws
from tests.e2e.conftest import Api, _running
from tests.e2e.test_market_orders import (
    MARKET_1_SOL,
    MY_EVENTS,
    ORDER,
    PLACE,
    PLACE_MANY,
    place,
    subscribe,
    wait_terminal,
)
from tests.e2e.ws_session import init as graphql_ws_init
from tests.e2e.ws_session import session

pytestmark = pytest.mark.anyio

CANCEL = """
mutation($id: ID!) {
  cancelOrder(id: $id) {
    __typename ... on CancelRejected { code message retryAfterSeconds }
  }
}
"""
LIST_IDS = "{ orders(first: 100) { edges { node { id clientOrderId amountIn } } } }"


@contextlib.asynccontextmanager
async def running(data_dir: Path, **overrides: Any) -> AsyncIterator[Api]:
    settings = Settings(data_dir=data_dir, chain_slot_ms=0, idle_recheck_seconds=0.5, **overrides)
    async with _running(settings) as api:
        yield api


async def close_code(api: Api, messages: list[str], *, protocol: str = "graphql-ws") -> int | None:
    """Send raw messages on a new websocket; return the close code the server ends it with."""
    code = None
    try:
        ws: AsyncWebSocketSession
        async with aconnect_ws("/graphql", api.client, subprotocols=[protocol]) as ws:
            for message in messages:
                await ws.send_text(message)
            while True:
                await asyncio.wait_for(ws.receive_text(), 5)
    except* WebSocketDisconnect as closed:
        first = closed.exceptions[0]
        code = first.code if isinstance(first, WebSocketDisconnect) else None
    return code


def init_message(token: str, padding: str = "") -> str:
    payload = {"Authorization": f"Bearer {token}", "pad": padding}
    return json.dumps({"type": "connection_init", "payload": payload})


async def stored_ids(api: Api, user: str = "alice") -> list[str]:
    edges = (await api.gql(LIST_IDS, user=user))["data"]["orders"]["edges"]
    return [e["node"]["id"] for e in edges]


# -- ownership -------------------------------------------------------------------------------


async def test_other_users_order_reads_exactly_like_a_missing_one(api: Api) -> None:
    order_id = (await place(api, MARKET_1_SOL))["order"]["id"]
    await wait_terminal(api, order_id)
    missing = str(uuid.uuid4())

    for query, variables in (
        (ORDER, {"id": order_id}),
        ("query($id: ID!) { order(id: $id) { id events { seq } } }", {"id": order_id}),
    ):
        theirs = await api.gql(query, variables, user="mallory")
        nothing = await api.gql(query, {"id": missing}, user="mallory")
        assert theirs == nothing == {"data": {"order": None}}
    assert order_id not in await stored_ids(api, user="mallory")
    assert await stored_ids(api) == [order_id]


async def test_cancel_of_another_users_order_is_not_found_and_changes_nothing(api: Api) -> None:
    order_id = (await place(api, MARKET_1_SOL))["order"]["id"]
    theirs = (await api.gql(CANCEL, {"id": order_id}, user="mallory"))["data"]["cancelOrder"]
    missing = (await api.gql(CANCEL, {"id": str(uuid.uuid4())}, user="mallory"))["data"]
    assert theirs == missing["cancelOrder"]
    assert theirs["code"] == "NOT_FOUND"
    done = await wait_terminal(api, order_id)
    assert done["status"] == "CONFIRMED"
    assert "CANCELLED" not in {e["status"] for e in done["events"]}


async def test_order_events_of_another_users_order_fail_like_a_missing_one(api: Api) -> None:
    order_id = (await place(api, MARKET_1_SOL))["order"]["id"]
    await wait_terminal(api, order_id)
    _, theirs = await subscribe(api, order_id, user="mallory")
    _, missing = await subscribe(api, str(uuid.uuid4()), user="mallory")
    assert theirs is not None
    assert missing is not None
    assert theirs["payload"] == missing["payload"]
    assert theirs["payload"]["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_my_order_events_never_carries_another_users_events(api: Api) -> None:
    ws: AsyncWebSocketSession
    async with aconnect_ws("/graphql", api.client, subprotocols=["graphql-transport-ws"]) as ws:
        assert (await graphql_ws.init(ws, api.token("mallory")))["type"] == "connection_ack"
        listening = asyncio.create_task(graphql_ws.collect(ws, MY_EVENTS, limit=5))
        await asyncio.sleep(0.2)
        alices = [(await place(api, MARKET_1_SOL))["order"]["id"] for _ in range(3)]
        await asyncio.sleep(0.1)
        mine = (await place(api, MARKET_1_SOL, user="mallory"))["order"]["id"]
        items, _ = await listening
    assert {i["myOrderEvents"]["orderId"] for i in items} == {mine}
    assert not set(alices) & {i["myOrderEvents"]["orderId"] for i in items}


async def test_client_order_id_of_one_user_never_reaches_another(api: Api) -> None:
    alice = await place(api, dict(MARKET_1_SOL, clientOrderId="shared-key"))
    bob = await place(api, dict(MARKET_1_SOL, amountIn="2", clientOrderId="shared-key"), "bob")
    bob_again = await place(api, dict(MARKET_1_SOL, clientOrderId="shared-key"), "bob")
    assert bob["order"]["id"] != alice["order"]["id"]
    assert bob_again["order"]["id"] == bob["order"]["id"]
    assert bob_again["order"]["amountIn"] == "2"
    assert await stored_ids(api) == [alice["order"]["id"]]


# -- authentication --------------------------------------------------------------------------


async def _post_with(api: Api, header: str) -> dict[str, Any]:
    response = await api.client.post(
        "/graphql", json={"query": LIST_IDS}, headers={"Authorization": header}
    )
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def _tokens(secret: str) -> list[tuple[str, str]]:
    """Return (expected reason, token) pairs of tokens the API must refuse."""
    live = {"sub": "alice", "exp": datetime.now(UTC) + timedelta(minutes=5)}
    return [
        (
            "token expired",
            jwt.encode(dict(live, exp=datetime.now(UTC) - timedelta(hours=1)), secret),
        ),
        (
            "invalid token: signature does not match (signed with another secret?)",
            jwt.encode(live, "another-secret-" + "x" * 40),
        ),
        ("invalid token: algorithm not allowed", jwt.encode(live, None, algorithm="none")),
        (
            "invalid token: algorithm not allowed",
            jwt.encode(live, secret + "x" * 40, algorithm="HS512"),
        ),
        ("invalid token: not a JWT", "not-a-token"),
        ("expected 'Authorization: Bearer <token>'", ""),
    ]


async def test_bad_credentials_get_a_clear_unauthenticated_error(api: Api) -> None:
    for reason, token in _tokens(api.runtime.auth.secret):
        body = await _post_with(api, f"Bearer {token}" if token else "Basic abc")
        assert body["data"] is None
        error = body["errors"][0]
        assert error["extensions"]["code"] == "UNAUTHENTICATED"
        assert error["message"].startswith(reason)
    anonymous = (await api.gql(LIST_IDS, user=None))["errors"][0]
    assert anonymous["message"].startswith("authentication required")


async def test_a_websocket_refused_for_its_token_says_why_in_the_close_frame(api: Api) -> None:
    for reason, token in _tokens(api.runtime.auth.secret):
        if not token:
            continue
        ended = await session(api.client, [graphql_ws_init(token)])
        assert ended.code == 4403
        assert ended.reason is not None
        assert ended.reason.startswith(f"Forbidden: {reason}"), (reason, ended.reason)


async def test_websocket_with_an_expired_token_is_refused(api: Api) -> None:
    expired = api.runtime.auth.issue("alice", now=utcnow() - timedelta(hours=1), ttl=timedelta())
    assert await close_code(api, [init_message(expired)], protocol="graphql-transport-ws") == 4403


@pytest.mark.parametrize("legacy", [False, True])
async def test_subscription_ends_unauthenticated_when_its_token_expires(
    data_dir: Path, *, legacy: bool
) -> None:
    async with running(data_dir, jwt_leeway_seconds=0) as api:
        token = api.runtime.auth.issue("alice", now=utcnow(), ttl=timedelta(seconds=2))
        expires_at = api.runtime.auth.verify(token).expires_at
        protocol = "graphql-ws" if legacy else "graphql-transport-ws"
        ws: AsyncWebSocketSession
        async with aconnect_ws("/graphql", api.client, subprotocols=[protocol]) as ws:
            assert (await graphql_ws.init(ws, token))["type"] == "connection_ack"
            items, end = await graphql_ws.collect(ws, MY_EVENTS, legacy=legacy, wait=5)
            ended_at = datetime.now(UTC)
            again, refused = await graphql_ws.collect(ws, MY_EVENTS, op_id="2", legacy=legacy)
    assert items == []
    assert end is not None
    assert end["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "token expired" in end["payload"]["errors"][0]["message"]
    assert timedelta() <= ended_at - expires_at < timedelta(seconds=1)
    assert again == []
    assert refused is not None
    assert "UNAUTHENTICATED" in json.dumps(refused)


# -- cost limits -----------------------------------------------------------------------------


def _nested(depth: int) -> str:
    return "{ orders { edges { node { route { legs { tokenIn { mint } } } } } } }" if depth else ""


async def test_cost_limits_refuse_deep_aliased_and_long_documents(data_dir: Path) -> None:
    limits = {"max_query_depth": 5, "max_aliases": 3, "max_tokens": 200}
    async with running(data_dir, **limits) as api:
        deep = await api.gql(_nested(7))
        aliased = await api.gql(
            "{ " + " ".join(f"t{i}: tokens {{ symbol }}" for i in range(4)) + " }"
        )
        long = await api.gql("{ tokens { " + "symbol " * 250 + "} }")
        fine = await api.gql("{ a: tokens { symbol } b: venues { name } }")
    for body, limit, message in (
        (deep, "depth", "fields 6 levels deep; at most 5 allowed."),
        (aliased, "aliases", "4 aliases once fragments are expanded; at most 3 allowed."),
        (long, "tokens", "more than 200 tokens."),
    ):
        assert body["data"] is None
        (error,) = body["errors"]
        assert error["message"] == f"Query too complex: {message}"
        assert error["extensions"] == {"code": "QUERY_TOO_COMPLEX", "limit": limit}
    assert "errors" not in fine


async def test_page_size_over_the_maximum_is_refused(api: Api) -> None:
    too_big = api.runtime.settings.max_page_size + 1
    for first in (too_big, -1):
        body = await api.gql(
            "query($n: Int) { orders(first: $n) { edges { cursor } } }", {"n": first}
        )
        assert body["errors"][0]["extensions"] == {"code": "INVALID_INPUT", "field": "first"}


async def test_batch_over_the_cap_stores_nothing(data_dir: Path) -> None:
    async with running(data_dir, max_batch=3) as api:
        results = (await api.gql(PLACE_MANY, {"inputs": [MARKET_1_SOL] * 4}))["data"]
        assert {r["code"] for r in results["placeOrders"]} == {"BATCH_TOO_LARGE"}
        assert await stored_ids(api) == []


async def test_subscriptions_per_connection_are_capped(data_dir: Path) -> None:
    async with running(data_dir, max_subscriptions_per_connection=2) as api:
        ws: AsyncWebSocketSession
        async with aconnect_ws("/graphql", api.client, subprotocols=["graphql-transport-ws"]) as ws:
            await graphql_ws.init(ws, api.token("alice"))
            for op_id in ("1", "2"):
                payload = {"query": MY_EVENTS}
                await ws.send_text(
                    json.dumps({"id": op_id, "type": "subscribe", "payload": payload})
                )
            _, refused = await graphql_ws.collect(ws, MY_EVENTS, op_id="3")
    assert refused is not None
    assert refused["type"] == "error"
    assert refused["payload"][0]["message"] == "Subscription limit reached"


async def test_oversized_bodies_and_messages_are_refused(data_dir: Path) -> None:
    async with running(data_dir, max_body_bytes=4096) as api:
        padded = {"query": "{ tokens { symbol } }", "pad": "x" * 5000}
        declared = await api.client.post("/graphql", json=padded)

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(10):
                yield b" " * 1000

        streamed = await api.client.post(
            "/graphql", content=chunks(), headers={"content-type": "application/json"}
        )
        small = await api.client.post("/graphql", json={"query": "{ tokens { symbol } }"})
        closed = await close_code(api, [init_message(api.token("alice"), "x" * 5000)])
    assert declared.status_code == streamed.status_code == 413
    assert declared.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert small.status_code == 200
    assert closed == 1009


async def test_production_switches_hide_introspection_graphiql_and_suggestions(
    data_dir: Path,
) -> None:
    off = {"introspection": False, "graphiql": False, "field_suggestions": False}
    async with running(data_dir, **off) as api:
        schema = await api.gql("{ __schema { types { name } } }")
        ide = await api.client.get("/graphql", headers={"Accept": "text/html"})
        typo = await api.gql("{ tokens { symbl } }")
    assert "introspection" in schema["errors"][0]["message"].lower()
    assert "graphiql" not in ide.text.lower()
    assert "Did you mean" not in typo["errors"][0]["message"]


async def test_introspection_and_suggestions_are_on_by_default(api: Api) -> None:
    schema = await api.gql("{ __schema { queryType { name } } }")
    typo = await api.gql("{ tokens { symbl } }")
    assert schema["data"]["__schema"]["queryType"]["name"] == "Query"
    assert "Did you mean 'symbol'?" in typo["errors"][0]["message"]


# -- rate limits -----------------------------------------------------------------------------


async def test_mutations_over_the_rate_limit_are_refused_with_retry_after(data_dir: Path) -> None:
    async with running(data_dir, rate_limit_per_minute=2) as api:
        first = await place(api, MARKET_1_SOL)
        await place(api, MARKET_1_SOL)
        limited = await api.gql(
            PLACE.replace("code message field", "code message field retryAfterSeconds"),
            {"input": MARKET_1_SOL},
        )
        batch = (await api.gql(PLACE_MANY, {"inputs": [MARKET_1_SOL] * 2}))["data"]
        cancel = (await api.gql(CANCEL, {"id": first["order"]["id"]}))["data"]["cancelOrder"]
        others = await place(api, MARKET_1_SOL, user="bob")
        stored = await stored_ids(api)
    rejected = limited["data"]["placeOrder"]
    assert rejected["code"] == "RATE_LIMITED"
    assert 0 < rejected["retryAfterSeconds"] <= 30
    assert {r["code"] for r in batch["placeOrders"]} == {"RATE_LIMITED"}
    assert cancel["code"] == "RATE_LIMITED"
    assert cancel["retryAfterSeconds"] > 0
    assert others["__typename"] == "OrderPlaced"
    assert len(stored) == 2


async def test_a_known_mutation_sent_while_refused_is_answered_429_before_it_runs(
    data_dir: Path,
) -> None:
    async with running(data_dir, rate_limit_per_minute=1) as api:
        await place(api, MARKET_1_SOL)
        body = {"query": PLACE_MANY, "variables": {"inputs": [MARKET_1_SOL] * 100}}
        headers = {"Authorization": f"Bearer {api.token('alice')}"}
        refused = await api.client.post("/graphql", json=body, headers=headers)  # runs
        early = await api.client.post("/graphql", json=body, headers=headers)  # does not
        reads = await api.gql("{ tokens { symbol } }")
        others = await place(api, MARKET_1_SOL, user="bob")
        stored = await stored_ids(api)
    assert refused.status_code == 200
    assert {r["code"] for r in refused.json()["data"]["placeOrders"]} == {"RATE_LIMITED"}
    assert early.status_code == 429
    (error,) = early.json()["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert 0 < error["extensions"]["retryAfterSeconds"] <= 60
    assert 1 <= int(early.headers["Retry-After"]) <= 60
    assert reads["data"]["tokens"]  # reads are not mutations: answered as ever
    assert others["__typename"] == "OrderPlaced"
    assert len(stored) == 1  # alice's first order, nothing of the refused batches


# -- input validation ------------------------------------------------------------------------


def _in(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


LIMIT_1_SOL = dict(MARKET_1_SOL, type="LIMIT", limitPrice="200")
SNIPER_1_SOL = dict(MARKET_1_SOL, type="SNIPER", tokenOut=b58encode(bytes(range(32))))


@pytest.mark.parametrize(
    ("order", "code", "field"),
    [
        (dict(MARKET_1_SOL, amountIn="10000"), "INVALID_AMOUNT", "amountIn"),  # ~1.5M USD
        (
            dict(MARKET_1_SOL, tokenIn="USDC", tokenOut="SOL", amountIn="1000001"),
            "INVALID_AMOUNT",
            "amountIn",
        ),
        (
            dict(MARKET_1_SOL, tokenIn="USDC", tokenOut="SOL", amountIn="1" * 20),
            "INVALID_AMOUNT",
            "amountIn",
        ),
        (dict(MARKET_1_SOL, amountIn="0.0000000001"), "INVALID_AMOUNT", "amountIn"),
        (dict(MARKET_1_SOL, tokenIn="\u017fol"), "UNKNOWN_TOKEN", "tokenIn"),
        (dict(MARKET_1_SOL, tokenOut="X" * 500), "UNKNOWN_TOKEN", "tokenOut"),
        (dict(MARKET_1_SOL, tokenOut="9" * 32), "UNKNOWN_TOKEN", "tokenOut"),
        (dict(MARKET_1_SOL, slippageBps=5001), "INVALID_INPUT", "slippageBps"),
        (dict(MARKET_1_SOL, maxPriceImpactBps=0), "INVALID_INPUT", "maxPriceImpactBps"),
        (dict(LIMIT_1_SOL, limitPrice="0"), "INVALID_INPUT", "limitPrice"),
        (dict(LIMIT_1_SOL, limitPrice="-3"), "INVALID_INPUT", "limitPrice"),
        (dict(LIMIT_1_SOL, limitPrice="0." + "0" * 18 + "1"), "INVALID_INPUT", "limitPrice"),
        (dict(LIMIT_1_SOL, limitPrice=None), "INVALID_INPUT", "limitPrice"),
        (dict(LIMIT_1_SOL, expiresAt=_in(-1)), "INVALID_INPUT", "expiresAt"),
        (dict(LIMIT_1_SOL, expiresAt=_in(31)), "INVALID_INPUT", "expiresAt"),
        (dict(LIMIT_1_SOL, expiresAt="2099-01-01T00:00:00"), "INVALID_INPUT", "expiresAt"),
        (dict(SNIPER_1_SOL, minLiquidity="-1"), "INVALID_INPUT", "minLiquidity"),
        (dict(MARKET_1_SOL, clientOrderId="k" * 65), "INVALID_INPUT", "clientOrderId"),
        (dict(MARKET_1_SOL, clientOrderId="caf\u00e9"), "INVALID_INPUT", "clientOrderId"),
        (dict(MARKET_1_SOL, limitPrice="1"), "INVALID_INPUT", "limitPrice"),
        (dict(LIMIT_1_SOL, minLiquidity="1"), "INVALID_INPUT", "minLiquidity"),
        (dict(MARKET_1_SOL, minLiquidity="1"), "INVALID_INPUT", "minLiquidity"),
        (dict(MARKET_1_SOL, expiresAt=_in(1)), "INVALID_INPUT", "expiresAt"),
    ],
)
async def test_invalid_order_is_rejected_with_its_field_and_nothing_is_stored(
    api: Api, order: dict[str, Any], code: str, field: str
) -> None:
    body = await api.gql(PLACE, {"input": {k: v for k, v in order.items() if v is not None}})
    result = body["data"]["placeOrder"]
    assert (result["__typename"], result["code"], result["field"]) == ("OrderRejected", code, field)
    assert await stored_ids(api) == []


# -- origins ---------------------------------------------------------------------------------


async def _handshake(api: Api, origin: str | None) -> str:
    headers = {"Origin": origin} if origin else {}
    try:
        ws: AsyncWebSocketSession
        async with aconnect_ws(
            "/graphql", api.client, subprotocols=["graphql-transport-ws"], headers=headers
        ) as ws:
            return str((await graphql_ws.init(ws, api.token("alice")))["type"])
    except WebSocketDisconnect as exc:
        return f"refused {exc.code}"


async def test_websocket_origins_outside_the_allowed_list_are_refused(data_dir: Path) -> None:
    async with running(data_dir, allowed_origins=("https://app.example",)) as api:
        assert await _handshake(api, "https://evil.example") == "refused 1008"
        assert await _handshake(api, "https://app.example") == "connection_ack"
        assert await _handshake(api, None) == "connection_ack"  # not a browser
        assert await _handshake(api, "http://eterna.test") == "connection_ack"  # same origin


async def test_cross_origin_websocket_is_refused_by_default(api: Api) -> None:
    assert await _handshake(api, "https://evil.example") == "refused 1008"


async def test_cors_answers_only_the_configured_origins(data_dir: Path) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization",
    }
    async with running(data_dir, cors_origins=("https://app.example",)) as api:
        allowed = await api.client.options(
            "/graphql", headers={"Origin": "https://app.example", **preflight}
        )
        evil = await api.client.options(
            "/graphql", headers={"Origin": "https://evil.example", **preflight}
        )
    async with running(data_dir) as api:
        default = await api.client.post(
            "/graphql",
            json={"query": "{ tokens { symbol } }"},
            headers={"Origin": "https://app.example"},
        )
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    assert "access-control-allow-origin" not in evil.headers
    assert "access-control-allow-origin" not in default.headers


# -- secrets in logs and errors --------------------------------------------------------------


async def test_tokens_never_reach_the_logs(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    good = api.token("alice")
    refused = [token for _, token in _tokens(api.runtime.auth.secret) if token]
    with caplog.at_level(logging.DEBUG):
        await _post_with(api, f"Bearer {good}")
        for token in refused:
            await _post_with(api, f"Bearer {token}")
            await close_code(api, [init_message(token)])
    assert any(r.name == "eterna.api" for r in caplog.records)  # refusals are logged...
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    for token in [good, *refused]:
        assert token not in logged  # ...without the token, or any part of it
        assert not [p for p in token.split(".")[1:] if p and p in logged]
    assert api.runtime.auth.secret not in logged


async def test_subscription_errors_are_masked_for_clients_and_logged_for_operators(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*_: object) -> AsyncIterator[object]:
        nothing: list[object] = []
        for item in nothing:  # an async generator, like the real stream
            yield item
        raise RuntimeError("db password=hunter2 at /srv/eterna/models.py")

    monkeypatch.setattr(api.runtime.service, "my_order_events", broken)
    with caplog.at_level(logging.ERROR, logger="eterna.api"):
        ws: AsyncWebSocketSession
        async with aconnect_ws("/graphql", api.client, subprotocols=["graphql-transport-ws"]) as ws:
            await graphql_ws.init(ws, api.token("alice"))
            items, end = await graphql_ws.collect(ws, MY_EVENTS)
    assert items == []
    assert end is not None
    assert [e["message"] for e in end["payload"]["errors"]] == ["Unexpected error."]
    assert "hunter2" not in json.dumps(end)
    assert "models.py" not in json.dumps(end)
    assert any("hunter2" in r.getMessage() for r in caplog.records if r.name == "eterna.api")


async def test_masked_http_errors_carry_no_internals(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def boom(*_: object, **__: object) -> None:
        raise ValueError("SELECT * FROM orders WHERE secret='s3cr3t'")

    monkeypatch.setattr(api.runtime.service, "list_orders", boom)
    body = await api.gql(LIST_IDS)
    error = body["errors"][0]
    assert error["message"] == "Unexpected error."
    assert set(error) <= {"message", "locations", "path"}
    assert "s3cr3t" not in json.dumps(body)

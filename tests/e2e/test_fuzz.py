"""Fuzzing the running app: generated orders, malformed documents, bodies and websocket traffic.

Whatever arrives, the server answers without a 5xx, logs no unexpected error, and stores
exactly the orders it reports as placed. ``ETERNA_FUZZ_EXAMPLES`` sets the total number of
generated inputs (default 300, split 50/25/25 between orders, HTTP requests and websocket
sessions); a long run is ``ETERNA_FUZZ_EXAMPLES=10000 pytest tests/e2e/test_fuzz.py``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from httpx_ws import AsyncWebSocketSession, WebSocketDisconnect, aconnect_ws
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wsproto.utilities import LocalProtocolError

from eterna.domain.tokens import SOL, USDC, WELL_KNOWN, b58encode
from eterna.entrypoints.config import Settings
from models.orders import OrderModel
from tests.e2e.conftest import Api, _running

pytestmark = pytest.mark.anyio

TOTAL = int(os.environ.get("ETERNA_FUZZ_EXAMPLES", "300"))


def fuzz(examples: int) -> settings:
    """Return hypothesis settings for a fuzz test of this many examples.

    One app serves every example of a test (hence the function-scoped fixture health check
    is off); no example database, so each run explores afresh.
    """
    return settings(
        max_examples=max(1, examples),
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


WATCHED_LOGGERS = ("eterna.api", "strawberry", "asyncio", "uvicorn")
PLACE = """
mutation($input: OrderInput!) {
  placeOrder(input: $input) {
    __typename ... on OrderPlaced { order { id } } ... on OrderRejected { code field }
  }
}
"""
PLACE_MANY = """
mutation($inputs: [OrderInput!]!) {
  placeOrders(inputs: $inputs) { __typename ... on OrderPlaced { order { id } } }
}
"""


class Fuzzed:
    """The app under fuzz, what it said it placed, and the log records already checked."""

    def __init__(self, api: Api, caplog: pytest.LogCaptureFixture) -> None:
        self.api = api
        self.caplog = caplog
        self.placed: set[str] = set()
        self.checked = 0

    def __repr__(self) -> str:
        return f"Fuzzed(placed={len(self.placed)})"

    async def check(self, status: int, body: bytes) -> None:
        """Assert no 5xx, no unexpected error logged, and storage matching the answers."""
        assert status < 500, body[:500]
        self.placed |= _placed_ids(body)
        records = self.caplog.records[self.checked :]
        self.checked = len(self.caplog.records)
        errors = [
            r for r in records if r.levelno >= logging.ERROR and r.name.startswith(WATCHED_LOGGERS)
        ]
        assert not errors, [r.getMessage() for r in errors]
        assert await OrderModel.all().count() == len(self.placed)


def _placed_ids(body: bytes) -> set[str]:
    try:
        data = json.loads(body)
    except ValueError:
        return set()
    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("__typename") == "OrderPlaced" and isinstance(node.get("order"), dict):
                found.add(str(node["order"]["id"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(data)
    return found


@pytest.fixture
async def fuzzed(data_dir: Path, caplog: pytest.LogCaptureFixture) -> AsyncIterator[Fuzzed]:
    # No rate limits, so every input reaches validation; small body and cost limits, so the
    # fuzzer meets them often.
    settings_ = Settings(
        data_dir=data_dir,
        chain_slot_ms=0,
        idle_recheck_seconds=0.5,
        rate_limit_per_minute=0,
        quote_rate_limit_per_minute=0,
        anonymous_rate_limit_per_minute=0,
        max_body_bytes=64 * 1024,
        max_batch=5,
    )
    caplog.set_level(logging.INFO)
    async with _running(settings_) as api:
        yield Fuzzed(api, caplog)


# -- strategies ------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
decimal_strings = st.one_of(
    st.from_regex(r"-?[0-9]{0,22}(\.[0-9]{0,14})?", fullmatch=True),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(
        ["0", "-0", "0.0", "1e3", "NaN", "-Infinity", "1" * 300, "0." + "0" * 60 + "1"]
    ),
    st.sampled_from(["\u0661\u0662", " 1 ", "1_000", "+1", "1.", ".5", "0x10", "\uff11"]),
    st.text(max_size=30),
)
mints = st.binary(min_size=32, max_size=32).map(b58encode)
token_refs = st.one_of(
    st.sampled_from([t.symbol or t.mint for t in WELL_KNOWN] + [t.mint for t in WELL_KNOWN]),
    st.sampled_from(["sol", " usdc ", "\u017fol", "NOPE", "", "S0L", "So1111"]),
    mints,
    st.text(max_size=60),
)
datetimes = st.one_of(
    st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat),
    st.datetimes().map(datetime.isoformat),  # naive
    st.integers(-2, 60).map(lambda d: (datetime.now(UTC) + timedelta(days=d)).isoformat()),
    st.text(max_size=30),
)
small_ints = st.one_of(st.integers(-10, 12_000), st.integers(-(2**31), 2**31 - 1))


def _maybe_wrong(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly plausible values, sometimes a value of the wrong JSON type."""
    return st.one_of(good, good, good, json_values)


order_inputs = st.fixed_dictionaries(
    {
        "type": _maybe_wrong(st.sampled_from(["MARKET", "LIMIT", "SNIPER", "market", "STOP"])),
        "tokenIn": _maybe_wrong(token_refs),
        "tokenOut": _maybe_wrong(token_refs),
        "amountIn": _maybe_wrong(decimal_strings | st.integers()),
    },
    optional={
        "slippageBps": _maybe_wrong(small_ints),
        "limitPrice": _maybe_wrong(decimal_strings),
        "minLiquidity": _maybe_wrong(decimal_strings),
        "maxPriceImpactBps": _maybe_wrong(small_ints),
        "expiresAt": _maybe_wrong(datetimes),
        "clientOrderId": _maybe_wrong(
            st.from_regex(r"[A-Za-z0-9_.:-]{1,64}", fullmatch=True) | st.text(max_size=80)
        ),
        "unexpected": json_values,
    },
)
# Mostly real pairs and amounts, so that valid orders get placed and executed along the way.
plausible_orders = st.fixed_dictionaries(
    {
        "type": st.just("MARKET"),
        "tokenIn": st.just(SOL.symbol),
        "tokenOut": st.just(USDC.symbol),
        "amountIn": st.from_regex(r"0\.[0-9]{1,9}", fullmatch=True),
    },
    optional={"clientOrderId": st.sampled_from(["a", "b", "c"]), "slippageBps": small_ints},
)

_WORDS = (
    "{ } ( ) : ... query mutation subscription fragment on $x @skip(if:true) tokens orders "
    'order placeOrder input "s" 1 1.5 [ ] = ! Int __typename __schema symbol edges node id #'
)
_WS_TYPES = (
    "connection_init subscribe start stop complete ping pong connection_terminate next data "
    "error ka"
)
documents = st.one_of(
    st.text(max_size=200),
    st.lists(st.sampled_from(_WORDS.split()), max_size=60).map(" ".join),
    st.integers(1, 3_000).map(lambda n: "{" * n + "}" * n),
    st.integers(1, 400).map(
        lambda n: "{ orders" + " { edges { node { events" * n + " } } }" * n + " }"
    ),
    st.integers(1, 300).map(
        lambda n: "{ " + " ".join(f"a{i}: tokens {{ symbol }}" for i in range(n)) + " }"
    ),
    st.integers(1, 6_000).map(lambda n: "{ tokens { " + "symbol " * n + "} }"),
    st.tuples(token_refs, token_refs, decimal_strings).map(
        lambda t: (
            f"{{ quote(tokenIn: {json.dumps(t[0])}, tokenOut: {json.dumps(t[1])}, "
            f"amountIn: {json.dumps(t[2])}) {{ __typename }} }}"
        )
    ),
    st.sampled_from(
        [
            "{ __schema { types { name fields { name } } } }",
            'query { __type(name: "Order") { name } }',
        ]
    ),
)
http_requests = st.one_of(
    st.tuples(
        st.just("json"),
        st.fixed_dictionaries(
            {"query": documents}, optional={"variables": json_values, "operationName": json_values}
        ),
    ),
    st.tuples(st.just("json"), json_values),
    st.tuples(st.just("raw"), st.binary(max_size=300)),
    st.tuples(st.just("raw"), st.integers(1, 5_000).map(lambda n: ("[" * n + "]" * n).encode())),
    st.tuples(st.just("raw"), st.just(b"x" * (70 * 1024))),  # over the body limit
    st.tuples(
        st.just("get"),
        st.dictionaries(
            st.sampled_from(["query", "variables", "operationName"]), st.text(max_size=80)
        ),
    ),
    st.tuples(st.just("place"), st.lists(order_inputs, min_size=0, max_size=7)),
)
ws_message_texts = st.one_of(
    json_values.map(json.dumps),
    st.fixed_dictionaries(
        {"type": st.sampled_from(_WS_TYPES.split())},
        optional={
            "id": st.text(max_size=8) | json_values,
            "payload": json_values
            | st.fixed_dictionaries(
                {"query": documents},
                optional={"variables": json_values, "operationName": json_values},
            ),
        },
    ).map(json.dumps),
    st.text(max_size=100),
    st.integers(1, 3_000).map(lambda n: "[" * n + "]" * n),
)
ws_sessions = st.tuples(
    st.sampled_from(["graphql-transport-ws", "graphql-ws"]),
    st.booleans(),  # send a valid connection_init first
    st.lists(
        st.one_of(
            ws_message_texts.map(lambda t: ("text", t)),
            st.binary(max_size=64).map(lambda b: ("bytes", b)),
        ),
        min_size=1,
        max_size=4,
    ),
)


# -- tests -----------------------------------------------------------------------------------


@fuzz(TOTAL // 2)
@given(order=st.one_of(order_inputs, plausible_orders))
async def test_fuzzed_order_inputs_are_answered_and_only_placed_ones_are_stored(
    fuzzed: Fuzzed, order: dict[str, Any]
) -> None:
    response = await fuzzed.api.client.post(
        "/graphql",
        content=json.dumps({"query": PLACE, "variables": {"input": order}}),  # NaN too
        headers={
            "Authorization": f"Bearer {fuzzed.api.token('fuzzer')}",
            "content-type": "application/json",
        },
    )
    await fuzzed.check(response.status_code, response.content)
    body = response.json()
    assert body.get("data") or body.get("errors")


@fuzz(TOTAL // 4)
@given(request=http_requests, authenticated=st.booleans())
async def test_malformed_http_requests_never_fail_the_server(
    fuzzed: Fuzzed, request: tuple[str, Any], authenticated: bool
) -> None:
    kind, value = request
    headers = {"content-type": "application/json"}
    if authenticated:
        headers["Authorization"] = f"Bearer {fuzzed.api.token('fuzzer')}"
    client = fuzzed.api.client
    if kind == "get":
        response = await client.get("/graphql", params=value, headers=headers)
    else:
        if kind == "place":
            value = {"query": PLACE_MANY, "variables": {"inputs": value}}
        content = value if kind == "raw" else json.dumps(value)  # json.dumps writes NaN too
        response = await client.post("/graphql", content=content, headers=headers)
    await fuzzed.check(response.status_code, response.content)


@fuzz(TOTAL - TOTAL // 2 - TOTAL // 4)
@given(session=ws_sessions)
async def test_malformed_websocket_messages_never_fail_the_server(
    fuzzed: Fuzzed, session: tuple[str, bool, list[tuple[str, Any]]]
) -> None:
    protocol, init_first, messages = session
    outcome = await _run_ws(fuzzed.api, protocol, init_first, messages)
    assert outcome != 1011  # internal error (legacy's auth refusal is read as connection_error)
    await fuzzed.check(200, b"")


async def _run_ws(
    api: Api, protocol: str, init_first: bool, messages: list[tuple[str, Any]]
) -> str | int:
    """Send the messages, then a probe the server must answer; return how the session ended."""
    code: int | str = "answered"
    try:
        ws: AsyncWebSocketSession
        async with aconnect_ws("/graphql", api.client, subprotocols=[protocol]) as ws:
            if init_first:
                init = {
                    "type": "connection_init",
                    "payload": {"Authorization": f"Bearer {api.token('fuzzer')}"},
                }
                await ws.send_text(json.dumps(init))
            for kind, data in messages:
                if kind == "text":
                    await ws.send_text(data)
                else:
                    await ws.send_bytes(data)
            await _probe(ws, protocol)
    except* WebSocketDisconnect as closed:
        first = closed.exceptions[0]
        code = first.code if isinstance(first, WebSocketDisconnect) else "closed"
    except* LocalProtocolError:
        code = "closed"  # the server closed while we were still sending
    return code


async def _probe(ws: AsyncWebSocketSession, protocol: str) -> None:
    """Wait until the server shows it is still serving this connection (or closes it)."""
    if protocol == "graphql-transport-ws":
        await ws.send_text(json.dumps({"type": "ping"}))
        answers = {("type", "pong")}
    else:
        start = {"id": "probe", "type": "start", "payload": {"query": "{ __typename }"}}
        await ws.send_text(json.dumps(start))
        answers = {("id", "probe"), ("type", "connection_error")}
    async with asyncio.timeout(10):
        while True:
            message = json.loads(await ws.receive_text())
            if isinstance(message, dict) and any(message.get(k) == v for k, v in answers):
                return


@pytest.mark.parametrize(
    "query",
    [
        "subscription {",
        "\x1f",
        "subscription { myOrderEvents { seq } } 0",
        "subscription { myOrderEvents { seq " + "a " * 3_000 + "} }",  # over the token limit
    ],
)
@pytest.mark.parametrize("protocol", ["graphql-ws", "graphql-transport-ws"])
async def test_a_subscription_that_does_not_parse_is_refused_on_either_protocol(
    fuzzed: Fuzzed, protocol: str, query: str
) -> None:
    """The legacy protocol answers an error and goes on; graphql-transport-ws may close 4400."""
    legacy = protocol == "graphql-ws"
    kind = "start" if legacy else "subscribe"
    refused: int | str = "closed"
    try:
        ws: AsyncWebSocketSession
        async with aconnect_ws("/graphql", fuzzed.api.client, subprotocols=[protocol]) as ws:
            init = {
                "type": "connection_init",
                "payload": {"Authorization": f"Bearer {fuzzed.api.token('fuzzer')}"},
            }
            await ws.send_text(json.dumps(init))
            await ws.send_text(json.dumps({"id": "bad", "type": kind, "payload": {"query": query}}))
            async with asyncio.timeout(10):
                while (message := json.loads(await ws.receive_text())).get("id") != "bad":
                    pass
            refused = message["type"]
            await _probe(ws, protocol)  # and the connection still serves
    except* WebSocketDisconnect as closed:
        first = closed.exceptions[0]
        refused = first.code if isinstance(first, WebSocketDisconnect) else "closed"
    assert refused == "error" if legacy else refused in ("error", 4400)
    await fuzzed.check(200, b"")

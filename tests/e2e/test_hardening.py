"""Hostile input that used to reach a 500 or a traceback: time claims, cursors, HTTP streams.

Every test drives the real app in-process over HTTP and websockets.
"""

from __future__ import annotations

import base64
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from tests.e2e.conftest import Api
from tests.e2e.test_market_orders import MARKET_1_SOL, place, wait_terminal
from tests.e2e.ws_session import init, session

pytestmark = pytest.mark.anyio

ORDERS_AFTER = "query($after: String) { orders(after: $after) { edges { node { id } } } }"
BAD_TIMES: list[object] = ["99999999999", 1e20, -5, True, "soon"]


def _signed(api: Api, **claims: object) -> str:
    base: dict[str, Any] = {"sub": "alice", "exp": datetime.now(UTC) + timedelta(minutes=5)}
    return jwt.encode(base | claims, api.runtime.auth.secret, algorithm="HS256")


def _errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("value", BAD_TIMES, ids=repr)
@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
async def test_a_signed_token_with_a_malformed_time_claim_is_unauthenticated_over_http(
    api: Api, caplog: pytest.LogCaptureFixture, claim: str, value: object
) -> None:
    response = await api.client.post(
        "/graphql",
        json={"query": "{ orders { edges { cursor } } }"},
        headers={"Authorization": f"Bearer {_signed(api, **{claim: value})}"},
    )
    assert response.status_code == 200
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert _errors_logged(caplog) == []


@pytest.mark.parametrize("value", ["99999999999", 1e20], ids=repr)
async def test_a_websocket_with_a_malformed_exp_is_closed_4403_with_the_reason(
    api: Api, caplog: pytest.LogCaptureFixture, value: object
) -> None:
    token = _signed(api, exp=value)
    ended = await session(api.client, [init(token)])
    assert (ended.code, ended.reason) == (4403, "Forbidden: invalid token: bad exp")
    assert _errors_logged(caplog) == []


async def test_a_legacy_websocket_with_a_malformed_exp_gets_connection_error_and_the_reason(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    ended = await session(api.client, [init(_signed(api, exp=1e20))], protocol="graphql-ws")
    assert ended.received == [
        {"type": "connection_error", "payload": {"message": "invalid token: bad exp"}}
    ]
    assert (ended.code, ended.reason) == (1011, "Forbidden: invalid token: bad exp")
    assert _errors_logged(caplog) == []


def _cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "raw",
    [
        "0001-01-01T00:00:00+14:00|{id}",
        "9999-12-31T23:59:59-14:00|{id}",
        "2030-01-01T00:00:00+99:00|{id}",
        "2030-01-01T00:00:00|{id}",
        "2030-01-01T00:00:00+00:00|{id}|more",
        "garbage",
    ],
)
async def test_a_forged_cursor_is_invalid_input_on_postgres(
    pg_api: Api, caplog: pytest.LogCaptureFixture, raw: str
) -> None:
    after = _cursor(raw.format(id=uuid.uuid4()))
    body = await pg_api.gql(ORDERS_AFTER, {"after": after})
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": "INVALID_INPUT", "field": "after"}
    assert _errors_logged(caplog) == []


async def test_cursors_at_the_first_and_last_storable_instants_page_on_postgres(
    pg_api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    order_id = (await place(pg_api, MARKET_1_SOL))["order"]["id"]
    await wait_terminal(pg_api, order_id)
    last = _cursor(f"9999-12-31T23:59:59+00:00|{uuid.uuid4()}")
    first = _cursor(f"0001-01-01T00:00:00-14:00|{uuid.uuid4()}")
    newer = await pg_api.gql(ORDERS_AFTER, {"after": last})
    older = await pg_api.gql(ORDERS_AFTER, {"after": first})
    assert [e["node"]["id"] for e in newer["data"]["orders"]["edges"]] == [order_id]
    assert older["data"]["orders"]["edges"] == []
    assert _errors_logged(caplog) == []


async def test_a_subscription_over_http_is_refused_with_400_and_logs_nothing(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    document = "subscription { myOrderEvents { seq } }"
    headers = {"Authorization": f"Bearer {api.token('alice')}"}
    with caplog.at_level(logging.INFO):
        posted = await api.client.post("/graphql", json={"query": document}, headers=headers)
        got = await api.client.get("/graphql", params={"query": document}, headers=headers)
        query = await api.client.get("/graphql", params={"query": "{ tokens { symbol } }"})
    assert (posted.status_code, posted.text) == (
        400,
        "subscriptions are not allowed when using POST",
    )
    assert (got.status_code, got.text) == (400, "subscriptions are not allowed when using GET")
    assert query.status_code == 200
    assert _errors_logged(caplog) == []
    assert not [r for r in caplog.records if r.exc_info]

"""Administration over GraphQL: the admin role, pauses, cancelling a user's orders, the audit.

Every administrator's field is refused to ordinary users (FORBIDDEN) and to anonymous
callers (UNAUTHENTICATED); placements and cancels are audited with who, from where and with
what client.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import jwt
import pytest

from eterna.core.clock import utcnow
from tests.e2e.conftest import Api
from tests.e2e.test_limit_sniper import CANCEL, wait_for
from tests.e2e.test_market_orders import PLACE

pytestmark = pytest.mark.anyio

AGENT = "eterna-tests/1.0"
RESTING = {
    "type": "LIMIT",
    "tokenIn": "SOL",
    "tokenOut": "USDC",
    "amountIn": "1",
    "limitPrice": "1000000",  # far above the market: it rests
}
ORDER_FIELDS = "id status user: __typename"
ADMIN_FIELDS = {
    "pauseTrading": "mutation { pauseTrading { key } }",
    "resumeTrading": "mutation { resumeTrading { key } }",
    "cancelUserOrders": 'mutation { cancelUserOrders(userId: "alice") { id } }',
    "adminOrder": 'query { adminOrder(id: "00000000-0000-0000-0000-000000000000") { id } }',
    "auditEvents": "query { auditEvents { action } }",
    "tradingPauses": "query { tradingPauses { key } }",
}
PAUSE = "mutation P($pair: String) { pauseTrading(pair: $pair) { key label } }"
RESUME = "mutation R($pair: String) { resumeTrading(pair: $pair) { key label } }"


def _market(token_in: str, token_out: str) -> dict[str, Any]:
    return {"type": "MARKET", "tokenIn": token_in, "tokenOut": token_out, "amountIn": "0.1"}


async def call(
    api: Api,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None,
) -> dict[str, Any]:
    headers = {"User-Agent": AGENT}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    response = await api.client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def admin_token(api: Api, user: str = "root") -> str:
    return api.runtime.auth.issue(user, now=utcnow(), ttl=timedelta(hours=1), admin=True)


def user_token(api: Api, user: str = "alice") -> str:
    return api.token(user)


def code_of(body: dict[str, Any]) -> str:
    code: str = body["errors"][0]["extensions"]["code"]
    return code


@pytest.mark.parametrize("field", sorted(ADMIN_FIELDS))
async def test_ordinary_and_anonymous_callers_reach_no_admin_field(api: Api, field: str) -> None:
    query = ADMIN_FIELDS[field]
    assert code_of(await call(api, query, token=user_token(api))) == "FORBIDDEN"
    assert code_of(await call(api, query, token=None)) == "UNAUTHENTICATED"
    # A role claim other than "admin" grants nothing, even signed with the server's secret.
    other = jwt.encode(
        {"sub": "mallory", "exp": utcnow() + timedelta(hours=1), "role": "superuser"},
        api.runtime.auth.secret,
        algorithm="HS256",
    )
    assert code_of(await call(api, query, token=other)) == "FORBIDDEN"
    assert "errors" not in await call(api, query, token=admin_token(api))


async def test_a_refused_admin_call_changes_nothing(api: Api) -> None:
    await call(api, PAUSE, token=user_token(api))
    placed = await call(api, PLACE, {"input": _market("SOL", "USDC")}, token=user_token(api))
    assert placed["data"]["placeOrder"]["__typename"] == "OrderPlaced"
    trail = await call(api, "query { auditEvents { action } }", token=admin_token(api))
    assert "admin.paused" not in {e["action"] for e in trail["data"]["auditEvents"]}


async def test_a_paused_pair_is_refused_both_ways_and_other_pairs_trade(api: Api) -> None:
    root = admin_token(api)
    paused = await call(api, PAUSE, {"pair": "USDC/SOL"}, token=root)
    assert paused["data"]["pauseTrading"] == [
        {"key": paused["data"]["pauseTrading"][0]["key"], "label": "SOL/USDC"}
    ]
    alice = user_token(api)
    for token_in, token_out in (("SOL", "USDC"), ("USDC", "SOL")):
        body = await call(api, PLACE, {"input": _market(token_in, token_out)}, token=alice)
        assert body["data"]["placeOrder"]["code"] == "TRADING_PAUSED", body
    other = await call(api, PLACE, {"input": _market("SOL", "USDT")}, token=alice)
    assert other["data"]["placeOrder"]["__typename"] == "OrderPlaced"

    everything = await call(api, PAUSE, token=root)
    assert {p["label"] for p in everything["data"]["pauseTrading"]} == {"all trading", "SOL/USDC"}
    body = await call(api, PLACE, {"input": _market("SOL", "USDT")}, token=alice)
    assert body["data"]["placeOrder"]["code"] == "TRADING_PAUSED"

    await call(api, RESUME, token=root)
    resumed = await call(api, RESUME, {"pair": "SOL/USDC"}, token=root)
    assert resumed["data"]["resumeTrading"] == []
    body = await call(api, PLACE, {"input": _market("SOL", "USDC")}, token=alice)
    assert body["data"]["placeOrder"]["__typename"] == "OrderPlaced"


async def test_a_pair_that_is_not_one_is_refused_with_a_code(api: Api) -> None:
    root = admin_token(api)
    assert code_of(await call(api, PAUSE, {"pair": "SOL"}, token=root)) == "INVALID_INPUT"
    assert code_of(await call(api, PAUSE, {"pair": "SOL/NOPE"}, token=root)) == "UNKNOWN_TOKEN"
    assert code_of(await call(api, PAUSE, {"pair": "SOL/SOL"}, token=root)) == "SAME_TOKEN"


async def test_placements_and_cancels_are_audited_for_their_owner_only(api: Api) -> None:
    alice = user_token(api)
    placed = await call(api, PLACE, {"input": RESTING}, token=alice)
    order_id = placed["data"]["placeOrder"]["order"]["id"]
    await wait_for(api, order_id, {"WAITING"})
    cancelled = await call(api, CANCEL, {"id": order_id}, token=alice)
    assert cancelled["data"]["cancelOrder"]["__typename"] == "OrderCancelled"

    query = (
        "query A($id: ID!) { orderAudit(id: $id) { actor action subject clientAddress userAgent } }"
    )
    trail = (await call(api, query, {"id": order_id}, token=alice))["data"]["orderAudit"]
    assert [e["action"] for e in trail] == ["order.cancelled", "order.placed"]
    for entry in trail:
        assert entry["actor"] == "alice"
        assert entry["subject"] == order_id
        assert entry["userAgent"] == AGENT
        assert entry["clientAddress"]  # the test client's address
    assert (await call(api, query, {"id": order_id}, token=user_token(api, "bob")))["data"] == {
        "orderAudit": []
    }


async def test_an_admin_cancels_a_users_open_orders_and_reads_them_audited(api: Api) -> None:
    alice = user_token(api)
    ids = []
    for _ in range(3):
        placed = await call(api, PLACE, {"input": RESTING}, token=alice)
        ids.append(placed["data"]["placeOrder"]["order"]["id"])
    for order_id in ids:
        await wait_for(api, order_id, {"WAITING"})
    bob = await call(api, PLACE, {"input": RESTING}, token=user_token(api, "bob"))
    bob_id = bob["data"]["placeOrder"]["order"]["id"]

    root = admin_token(api)
    body = await call(
        api, 'mutation { cancelUserOrders(userId: "alice") { id status } }', token=root
    )
    cancelled = body["data"]["cancelUserOrders"]
    assert sorted(o["id"] for o in cancelled) == sorted(ids)
    assert {o["status"] for o in cancelled} == {"CANCELLED"}
    read = "query R($id: ID!) { adminOrder(id: $id) { id status } }"
    assert (await call(api, read, {"id": bob_id}, token=root))["data"]["adminOrder"]["status"] in {
        "PENDING",
        "WAITING",
    }
    assert (await call(api, read, {"id": ids[0]}, token=root))["data"]["adminOrder"][
        "status"
    ] == "CANCELLED"

    trail_query = 'query { auditEvents(actor: "root") { action subject detail userAgent } }'
    trail = (await call(api, trail_query, token=root))["data"]["auditEvents"]
    actions = [e["action"] for e in trail]
    assert actions.count("order.cancelled") == 3
    assert actions.count("admin.read_order") == 2
    summary = next(e for e in trail if e["action"] == "admin.cancelled_user_orders")
    assert summary["subject"] == "alice"
    assert summary["detail"] == "3 cancelled"
    assert {e["userAgent"] for e in trail} == {AGENT}
    too_many = await call(api, "query { auditEvents(limit: 501) { action } }", token=root)
    assert code_of(too_many) == "INVALID_INPUT"

"""Market orders through the GraphQL contract, end to end in the embedded mode."""

from __future__ import annotations

import asyncio
import re
from decimal import Decimal
from typing import Any

import pytest
from httpx_ws import AsyncWebSocketSession, aconnect_ws

from eterna.adapters.localchain.ledger import LedgerEntry
from tests import graphql_ws
from tests.e2e.conftest import Api

pytestmark = pytest.mark.anyio

PLACE = """
mutation Place($input: OrderInput!) {
  placeOrder(input: $input) {
    __typename
    ... on OrderPlaced { order { id status clientOrderId amountIn } }
    ... on OrderRejected { code message field }
  }
}
"""
ORDER = """
query Order($id: ID!) {
  order(id: $id) {
    id status amountIn amountOut executedPrice txSignature attempts
    route { amountOut minAmountOut legs { venue pool } }
    events { seq status }
  }
}
"""
EVENTS = """
subscription Events($id: ID!, $after: Int) {
  orderEvents(orderId: $id, afterSeq: $after) {
    orderId seq status message txSignature amountOut executedPrice
    quotes { venue pool amountOut fee priceImpactBps }
    route { amountOut minAmountOut legs { venue amountIn amountOut } }
  }
}
"""
MARKET_1_SOL = {"type": "MARKET", "tokenIn": "SOL", "tokenOut": "USDC", "amountIn": "1"}
STEPS = ["PENDING", "ROUTING", "BUILDING", "SUBMITTED", "CONFIRMED"]


def ledger_of(api: Api, memo: str) -> list[LedgerEntry]:
    """Return the in-process chain's own transactions carrying memo."""
    chain = api.runtime.chain
    assert chain is not None
    return chain.transactions(memo)


async def place(api: Api, order: dict[str, Any], user: str = "alice") -> dict[str, Any]:
    body = await api.gql(PLACE, {"input": order}, user=user)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["placeOrder"]
    return result


async def wait_terminal(api: Api, order_id: str, user: str = "alice") -> dict[str, Any]:
    for _ in range(200):
        order: dict[str, Any] = (await api.gql(ORDER, {"id": order_id}, user=user))["data"]["order"]
        if order["status"] in {"CONFIRMED", "FAILED", "CANCELLED", "EXPIRED"}:
            return order
        await asyncio.sleep(0.05)
    raise AssertionError(f"order {order_id} did not finish")


async def subscribe(
    api: Api, order_id: str, user: str = "alice", *, after: int = 0, legacy: bool = False
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    protocol = "graphql-ws" if legacy else "graphql-transport-ws"
    ws: AsyncWebSocketSession
    async with aconnect_ws("/graphql", api.client, subprotocols=[protocol]) as ws:
        ack = await graphql_ws.init(ws, api.token(user))
        assert ack["type"] == "connection_ack", ack
        return await graphql_ws.collect(ws, EVENTS, {"id": order_id, "after": after}, legacy=legacy)


async def test_market_order_streams_five_steps_and_confirms(api: Api) -> None:
    placed = await place(api, MARKET_1_SOL)
    assert placed["__typename"] == "OrderPlaced"
    order_id = placed["order"]["id"]

    items, end = await subscribe(api, order_id)

    assert end is not None
    assert end["type"] == "complete"
    events = [i["orderEvents"] for i in items]
    assert [e["seq"] for e in events] == [1, 2, 3, 4, 5]
    assert [e["status"] for e in events] == STEPS
    routing = events[1]
    assert {q["venue"] for q in routing["quotes"]} == {"raydium", "meteora", "orca"}
    assert routing["route"]["legs"][0]["venue"] in {"raydium", "meteora", "orca"}
    confirmed = events[4]
    assert confirmed["txSignature"]
    assert Decimal(confirmed["amountOut"]) >= Decimal(routing["route"]["minAmountOut"])
    assert Decimal(confirmed["executedPrice"]) == Decimal(confirmed["amountOut"])

    order = await wait_terminal(api, order_id)
    assert order["status"] == "CONFIRMED"
    assert order["amountOut"] == confirmed["amountOut"]
    assert order["executedPrice"] == confirmed["executedPrice"]
    assert order["txSignature"] == confirmed["txSignature"]
    assert [e["seq"] for e in order["events"]] == [1, 2, 3, 4, 5]
    ledger = ledger_of(api, order_id)
    assert len(ledger) == 1
    assert ledger[0].ok
    assert str(ledger[0].signature) == confirmed["txSignature"]


async def test_late_subscriber_gets_whole_history_then_completion(api: Api) -> None:
    order_id = (await place(api, MARKET_1_SOL))["order"]["id"]
    await wait_terminal(api, order_id)

    items, end = await subscribe(api, order_id, legacy=True)

    assert [i["orderEvents"]["seq"] for i in items] == [1, 2, 3, 4, 5]
    assert end is not None
    assert end["type"] == "complete"


async def test_subscriber_resumes_after_seq(api: Api) -> None:
    order_id = (await place(api, MARKET_1_SOL))["order"]["id"]
    await wait_terminal(api, order_id)
    items, _ = await subscribe(api, order_id, after=3)
    assert [i["orderEvents"]["seq"] for i in items] == [4, 5]


async def test_other_user_sees_null_and_cannot_subscribe(api: Api) -> None:
    order_id = (await place(api, MARKET_1_SOL))["order"]["id"]
    await wait_terminal(api, order_id)

    other = await api.gql(ORDER, {"id": order_id}, user="mallory")
    assert other == {"data": {"order": None}}
    items, end = await subscribe(api, order_id, user="mallory")
    assert items == []
    assert end is not None
    assert end["payload"]["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert order_id not in str(end["payload"]["errors"][0]["message"])
    cancel = await api.gql(
        "mutation($id: ID!) { cancelOrder(id: $id) { __typename ... on CancelRejected { code } } }",
        {"id": order_id},
        user="mallory",
    )
    assert cancel["data"]["cancelOrder"] == {"__typename": "CancelRejected", "code": "NOT_FOUND"}


async def test_unauthenticated_requests_get_a_typed_error(api: Api) -> None:
    body = await api.gql(PLACE, {"input": MARKET_1_SOL}, user=None)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    with pytest.raises(BaseException) as refused:  # noqa: PT011 - the close code is checked
        await _connect_with(api, "not-a-token")
    assert "4403" in repr(refused.value)


async def _connect_with(api: Api, token: str) -> None:
    ws: AsyncWebSocketSession
    async with aconnect_ws("/graphql", api.client, subprotocols=["graphql-transport-ws"]) as ws:
        await graphql_ws.init(ws, token)
        await ws.receive_text()


async def test_full_decimal_amount_round_trips_exactly(api: Api) -> None:
    order = dict(MARKET_1_SOL, amountIn="1.123456789")
    placed = await place(api, order)
    assert placed["order"]["amountIn"] == "1.123456789"
    done = await wait_terminal(api, placed["order"]["id"])
    assert done["amountIn"] == "1.123456789"
    assert len(done["amountOut"].partition(".")[2]) <= 6  # USDC has 6 decimals


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"tokenIn": "NOPE"}, "UNKNOWN_TOKEN", "tokenIn"),
        ({"tokenOut": "SOL"}, "SAME_TOKEN", "tokenOut"),
        ({"amountIn": "0"}, "INVALID_AMOUNT", "amountIn"),
        ({"amountIn": "-1"}, "INVALID_AMOUNT", "amountIn"),
        ({"amountIn": "1.0000000001"}, "INVALID_AMOUNT", "amountIn"),
        ({"slippageBps": 0}, "INVALID_INPUT", "slippageBps"),
        ({"slippageBps": 5001}, "INVALID_INPUT", "slippageBps"),
        ({"clientOrderId": "has spaces"}, "INVALID_INPUT", "clientOrderId"),
        ({"limitPrice": "1"}, "INVALID_INPUT", "limitPrice"),
    ],
)
async def test_bad_input_is_rejected_with_a_code_and_nothing_is_stored(
    api: Api, change: dict[str, Any], code: str, field: str
) -> None:
    result = await place(api, dict(MARKET_1_SOL, **change))
    assert result == {
        "__typename": "OrderRejected",
        "code": code,
        "message": result["message"],
        "field": field,
    }
    listed = await api.gql("{ orders { edges { node { id } } } }")
    assert listed["data"]["orders"]["edges"] == []


async def test_float_amount_is_refused_by_the_scalar(api: Api) -> None:
    body = await api.gql(PLACE, {"input": dict(MARKET_1_SOL, amountIn=1.5)})
    assert body["errors"]
    assert "string" in body["errors"][0]["message"]


async def test_client_order_id_is_idempotent_per_user(api: Api) -> None:
    order = dict(MARKET_1_SOL, clientOrderId="bot-42")
    first = await place(api, order)
    second = await place(api, order)
    other_user = await place(api, order, user="bob")
    assert first["order"]["id"] == second["order"]["id"]
    assert other_user["order"]["id"] != first["order"]["id"]
    await wait_terminal(api, first["order"]["id"])
    assert len(ledger_of(api, memo=first["order"]["id"])) == 1


PLACE_MANY = """
mutation Many($inputs: [OrderInput!]!) {
  placeOrders(inputs: $inputs) {
    __typename
    ... on OrderPlaced { order { id amountIn } }
    ... on OrderRejected { code field }
  }
}
"""


async def test_place_orders_keeps_input_order_and_rejects_per_item(api: Api) -> None:
    inputs = [dict(MARKET_1_SOL, amountIn=f"0.{i + 1}") for i in range(5)]
    inputs.insert(2, dict(MARKET_1_SOL, tokenIn="NOPE"))
    results = (await api.gql(PLACE_MANY, {"inputs": inputs}))["data"]["placeOrders"]
    assert [r["__typename"] for r in results] == ["OrderPlaced"] * 2 + ["OrderRejected"] + [
        "OrderPlaced"
    ] * 3
    assert [r["order"]["amountIn"] for r in results if "order" in r] == [
        "0.1",
        "0.2",
        "0.3",
        "0.4",
        "0.5",
    ]
    assert results[2] == {
        "__typename": "OrderRejected",
        "code": "UNKNOWN_TOKEN",
        "field": "tokenIn",
    }


async def test_place_orders_over_the_cap_is_refused_whole(api: Api) -> None:
    cap = api.runtime.settings.max_batch
    inputs = [MARKET_1_SOL] * (cap + 1)
    results = (await api.gql(PLACE_MANY, {"inputs": inputs}))["data"]["placeOrders"]
    assert len(results) == cap + 1
    assert {r["code"] for r in results} == {"BATCH_TOO_LARGE"}
    listed = await api.gql("{ orders { edges { node { id } } } }")
    assert listed["data"]["orders"]["edges"] == []


LIST = """
query List($first: Int, $after: String, $status: OrderStatus, $type: OrderType) {
  orders(first: $first, after: $after, status: $status, type: $type) {
    edges { cursor node { id status } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""


async def test_orders_connection_pages_with_stable_cursors_and_filters(api: Api) -> None:
    inputs = [dict(MARKET_1_SOL, amountIn=f"0.0{i + 1}") for i in range(5)]
    placed = (await api.gql(PLACE_MANY, {"inputs": inputs}))["data"]["placeOrders"]
    ids = [p["order"]["id"] for p in placed]
    for order_id in ids:
        await wait_terminal(api, order_id)

    seen: list[str] = []
    after = None
    while True:
        page = (await api.gql(LIST, {"first": 2, "after": after}))["data"]["orders"]
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert sorted(seen) == sorted(ids)
    assert len(seen) == len(set(seen))

    # A cursor stays valid while new orders arrive in front of it.
    first_page = (await api.gql(LIST, {"first": 2}))["data"]["orders"]
    await place(api, MARKET_1_SOL)
    again = await api.gql(LIST, {"first": 2, "after": first_page["pageInfo"]["endCursor"]})
    assert [e["node"]["id"] for e in again["data"]["orders"]["edges"]] == seen[2:4]

    confirmed = (await api.gql(LIST, {"status": "CONFIRMED", "type": "MARKET"}))["data"]
    assert {e["node"]["status"] for e in confirmed["orders"]["edges"]} == {"CONFIRMED"}
    limits = (await api.gql(LIST, {"type": "LIMIT"}))["data"]["orders"]["edges"]
    assert limits == []
    bad = await api.gql(LIST, {"after": "not-a-cursor"})
    assert bad["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


async def test_tokens_venues_and_quote_are_served(api: Api) -> None:
    body = await api.gql(
        """{ tokens { symbol mint decimals } venues { name kind poolCount }
             quote(tokenIn: "SOL", tokenOut: "USDC", amountIn: "10") {
               __typename ... on RouteQuote { route { amountOut legs { venue } } quotes { venue } }
             } }"""
    )
    data = body["data"]
    symbols = {t["symbol"]: t for t in data["tokens"]}
    assert symbols["USDC"]["decimals"] == 6
    assert symbols["USDC"]["mint"] == "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
    assert {v["name"] for v in data["venues"]} == {"raydium", "meteora", "orca"}
    assert data["quote"]["__typename"] == "RouteQuote"
    no_route = await api.gql(
        # One base unit of BONK: no pool pays out anything for it.
        '{ quote(tokenIn: "BONK", tokenOut: "JUP", amountIn: "0.00001") '
        "{ __typename ... on QuoteRejected { code } } }"
    )
    assert no_route["data"]["quote"] == {"__typename": "QuoteRejected", "code": "NO_ROUTE"}


async def test_unexpected_errors_are_masked(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    async def boom(*_: object, **__: object) -> None:
        raise RuntimeError("db password=hunter2")

    monkeypatch.setattr(api.runtime.service, "get", boom)
    body = await api.gql(ORDER, {"id": "00000000-0000-0000-0000-000000000000"})
    assert body["errors"][0]["message"] == "Unexpected error."
    assert "hunter2" not in str(body)


async def test_health_reports_the_database(api: Api) -> None:
    response = await api.client.get("/health")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


async def test_graphiql_is_served_to_browsers(api: Api) -> None:
    response = await api.client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()
    assert "mutation PlaceMarketOrder" in response.text
    # Its script is a file of this server, run under a policy that allows nothing inline.
    assert '<script src="/graphiql/graphiql-page.js"' in response.text
    nonce = re.search(r'"styleNonce": "([\w-]+)"', response.text)
    assert nonce
    policy = response.headers["content-security-policy"]
    assert f"style-src 'self' 'nonce-{nonce.group(1)}';" in policy
    assert "script-src 'self';" in policy
    script = await api.client.get("/graphiql/graphiql-page.js")
    assert script.status_code == 200
    assert "wsConnectionParams: (opts && opts.headers)" in script.text
    again = await api.client.get("/graphql", headers={"Accept": "text/html"})
    assert nonce.group(1) not in again.text  # fresh for every page


async def test_market_order_confirms_on_postgres_with_exact_amounts(pg_api: Api) -> None:
    placed = await place(pg_api, dict(MARKET_1_SOL, amountIn="2.123456789"))
    items, end = await subscribe(pg_api, placed["order"]["id"])
    assert [i["orderEvents"]["status"] for i in items] == STEPS
    assert end is not None
    assert end["type"] == "complete"
    order = await wait_terminal(pg_api, placed["order"]["id"])
    assert order["amountIn"] == "2.123456789"
    assert order["amountOut"] == items[-1]["orderEvents"]["amountOut"]


MY_EVENTS = "subscription { myOrderEvents { orderId seq status } }"


async def test_my_order_events_streams_every_order_of_the_caller_only(api: Api) -> None:
    ws: AsyncWebSocketSession
    async with aconnect_ws("/graphql", api.client, subprotocols=["graphql-transport-ws"]) as ws:
        ack = await graphql_ws.init(ws, api.token("alice"))
        assert ack["type"] == "connection_ack"
        listening = asyncio.create_task(graphql_ws.collect(ws, MY_EVENTS, limit=15))
        await asyncio.sleep(0.2)  # the subscription registers before orders are placed
        await place(api, MARKET_1_SOL, user="bob")
        placed = (await api.gql(PLACE_MANY, {"inputs": [MARKET_1_SOL] * 3}))["data"]["placeOrders"]
        items, _ = await listening
    ids = {p["order"]["id"] for p in placed}
    events = [i["myOrderEvents"] for i in items]
    assert {e["orderId"] for e in events} == ids
    for order_id in ids:
        assert [e["seq"] for e in events if e["orderId"] == order_id] == [1, 2, 3, 4, 5]


class _LosesTerminalEvents:
    """A publisher whose process dies, in effect, between each terminal commit and publish."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.lost: list[int] = []

    async def publish(self, events: Any) -> None:
        kept = [e for e in events if not e.status.is_terminal]
        self.lost += [e.seq for e in events if e.status.is_terminal]
        await self._inner.publish(kept)


async def test_an_event_whose_publish_was_lost_still_reaches_every_subscriber(
    pg_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = pg_api.runtime.engine
    assert engine is not None
    losing = _LosesTerminalEvents(engine._publisher)
    monkeypatch.setattr(engine, "_publisher", losing)
    ws: AsyncWebSocketSession
    async with aconnect_ws("/graphql", pg_api.client, subprotocols=["graphql-transport-ws"]) as ws:
        ack = await graphql_ws.init(ws, pg_api.token("alice"))
        assert ack["type"] == "connection_ack"
        mine = asyncio.create_task(graphql_ws.collect(ws, MY_EVENTS, limit=5, wait=10))
        await asyncio.sleep(0.2)  # the subscription registers before the order is placed
        order_id = (await place(pg_api, MARKET_1_SOL))["order"]["id"]
        # An orderEvents subscriber that caught up on history and waits for the rest.
        followed = asyncio.create_task(subscribe(pg_api, order_id))
        items, _ = await mine
        followed_items, end = await asyncio.wait_for(followed, 10)
    assert losing.lost == [5]  # CONFIRMED was committed, never published
    assert [(i["myOrderEvents"]["seq"], i["myOrderEvents"]["status"]) for i in items] == list(
        enumerate(STEPS, start=1)
    )
    assert [i["orderEvents"]["status"] for i in followed_items][-1] == "CONFIRMED"
    assert end is not None
    assert end["type"] == "complete"

"""OCO groups end to end in the embedded mode: placed over GraphQL, one leg fires, one sells.

A take-profit and a stop-loss on one SOL position rest; the market falls through the
stop-loss (a real swap on each SOL/USDC pool of the in-process chain), the stop-loss fires
and confirms, and the take-profit is cancelled by that firing in the same write, saying so.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.e2e.conftest import Api
from tests.e2e.test_limit_sniper import market_price, settled, wait_for
from tests.e2e.test_market_orders import ledger_of
from tests.e2e.test_stops import move_sol_price, price, stop

pytestmark = pytest.mark.anyio

PLACE_GROUP = """
mutation Place($input: OrderGroupInput!) {
  placeOrderGroup(input: $input) {
    __typename
    ... on OrderGroupPlaced { group { id orders { id type status groupId } } }
    ... on OrderRejected { code message field }
  }
}
"""
GROUP = """
query Group($id: ID!) {
  orderGroup(id: $id) {
    id
    orders {
      id type status groupId
      group { id orders { id } }
      events { seq status message cancelledBySibling trigger { kind price } }
    }
  }
}
"""
CANCEL_GROUP = """
mutation Cancel($id: ID!) {
  cancelOrderGroup(id: $id) {
    __typename
    ... on OrderGroupCancelled { group { orders { id status } } }
    ... on CancelRejected { code message }
  }
}
"""


async def place_group(api: Api, *legs: dict[str, Any], user: str = "alice") -> dict[str, Any]:
    body = await api.gql(PLACE_GROUP, {"input": {"legs": list(legs)}}, user=user)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["placeOrderGroup"]
    return result


async def group_of(api: Api, group_id: str, user: str = "alice") -> dict[str, Any] | None:
    body = await api.gql(GROUP, {"id": group_id}, user=user)
    assert "errors" not in body, body
    group: dict[str, Any] | None = body["data"]["orderGroup"]
    return group


async def test_the_stop_loss_fires_and_sells_and_its_take_profit_is_cancelled(api: Api) -> None:
    market = await market_price(api, "1")
    take_profit = stop("TAKE_PROFIT", triggerPrice=price(market * Decimal("1.05")))
    stop_loss = stop("STOP_LOSS", triggerPrice=price(market * Decimal("0.985")))
    placed = await place_group(api, take_profit, stop_loss)
    assert placed["__typename"] == "OrderGroupPlaced", placed
    group_id = placed["group"]["id"]
    tp_id, sl_id = (o["id"] for o in placed["group"]["orders"])
    assert {o["groupId"] for o in placed["group"]["orders"]} == {group_id}
    await wait_for(api, tp_id, {"WAITING"})
    await wait_for(api, sl_id, {"WAITING"})
    await settled(api)

    await move_sol_price(api, 500, up=False)
    await wait_for(api, sl_id, {"CONFIRMED", "FAILED"})
    group = await group_of(api, group_id)
    assert group is not None
    legs = {o["id"]: o for o in group["orders"]}
    assert legs[sl_id]["status"] == "CONFIRMED", legs[sl_id]["events"]
    assert legs[tp_id]["status"] == "CANCELLED"
    cancelled = legs[tp_id]["events"][-1]
    assert cancelled["status"] == "CANCELLED"
    assert cancelled["cancelledBySibling"] == sl_id
    assert sl_id in cancelled["message"]
    assert legs[tp_id]["group"]["id"] == group_id
    assert sorted(o["id"] for o in legs[tp_id]["group"]["orders"]) == sorted([tp_id, sl_id])
    assert len(ledger_of(api, sl_id)) == 1
    assert ledger_of(api, tp_id) == []  # the cancelled leg never reached the chain

    again = (await api.gql(CANCEL_GROUP, {"id": group_id}))["data"]["cancelOrderGroup"]
    assert again["__typename"] == "CancelRejected"
    assert again["code"] == "NOT_CANCELLABLE"


async def test_a_group_is_cancelled_whole_and_is_nobody_elses(api: Api) -> None:
    market = await market_price(api, "1")
    placed = await place_group(
        api,
        stop("TAKE_PROFIT", triggerPrice=price(market * Decimal("1.5"))),
        stop("TRAILING_STOP", trailBps=2000),
    )
    group_id = placed["group"]["id"]
    assert await group_of(api, group_id, user="bob") is None
    refused = (await api.gql(CANCEL_GROUP, {"id": group_id}, user="bob"))["data"]
    assert refused["cancelOrderGroup"]["code"] == "NOT_FOUND"
    cancelled = (await api.gql(CANCEL_GROUP, {"id": group_id}))["data"]["cancelOrderGroup"]
    assert cancelled["__typename"] == "OrderGroupCancelled", cancelled
    assert [o["status"] for o in cancelled["group"]["orders"]] == ["CANCELLED", "CANCELLED"]


async def test_a_bad_group_is_refused_naming_the_leg_and_nothing_is_stored(api: Api) -> None:
    refused = await place_group(
        api,
        stop("TAKE_PROFIT", triggerPrice="200"),
        {"type": "MARKET", "tokenIn": "SOL", "tokenOut": "USDC", "amountIn": "1"},
    )
    assert refused == {
        "__typename": "OrderRejected",
        "code": "INVALID_INPUT",
        "message": refused["message"],
        "field": "legs[1].type",
    }
    body = await api.gql("{ orders(first: 5) { edges { node { id } } } }")
    assert body["data"]["orders"]["edges"] == []

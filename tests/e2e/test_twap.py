"""TWAP orders end to end in the embedded mode: placed over GraphQL, sliced on the chain.

Each test places a short TWAP (a few slices over a few seconds) and reads it back over
GraphQL: its children (MARKET orders naming it), its progress, its events; the chain's
ledger shows exactly one transaction per filled slice.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from httpx_ws import AsyncWebSocketSession, aconnect_ws

from eterna.domain.twap import child_id
from tests import graphql_ws
from tests.e2e.conftest import Api
from tests.e2e.test_limit_sniper import CANCEL, market_price, wait_for
from tests.e2e.test_market_orders import ledger_of, place

pytestmark = pytest.mark.anyio

TWAP = """
query Twap($id: ID!) {
  order(id: $id) {
    id type status amountIn amountOut executedPrice limitPrice
    twap { slices durationSeconds jitterBps nextSliceIndex nextSliceAt }
    progress {
      slices slicesPlaced slicesDone slicesFilled slicesFailed slicesRemaining
      filledAmountIn amountOut averagePrice
    }
    children {
      id type status amountIn amountOut limitPrice parentId sliceIndex createdAt
      parent { id }
      events { seq status failure }
    }
    events { seq status message amountOut executedPrice progress { slicesPlaced slicesDone } }
  }
}
"""


def twap(**extra: Any) -> dict[str, Any]:
    return {
        "type": "TWAP",
        "tokenIn": "SOL",
        "tokenOut": "USDC",
        "amountIn": "1.000000001",
        "slices": 3,
        "durationSeconds": 3,
    } | extra


async def twap_of(api: Api, order_id: str) -> dict[str, Any]:
    body = await api.gql(TWAP, {"id": order_id})
    assert "errors" not in body, body
    order: dict[str, Any] = body["data"]["order"]
    return order


async def test_a_twap_of_three_slices_over_three_seconds_completes_slice_by_slice(
    api: Api,
) -> None:
    placed = await place(api, twap(jitterBps=1000))
    order_id = placed["order"]["id"]
    await wait_for(api, order_id, {"CONFIRMED", "FAILED"}, seconds=30)
    done = await twap_of(api, order_id)

    assert done["status"] == "CONFIRMED", done["events"]
    assert done["twap"] == {
        "slices": 3,
        "durationSeconds": 3,
        "jitterBps": 1000,
        "nextSliceIndex": 3,
        "nextSliceAt": None,
    }
    children = done["children"]
    assert [c["sliceIndex"] for c in children] == [0, 1, 2]
    assert [c["id"] for c in children] == [str(child_id(uuid.UUID(order_id), k)) for k in range(3)]
    assert {c["type"] for c in children} == {"MARKET"}
    assert {c["status"] for c in children} == {"CONFIRMED"}
    assert {c["parentId"] for c in children} == {order_id}
    assert {c["parent"]["id"] for c in children} == {order_id}
    amounts = [Decimal(c["amountIn"]) for c in children]
    assert amounts == [Decimal("0.333333333")] * 2 + [Decimal("0.333333335")]
    assert sum(amounts) == Decimal("1.000000001")
    # Spread over the duration: about 1 s apart (jitter at most 10 % of that either way).
    times = [datetime.fromisoformat(c["createdAt"]) for c in children]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    assert all(0.7 <= g <= 1.6 for g in gaps), gaps

    progress = done["progress"]
    assert progress["slicesFilled"] == progress["slicesDone"] == 3
    assert progress["slicesRemaining"] == progress["slicesFailed"] == 0
    assert Decimal(progress["filledAmountIn"]) == Decimal("1.000000001")
    out = sum(Decimal(c["amountOut"]) for c in children)
    assert Decimal(progress["amountOut"]) == out == Decimal(done["amountOut"])
    assert Decimal(done["executedPrice"]) == Decimal(progress["averagePrice"])
    assert (
        Decimal(done["executedPrice"])
        == (out / Decimal("1.000000001"))
        .quantize(Decimal(10) ** -18, rounding="ROUND_DOWN")
        .normalize()
    )

    events = done["events"]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["status"] == "PENDING"
    assert {e["status"] for e in events[1:-1]} == {"WAITING"}
    assert events[-1]["status"] == "CONFIRMED"
    assert events[-1]["message"].startswith("TWAP complete")
    placed_steps = [e for e in events if "placed" in e["message"]]
    assert [e["progress"]["slicesPlaced"] for e in placed_steps] == [1, 2, 3]
    for child in children:  # one transaction on the chain per slice, none for the parent
        assert len(ledger_of(api, child["id"])) == 1
    assert ledger_of(api, order_id) == []


PROGRESS_EVENTS = """
subscription Progress($id: ID!) {
  orderEvents(orderId: $id) {
    seq status message amountOut executedPrice
    progress { slices slicesPlaced slicesDone slicesFilled slicesRemaining averagePrice }
  }
}
"""


async def test_a_twap_streams_its_progress_and_completes_after_its_last_slice(api: Api) -> None:
    placed = await place(api, twap(slices=2, durationSeconds=1))
    order_id = placed["order"]["id"]
    ws: AsyncWebSocketSession
    async with aconnect_ws("/graphql", api.client, subprotocols=["graphql-transport-ws"]) as ws:
        ack = await graphql_ws.init(ws, api.token("alice"))
        assert ack["type"] == "connection_ack", ack
        items, end = await graphql_ws.collect(ws, PROGRESS_EVENTS, {"id": order_id}, wait=30)
    assert end is not None
    assert end["type"] == "complete"
    events = [i["orderEvents"] for i in items]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert events[-1]["status"] == "CONFIRMED"
    progress = [e["progress"] for e in events if e["progress"]]
    placed_counts = [p["slicesPlaced"] for p in progress]
    assert placed_counts == sorted(placed_counts)
    assert placed_counts[-1] == 2
    done_counts = [p["slicesDone"] for p in progress]
    assert done_counts == sorted(done_counts)  # progress only moves forward
    assert progress[-1] | {"averagePrice": None} == {
        "slices": 2,
        "slicesPlaced": 2,
        "slicesDone": 2,
        "slicesFilled": 2,
        "slicesRemaining": 0,
        "averagePrice": None,
    }
    assert Decimal(progress[-1]["averagePrice"]) == Decimal(events[-1]["executedPrice"])


async def test_cancelling_a_twap_stops_its_remaining_slices(api: Api) -> None:
    placed = await place(api, twap(slices=4, durationSeconds=40))
    order_id = placed["order"]["id"]
    started = await wait_for(api, order_id, {"WAITING"})
    assert started["status"] == "WAITING"
    for _ in range(100):  # slice 0 is due at once
        if (await twap_of(api, order_id))["children"]:
            break
        await asyncio.sleep(0.05)
    cancelled = await api.gql(CANCEL, {"id": order_id})
    assert cancelled["data"]["cancelOrder"]["__typename"] == "OrderCancelled", cancelled
    first = (await twap_of(api, order_id))["children"][0]
    await wait_for(api, first["id"], {"CONFIRMED", "FAILED"}, seconds=20)
    await asyncio.sleep(1.5)
    done = await twap_of(api, order_id)
    assert done["status"] == "CANCELLED"
    assert [c["sliceIndex"] for c in done["children"]] == [0]  # placed before the cancel only
    assert done["progress"]["slicesPlaced"] == 1
    assert done["progress"]["slicesFilled"] == 1  # the slice placed before it ran
    assert done["progress"]["slicesRemaining"] == 3


async def test_a_slice_below_the_limit_price_is_skipped_and_nothing_sent(api: Api) -> None:
    market = await market_price(api, "0.5")
    placed = await place(
        api, twap(slices=2, durationSeconds=2, amountIn="1", limitPrice=str(market * 2))
    )
    order_id = placed["order"]["id"]
    await wait_for(api, order_id, {"CONFIRMED", "FAILED"}, seconds=30)
    done = await twap_of(api, order_id)
    assert done["status"] == "FAILED"
    assert done["progress"]["slicesFailed"] == 2
    for child in done["children"]:
        assert child["events"][-1]["failure"] == "BELOW_LIMIT_PRICE"
        assert ledger_of(api, child["id"]) == []


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"slices": None}, "slices"),
        ({"durationSeconds": 0}, "durationSeconds"),
        ({"slices": 101}, "slices"),
        ({"jitterBps": 6000}, "jitterBps"),
        ({"expiresAt": "2099-01-01T00:00:00Z"}, "expiresAt"),
        ({"amountIn": "0.000000002"}, "amountIn"),
    ],
)
async def test_twap_input_is_validated_with_the_field_named(
    api: Api, extra: dict[str, Any], field: str
) -> None:
    result = await place(api, {k: v for k, v in (twap() | extra).items() if v is not None})
    assert result["__typename"] == "OrderRejected", result
    assert result["field"] == field


async def test_twap_fields_on_another_type_are_refused(api: Api) -> None:
    result = await place(
        api, {"type": "MARKET", "tokenIn": "SOL", "tokenOut": "USDC", "amountIn": "1", "slices": 2}
    )
    assert (result["__typename"], result["field"]) == ("OrderRejected", "slices")


@pytest.mark.postgres
async def test_a_twap_completes_on_the_postgres_store(pg_api: Api) -> None:
    placed = await place(pg_api, twap(slices=2, durationSeconds=1))
    order_id = placed["order"]["id"]
    await wait_for(pg_api, order_id, {"CONFIRMED", "FAILED"}, seconds=30)
    done = await twap_of(pg_api, order_id)
    assert done["status"] == "CONFIRMED", done["events"]
    assert [c["sliceIndex"] for c in done["children"]] == [0, 1]
    assert sum(Decimal(c["amountIn"]) for c in done["children"]) == Decimal("1.000000001")

"""Adaptive slippage through the GraphQL contract: maxSlippageBps placed, stored, chosen, shown."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.e2e.conftest import Api
from tests.e2e.test_limit_sniper import chain_api, wait_for
from tests.e2e.test_market_orders import ledger_of, place

pytestmark = pytest.mark.anyio

ORDER = """
query Order($id: ID!) {
  order(id: $id) {
    id status slippageBps maxSlippageBps amountOut attempts
    route { amountOut minAmountOut }
    events {
      seq status message failure
      route { amountOut minAmountOut }
      slippage {
        chosenBps maxSlippageBps priceImpactBps recentMoveBps recentFailureBps previousBps
        slippageFailures adverseMoveBps reason
      }
    }
  }
}
"""
MARKET = {"type": "MARKET", "tokenIn": "SOL", "tokenOut": "USDC", "amountIn": "0.5"}


async def _order(api: Api, order_id: str) -> dict[str, Any]:
    body = await api.gql(ORDER, {"id": order_id})
    assert "errors" not in body, body
    order: dict[str, Any] = body["data"]["order"]
    return order


def _floor(amount_out: str, bps: int) -> Decimal:
    """Return amountOut less bps, rounded down to a USDC base unit (6 decimals)."""
    units = int(Decimal(amount_out).scaleb(6))
    return Decimal(units * (10_000 - bps) // 10_000).scaleb(-6)


async def test_an_adaptive_market_order_fills_and_its_routing_event_says_what_it_chose(
    api: Api,
) -> None:
    placed = await place(api, {**MARKET, "maxSlippageBps": 150})
    assert placed["__typename"] == "OrderPlaced", placed
    order_id = placed["order"]["id"]
    await wait_for(api, order_id, {"CONFIRMED", "FAILED"})
    order = await _order(api, order_id)

    assert order["status"] == "CONFIRMED"
    assert (order["slippageBps"], order["maxSlippageBps"]) == (150, 150)
    (routed,) = [e for e in order["events"] if e["status"] == "ROUTING"]
    chosen = routed["slippage"]
    assert chosen["maxSlippageBps"] == 150
    assert 10 <= chosen["chosenBps"] <= 150
    assert chosen["previousBps"] is None
    assert chosen["slippageFailures"] == 0
    assert f"slippage {chosen['chosenBps']} bps of at most 150: " in routed["message"]
    assert chosen["reason"] in routed["message"]
    # The floor sent is the chosen tolerance's, never below the cap's.
    route = routed["route"]
    assert Decimal(route["minAmountOut"]) == _floor(route["amountOut"], chosen["chosenBps"])
    assert Decimal(order["amountOut"]) >= Decimal(route["minAmountOut"])


async def test_a_fixed_slippage_order_shows_no_choice_and_no_cap(api: Api) -> None:
    placed = await place(api, {**MARKET, "slippageBps": 30})
    order_id = placed["order"]["id"]
    await wait_for(api, order_id, {"CONFIRMED", "FAILED"})
    order = await _order(api, order_id)
    assert (order["slippageBps"], order["maxSlippageBps"]) == (30, None)
    assert all(e["slippage"] is None for e in order["events"])
    (routed,) = [e for e in order["events"] if e["status"] == "ROUTING"]
    route = routed["route"]
    assert Decimal(route["minAmountOut"]) == _floor(route["amountOut"], 30)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"slippageBps": 50, "maxSlippageBps": 150}, "not both"),
        ({"maxSlippageBps": 0}, "maxSlippageBps must be between 1 and 5000"),
        ({"maxSlippageBps": 5001}, "maxSlippageBps must be between 1 and 5000"),
    ],
)
async def test_bad_slippage_input_is_rejected_with_a_typed_error(
    api: Api, fields: dict[str, int], message: str
) -> None:
    rejected = await place(api, {**MARKET, **fields})
    assert rejected["__typename"] == "OrderRejected"
    assert (rejected["code"], rejected["field"]) == ("INVALID_INPUT", "maxSlippageBps")
    assert message in rejected["message"]


async def test_under_adverse_moves_an_adaptive_order_widens_within_its_cap_and_fills(
    api: Api,
) -> None:
    async with chain_api(api) as chain:
        # Every send meets another trader's swap moving the pool 80 bps against it.
        await chain.post("/admin/faults", json={"priceMoveRate": 1, "priceMoveBps": 80})
        placed = await place(api, {**MARKET, "maxSlippageBps": 150})
        order_id = placed["order"]["id"]
        await wait_for(api, order_id, {"CONFIRMED", "FAILED"})
        await chain.post("/admin/faults", json={"priceMoveRate": 0})
    order = await _order(api, order_id)

    routed = [e for e in order["events"] if e["status"] == "ROUTING"]
    chosen = [e["slippage"]["chosenBps"] for e in routed]
    assert order["status"] == "CONFIRMED", order["events"]
    assert len(routed) >= 2  # the first floor met the move and failed
    assert chosen == sorted(chosen)
    assert chosen[-1] > chosen[0]
    assert all(c <= 150 for c in chosen)
    retry = routed[1]["slippage"]
    assert retry["slippageFailures"] == 1
    assert retry["previousBps"] == chosen[0]
    assert retry["adverseMoveBps"] >= 70  # the move, seen on the fresh quote
    assert "widened after a slippage failure" in retry["reason"]
    assert ledger_of(api, order_id)[-1].error is None

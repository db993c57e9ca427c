"""Partial fills of limit orders, end to end in the embedded mode on the local chain.

A LIMIT order fills in parts unless it says ``allOrNone``: when the whole amount does not
meet the limit, the largest part that does trades and the rest keeps resting. The order's
amountOut and executedPrice are cumulative, each fill is listed, and a cancel or an expiry
leaves the filled part as it is. The chain's own ledger is the judge of what traded.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

import pytest

from eterna.domain.tokens import price_of
from tests.e2e.conftest import Api
from tests.e2e.test_limit_sniper import CANCEL, chain_api, raise_sol_price, settled
from tests.e2e.test_market_orders import ledger_of, place

pytestmark = pytest.mark.anyio

ORDER = """
query Order($id: ID!) {
  order(id: $id) {
    id status amountIn amountOut executedPrice limitPrice txSignature
    allOrNone minFillAmount filledAmountIn remainingAmountIn
    fills { amountIn amountOut price txSignature seq }
    events { seq status message amountOut fill { amountIn amountOut price } }
  }
}
"""
QUOTE = """
query Quote($amount: Decimal!) {
  quote(tokenIn: "SOL", tokenOut: "USDC", amountIn: $amount) {
    __typename ... on RouteQuote { route { amountOut } }
  }
}
"""
# The case: 6,600 SOL (about $1M) at a limit about 1,000 SOL could meet.
WHOLE = Decimal(6_600)
FILLABLE = Decimal(1_000)


async def order_of(api: Api, order_id: str) -> dict[str, Any]:
    order: dict[str, Any] = (await api.gql(ORDER, {"id": order_id}))["data"]["order"]
    return order


async def wait_until(api: Api, order_id: str, done: Any, seconds: float = 15) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        order = await order_of(api, order_id)
        if done(order):
            return order
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"order {order_id} never got there: {order}")
        await asyncio.sleep(0.02)


def part_filled(order: dict[str, Any]) -> bool:
    return order["status"] == "WAITING" and Decimal(order["filledAmountIn"]) > 0


async def paid(api: Api, amount: Decimal) -> Decimal | None:
    body = await api.gql(QUOTE, {"amount": str(amount)})
    quote = body["data"]["quote"]
    return None if quote["__typename"] != "RouteQuote" else Decimal(quote["route"]["amountOut"])


async def fillable(api: Api, limit: Decimal, most: Decimal) -> Decimal:
    """Return the largest SOL amount (to 0.01 %) whose best route meets limit, by bisection."""
    low, high = Decimal(0), most
    while high - low > most / 10_000:
        middle = ((low + high) / 2).quantize(Decimal("0.000000001"), rounding=ROUND_DOWN)
        out = await paid(api, middle)
        if out is not None and out >= middle * limit:
            low = middle
        else:
            high = middle
    return low


def limit_order(amount: Decimal, limit: Decimal, **extra: Any) -> dict[str, Any]:
    return {
        "type": "LIMIT",
        "tokenIn": "SOL",
        "tokenOut": "USDC",
        "amountIn": str(amount),
        "limitPrice": str(limit),
    } | extra


async def limit_for(api: Api, amount: Decimal) -> Decimal:
    """Return the limit that the best route for amount SOL just meets now."""
    out = await paid(api, amount)
    assert out is not None
    return (out / amount).quantize(Decimal("0.000001"), rounding=ROUND_DOWN)


def assert_fills_add_up(order: dict[str, Any], landed: list[Any]) -> None:
    """The order's amounts are its fills' sums, and each fill is a landed transaction."""
    fills = order["fills"]
    spent = sum((Decimal(f["amountIn"]) for f in fills), Decimal(0))
    received = sum((Decimal(f["amountOut"]) for f in fills), Decimal(0))
    assert Decimal(order["filledAmountIn"]) == spent
    assert Decimal(order["remainingAmountIn"]) == Decimal(order["amountIn"]) - spent
    assert Decimal(order["amountOut"]) == received
    assert Decimal(order["executedPrice"]) == price_of(spent, received)
    assert [t.ok for t in landed] == [True] * len(fills)
    assert [str(t.signature) for t in landed] == [f["txSignature"] for f in fills]
    limit = Decimal(order["limitPrice"])
    for fill in fills:
        assert Decimal(fill["price"]) >= limit
        assert Decimal(fill["amountOut"]) >= Decimal(fill["amountIn"]) * limit


async def test_the_6600_sol_case_fills_what_meets_the_limit_and_rests_the_rest(api: Api) -> None:
    limit = await limit_for(api, FILLABLE)
    whole = await paid(api, WHOLE)
    assert whole is not None
    assert whole < WHOLE * limit  # all or none would only wait
    most = await fillable(api, limit, WHOLE)

    placed = await place(api, limit_order(WHOLE, limit))
    order_id = placed["order"]["id"]
    order = await wait_until(api, order_id, part_filled)

    filled = Decimal(order["filledAmountIn"])
    assert filled >= most * Decimal("0.99"), (filled, most)
    assert [e["status"] for e in order["events"]] == [
        "PENDING",
        "ROUTING",
        "BUILDING",
        "SUBMITTED",
        "WAITING",
    ]
    assert "a partial fill" in order["events"][1]["message"]
    assert order["allOrNone"] is False
    assert Decimal(order["minFillAmount"]) == WHOLE / 100
    assert len(order["fills"]) == 1
    assert order["events"][-1]["fill"]["amountIn"] == order["fills"][0]["amountIn"]
    assert_fills_add_up(order, ledger_of(api, order_id))
    # What is left cannot fill now: the next part meeting the limit is below the least fill.
    left = await fillable(api, limit, Decimal(order["remainingAmountIn"]))
    assert left < Decimal(order["minFillAmount"])


async def test_a_partly_filled_order_fills_more_when_the_price_rises(api: Api) -> None:
    limit = await limit_for(api, FILLABLE)
    order_id = (await place(api, limit_order(WHOLE, limit)))["order"]["id"]
    first = await wait_until(api, order_id, part_filled)
    await settled(api)

    async with chain_api(api) as chain:
        await raise_sol_price(chain, 300)
    later = await wait_until(
        api,
        order_id,
        lambda o: len(o["fills"]) > 1 and o["status"] in {"WAITING", "CONFIRMED"},
    )

    assert Decimal(later["filledAmountIn"]) > Decimal(first["filledAmountIn"])
    statuses = [e["status"] for e in later["events"]]
    # The watcher fired the rest again: FILL -> WAITING, then PENDING (fired), ROUTING, ...
    assert statuses[4:7] == ["WAITING", "PENDING", "ROUTING"]
    assert "limit" in later["events"][5]["message"]
    assert_fills_add_up(later, ledger_of(api, order_id))


async def test_cancel_of_a_partly_filled_order_keeps_the_filled_part(api: Api) -> None:
    limit = await limit_for(api, FILLABLE)
    order_id = (await place(api, limit_order(WHOLE, limit)))["order"]["id"]
    before = await wait_until(api, order_id, part_filled)

    answer = (await api.gql(CANCEL, {"id": order_id}))["data"]["cancelOrder"]

    assert answer["__typename"] == "OrderCancelled"
    after = await order_of(api, order_id)
    assert after["status"] == "CANCELLED"
    for name in ("filledAmountIn", "remainingAmountIn", "amountOut", "executedPrice", "fills"):
        assert after[name] == before[name], name
    assert_fills_add_up(after, ledger_of(api, order_id))


async def test_expiry_of_a_partly_filled_order_keeps_the_filled_part(api: Api) -> None:
    limit = await limit_for(api, FILLABLE)
    expires = datetime.now(UTC) + timedelta(seconds=4)
    order_id = (await place(api, limit_order(WHOLE, limit, expiresAt=expires.isoformat())))[
        "order"
    ]["id"]
    before = await wait_until(api, order_id, part_filled)

    after = await wait_until(api, order_id, lambda o: o["status"] == "EXPIRED", seconds=20)

    for name in ("filledAmountIn", "remainingAmountIn", "amountOut", "executedPrice", "fills"):
        assert after[name] == before[name], name
    assert Decimal(after["remainingAmountIn"]) > 0
    assert_fills_add_up(after, ledger_of(api, order_id))


async def test_all_or_none_waits_as_before(api: Api) -> None:
    limit = await limit_for(api, FILLABLE)
    order_id = (await place(api, limit_order(WHOLE, limit, allOrNone=True)))["order"]["id"]
    order = await wait_until(api, order_id, lambda o: o["status"] == "WAITING")
    await settled(api)

    order = await order_of(api, order_id)
    assert order["status"] == "WAITING"
    assert order["allOrNone"] is True
    assert order["minFillAmount"] is None
    assert Decimal(order["filledAmountIn"]) == 0
    assert order["fills"] == []
    assert ledger_of(api, order_id) == []


async def test_a_minimum_fill_above_what_meets_the_limit_waits(api: Api) -> None:
    limit = await limit_for(api, FILLABLE)
    order = limit_order(WHOLE, limit, minFillAmount="2000")
    order_id = (await place(api, order))["order"]["id"]
    waiting = await wait_until(api, order_id, lambda o: o["status"] == "WAITING")
    assert "no part of at least 2000" in waiting["events"][1]["message"]
    assert ledger_of(api, order_id) == []


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"minFillAmount": "7000"}, "minFillAmount"),
        ({"minFillAmount": "0"}, "minFillAmount"),
        ({"minFillAmount": "1.0000000001"}, "minFillAmount"),
        ({"minFillAmount": "65.999999999"}, "minFillAmount"),  # under 1 % of 6,600
        ({"minFillAmount": "10", "allOrNone": True}, "minFillAmount"),
    ],
)
async def test_partial_fill_fields_are_checked(api: Api, extra: dict[str, Any], field: str) -> None:
    answer = await place(api, limit_order(WHOLE, Decimal(150), **extra))
    assert answer["__typename"] == "OrderRejected"
    assert answer["code"] == "INVALID_INPUT"
    assert answer["field"] == field


@pytest.mark.parametrize("extra", [{"allOrNone": False}, {"minFillAmount": "0.5"}])
async def test_partial_fill_fields_are_only_for_limit_orders(
    api: Api, extra: dict[str, Any]
) -> None:
    market = {"type": "MARKET", "tokenIn": "SOL", "tokenOut": "USDC", "amountIn": "1"}
    answer = await place(api, market | extra)
    assert answer["__typename"] == "OrderRejected"
    assert answer["code"] == "INVALID_INPUT"
    assert answer["field"] in {"allOrNone", "minFillAmount"}


async def test_partial_fills_racing_cancels_each_end_in_one_consistent_outcome(
    api: Api,
) -> None:
    limit = await limit_for(api, Decimal(100))
    ids = []
    answers = []
    for n in range(8):
        order_id = (await place(api, limit_order(Decimal(660), limit)))["order"]["id"]
        # Cancels spread over the first fill: before it routes, while it trades, after it.
        await asyncio.sleep(n * 0.01)
        answer = (await api.gql(CANCEL, {"id": order_id}))["data"]["cancelOrder"]
        ids.append(order_id)
        answers.append(answer)

    for order_id, answer in zip(ids, answers, strict=True):
        if answer["__typename"] != "OrderCancelled":
            # Refused while its part was trading: it rests again with the part filled.
            assert answer["code"] == "NOT_CANCELLABLE", answer
            await wait_until(api, order_id, part_filled)
            again = (await api.gql(CANCEL, {"id": order_id}))["data"]["cancelOrder"]
            assert again["__typename"] == "OrderCancelled"
        order = await order_of(api, order_id)
        assert order["status"] == "CANCELLED"
        statuses = [e["status"] for e in order["events"]]
        assert statuses.count("CANCELLED") == 1
        assert "CONFIRMED" not in statuses
        if order["fills"]:
            assert_fills_add_up(order, ledger_of(api, order_id))  # filled, then cancelled
        else:
            assert ledger_of(api, order_id) == []  # cancelled before any fill
            assert order["amountOut"] is None

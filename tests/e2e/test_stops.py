"""Stop-loss, take-profit and trailing stops end to end in the embedded mode.

Placed over GraphQL, they rest until the market moves through the in-process chain's admin
endpoints (:func:`move_sol_price`, the one place that moves prices here: a real swap on each
SOL/USDC pool), fire, and confirm; or are cancelled, or expire.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

import pytest

from eterna.domain.tokens import SOL, USDC
from tests.e2e.conftest import Api
from tests.e2e.test_limit_sniper import (
    CANCEL,
    chain_api,
    market_price,
    settled,
    statuses,
    wait_for,
)
from tests.e2e.test_market_orders import ledger_of, place

pytestmark = pytest.mark.anyio

STOP = """
query Stop($id: ID!) {
  order(id: $id) {
    id type status amountIn executedPrice limitPrice triggerPrice trailBps bestPrice
    events {
      seq status message failure
      trigger { kind price triggerPrice bestPrice limitPrice pool venue }
    }
  }
}
"""


async def move_sol_price(api: Api, bps: int, *, up: bool) -> None:
    """Move every SOL/USDC pool's price about bps up or down (a trade on each)."""
    async with chain_api(api) as chain:
        pools = (await chain.get("/admin/pools")).json()
        pairs = [
            p for p in pools if {p["tokenA"]["mint"], p["tokenB"]["mint"]} == {SOL.mint, USDC.mint}
        ]
        assert pairs
        for pool in pairs:
            sol_is_a = pool["tokenA"]["mint"] == SOL.mint
            side = "sellB" if sol_is_a == up else "sellA"  # buy SOL to raise it, sell to lower
            moved = await chain.post(
                "/admin/move-price", json={"pool": pool["address"], "bps": bps, "side": side}
            )
            assert moved.status_code == 200, moved.text


async def stop_of(api: Api, order_id: str) -> dict[str, Any]:
    order: dict[str, Any] = (await api.gql(STOP, {"id": order_id}))["data"]["order"]
    return order


def stop(kind: str, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "tokenIn": "SOL", "tokenOut": "USDC", "amountIn": "1"} | extra


def price(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.000001"), rounding=ROUND_DOWN))


async def resting(api: Api, order: dict[str, Any]) -> str:
    """Place the order, wait until it rests and the watcher holds it; return its id."""
    placed = await place(api, order)
    assert placed.get("order"), placed
    order_id: str = placed["order"]["id"]
    await wait_for(api, order_id, {"WAITING"})
    await settled(api)
    return order_id


def fired(order: dict[str, Any]) -> dict[str, Any]:
    """Return the trigger of the PENDING event that fired the order."""
    (event,) = [e for e in order["events"][2:] if e["status"] == "PENDING"][:1]
    trigger: dict[str, Any] = event["trigger"]
    return trigger


async def test_stop_loss_rests_then_fires_when_the_price_falls_to_its_trigger(api: Api) -> None:
    market = await market_price(api, "1")
    trigger = Decimal(price(market * Decimal("0.97")))
    order_id = await resting(api, stop("STOP_LOSS", triggerPrice=str(trigger)))
    waiting = await stop_of(api, order_id)
    assert "the stop-loss fires at" in waiting["events"][1]["message"]

    await move_sol_price(api, 150, up=True)  # away from the trigger: nothing happens
    await settled(api)
    assert (await stop_of(api, order_id))["status"] == "WAITING"
    await move_sol_price(api, 800, up=False)
    await wait_for(api, order_id, {"CONFIRMED", "FAILED"})
    done = await stop_of(api, order_id)

    assert done["status"] == "CONFIRMED", done["events"]
    assert statuses(done) == [
        "PENDING",
        "WAITING",
        "PENDING",
        "ROUTING",
        "BUILDING",
        "SUBMITTED",
        "CONFIRMED",
    ]
    seen = fired(done)
    assert seen["kind"] == "STOP_LOSS"
    assert Decimal(seen["triggerPrice"]) == trigger
    assert Decimal(seen["price"]) <= trigger
    assert seen["pool"] is not None
    assert seen["venue"] is not None
    assert len(ledger_of(api, order_id)) == 1


async def test_take_profit_fires_when_the_price_rises_to_its_trigger(api: Api) -> None:
    market = await market_price(api, "1")
    trigger = Decimal(price(market * Decimal("1.02")))
    order_id = await resting(api, stop("TAKE_PROFIT", triggerPrice=str(trigger)))

    await move_sol_price(api, 500, up=True)
    await wait_for(api, order_id, {"CONFIRMED", "FAILED"})
    done = await stop_of(api, order_id)

    assert done["status"] == "CONFIRMED", done["events"]
    seen = fired(done)
    assert seen["kind"] == "TAKE_PROFIT"
    assert Decimal(seen["price"]) >= trigger
    assert Decimal(done["executedPrice"]) > market


async def test_trailing_stop_follows_the_price_up_and_fires_on_the_fall_below_its_trail(
    api: Api,
) -> None:
    order_id = await resting(api, stop("TRAILING_STOP", trailBps=300))
    first = Decimal((await stop_of(api, order_id))["bestPrice"])

    await move_sol_price(api, 500, up=True)
    await settled(api)
    risen = await stop_of(api, order_id)
    assert risen["status"] == "WAITING"
    best = Decimal(risen["bestPrice"])
    assert best > first
    await move_sol_price(api, 800, up=False)
    await wait_for(api, order_id, {"CONFIRMED", "FAILED"})
    done = await stop_of(api, order_id)

    assert done["status"] == "CONFIRMED", done["events"]
    seen = fired(done)
    assert seen["kind"] == "TRAILING_STOP"
    assert Decimal(seen["bestPrice"]) >= best
    assert Decimal(seen["price"]) <= Decimal(seen["triggerPrice"])


async def test_fired_stop_below_its_limit_price_fails_typed_and_swaps_nothing(api: Api) -> None:
    market = await market_price(api, "1")
    trigger = price(market * Decimal("0.99"))
    order_id = await resting(
        api, stop("STOP_LOSS", triggerPrice=trigger, limitPrice=trigger, slippageBps=10)
    )

    await move_sol_price(api, 500, up=False)  # through the trigger and the floor
    await wait_for(api, order_id, {"CONFIRMED", "FAILED"})
    done = await stop_of(api, order_id)

    assert done["status"] == "FAILED", done["events"]
    assert done["events"][-1]["failure"] == "BELOW_LIMIT_PRICE"
    assert ledger_of(api, order_id) == []


async def test_a_resting_stop_is_cancelled_and_another_expires(api: Api) -> None:
    market = await market_price(api, "1")
    cancelled = await resting(api, stop("STOP_LOSS", triggerPrice=price(market / 2)))
    answer = await api.gql(CANCEL, {"id": cancelled})
    assert answer["data"]["cancelOrder"]["__typename"] == "OrderCancelled"
    expires = datetime.now(UTC) + timedelta(seconds=1)
    expiring = await resting(
        api, stop("TRAILING_STOP", trailBps=5_000, expiresAt=expires.isoformat())
    )

    done = await wait_for(api, expiring, {"EXPIRED"}, seconds=5)

    assert statuses(done) == ["PENDING", "WAITING", "EXPIRED"]
    assert statuses(await stop_of(api, cancelled)) == ["PENDING", "WAITING", "CANCELLED"]
    assert ledger_of(api, cancelled) == ledger_of(api, expiring) == []

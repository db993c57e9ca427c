"""Limit and sniper orders end to end in the embedded mode: rest, fire, expire, cancel.

The local chain runs in the process with slots that move only on request (no drift): prices
move and pools launch only when a test asks, through the chain's admin endpoints.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

import httpx
import pytest

from eterna.adapters.localchain.rpc_server import create_chain_app
from eterna.domain.tokens import SOL, USDC, b58encode
from tests.e2e.conftest import Api
from tests.e2e.test_market_orders import PLACE, ledger_of, place

pytestmark = pytest.mark.anyio

ORDER = """
query Order($id: ID!) {
  order(id: $id) {
    id status amountIn amountOut executedPrice limitPrice attempts
    tokenOut { mint symbol decimals }
    route { minAmountOut }
    events { seq status message }
  }
}
"""
CANCEL = """
mutation Cancel($id: ID!) {
  cancelOrder(id: $id) {
    __typename ... on OrderCancelled { order { status } } ... on CancelRejected { code message }
  }
}
"""
PLACE_MANY = """
mutation Many($i: [OrderInput!]!) {
  placeOrders(inputs: $i) { ... on OrderPlaced { order { id } } }
}
"""
QUOTE = """
query Quote($amount: Decimal!) {
  quote(tokenIn: "SOL", tokenOut: "USDC", amountIn: $amount) {
    ... on RouteQuote { route { amountOut } }
  }
}
"""


@contextlib.asynccontextmanager
async def chain_api(api: Api) -> AsyncIterator[httpx.AsyncClient]:
    """Yield a client of the in-process chain's own HTTP app (JSON-RPC and /admin)."""
    node = api.runtime.chain
    assert node is not None
    app = create_chain_app(node, manage_lifecycle=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://chain") as client:
        yield client


async def market_price(api: Api, amount: str) -> Decimal:
    """Return what the best route pays per SOL, in USDC, for amount SOL now."""
    body = await api.gql(QUOTE, {"amount": amount})
    return Decimal(body["data"]["quote"]["route"]["amountOut"]) / Decimal(amount)


async def sol_usdc_pool(chain: httpx.AsyncClient, venue: str = "raydium") -> dict[str, Any]:
    """Return the chain's SOL/USDC pool of a venue, as /admin/pools lists it."""
    pools = (await chain.get("/admin/pools")).json()
    return next(
        p
        for p in pools
        if p["venue"] == venue
        and {p["tokenA"]["mint"], p["tokenB"]["mint"]} == {SOL.mint, USDC.mint}
    )


async def raise_sol_price(chain: httpx.AsyncClient, bps: int) -> None:
    """Buy SOL on the Raydium SOL/USDC pool until its price rose about bps."""
    pool = await sol_usdc_pool(chain)
    side = "sellB" if pool["tokenA"]["mint"] == SOL.mint else "sellA"
    moved = await chain.post(
        "/admin/move-price", json={"pool": pool["address"], "bps": bps, "side": side}
    )
    assert moved.status_code == 200, moved.text


async def launch(
    chain: httpx.AsyncClient, mint: str, liquidity: str, venue: str = "raydium"
) -> None:
    """Launch a pool for mint against SOL at 0.001 SOL per token."""
    body = {"mint": mint, "symbol": "SNIPE", "decimals": 6, "quote": "SOL", "price": "0.001"}
    answer = await chain.post("/admin/launch", json=body | {"liquidity": liquidity, "venue": venue})
    assert answer.status_code == 200, answer.text


async def order_of(api: Api, order_id: str) -> dict[str, Any]:
    order: dict[str, Any] = (await api.gql(ORDER, {"id": order_id}))["data"]["order"]
    return order


async def wait_for(
    api: Api, order_id: str, statuses: set[str], seconds: float = 10
) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        order = await order_of(api, order_id)
        if order["status"] in statuses:
            return order
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"order {order_id} is {order['status']}, not in {statuses}")
        await asyncio.sleep(0.02)


async def settled(api: Api) -> None:
    """Wait until the watcher holds its book and nothing else is in flight."""
    watcher = api.runtime.watcher
    assert watcher is not None
    await asyncio.wait_for(watcher.watcher.loaded.wait(), 5)
    await asyncio.sleep(0.2)


def limit_order(price: Decimal, **extra: Any) -> dict[str, Any]:
    limit = price.quantize(Decimal("0.000001"), rounding=ROUND_DOWN)
    return {
        "type": "LIMIT",
        "tokenIn": "SOL",
        "tokenOut": "USDC",
        "amountIn": "1",
        "limitPrice": str(limit),
    } | extra


def new_mint() -> str:
    return b58encode(uuid.uuid4().bytes * 2)


def statuses(order: dict[str, Any]) -> list[str]:
    return [e["status"] for e in order["events"]]


# -- limit ---------------------------------------------------------------------------------


async def test_limit_above_market_waits_then_fires_when_price_crosses_and_fills_at_or_above_limit(
    api: Api,
) -> None:
    market = await market_price(api, "1")
    placed = await place(api, limit_order(market * Decimal("1.02")))
    order_id = placed["order"]["id"]
    waiting = await wait_for(api, order_id, {"WAITING"})
    await settled(api)
    assert statuses(await order_of(api, order_id)) == ["PENDING", "WAITING"]
    assert "below the limit" in waiting["events"][1]["message"]

    async with chain_api(api) as chain:
        await raise_sol_price(chain, 500)
    done = await wait_for(api, order_id, {"CONFIRMED", "FAILED"})

    assert done["status"] == "CONFIRMED"
    limit = Decimal(done["limitPrice"])
    assert Decimal(done["executedPrice"]) >= limit
    assert Decimal(done["route"]["minAmountOut"]) >= limit * Decimal(done["amountIn"])
    assert statuses(done) == [
        "PENDING",
        "WAITING",
        "PENDING",
        "ROUTING",
        "BUILDING",
        "SUBMITTED",
        "CONFIRMED",
    ]
    fired = done["events"][2]["message"]
    assert fired.startswith(f"limit {done['limitPrice']} reached")
    assert "raydium pool" in fired
    assert len(ledger_of(api, order_id)) == 1


async def test_limit_already_satisfied_executes_at_once_without_resting(api: Api) -> None:
    market = await market_price(api, "1")
    placed = await place(api, limit_order(market * Decimal("0.99")))
    done = await wait_for(api, placed["order"]["id"], {"CONFIRMED", "FAILED"})
    assert statuses(done) == ["PENDING", "ROUTING", "BUILDING", "SUBMITTED", "CONFIRMED"]
    assert Decimal(done["executedPrice"]) >= Decimal(done["limitPrice"])
    assert "limit" in done["events"][1]["message"]


async def test_limit_expires_at_expires_at_while_resting(api: Api) -> None:
    market = await market_price(api, "1")
    expires = datetime.now(UTC) + timedelta(seconds=1)
    placed = await place(api, limit_order(market * 2, expiresAt=expires.isoformat()))
    order_id = placed["order"]["id"]
    await wait_for(api, order_id, {"WAITING"})
    done = await wait_for(api, order_id, {"EXPIRED"}, seconds=5)
    assert statuses(done) == ["PENDING", "WAITING", "EXPIRED"]
    assert ledger_of(api, order_id) == []


async def test_limit_failing_every_attempt_on_slippage_rests_again_and_fills_once_price_moves(
    api: Api,
) -> None:
    market = await market_price(api, "0.1")
    async with chain_api(api) as chain:
        # Every send meets a move against it, more than the order's 10 bps slippage allows.
        await chain.post("/admin/faults", json={"priceMoveRate": 1, "priceMoveBps": 40})
        order = limit_order(market * Decimal("0.9"), amountIn="0.1", slippageBps=10)
        order_id = (await place(api, order))["order"]["id"]
        rested = await wait_for(api, order_id, {"WAITING", "FAILED"})
        await asyncio.sleep(0.3)  # it rests: it does not fire into the same failure again
        assert (await order_of(api, order_id))["status"] == "WAITING"
        await chain.post("/admin/faults", json={"priceMoveRate": 0})
        await raise_sol_price(chain, 100)
    done = await wait_for(api, order_id, {"CONFIRMED", "FAILED"})

    assert rested["status"] == "WAITING"
    # The program's own error: its code, the instruction, and the venue that refused.
    assert re.fullmatch(
        r"attempt 3 failed: SlippageToleranceExceeded: Custom \d+ in instruction \d+ "
        r"\((raydium|orca|meteora)\); waiting for the trigger again",
        rested["events"][-1]["message"],
    )
    assert statuses(rested).count("SUBMITTED") == 3
    assert done["status"] == "CONFIRMED"
    assert statuses(done)[-6:] == [
        "WAITING",
        "PENDING",
        "ROUTING",
        "BUILDING",
        "SUBMITTED",
        "CONFIRMED",
    ]
    assert [t.ok for t in ledger_of(api, order_id)] == [False, False, False, True]


# -- sniper --------------------------------------------------------------------------------


async def test_sniper_waits_for_its_mint_and_buys_when_a_deep_enough_pool_launches(
    api: Api,
) -> None:
    mint = new_mint()
    sniper = {"type": "SNIPER", "tokenIn": "SOL", "tokenOut": mint, "amountIn": "0.5"}
    placed = await place(api, sniper | {"minLiquidity": "500", "maxPriceImpactBps": 300})
    order_id = placed["order"]["id"]
    waiting = await wait_for(api, order_id, {"WAITING"})
    assert waiting["tokenOut"] == {"mint": mint, "symbol": None, "decimals": 0}
    await settled(api)

    async with chain_api(api) as chain:
        await launch(chain, mint, liquidity="100")  # below minLiquidity: no fire
        await asyncio.sleep(0.3)
        assert statuses(await order_of(api, order_id)) == ["PENDING", "WAITING"]
        await launch(chain, mint, liquidity="1000", venue="meteora")
    done = await wait_for(api, order_id, {"CONFIRMED", "FAILED"})

    assert done["status"] == "CONFIRMED"
    # The decimals come from the mint account; a chain keeps no symbol in it.
    assert done["tokenOut"] == {"mint": mint, "symbol": None, "decimals": 6}
    assert statuses(done)[:4] == ["PENDING", "WAITING", "PENDING", "ROUTING"]
    fired = done["events"][2]["message"]
    assert f"{mint} is tradeable: meteora pool" in fired
    assert "launched" in fired
    assert Decimal(done["amountOut"]) > 0
    assert len(ledger_of(api, order_id)) == 1


async def test_sniper_for_a_known_token_buys_at_once(api: Api) -> None:
    placed = await place(
        api, {"type": "SNIPER", "tokenIn": "USDC", "tokenOut": "BONK", "amountIn": "10"}
    )
    done = await wait_for(api, placed["order"]["id"], {"CONFIRMED", "FAILED"})
    assert statuses(done) == ["PENDING", "ROUTING", "BUILDING", "SUBMITTED", "CONFIRMED"]


# -- cancel --------------------------------------------------------------------------------


async def test_cancel_of_a_resting_order_cancels_it_once_and_then_refuses(api: Api) -> None:
    market = await market_price(api, "1")
    order_id = (await place(api, limit_order(market * 2)))["order"]["id"]
    await wait_for(api, order_id, {"WAITING"})

    first = (await api.gql(CANCEL, {"id": order_id}))["data"]["cancelOrder"]
    again = (await api.gql(CANCEL, {"id": order_id}))["data"]["cancelOrder"]

    assert first == {"__typename": "OrderCancelled", "order": {"status": "CANCELLED"}}
    assert again["__typename"] == "CancelRejected"
    assert again["code"] == "NOT_CANCELLABLE"
    assert statuses(await order_of(api, order_id)) == ["PENDING", "WAITING", "CANCELLED"]


async def test_cancel_of_a_confirmed_order_is_refused_with_a_code(api: Api) -> None:
    market = await market_price(api, "1")
    order_id = (await place(api, limit_order(market * Decimal("0.99"))))["order"]["id"]
    await wait_for(api, order_id, {"CONFIRMED"})
    refused = (await api.gql(CANCEL, {"id": order_id}))["data"]["cancelOrder"]
    assert refused["__typename"] == "CancelRejected"
    assert refused["code"] == "NOT_CANCELLABLE"


async def test_cancels_racing_a_trigger_each_end_in_exactly_one_outcome(api: Api) -> None:
    market = await market_price(api, "0.1")
    inputs = [limit_order(market * Decimal("1.01"), amountIn="0.1") for _ in range(12)]
    body = await api.gql(PLACE_MANY, {"i": inputs})
    ids = [p["order"]["id"] for p in body["data"]["placeOrders"]]
    for order_id in ids:
        await wait_for(api, order_id, {"WAITING"})
    await settled(api)

    async def cancel(order_id: str, delay: float) -> str:
        await asyncio.sleep(delay)
        result: str = (await api.gql(CANCEL, {"id": order_id}))["data"]["cancelOrder"]["__typename"]
        return result

    async with chain_api(api) as chain:
        # Cancels spread over the moment the watcher fires, so some land before it, some after.
        cancels = [asyncio.create_task(cancel(i, n * 0.015)) for n, i in enumerate(ids)]
        await raise_sol_price(chain, 500)
        answers = await asyncio.gather(*cancels)

    outcomes = []
    for order_id, answer in zip(ids, answers, strict=True):
        done = await wait_for(api, order_id, {"CONFIRMED", "CANCELLED", "FAILED"})
        landed = ledger_of(api, order_id)
        if answer == "OrderCancelled":
            assert done["status"] == "CANCELLED"
            assert landed == []
        else:
            assert done["status"] == "CONFIRMED"
            assert [t.ok for t in landed] == [True]
        assert statuses(done).count("CANCELLED") + statuses(done).count("CONFIRMED") == 1
        outcomes.append(done["status"])
    assert "CANCELLED" in outcomes


async def test_limit_and_sniper_orders_are_accepted(api: Api) -> None:
    market = await market_price(api, "1")
    body = await api.gql(PLACE, {"input": limit_order(market * 2)})
    assert body["data"]["placeOrder"]["__typename"] == "OrderPlaced"

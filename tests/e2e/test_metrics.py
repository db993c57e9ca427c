"""/metrics of the API in the embedded mode: every family, with figures that match the orders."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from httpx_ws import AsyncWebSocketSession, aconnect_ws

from eterna.entrypoints.config import Settings
from tests import graphql_ws
from tests.e2e.conftest import Api, _running
from tests.e2e.test_limit_sniper import CANCEL, chain_api, wait_for
from tests.e2e.test_market_orders import place, wait_terminal
from tests.prometheus_text import Scrape

pytestmark = pytest.mark.anyio

EVENTS = """
query Events($id: ID!) { order(id: $id) { type events { seq status } } }
"""
WATCH = "subscription Watch($id: ID!) { orderEvents(orderId: $id) { seq status } }"
VENUES = {"raydium", "meteora", "orca"}
TERMINAL = {"CONFIRMED", "FAILED", "CANCELLED", "EXPIRED"}


def market(amount: str) -> dict[str, Any]:
    return {"type": "MARKET", "tokenIn": "SOL", "tokenOut": "USDC", "amountIn": amount}


RESTING_LIMIT = {
    "type": "LIMIT",
    "tokenIn": "SOL",
    "tokenOut": "USDC",
    "amountIn": "1",
    "limitPrice": "1000000",  # far above the market: it rests
}


@pytest.fixture
async def api(data_dir: Path) -> AsyncIterator[Api]:
    settings = Settings(
        data_dir=data_dir,
        chain_slot_ms=0,
        idle_recheck_seconds=0.5,
        backoff_base_ms=1,
        backoff_max_ms=5,
    )
    async with _running(settings) as running:
        yield running


async def scrape(api: Api) -> Scrape:
    response = await api.client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return Scrape.parse(response.text)


async def expected_steps(api: Api, ids: list[str]) -> tuple[Counter[Any], Counter[Any]]:
    """Return, from the stored events, transitions by (type, status) and steps by (from, to)."""
    transitions: Counter[tuple[str, str]] = Counter()
    steps: Counter[tuple[str, str]] = Counter()
    for order_id in ids:
        order = (await api.gql(EVENTS, {"id": order_id}))["data"]["order"]
        statuses = [e["status"] for e in order["events"]]
        transitions.update((order["type"], s) for s in statuses)
        steps.update(itertools.pairwise(statuses))
    return transitions, steps


async def test_metrics_count_what_the_orders_did(api: Api) -> None:
    ids = []
    for amount in ("1", "0.5", "0.25"):
        placed = await place(api, market(amount))
        ids.append(placed["order"]["id"])
        assert (await wait_terminal(api, ids[-1]))["status"] == "CONFIRMED"
    limit = (await place(api, RESTING_LIMIT))["order"]["id"]
    await wait_for(api, limit, {"WAITING"})
    cancelled = await api.gql(CANCEL, {"id": limit})
    assert cancelled["data"]["cancelOrder"]["__typename"] == "OrderCancelled"
    async with chain_api(api) as chain:
        # Every blockhash stale: two retries, then the third attempt fails.
        await chain.post("/admin/faults", json={"expireRate": 1})
        doomed = (await place(api, market("0.1")))["order"]["id"]
        assert (await wait_terminal(api, doomed))["status"] == "FAILED"
        await chain.post("/admin/faults", json={"expireRate": 0})
    ids += [limit, doomed]

    metrics = await scrape(api)
    # Until the last task of the in-memory broker is done (it ends after the step).
    for _ in range(100):
        if metrics.value("eterna_queue_pending_messages") == 0:
            break
        await asyncio.sleep(0.02)
        metrics = await scrape(api)

    transitions, steps = await expected_steps(api, ids)
    check_order_counts(metrics)
    check_steps(metrics, transitions, steps)
    check_retries_routes_and_queue(metrics, routed=steps[("PENDING", "ROUTING")])


def check_order_counts(metrics: Scrape) -> None:
    assert metrics.value("eterna_build_info", role="api", mode="embedded") == 1
    assert metrics.value("eterna_orders_placed_total", type="MARKET") == 4
    assert metrics.value("eterna_orders_placed_total", type="LIMIT") == 1
    assert metrics.value("eterna_orders_placed_total", type="SNIPER") == 0
    # Counted in the database at scrape time.
    assert metrics.value("eterna_orders", type="MARKET", status="CONFIRMED") == 3
    assert metrics.value("eterna_orders", type="MARKET", status="FAILED") == 1
    assert metrics.value("eterna_orders", type="LIMIT", status="CANCELLED") == 1
    assert metrics.total("eterna_orders") == 5
    assert metrics.value("eterna_scrape_source_up", source="database") == 1


def check_steps(
    metrics: Scrape, transitions: Counter[tuple[str, str]], steps: Counter[tuple[str, str]]
) -> None:
    for (order_type, status), n in transitions.items():
        assert metrics.value("eterna_order_transitions_total", type=order_type, status=status) == n
    assert metrics.total("eterna_order_transitions_total") == sum(transitions.values())
    for (before, after), n in steps.items():
        labels = {"from_status": before, "to_status": after}
        assert metrics.value("eterna_order_step_duration_seconds_count", **labels) == n
        assert metrics.value("eterna_order_step_duration_seconds_bucket", le="+Inf", **labels) == n
        assert metrics.value("eterna_order_step_duration_seconds_sum", **labels) >= 0
    assert metrics.total("eterna_order_step_duration_seconds_count") == sum(steps.values())
    # Against the zero-latency local chain every step of a market order takes well under 5 s.
    fast = metrics.value(
        "eterna_order_step_duration_seconds_bucket",
        from_status="ROUTING",
        to_status="BUILDING",
        le="5.0",
    )
    assert fast == steps[("ROUTING", "BUILDING")]

    def lifetimes(order_type: str, status: str) -> float:
        return metrics.value("eterna_order_duration_seconds_count", type=order_type, status=status)

    assert lifetimes("MARKET", "CONFIRMED") == 3
    assert lifetimes("MARKET", "FAILED") == 1
    assert lifetimes("LIMIT", "CANCELLED") == 1
    assert metrics.total("eterna_order_duration_seconds_count") == 5


def check_retries_routes_and_queue(metrics: Scrape, *, routed: int) -> None:
    assert metrics.value("eterna_order_retries_total", reason="BlockhashExpired") == 2
    assert metrics.total("eterna_order_retries_total") == 2
    assert metrics.value("eterna_order_failures_total", reason="BlockhashExpired") == 1
    # Every routing decision (first tries and retries) is one PENDING -> ROUTING step.
    assert metrics.total("eterna_routes_total") == routed
    uses = metrics.matching("eterna_route_venue_uses_total")
    assert {s.labels["venue"] for s in uses} <= VENUES
    assert sum(s.value for s in uses) >= routed

    assert metrics.value("eterna_queue_lag_messages") == 0
    assert metrics.value("eterna_queue_pending_messages") == 0
    assert metrics.value("eterna_scrape_source_up", source="queue") == 1
    assert metrics.value("eterna_engine_orders_in_flight") == 0
    assert metrics.value("eterna_watcher_active") == 1
    assert metrics.value("eterna_watcher_resting_orders") == 0
    assert metrics.families["process_resident_memory_bytes"] == "gauge"


async def test_open_subscriptions_are_counted_until_they_end(api: Api) -> None:
    limit = (await place(api, RESTING_LIMIT))["order"]["id"]
    await wait_for(api, limit, {"WAITING"})
    before = await scrape(api)
    assert before.value("eterna_subscriptions", kind="order") == 0
    assert before.value("eterna_watcher_resting_orders") == 1

    ws: AsyncWebSocketSession
    async with aconnect_ws("/graphql", api.client, subprotocols=["graphql-transport-ws"]) as ws:
        assert (await graphql_ws.init(ws, api.token("alice")))["type"] == "connection_ack"
        history, _ = await graphql_ws.collect(ws, WATCH, {"id": limit}, limit=2)
        assert [e["orderEvents"]["status"] for e in history] == ["PENDING", "WAITING"]
        during = await scrape(api)
        assert during.value("eterna_subscriptions", kind="order") == 1
        assert during.value("eterna_subscriptions", kind="user") == 0

        await api.gql(CANCEL, {"id": limit})
        # The same subscription goes on: the CANCELLED event, then complete.
        last = json.loads(await asyncio.wait_for(ws.receive_text(), 10))
        assert last["payload"]["data"]["orderEvents"]["status"] == "CANCELLED"
        end = json.loads(await asyncio.wait_for(ws.receive_text(), 10))
        assert (end["id"], end["type"]) == ("1", "complete")

    for _ in range(100):  # the server unregisters a finished subscription right after
        after = await scrape(api)
        if after.value("eterna_subscriptions", kind="order") == 0:
            break
        await asyncio.sleep(0.02)
    assert after.value("eterna_subscriptions", kind="order") == 0
    assert after.value("eterna_subscriptions", kind="user") == 0

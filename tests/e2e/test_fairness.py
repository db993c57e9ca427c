"""Workers share their slots between users: a flood does not delay another user's order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from eterna.entrypoints.config import Settings
from tests.e2e.conftest import Api, _running

pytestmark = pytest.mark.anyio

PLACE = """
mutation($inputs: [OrderInput!]!) {
  placeOrders(inputs: $inputs) { __typename ... on OrderPlaced { order { id } } }
}
"""
EVENTS = "query($id: ID!) { order(id: $id) { status events { status at } } }"


@pytest.fixture
async def two_slots(data_dir: Path) -> AsyncIterator[Api]:
    settings = Settings(data_dir=data_dir, chain_slot_ms=0, worker_concurrency=2)
    async with _running(settings) as running:
        yield running


def order(i: int) -> dict[str, Any]:
    return {"type": "MARKET", "tokenIn": "SOL", "tokenOut": "USDC", "amountIn": f"0.{i + 10}"}


async def place(api: Api, user: str, n: int) -> list[str]:
    body = await api.gql(PLACE, {"inputs": [order(i) for i in range(n)]}, user=user)
    return [r["order"]["id"] for r in body["data"]["placeOrders"]]


async def routed_at(api: Api, user: str, order_id: str) -> datetime:
    for _ in range(600):
        body = await api.gql(EVENTS, {"id": order_id}, user=user)
        found = body["data"]["order"]
        if found["status"] == "CONFIRMED":
            at = next(e["at"] for e in found["events"] if e["status"] == "ROUTING")
            return datetime.fromisoformat(at)
        await asyncio.sleep(0.05)
    raise AssertionError(f"order {order_id} did not confirm")


async def test_a_single_order_is_routed_before_a_flood_queued_ahead_of_it(two_slots: Api) -> None:
    flood = await place(two_slots, "flood", 60)
    (single,) = await place(two_slots, "single", 1)
    single_at = await routed_at(two_slots, "single", single)
    flood_at = [await routed_at(two_slots, "flood", i) for i in flood]
    ahead = sum(1 for at in flood_at if at < single_at)
    # Two slots, one message taken at a time, users in turn: at most the orders running or
    # already started when it arrived go first (a plain queue would route all 60 first).
    assert ahead <= 6, f"{ahead} of the flood's 60 orders were routed before the single one"

"""The fault suite's TWAP scenario: workers and the TWAP scheduler's holder SIGKILLed mid-run.

Twenty TWAP orders of 5 slices over 20 s each run on the real cluster (the chain, an API,
two workers) while, for 40 s, a worker is SIGKILLed every 2 to 4 s: three times in four the one
holding the watcher's lock (where the TWAP scheduler runs), else one at random. Afterwards every
TWAP has exactly its slices, no more, no fewer: indexes 0..4 with the ids derived from it,
adding up to its amountIn to the base unit; every slice is terminal with one landed
transaction per CONFIRMED slice and none for the parent; every order's seqs are gap-free.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis

from eterna.domain.twap import child_id
from tests.faults import test_faults as suite
from tests.faults.harness import (
    PLACE_MANY,
    TERMINAL,
    Cluster,
    PrivatePostgres,
    PrivateRedis,
    connect,
    token,
)
from tests.faults.progress import described, progress

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

# The private Redis and Postgres servers of the suite, and its cluster.
redis_server = suite.redis_server
postgres_server = suite.postgres_server

TWAPS = 20
SLICES = 5
DEADLINE = 240.0
KILLING = 40.0  # seconds of kills, longer than the TWAPs' duration


async def _place_twaps(client: httpx.AsyncClient, api: str) -> list[str]:
    inputs = [
        {
            "type": "TWAP",
            "tokenIn": "SOL",
            "tokenOut": "USDC",
            "amountIn": f"0.5000000{i:02d}",
            "slices": SLICES,
            "durationSeconds": 20,
            "jitterBps": 2000,
        }
        for i in range(TWAPS)
    ]
    response = await client.post(
        f"{api}/graphql",
        json={"query": PLACE_MANY, "variables": {"inputs": inputs}},
        headers={"Authorization": f"Bearer {token()}"},
    )
    placed = response.json()["data"]["placeOrders"]
    assert all(p["__typename"] == "OrderPlaced" for p in placed), placed
    return [p["order"]["id"] for p in placed]


async def _unfinished(db_url: str) -> int:
    conn = await connect(db_url)
    try:
        value = await conn.fetchval(
            "SELECT count(*) FROM orders WHERE status <> ALL($1)", list(TERMINAL)
        )
        return int(value)
    finally:
        await conn.close()


async def _holder(redis_url: str, running: Cluster) -> str | None:
    """Return the name of the worker holding the watcher's lock (None when nobody does)."""
    client = aioredis.Redis.from_url(redis_url)
    try:
        owner = await client.get("eterna:watcher")
    finally:
        await client.aclose()
    if owner is None:
        return None
    text = owner.decode() if isinstance(owner, bytes) else owner
    pid = int(text.split(":")[1])
    names = [n for n, p in running.procs.items() if p.pid == pid and n.startswith("worker")]
    return names[0] if names else None


async def test_sigkilled_workers_and_scheduler_lose_and_double_no_slice(
    tmp_path: Path, redis_server: PrivateRedis, postgres_server: PrivatePostgres
) -> None:
    db = suite._db(postgres_server)
    rng = random.Random(22)
    holders_killed = 0
    async with suite._running(tmp_path, db, redis_server, None) as (running, client):

        async def faults() -> str:
            return f"{described(running.faults)}, {holders_killed} of them the scheduler's"

        async with progress("SIGKILL scheduler", db, TWAPS * (SLICES + 1), faults):
            started = time.monotonic()
            parents = await _place_twaps(client, running.api)
            # A worker needs a few seconds to start and the lock's TTL to take over: kills
            # 2 to 4 s apart leave the scheduler time to run between them, and most of them
            # hit whichever worker runs it at that moment.
            while time.monotonic() - started < KILLING:
                await asyncio.sleep(rng.uniform(2, 4))
                holder = await _holder(redis_server.url, running)
                if holder is not None and rng.random() < 0.75:
                    running.kill(holder)
                    holders_killed += 1
                else:
                    running.kill(f"worker{rng.randrange(2)}")
            while await _unfinished(db) != 0:
                assert time.monotonic() - started < DEADLINE, "TWAPs unfinished"
                await asyncio.sleep(0.5)
            await _verify(db, running.chain, parents)
    print(  # noqa: T201 - the figures of the scenario, shown with -s
        f"\n[SIGKILL scheduler] twaps={TWAPS} slices={TWAPS * SLICES} "
        f"faults: {running.kills} SIGKILLs, {holders_killed} of the scheduler's holder; "
        f"duration={time.monotonic() - started:.1f}s"
    )
    assert holders_killed >= 2
    assert running.kills >= 8


async def _verify(db_url: str, chain: str, parents: list[str]) -> None:
    conn = await connect(db_url)
    try:
        rows = await conn.fetch(
            "SELECT id::text, parent_id::text, slice_index, type, status, amount_in, last_seq, "
            "tx_signature FROM orders"
        )
        events = await conn.fetch("SELECT order_id::text, seq FROM order_events")
    finally:
        await conn.close()
    orders = {r["id"]: r for r in rows}
    assert all(r["status"] in TERMINAL for r in rows)
    children: dict[str, list[dict[str, object]]] = {p: [] for p in parents}
    for row in rows:
        if row["parent_id"] is not None:
            children[row["parent_id"]].append(dict(row))
    assert len(rows) == TWAPS * (SLICES + 1)  # nothing but the parents and their slices
    for parent in parents:
        kids = sorted(children[parent], key=lambda c: int(str(c["slice_index"])))
        assert [c["slice_index"] for c in kids] == list(range(SLICES)), parent
        assert [c["id"] for c in kids] == [
            str(child_id(uuid.UUID(parent), k)) for k in range(SLICES)
        ]
        total = sum((Decimal(str(c["amount_in"])) for c in kids), Decimal(0))
        assert total == Decimal(str(orders[parent]["amount_in"])), parent
        assert orders[parent]["status"] == "CONFIRMED", parent
    seqs: dict[str, list[int]] = {}
    for e in events:
        seqs.setdefault(e["order_id"], []).append(e["seq"])
    for order_id, row in orders.items():
        assert sorted(seqs[order_id]) == list(range(1, row["last_seq"] + 1)), order_id
    async with httpx.AsyncClient() as client:
        ledger = (await client.get(f"{chain}/admin/ledger")).json()
    landed: dict[str, list[str]] = {}
    for tx in ledger:
        if tx["success"]:
            landed.setdefault(tx["memo"], []).append(tx["signature"])
    for order_id, row in orders.items():
        if row["type"] == "TWAP":
            assert order_id not in landed, order_id
        elif row["status"] == "CONFIRMED":
            assert landed.get(order_id) == [row["tx_signature"]], order_id
        else:
            assert order_id not in landed, order_id

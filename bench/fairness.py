"""Fairness between users: one user's flood must not delay another user's orders.

Starts a throwaway cluster (1 API + 2 workers by default). User B places one market order a
second (``--seconds``, 60) and the script measures each one from the moment its
``placeOrder`` was sent to its CONFIRMED event's time (the server's clock on this same
machine). It does so twice: on a quiet cluster, then while user A keeps their caps full:
``--flooders`` clients (4) each send ``placeOrders`` of 100 market orders in a loop, as fast
as the answers come (refused batches too: a refused flood is still a flood). A stays
within the product's own limits: the mutation rate limit is the default one (120 calls a
minute per user: A's clients share two calls a second, 200 orders), and the per-order budget
is raised so that A can keep the caps on unfinished orders full, which is A's worst case for
B: the workers always have 500 of A's orders to run.

Goal: B's placement -> CONFIRMED p99 < 1 s with A's flood.

Run:  .venv/bin/python bench/fairness.py [--seconds 60] [--workers 2] [--flooders 4]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
from cluster import Cluster
from common import (
    PLACE_MANY,
    PLACE_ONE,
    add_cluster_arguments,
    graphql_errors,
    ms,
    order_input,
    parse_at,
    parse_env,
    percentile,
    print_table,
    progress,
    settle,
    ticker,
)

ORDER = "query($id: ID!) { order(id: $id) { status events { status at } } }"


@dataclass
class Flood:
    """What user A's clients sent and what came back."""

    batches: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)


async def flood(client: httpx.AsyncClient, url: str, token: str, stats: Flood) -> None:
    """Send batches of 100 market orders in a loop until cancelled."""
    headers = {"Authorization": f"Bearer {token}"}
    i = 0
    while True:
        inputs = [order_input(i + k) for k in range(100)]
        i += 100
        response = await client.post(
            url, json={"query": PLACE_MANY, "variables": {"inputs": inputs}}, headers=headers
        )
        stats.batches += 1
        body = response.json()
        for result in (body.get("data") or {}).get("placeOrders") or []:
            stats.outcomes[result.get("code") or "placed"] += 1


async def place_b(
    client: httpx.AsyncClient, url: str, token: str, seconds: int
) -> list[tuple[float, str]]:
    """Place one market order a second; return (time sent, order id) of each."""
    headers = {"Authorization": f"Bearer {token}"}
    placed: list[tuple[float, str]] = []
    start = time.monotonic()
    for i in range(seconds):
        await asyncio.sleep(max(0.0, start + i - time.monotonic()))
        sent = time.time()
        response = await client.post(
            url,
            json={"query": PLACE_ONE, "variables": {"input": order_input(i)}},
            headers=headers,
        )
        body = response.json()
        error = graphql_errors(body)
        result = (body.get("data") or {}).get("placeOrder") or {}
        if error or "order" not in result:
            raise SystemExit(f"B's order {i} was not placed: {error or result}")
        placed.append((sent, result["order"]["id"]))
    return placed


@dataclass
class Latencies:
    """B's placement -> CONFIRMED times, and the time each order spent before each step."""

    total: list[float] = field(default_factory=list)
    stages: dict[str, list[float]] = field(default_factory=dict)

    def add(self, sent: float, events: list[dict[str, Any]]) -> None:
        """Record one confirmed order from the time it was sent and its events."""
        times = [(e["status"], parse_at(e["at"])) for e in events]
        self.total.append(times[-1][1] - sent)
        before = sent
        for status, at in times:
            self.stages.setdefault(status, []).append(at - before)
            before = at


async def confirmed_after(
    client: httpx.AsyncClient, url: str, token: str, placed: list[tuple[float, str]]
) -> Latencies:
    """Wait until every order of B is terminal; return each placement -> CONFIRMED time."""
    headers = {"Authorization": f"Bearer {token}"}
    latencies = Latencies()
    deadline = time.monotonic() + 120
    for sent, order_id in placed:
        while True:
            response = await client.post(
                url, json={"query": ORDER, "variables": {"id": order_id}}, headers=headers
            )
            order: dict[str, Any] = response.json()["data"]["order"]
            if order["status"] in {"CONFIRMED", "FAILED", "CANCELLED", "EXPIRED"}:
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"B's order {order_id} still {order['status']} after 120 s")
            await asyncio.sleep(0.2)
        if order["status"] != "CONFIRMED":
            raise SystemExit(f"B's order {order_id} ended {order['status']}")
        latencies.add(sent, order["events"])
    return latencies


async def measure(cluster: Cluster, seconds: int, flooders: int) -> tuple[Latencies, Flood]:
    """Run B's orders, with A's flood alongside when flooders > 0."""
    url = cluster.graphql_url(0)
    stats = Flood()
    limits = httpx.Limits(max_connections=flooders + 4)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        token_a, token_b = cluster.token("user-a"), cluster.token("user-b")
        tasks = [asyncio.create_task(flood(client, url, token_a, stats)) for _ in range(flooders)]
        if flooders:
            await asyncio.sleep(5)  # let A fill the caps first
        label = "with A's flood" if flooders else "quiet"

        def describe() -> str:
            return f"{label}: A sent {stats.batches} batches {dict(stats.outcomes)}"

        try:
            async with ticker(describe, every=5):
                placed = await place_b(client, url, token_b, seconds)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        latencies = await confirmed_after(client, url, token_b, placed)
    return latencies, stats


def rows(latencies: Latencies) -> list[tuple[str, str]]:
    """Return the table rows of B's latencies, then how long B's orders took to reach each step
    from the one before (PENDING: from sending placeOrder to the placement's commit)."""
    total = latencies.total
    return [
        ("B's orders", str(len(total))),
        ("placement -> CONFIRMED p50", ms(percentile(total, 50))),
        ("placement -> CONFIRMED p99", ms(percentile(total, 99))),
        ("placement -> CONFIRMED max", ms(max(total))),
        *(
            (
                f"  ... -> {status} p50 / p99",
                f"{ms(percentile(times, 50))} / {ms(percentile(times, 99))}",
            )
            for status, times in latencies.stages.items()
        ),
    ]


async def main() -> int:
    """Measure B alone, then B beside A's flood."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60, help="B's orders, one a second (60)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (2)")
    parser.add_argument("--flooders", type=int, default=4, help="A's concurrent clients (4)")
    add_cluster_arguments(parser)
    args = parser.parse_args()
    env = {
        "ETERNA_ORDERS_PER_MINUTE": "100000000",
        "ETERNA_RATE_LIMIT_PER_MINUTE": "120",
        **parse_env(args.env),
    }
    async with Cluster(
        apis=1,
        workers=args.workers,
        env=env,
        source=args.source,
        market=args.market,
    ) as cluster:
        await settle(args.settle)
        progress("B alone")
        quiet, _ = await measure(cluster, args.seconds, 0)
        progress("B beside A's flood")
        loaded, stats = await measure(cluster, args.seconds, args.flooders)
    print_table("B alone", rows(quiet))
    flooded = rows(loaded)
    flooded += [
        ("A's batches sent", str(stats.batches)),
        ("A's orders placed", str(stats.outcomes.get("placed", 0))),
        *((f"A refused: {code}", str(n)) for code, n in stats.outcomes.items() if code != "placed"),
    ]
    print_table(f"B beside A's flood ({args.flooders} clients)", flooded)
    p99 = percentile(loaded.total, 99)
    print(f"\ngoal: p99 < 1 s with the flood: {'met' if p99 < 1 else 'MISSED'} ({ms(p99)})")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

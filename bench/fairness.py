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
      [--flood-nice 0]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
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
        if response.status_code == 429:  # refused before it ran: every order of it
            stats.outcomes["RATE_LIMITED (HTTP 429)"] += len(inputs)
            continue
        body = response.json()
        for result in (body.get("data") or {}).get("placeOrders") or []:
            stats.outcomes[result.get("code") or "placed"] += 1


async def flood_for(url: str, token: str, clients: int, seconds: float) -> Flood:
    """Run A's clients for ``seconds``; return what they sent and what came back."""
    stats = Flood()
    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        tasks = [asyncio.create_task(flood(client, url, token, stats)) for _ in range(clients)]
        await asyncio.sleep(seconds)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return stats


class FloodProcess:
    """A's clients in a process of their own (this script with ``--flood``)."""

    def __init__(self, url: str, token: str, clients: int, seconds: float, nice: int) -> None:
        self._args = [url, token, str(clients), str(seconds), str(nice)]
        self._process: asyncio.subprocess.Process | None = None
        self.stats = Flood()

    async def start(self) -> None:
        """Start the clients."""
        self._process = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--flood", *self._args, stdout=asyncio.subprocess.PIPE
        )

    async def wait(self) -> Flood:
        """Wait for the clients' time to end; return their figures."""
        if self._process is None:
            raise RuntimeError("A's clients were never started")
        out, _ = await self._process.communicate()
        if self._process.returncode != 0:
            raise SystemExit(f"A's clients failed ({self._process.returncode})")
        data = json.loads(out.decode().strip().splitlines()[-1])
        self.stats = Flood(batches=data["batches"], outcomes=Counter(data["outcomes"]))
        return self.stats


def run_flood(argv: list[str]) -> int:
    """The ``--flood`` process: print A's figures as one JSON line at the end."""
    url, token, clients, seconds, nice = argv
    os.nice(int(nice))
    stats = asyncio.run(flood_for(url, token, int(clients), float(seconds)))
    print(json.dumps({"batches": stats.batches, "outcomes": dict(stats.outcomes)}), flush=True)
    return 0


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


async def measure(
    cluster: Cluster, seconds: int, flooders: int, nice: int
) -> tuple[Latencies, Flood]:
    """Run B's orders, with A's flood alongside (in its own process) when flooders > 0."""
    url = cluster.graphql_url(0)
    token_a, token_b = cluster.token("user-a"), cluster.token("user-b")
    flood_process = None
    if flooders:
        # A floods from 5 s before B's first order until after B's last one.
        flood_process = FloodProcess(url, token_a, flooders, seconds + 7, nice)
        await flood_process.start()
        await asyncio.sleep(5)  # let A fill the caps first
    label = "with A's flood" if flooders else "quiet"

    def describe() -> str:
        return f"{label}: B's orders are being placed"

    async with httpx.AsyncClient(timeout=60) as client:
        async with ticker(describe, every=5):
            placed = await place_b(client, url, token_b, seconds)
        stats = await flood_process.wait() if flood_process is not None else Flood()
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
    parser.add_argument(
        "--flood-nice",
        type=int,
        default=0,
        help="niceness of A's clients' process (0: as the cluster's; 10: clients that take "
        "little of the cluster's CPU, as on other machines)",
    )
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
        quiet, _ = await measure(cluster, args.seconds, 0, 0)
        progress("B beside A's flood")
        loaded, stats = await measure(cluster, args.seconds, args.flooders, args.flood_nice)
    print_table("B alone", rows(quiet))
    flooded = rows(loaded)
    flooded += [
        ("A's batches sent", str(stats.batches)),
        ("A's orders placed", str(stats.outcomes.get("placed", 0))),
        *((f"A refused: {code}", str(n)) for code, n in stats.outcomes.items() if code != "placed"),
    ]
    nice = f", niceness {args.flood_nice}" if args.flood_nice else ""
    print_table(f"B beside A's flood ({args.flooders} clients in their own process{nice})", flooded)
    p99 = percentile(loaded.total, 99)
    print(f"\ngoal: p99 < 1 s with the flood: {'met' if p99 < 1 else 'MISSED'} ({ms(p99)})")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--flood"]:
        sys.exit(run_flood(sys.argv[2:]))
    sys.exit(asyncio.run(main()))

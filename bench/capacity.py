"""Capacity of each side alone: the API placing orders, then a worker draining them.

End to end, the API, the worker, Postgres, Redis and the client share two cores, so the
throughput figure alone does not say which side to speed up. This script separates them:

1. API alone: a cluster with 1 API and no worker; ``--orders`` orders placed in
   ``placeOrders`` batches (``--concurrency`` in flight). Orders/s and CPU ms per order of the
   API, Postgres and Redis.
2. Worker alone: then one worker starts on the full queue and drains it, with the API idle.
   Orders/s and CPU ms per order of the worker, Postgres and Redis.

The CPU ms per order of each process hardly depend on what else runs on the machine, so
they are the figures to compare before and after a change. ``--profile DIR`` records each
phase with py-spy (DIR/api0.txt, DIR/worker0.txt; summarise with bench/pyspy_summary.py).

Run:  .venv/bin/python bench/capacity.py [--orders 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import httpx
from cluster import Cluster, CpuMeter
from common import (
    PLACE_MANY,
    add_cluster_arguments,
    graphql_errors,
    order_input,
    parse_env,
    print_table,
    progress,
    settle,
    start_profilers,
    stop_profilers,
    ticker,
)


async def count_confirmed(cluster: Cluster) -> int:
    """Return how many orders are CONFIRMED."""
    rows = await cluster.fetch("SELECT count(*) AS n FROM orders WHERE status = 'CONFIRMED'")
    n: int = rows[0]["n"]
    return n


async def place_all(cluster: Cluster, args: argparse.Namespace) -> list[str]:
    """Place the orders in batches; return the errors."""
    tokens = [cluster.token(f"cap-user-{u}") for u in range(args.users)]
    errors: list[str] = []
    gate = asyncio.Semaphore(args.concurrency)
    url = cluster.graphql_url(0)
    placed = 0

    async def one(k: int, start: int, client: httpx.AsyncClient) -> None:
        nonlocal placed
        count = min(args.batch, args.orders - start)
        inputs = [order_input(start + j) for j in range(count)]
        async with gate:
            response = await client.post(
                url,
                json={"query": PLACE_MANY, "variables": {"inputs": inputs}},
                headers={"Authorization": f"Bearer {tokens[k % len(tokens)]}"},
            )
        placed += count
        body = response.json()
        error = graphql_errors(body)
        if error:
            errors.append(error)
        elif any(r["__typename"] != "OrderPlaced" for r in body["data"]["placeOrders"]):
            errors.append(str(body["data"]["placeOrders"][0]))

    async with httpx.AsyncClient(timeout=120) as client:
        # Warm the API's code paths and caches with one small batch first (not measured).
        await client.post(
            url,
            json={"query": PLACE_MANY, "variables": {"inputs": [order_input(0)]}},
            headers={"Authorization": f"Bearer {tokens[0]}"},
        )
        await settle(args.settle)
        spies = start_profilers(cluster.api, args.profile, 100) if args.profile else []
        if spies:
            await asyncio.sleep(1)
        cpu = CpuMeter(cluster.procs).start()
        async with ticker(lambda: f"API: {placed}/{args.orders} orders placed"):
            await asyncio.gather(
                *(one(k, s, client) for k, s in enumerate(range(0, args.orders, args.batch)))
            )
        cpu.stop()
        stop_profilers(spies)
    print_table(
        f"1. API alone: {args.orders} orders placed in batches of {args.batch}",
        [
            ("elapsed", f"{cpu.wall:.2f} s"),
            ("PLACEMENT CAPACITY", f"{args.orders / cpu.wall:.0f} orders/s"),
            *cpu.rows(args.orders),
        ],
    )
    return errors


async def drain(cluster: Cluster, args: argparse.Namespace) -> bool:
    """Start a worker on the full queue and time how fast it empties it."""
    total = args.orders + 1
    await settle(args.settle)
    progress("starting the worker on the full queue")
    worker = await cluster.add_worker()
    spies = start_profilers([worker], args.profile, 100) if args.profile else []
    cpu = CpuMeter(cluster.procs).start()
    done_at_start = await count_confirmed(cluster)
    deadline = time.perf_counter() + args.timeout
    done = done_at_start
    last_report = time.perf_counter()
    while done < total and time.perf_counter() < deadline:
        await asyncio.sleep(0.25)
        done = await count_confirmed(cluster)
        if time.perf_counter() - last_report > 3:
            progress(f"worker: {done}/{total} CONFIRMED")
            last_report = time.perf_counter()
    cpu.stop()
    stop_profilers(spies)
    measured = done - done_at_start
    print_table(
        f"2. Worker alone: draining {total - done_at_start} queued orders",
        [
            ("orders finished while measured", f"{measured} in {cpu.wall:.2f} s"),
            ("WORKER CAPACITY", f"{measured / cpu.wall:.0f} orders/s"),
            *cpu.rows(measured),
        ],
    )
    finished: bool = done >= total
    return finished


async def run(args: argparse.Namespace) -> int:
    progress("starting 1 API and no worker")
    env = parse_env(args.env)
    if args.worker_concurrency:
        env["ETERNA_WORKER_CONCURRENCY"] = str(args.worker_concurrency)
    cluster_ = Cluster(
        apis=1,
        workers=0,
        env=env,
        source=args.source,
        market=args.market,
    )
    async with cluster_ as cluster:
        errors = await place_all(cluster, args)
        if errors:
            print(f"FAILURE: {len(errors)} placeOrders calls failed, first: {errors[0]}")
            return 1
        if not await drain(cluster, args):
            print(f"FAILURE: the worker did not finish the queue in {args.timeout:g} s")
            return 1
        rows = await cluster.fetch(
            "SELECT count(*) AS n FROM order_events GROUP BY order_id HAVING count(*) <> 5"
        )
        if rows:
            print(f"FAILURE: {len(rows)} orders do not have exactly 5 events")
            return 1
    if args.profile:
        progress(f"py-spy profiles in {args.profile} (bench/pyspy_summary.py summarises them)")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--orders", type=int, default=3000, help="orders (3000)")
    parser.add_argument("--batch", type=int, default=100, help="orders per placeOrders (100)")
    parser.add_argument("--users", type=int, default=10, help="users (10)")
    parser.add_argument("--concurrency", type=int, default=4, help="calls in flight (4)")
    parser.add_argument("--timeout", type=float, default=90, help="drain time limit (90 s)")
    parser.add_argument("--profile", type=Path, help="record py-spy profiles into this folder")
    parser.add_argument(
        "--worker-concurrency", type=int, default=0, help="ETERNA_WORKER_CONCURRENCY (default 64)"
    )
    add_cluster_arguments(parser)
    args = parser.parse_args()
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()

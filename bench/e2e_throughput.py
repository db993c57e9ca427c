"""End-to-end throughput of the distributed mode (goal: >= 300 orders/s, 1 API + 1 worker).

Starts a throwaway cluster (bench/cluster.py), opens one ``myOrderEvents`` subscription per
user on the API, warms up with one order per user (which also proves every subscription is
live), then places ``--orders`` market orders in ``placeOrders`` batches of ``--batch``,
``--concurrency`` calls in flight, each batch for one user (round robin). It waits until the
subscribers received every order's CONFIRMED event, then prints:

- orders/s: measured orders / (first placeOrders request sent -> last CONFIRMED received);
- placement-to-CONFIRMED p50/p90/p99/max, placement = when the order's placeOrders response
  arrived (a second row measures from when the request was sent);
- whether every order's events arrived as seq 1..5 gap-free, PENDING..CONFIRMED, and whether
  Postgres holds 5 events and a CONFIRMED row for every order;
- CPU seconds and peak RSS of the API and worker processes.

``--profile DIR`` records the API and the worker with py-spy during the measured phase
(collapsed stacks in DIR/<process>.txt; summarise with bench/pyspy_summary.py).

Run:  .venv/bin/python bench/e2e_throughput.py [--orders 2000 --batch 100 --users 10]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cluster import Cluster, CpuMeter, RssSampler
from common import (
    MY_EVENTS,
    PLACE_MANY,
    STATUSES,
    Received,
    Subscriber,
    add_cluster_arguments,
    graphql_errors,
    ms,
    open_all,
    order_input,
    parse_env,
    percentile,
    print_table,
    progress,
    settle,
    start_profilers,
    stop_profilers,
)


@dataclass
class Tracker:
    """What the subscribers received, by order."""

    seqs: dict[str, list[tuple[int, str]]] = field(default_factory=lambda: defaultdict(list))
    confirmed_at: dict[str, float] = field(default_factory=dict)
    finished: int = 0
    wanted: set[str] = field(default_factory=set)
    all_done: asyncio.Event = field(default_factory=asyncio.Event)
    target: int = 0

    def on_event(self, _sub: Subscriber, received: Received) -> None:
        event = received.payload
        order_id = event["orderId"]
        self.seqs[order_id].append((event["seq"], event["status"]))
        if event["status"] in {"CONFIRMED", "FAILED", "CANCELLED", "EXPIRED"}:
            self.confirmed_at[order_id] = received.mono
            self.finished += 1
            if self.finished >= self.target:
                self.all_done.set()

    def expect(self, count: int) -> None:
        self.finished = 0
        self.target = count
        self.all_done.clear()


@dataclass
class Batch:
    """One placeOrders call."""

    user: int
    inputs: list[dict[str, Any]]
    sent: float = 0.0
    answered: float = 0.0
    ids: list[str] = field(default_factory=list)
    error: str | None = None


async def place_batch(client: httpx.AsyncClient, url: str, token: str, batch: Batch) -> None:
    """Send one placeOrders call and record its timing and the order ids."""
    batch.sent = time.perf_counter()
    response = await client.post(
        url,
        json={"query": PLACE_MANY, "variables": {"inputs": batch.inputs}},
        headers={"Authorization": f"Bearer {token}"},
    )
    batch.answered = time.perf_counter()
    if response.status_code != 200:
        batch.error = f"HTTP {response.status_code}: {response.text[:300]}"
        return
    body = response.json()
    error = graphql_errors(body)
    if error:
        batch.error = error
        return
    for result in body["data"]["placeOrders"]:
        if result["__typename"] != "OrderPlaced":
            batch.error = f"rejected: {result}"
            return
        batch.ids.append(result["order"]["id"])


def verify(tracker: Tracker, ids: list[str]) -> list[str]:
    """Return what is wrong with the events the subscribers received for these orders."""
    problems: list[str] = []
    want = [(i + 1, s) for i, s in enumerate(STATUSES)]
    bad = [i for i in ids if tracker.seqs.get(i) != want]
    problems += [f"order {i}: received {tracker.seqs.get(i)}" for i in bad[:5]]
    if bad:
        problems.append(f"{len(bad)} of {len(ids)} orders did not arrive as seq 1..5 CONFIRMED")
    return problems


async def verify_database(cluster: Cluster, total: int) -> list[str]:
    """Return what is wrong with the rows in Postgres (every order CONFIRMED, 5 events each)."""
    problems: list[str] = []
    rows = await cluster.fetch("SELECT status, count(*) AS n FROM orders GROUP BY status")
    by_status = {r["status"]: r["n"] for r in rows}
    if by_status != {"CONFIRMED": total}:
        problems.append(f"orders by status in Postgres: {by_status} (want CONFIRMED: {total})")
    rows = await cluster.fetch(
        "SELECT count(*) AS n, count(DISTINCT (order_id, seq)) AS d, max(seq) AS m "
        "FROM order_events"
    )
    n, d = rows[0]["n"], rows[0]["d"]
    if n != 5 * total or d != n:
        problems.append(f"order_events in Postgres: {n} rows, {d} distinct (want {5 * total})")
    gaps = await cluster.fetch(
        "SELECT order_id FROM order_events GROUP BY order_id "
        "HAVING count(*) <> max(seq) OR min(seq) <> 1 LIMIT 5"
    )
    if gaps:
        problems.append(f"orders with gaps in Postgres: {[str(r['order_id']) for r in gaps]}")
    return problems


async def run(args: argparse.Namespace) -> int:  # noqa: PLR0912, PLR0915 - one scenario
    env = parse_env(args.env)
    if args.worker_concurrency:
        env["ETERNA_WORKER_CONCURRENCY"] = str(args.worker_concurrency)
    if args.pool_size:
        env["ETERNA_DB_POOL_SIZE"] = str(args.pool_size)
    progress(f"starting {args.apis} API + {args.workers} worker process(es)")
    cluster_ = Cluster(
        apis=args.apis,
        workers=args.workers,
        env=env,
        source=args.source,
        market=args.market,
    )
    async with cluster_ as cluster:
        rss = RssSampler(cluster.procs).start()
        tracker = Tracker()
        users = [f"bench-user-{u}" for u in range(args.users)]
        tokens = [cluster.token(u) for u in users]
        subscribers = [
            Subscriber(
                cluster.ws_url(0),
                tokens[u],
                MY_EVENTS,
                "myOrderEvents",
                on_event=tracker.on_event,
                keep=False,
                compression=not args.no_compression,
            )
            for u in range(args.users)
        ]
        await open_all(subscribers)
        progress(f"{len(subscribers)} myOrderEvents subscriptions open")
        limits = httpx.Limits(max_connections=args.concurrency * 2)
        async with httpx.AsyncClient(timeout=120, limits=limits) as client:
            url = cluster.graphql_url(0)
            # Warm-up: one order per user; its CONFIRMED proves that user's subscription is live.
            warm_orders = 0
            for _attempt in range(3):
                warm = [Batch(u, [order_input(u)]) for u in range(args.users)]
                tracker.expect(args.users)
                await asyncio.gather(*(place_batch(client, url, tokens[b.user], b) for b in warm))
                if failed := [b.error for b in warm if b.error]:
                    print(f"FAILURE: warm-up placement failed: {failed[0]}")
                    return 1
                warm_orders += len(warm)
                try:
                    await asyncio.wait_for(tracker.all_done.wait(), 30)
                    break
                except TimeoutError:
                    # A subscription that was not live yet misses the warm-up: try again.
                    progress(f"warm-up: {tracker.finished}/{args.users} confirmed; retrying")
            else:
                print("FAILURE: warm-up orders were not all delivered")
                return 1
            progress(f"warm-up done ({warm_orders} orders); measuring {args.orders} orders")

            batches: list[Batch] = []
            for k, start in enumerate(range(0, args.orders, args.batch)):
                count = min(args.batch, args.orders - start)
                batches.append(
                    Batch(k % args.users, [order_input(start + j) for j in range(count)])
                )
            await settle(args.settle)
            tracker.expect(args.orders)
            spies = []
            if args.profile:
                spies = start_profilers(cluster.procs, args.profile, args.sample_rate)
            if spies:
                await asyncio.sleep(1.0)  # py-spy attaches
            cpu = CpuMeter(cluster.procs).start()
            gate = asyncio.Semaphore(args.concurrency)

            async def send(k: int, batch: Batch) -> None:
                if args.rate:  # paced: batch k is due at start + k * batch / rate
                    await asyncio.sleep(
                        max(0.0, started + k * args.batch / args.rate - time.perf_counter())
                    )
                async with gate:
                    await place_batch(client, url, tokens[batch.user], batch)

            async def report() -> None:
                while True:
                    await asyncio.sleep(2)
                    placed = sum(len(b.ids) for b in batches)
                    progress(
                        f"placed {placed}/{args.orders}, confirmed {tracker.finished}, "
                        f"API RSS {cluster.api[0].rss_mb():.0f} MiB, "
                        f"worker RSS {cluster.worker[0].rss_mb():.0f} MiB"
                    )

            reporter = asyncio.create_task(report())
            started = time.perf_counter()
            placing = asyncio.gather(*(send(k, b) for k, b in enumerate(batches)))
            timed_out = False
            try:
                await asyncio.wait_for(placing, args.timeout)
                placed_at = time.perf_counter()
                remaining = args.timeout - (placed_at - started)
                await asyncio.wait_for(tracker.all_done.wait(), max(remaining, 1))
            except TimeoutError:
                timed_out = True
            reporter.cancel()
            cpu.stop()
            if spies:
                stop_profilers(spies)
                progress(f"py-spy profiles written to {args.profile}")

        errors = [b.error for b in batches if b.error]
        ids = [i for b in batches for i in b.ids]
        problems: list[str] = []
        if errors:
            problems.append(f"{len(errors)} placeOrders calls failed, first: {errors[0]}")
        if timed_out:
            problems.append(
                f"timed out after {args.timeout} s: {tracker.finished}/{args.orders} finished"
            )
        problems += verify(tracker, ids)
        await asyncio.sleep(0.5)
        problems += await verify_database(cluster, len(ids) + warm_orders)
        for sub in subscribers:
            problems += [f"subscriber error: {e}" for e in sub.errors[:3]]
            await sub.close()
        await rss.stop()

        after_response: list[float] = []
        after_request: list[float] = []
        for batch in batches:
            for order_id in batch.ids:
                done = tracker.confirmed_at.get(order_id)
                if done is not None:
                    after_response.append(done - batch.answered)
                    after_request.append(done - batch.sent)
        last_confirmed = max(
            (tracker.confirmed_at[i] for i in ids if i in tracker.confirmed_at), default=started
        )
        elapsed = max(last_confirmed - started, 1e-9)
        placed_elapsed = max(max(b.answered for b in batches) - started, 1e-9)
        calls = [b.answered - b.sent for b in batches]
        n = len(after_response)
        api_names = [f"api{i}" for i in range(args.apis)]
        worker_names = [f"worker{i}" for i in range(args.workers)]
        rows = [
            ("orders (measured)", f"{args.orders} in batches of {args.batch}, {args.users} users"),
            ("placeOrders calls in flight", str(args.concurrency)),
            ("offered rate", f"{args.rate:g} orders/s" if args.rate else "as fast as possible"),
            ("elapsed (first request -> last CONFIRMED)", f"{elapsed:.2f} s"),
            ("THROUGHPUT end to end", f"{n / elapsed:.1f} orders/s"),
            ("placement rate (all responses in)", f"{len(ids) / placed_elapsed:.1f} orders/s"),
            (
                "placeOrders call p50 / p99",
                f"{ms(percentile(calls, 50))} / {ms(percentile(calls, 99))}",
            ),
            (
                "response -> CONFIRMED p50 / p90 / p99 / max",
                " / ".join(ms(percentile(after_response, p)) for p in (50, 90, 99, 100)),
            ),
            (
                "request sent -> CONFIRMED p50 / p90 / p99 / max",
                " / ".join(ms(percentile(after_request, p)) for p in (50, 90, 99, 100)),
            ),
        ]
        rows += cpu.rows(n)
        rows += [
            (
                f"RSS {name} start / peak (sampled) / end",
                f"{rss.first.get(name, 0):.0f} / {rss.peak.get(name, 0):.0f} / "
                f"{rss.last.get(name, 0):.0f} MiB",
            )
            for name in [*api_names, *worker_names]
        ]
        rows.append(("verification", "OK" if not problems else f"{len(problems)} problem(s)"))
        print_table(
            f"End-to-end throughput (distributed mode, market: {args.market}, slots on request)",
            rows,
        )
        if problems:
            print("FAILURE:")
            for problem in problems:
                print(f"  - {problem}")
            return 1
        print("every order: events seq 1..5 gap-free, CONFIRMED, persisted and delivered")
        return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--orders", type=int, default=2000, help="orders to measure (2000)")
    parser.add_argument("--batch", type=int, default=100, help="orders per placeOrders (100)")
    parser.add_argument("--users", type=int, default=10, help="users, one subscriber each (10)")
    parser.add_argument(
        "--concurrency", type=int, default=4, help="placeOrders calls in flight (4)"
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=0,
        help="pace the batches at this many orders/s (default: as fast as possible)",
    )
    parser.add_argument("--apis", type=int, default=1, help="API processes (1)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (1)")
    parser.add_argument(
        "--worker-concurrency", type=int, default=0, help="ETERNA_WORKER_CONCURRENCY (default 64)"
    )
    parser.add_argument("--pool-size", type=int, default=0, help="ETERNA_DB_POOL_SIZE (20)")
    parser.add_argument("--timeout", type=float, default=150, help="give up after (150 s)")
    parser.add_argument(
        "--no-compression", action="store_true", help="no permessage-deflate on the websockets"
    )
    parser.add_argument("--profile", type=Path, help="record py-spy profiles into this folder")
    parser.add_argument(
        "--sample-rate", type=int, default=100, help="py-spy samples per second (100)"
    )
    add_cluster_arguments(parser)
    args = parser.parse_args()
    if args.users < 1 or args.orders < 1 or not 1 <= args.batch <= 100:
        parser.error("need --users >= 1, --orders >= 1 and 1 <= --batch <= 100")
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()

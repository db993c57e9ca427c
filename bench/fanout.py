"""Subscription fan-out (goal: 1,000 subscribers, p99 delivery < 100 ms, API growth < 200 MB).

Starts a throwaway cluster (1 API + 1 worker), opens ``--subscribers`` websocket connections
to the API, each with one ``myOrderEvents`` subscription, spread round robin over
``--users`` users (1,000 over 100 users: 10 subscriptions see every order of a user). A
warm-up order per user proves every subscription is live. Then ``--orders`` single
``placeOrder`` requests go out open loop at ``--rate`` orders/s, round robin over the users,
so every event is delivered to subscribers / users connections.

Delivery latency of one event to one subscriber = when the subscriber received it (wall
clock) - the event's ``at`` (the time the worker stamped on the step, before its commit); so
it covers the commit, the Redis stream append, the API's dispatcher, the subscription and
the websocket. PENDING (seq 1) is stamped by the API at placement and published there.

It checks that every subscriber got seq 1..5 of every order of its user, and prints the API's
RSS before the subscribers connect, with them connected, after the run and after they left.

Run:  .venv/bin/python bench/fanout.py [--subscribers 1000 --users 100 --orders 300]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import defaultdict
from pathlib import Path

import httpx
from cluster import Cluster, CpuMeter, RssSampler
from common import (
    MY_EVENTS,
    PLACE_ONE,
    STATUSES,
    Received,
    Subscriber,
    add_cluster_arguments,
    graphql_errors,
    ms,
    open_all,
    order_input,
    parse_at,
    parse_env,
    percentile,
    print_table,
    progress,
    settle,
    start_profilers,
    stop_profilers,
)


class Deliveries:
    """Counts CONFIRMED deliveries so the script knows when everything arrived."""

    def __init__(self) -> None:
        self.confirmed = 0
        self.target = 0
        self.done = asyncio.Event()

    def expect(self, target: int) -> None:
        self.confirmed = 0
        self.target = target
        self.done.clear()

    def on_event(self, _sub: Subscriber, received: Received) -> None:
        if received.payload["status"] == "CONFIRMED":
            self.confirmed += 1
            if self.confirmed >= self.target:
                self.done.set()


async def place(client: httpx.AsyncClient, url: str, token: str, index: int) -> str:
    """Place one order and return its id (raise on failure)."""
    body = {"query": PLACE_ONE, "variables": {"input": order_input(index)}}
    response = await client.post(url, json=body, headers={"Authorization": f"Bearer {token}"})
    payload = response.json()
    error = graphql_errors(payload)
    if error or payload["data"]["placeOrder"]["__typename"] != "OrderPlaced":
        raise RuntimeError(f"placeOrder failed: {error or payload}")
    order_id: str = payload["data"]["placeOrder"]["order"]["id"]
    return order_id


async def run(args: argparse.Namespace) -> int:  # noqa: PLR0912, PLR0915 - one scenario
    progress("starting 1 API + 1 worker process")
    async with Cluster(
        apis=1,
        workers=args.workers,
        source=args.source,
        market=args.market,
        env=parse_env(args.env),
    ) as cluster:
        api = cluster.api[0]
        rss = RssSampler(cluster.procs).start()
        users = [f"fan-user-{u}" for u in range(args.users)]
        tokens = [cluster.token(u) for u in users]
        url = cluster.graphql_url(0)
        deliveries = Deliveries()
        memory: list[tuple[str, float]] = []
        async with httpx.AsyncClient(timeout=60) as client:
            # Touch every code path once, so the baseline is a warm process.
            await place(client, url, tokens[0], 0)
            await asyncio.sleep(1)
            memory.append(("API RSS, warm, no subscribers", api.rss_mb()))
            subs = [
                Subscriber(
                    cluster.ws_url(0),
                    tokens[i % args.users],
                    MY_EVENTS,
                    "myOrderEvents",
                    on_event=deliveries.on_event,
                    compression=not args.no_compression,
                )
                for i in range(args.subscribers)
            ]
            started = time.perf_counter()
            await open_all(subs, concurrency=args.connect_concurrency)
            progress(
                f"{len(subs)} subscriptions open in {time.perf_counter() - started:.1f} s "
                f"(API RSS {api.rss_mb():.0f} MiB)"
            )
            # Warm-up: one order per user until every subscription has seen one CONFIRMED.
            seen_warm: set[int] = set()
            for _attempt in range(3):
                missing = [u for u in range(args.users) if u not in seen_warm]
                deliveries.expect(
                    sum(1 for i in range(args.subscribers) if i % args.users in missing)
                )
                for s in subs:
                    s.events.clear()
                await asyncio.gather(*(place(client, url, tokens[u], u) for u in missing))
                try:
                    await asyncio.wait_for(deliveries.done.wait(), 30)
                except TimeoutError:
                    progress(f"warm-up: {deliveries.confirmed}/{deliveries.target}; retrying")
                for u in missing:
                    if all(
                        any(e.payload["status"] == "CONFIRMED" for e in subs[i].events)
                        for i in range(u, args.subscribers, args.users)
                    ):
                        seen_warm.add(u)
                if len(seen_warm) == args.users:
                    break
            else:
                print("FAILURE: some subscriptions never received their warm-up order")
                return 1
            for s in subs:
                s.events.clear()
            await asyncio.sleep(0.5)
            memory.append(("API RSS, subscribers connected, warm", api.rss_mb()))
            progress(
                f"warm-up done; placing {args.orders} orders at {args.rate:g}/s "
                f"({args.orders * 5 * args.subscribers // args.users} deliveries expected)"
            )
            per_user_subs = args.subscribers // args.users
            extra = args.subscribers % args.users
            expected = sum(
                per_user_subs + (1 if (i % args.users) < extra else 0) for i in range(args.orders)
            )
            await settle(args.settle, threshold=0.35)
            idle = CpuMeter(cluster.procs).start()
            await asyncio.sleep(args.idle_seconds)
            idle.stop()
            idle_api = 100 * idle.used["api0"] / idle.wall
            idle_pg = 100 * idle.used["postgres"] / idle.wall
            progress(
                f"idle with {len(subs)} subscriptions: API {idle_api:.0f}% of a core, "
                f"Postgres {idle_pg:.0f}%"
            )
            deliveries.expect(expected)
            spies = start_profilers(cluster.procs, args.profile, 100) if args.profile else []
            cpu = CpuMeter(cluster.procs).start()
            ids: dict[str, int] = {}
            errors: list[str] = []

            async def one(i: int) -> None:
                user = i % args.users
                try:
                    ids[await place(client, url, tokens[user], 1000 + i)] = user
                except (RuntimeError, httpx.HTTPError) as exc:
                    errors.append(str(exc))

            async def report() -> None:
                while True:
                    await asyncio.sleep(2)
                    progress(
                        f"placed {len(ids)}/{args.orders}, CONFIRMED deliveries "
                        f"{deliveries.confirmed}/{expected}, API RSS {api.rss_mb():.0f} MiB"
                    )

            reporter = asyncio.create_task(report())
            start = time.perf_counter()
            tasks = []
            for i in range(args.orders):
                delay = start + i / args.rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(one(i)))
            await asyncio.gather(*tasks)
            timed_out = False
            try:
                await asyncio.wait_for(deliveries.done.wait(), args.timeout)
            except TimeoutError:
                timed_out = True
            elapsed = time.perf_counter() - start
            cpu.stop()
            reporter.cancel()
            if spies:
                stop_profilers(spies)
                progress(f"py-spy profiles written to {args.profile}")
            memory.append(("API RSS, after the run", api.rss_mb()))

        problems: list[str] = []
        if errors:
            problems.append(f"{len(errors)} placements failed, first: {errors[0]}")
        if timed_out:
            problems.append(f"timed out: {deliveries.confirmed}/{expected} CONFIRMED deliveries")
        live: list[float] = []
        by_status: dict[str, list[float]] = defaultdict(list)
        bad = 0
        want = [(k + 1, s) for k, s in enumerate(STATUSES)]
        for i, sub in enumerate(subs):
            user = i % args.users
            got: dict[str, list[tuple[int, str]]] = defaultdict(list)
            for received in sub.events:
                event = received.payload
                if event["orderId"] not in ids:
                    continue
                got[event["orderId"]].append((event["seq"], event["status"]))
                delay = received.wall - parse_at(event["at"])
                by_status[event["status"]].append(delay)
                live.append(delay)
            mine = [o for o, u in ids.items() if u == user]
            wrong = [o for o in mine if got.get(o) != want]
            if wrong:
                bad += 1
                if bad <= 3:
                    problems.append(f"subscriber {i}: order {wrong[0]} got {got.get(wrong[0])}")
            problems += [f"subscriber {i}: {e}" for e in sub.errors[:2]]
        if bad:
            problems.append(f"{bad} of {len(subs)} subscribers missed or misordered events")
        for sub in subs:
            await sub.close()
        await asyncio.sleep(3)
        memory.append(("API RSS, subscribers gone (3 s later)", api.rss_mb()))
        await rss.stop()
        peak_kernel = api.peak_rss_mb()

    rows = [
        (
            "subscribers / users",
            f"{args.subscribers} / {args.users} (myOrderEvents, 1 per connection)",
        ),
        ("orders / rate", f"{len(ids)} at {args.rate:g}/s, open loop, single placeOrder"),
        ("deliveries measured", f"{len(live)}"),
        ("elapsed (first placement -> last delivery)", f"{elapsed:.1f} s"),
        (
            "DELIVERY seq 1..5 p50 / p90 / p99 / max",
            " / ".join(ms(percentile(live, p)) for p in (50, 90, 99, 100)),
        ),
    ]
    for status in STATUSES:
        values = by_status.get(status, [])
        rows.append(
            (
                f"  {status} p50 / p99",
                f"{ms(percentile(values, 50))} / {ms(percentile(values, 99))}",
            )
        )
    rows += cpu.rows()
    rows.append(
        (
            f"CPU while idle ({args.idle_seconds:g} s, no orders)",
            f"API {idle_api:.0f}%, Postgres {idle_pg:.0f}% of a core",
        )
    )
    rows += [(label, f"{value:.0f} MiB") for label, value in memory]
    rows.append(
        ("API RSS growth (warm baseline -> peak)", f"{rss.peak['api0'] - memory[0][1]:.0f} MiB")
    )
    rows.append(
        ("API peak RSS (sampled / VmHWM)", f"{rss.peak['api0']:.0f} / {peak_kernel:.0f} MiB")
    )
    rows.append(("verification", "OK" if not problems else f"{len(problems)} problem(s)"))
    print_table("Subscription fan-out", rows)
    if problems:
        print("FAILURE:")
        for problem in problems:
            print(f"  - {problem}")
        return 1
    print("every subscriber received seq 1..5 of every order of its user")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--subscribers", type=int, default=1000, help="websockets (1000)")
    parser.add_argument("--users", type=int, default=100, help="users (100)")
    parser.add_argument("--orders", type=int, default=300, help="orders to place (300)")
    parser.add_argument("--rate", type=float, default=20, help="orders per second (20)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (1)")
    parser.add_argument(
        "--idle-seconds", type=float, default=6, help="measure idle CPU this long first (6)"
    )
    parser.add_argument("--timeout", type=float, default=60, help="wait for deliveries (60 s)")
    parser.add_argument(
        "--connect-concurrency", type=int, default=50, help="handshakes at once (50)"
    )
    parser.add_argument(
        "--no-compression", action="store_true", help="no permessage-deflate on the websockets"
    )
    parser.add_argument("--profile", type=Path, help="record py-spy profiles into this folder")
    add_cluster_arguments(parser)
    args = parser.parse_args()
    if not 1 <= args.users <= args.subscribers:
        parser.error("need 1 <= --users <= --subscribers")
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()

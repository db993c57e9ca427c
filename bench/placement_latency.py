"""Placement latency at fixed request rates (goal: p99 < 25 ms at 100 orders/s).

Starts a throwaway cluster (1 API + 1 worker by default), opens one ``myOrderEvents``
subscription per user (``--no-subscribers`` to leave them out), and for each rate sends
single-order ``placeOrder`` requests **open loop**: request i is due at start + i / rate,
whatever happened to the earlier ones, each on its own task. Latency is measured from the
moment a request was due to the moment its response arrived, so a slow server or a late
client adds to it (no coordinated omission); the lag of the client itself (sent - due) is
printed too. A short warm-up at the same rate is not counted. Between two rates the script
waits for the worker to finish the backlog, so each rate starts from an idle system.

Run:  .venv/bin/python bench/placement_latency.py [--rate 100 | --rates 50,100,200]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cluster import Cluster, CpuMeter, RssSampler
from common import (
    MY_EVENTS,
    PLACE_ONE,
    RawHttpPool,
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
    ticker,
)


@dataclass
class Outcome:
    """One placeOrder request."""

    due: float
    sent: float = 0.0
    answered: float = 0.0
    error: str | None = None


@dataclass
class RateResult:
    """What one rate measured."""

    rate: float
    outcomes: list[Outcome] = field(default_factory=list)
    wall: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)
    machine_busy: float = 0.0
    other: str = ""
    confirmed_in_window: int = 0
    drain_seconds: float = 0.0
    drained: bool = True


Post = Callable[[dict[str, Any], str], Awaitable[tuple[int, Any]]]


def httpx_poster(client: httpx.AsyncClient, url: str) -> Post:
    """Return a poster over httpx."""

    async def post(body: dict[str, Any], token: str) -> tuple[int, Any]:
        response = await client.post(url, json=body, headers={"Authorization": f"Bearer {token}"})
        return response.status_code, response.json() if response.status_code == 200 else None

    return post


def raw_poster(pool: RawHttpPool, path: str) -> Post:
    """Return a poster over the lean keep-alive client."""

    async def post(body: dict[str, Any], token: str) -> tuple[int, Any]:
        return await pool.post_json(path, body, {"Authorization": f"Bearer {token}"})

    return post


async def place_one(post: Post, token: str, body: dict[str, Any], out: Outcome) -> None:
    """Send one placeOrder and record when it was sent and answered."""
    out.sent = time.perf_counter()
    try:
        status, payload = await post(body, token)
    except (httpx.HTTPError, OSError, ValueError, asyncio.IncompleteReadError) as exc:
        out.answered = time.perf_counter()
        out.error = f"{type(exc).__name__}: {exc}"
        return
    out.answered = time.perf_counter()
    if status != 200:
        out.error = f"HTTP {status}"
        return
    error = graphql_errors(payload)
    if error:
        out.error = error
    elif payload["data"]["placeOrder"]["__typename"] != "OrderPlaced":
        out.error = str(payload["data"]["placeOrder"])


async def open_loop(
    post: Post,
    tokens: list[str],
    *,
    rate: float,
    seconds: float,
    first_index: int,
) -> tuple[list[Outcome], float]:
    """Send rate * seconds requests at fixed intervals; return their outcomes and the wall time."""
    count = max(1, round(rate * seconds))
    outcomes: list[Outcome] = []
    tasks = []
    start = time.perf_counter()

    def status() -> str:
        answered = sum(1 for o in outcomes if o.answered)
        return f"rate {rate:g}/s: {len(outcomes)}/{count} sent, {answered} answered"

    async with ticker(status):
        for i in range(count):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            out = Outcome(due)
            outcomes.append(out)
            body: dict[str, Any] = {
                "query": PLACE_ONE,
                "variables": {"input": order_input(first_index + i)},
            }
            tasks.append(asyncio.create_task(place_one(post, tokens[i % len(tokens)], body, out)))
        await asyncio.gather(*tasks)
    return outcomes, time.perf_counter() - start


async def unfinished(cluster: Cluster) -> int:
    """Return how many orders are not finished yet."""
    rows = await cluster.fetch(
        "SELECT count(*) AS n FROM orders WHERE status NOT IN ('CONFIRMED','FAILED','CANCELLED')"
    )
    n: int = rows[0]["n"]
    return n


async def confirmed(cluster: Cluster) -> int:
    """Return how many orders are CONFIRMED."""
    rows = await cluster.fetch("SELECT count(*) AS n FROM orders WHERE status = 'CONFIRMED'")
    n: int = rows[0]["n"]
    return n


async def drain(cluster: Cluster, limit: float) -> tuple[float, bool]:
    """Wait until the worker finished every order (at most limit seconds)."""
    start = time.perf_counter()
    left = -1

    async with ticker(lambda: f"draining: {left} orders unfinished"):
        while time.perf_counter() - start < limit:
            left = await unfinished(cluster)
            if left == 0:
                return time.perf_counter() - start, True
            await asyncio.sleep(0.25)
    return time.perf_counter() - start, False


async def run(args: argparse.Namespace) -> int:  # noqa: PLR0915 - one scenario
    rates = [float(r) for r in args.rates.split(",")] if args.rates else [args.rate]
    progress(f"starting {args.apis} API + {args.workers} worker process(es)")
    async with Cluster(
        apis=args.apis,
        workers=args.workers,
        source=args.source,
        market=args.market,
        env=parse_env(args.env),
    ) as cluster:
        rss = RssSampler(cluster.procs).start()
        users = [f"latency-user-{u}" for u in range(args.users)]
        tokens = [cluster.token(u) for u in users]
        subscribers = []
        if not args.no_subscribers:
            subscribers = [
                Subscriber(cluster.ws_url(0), t, MY_EVENTS, "myOrderEvents", keep=False)
                for t in tokens
            ]
            await open_all(subscribers)
            progress(f"{len(subscribers)} myOrderEvents subscriptions open")
        url = cluster.graphql_url(0)
        results: list[RateResult] = []
        index = 0
        limits = httpx.Limits(max_connections=500, max_keepalive_connections=500)
        pool = RawHttpPool("127.0.0.1", cluster.ports[0], size=args.connections)
        async with httpx.AsyncClient(timeout=30, limits=limits) as client:
            post = (
                httpx_poster(client, url)
                if args.client == "httpx"
                else raw_poster(pool, "/graphql")
            )
            for rate in rates:
                await settle(args.settle)
                progress(f"rate {rate:g}/s: warm-up {args.warmup:g} s")
                _, _ = await open_loop(
                    post, tokens, rate=rate, seconds=args.warmup, first_index=index
                )
                index += round(rate * args.warmup)
                before = await confirmed(cluster)
                progress(f"rate {rate:g}/s: measuring {args.seconds:g} s")
                spies = []
                if args.profile:
                    spies = start_profilers(
                        cluster.procs, args.profile / f"{rate:g}", args.sample_rate
                    )
                    await asyncio.sleep(1.0)  # py-spy attaches
                cpu = CpuMeter(cluster.procs).start()
                outcomes, wall = await open_loop(
                    post, tokens, rate=rate, seconds=args.seconds, first_index=index
                )
                cpu.stop()
                stop_profilers(spies)
                index += len(outcomes)
                result = RateResult(rate, outcomes, wall, dict(cpu.used), cpu.machine_busy)
                result.other = cpu.rows()[-1][1]
                result.confirmed_in_window = await confirmed(cluster) - before
                lat = [o.answered - o.due for o in outcomes if o.error is None]
                progress(
                    f"rate {rate:g}/s: p50 {ms(percentile(lat, 50))}, p99 "
                    f"{ms(percentile(lat, 99))}; waiting for the worker to drain the backlog"
                )
                if args.workers:
                    result.drain_seconds, result.drained = await drain(cluster, args.drain)
                results.append(result)
        problems: list[str] = []
        await pool.close()
        for sub in subscribers:
            problems += [f"subscriber error: {e}" for e in sub.errors[:3]]
            await sub.close()
        await rss.stop()

    rows: list[tuple[str, str]] = []
    for r in results:
        ok = [o for o in r.outcomes if o.error is None]
        errors = [o.error for o in r.outcomes if o.error is not None]
        lat = [o.answered - o.due for o in ok]
        service = [o.answered - o.sent for o in ok]
        lag = [o.sent - o.due for o in r.outcomes]
        span = max((o.answered for o in r.outcomes), default=0) - min(o.due for o in r.outcomes)
        tag = f"@{r.rate:g}/s"
        rows += [
            (f"{tag} requests / errors", f"{len(r.outcomes)} / {len(errors)}"),
            (f"{tag} achieved rate", f"{len(ok) / span:.1f} orders/s"),
            (
                f"{tag} latency p50 / p90 / p99 / max",
                " / ".join(ms(percentile(lat, p)) for p in (50, 90, 99, 100)),
            ),
            (
                f"{tag} sent->answered p50 / p99",
                f"{ms(percentile(service, 50))} / {ms(percentile(service, 99))}",
            ),
            (f"{tag} client lag (sent-due) p99", ms(percentile(lag, 99))),
            (
                f"{tag} CPU (% of a core)",
                ", ".join(
                    f"{k.removesuffix('-server')} {100 * r.cpu[k] / r.wall:.0f}%"
                    for k in ("api0", "worker0", "client", "postgres", "redis-server")
                    if k in r.cpu
                ),
            ),
            (f"{tag} CPU whole machine busy", f"{100 * r.machine_busy:.0f}% of all cores"),
            (f"{tag} CPU other processes (not this run)", r.other),
            (
                f"{tag} worker kept up",
                f"{r.confirmed_in_window} confirmed during the window; backlog drained in "
                f"{r.drain_seconds:.1f} s" + ("" if r.drained else " (NOT drained)"),
            ),
        ]
        if errors:
            problems.append(f"{tag}: {len(errors)} failed requests, first: {errors[0]}")
    for name in rss.peak:
        rows.append((f"RSS {name} peak (sampled)", f"{rss.peak[name]:.0f} MiB"))
    print_table("Placement latency, open loop, single placeOrder per request", rows)
    if problems:
        print("FAILURE:")
        for problem in problems:
            print(f"  - {problem}")
        return 1
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rate", type=float, default=100, help="orders per second (100)")
    parser.add_argument("--rates", help="several rates, run one after another, e.g. 50,100,200")
    parser.add_argument("--seconds", type=float, default=10, help="measured seconds per rate (10)")
    parser.add_argument("--warmup", type=float, default=2, help="unmeasured seconds first (2)")
    parser.add_argument("--users", type=int, default=10, help="users, round robin (10)")
    parser.add_argument(
        "--no-subscribers", action="store_true", help="no myOrderEvents subscriber per user"
    )
    parser.add_argument(
        "--client",
        choices=["raw", "httpx"],
        default="raw",
        help="load generator: a lean keep-alive HTTP/1.1 client (raw, default) or httpx",
    )
    parser.add_argument(
        "--connections", type=int, default=64, help="raw client: keep-alive connections (64)"
    )
    parser.add_argument("--drain", type=float, default=40, help="wait for the backlog (40 s)")
    parser.add_argument("--apis", type=int, default=1, help="API processes (1)")
    parser.add_argument(
        "--workers", type=int, default=1, help="worker processes (1; 0 = the API alone)"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="record py-spy profiles of the measured window into DIR/<rate>/ (the figures then "
        "include py-spy's own cost)",
    )
    parser.add_argument(
        "--sample-rate", type=int, default=100, help="py-spy samples per second (100)"
    )
    add_cluster_arguments(parser)
    args = parser.parse_args()
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()

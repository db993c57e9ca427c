"""The commonest client: one placeOrder per request, then that order's own event stream.

Starts a throwaway cluster (1 API + 1 worker by default, ``eterna chain`` as the market) and
places ``--orders`` market orders (2,000), one ``placeOrder`` per HTTP request, then follows
each order's ``orderEvents(orderId)`` subscription (graphql-transport-ws) to CONFIRMED or
FAILED, as a trading page or a bot waiting for its fill does. Three shapes of client
(``--mode``):

- ``socket-per-order`` (default): ``--in-flight`` (64) clients in a closed loop; each
  places an order, opens a websocket for it as soon as the placement answers, subscribes,
  reads to the order's end, closes, and places the next.
- ``shared-socket``: the same closed loop, but each client keeps **one** websocket open and
  subscribes once per order on it (a new operation id each), as a GraphQL frontend does.
- ``open-loop``: orders are due at ``--rate`` per second whatever happened to the earlier
  ones (as ``placement_latency.py``), each followed on a websocket of its own; latency is
  counted from when a request was due, so a slow server adds to it.

Printed: throughput (orders reaching CONFIRMED or FAILED per second of the run), placement
response p50/p99 (request sent, or due, to answer), placed -> CONFIRMED p50/p99 (request sent
to the CONFIRMED frame's arrival), CPU per order of every process, peak RSS, and the
machine's reading (``python3 -m timeit -n 20 "sum(range(10**6))"``, before and after; lower
is faster) so runs on a machine of changing speed can be compared.

Run:  .venv/bin/python bench/single_stream.py [--mode shared-socket] [--orders 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from cluster import Cluster, CpuMeter, RssSampler
from common import (
    PLACE_ONE,
    RawHttpPool,
    add_cluster_arguments,
    graphql_errors,
    ms,
    order_input,
    parse_env,
    percentile,
    print_table,
    progress,
    settle,
    ticker,
)
from rawws import Closed, RawWebSocket

EVENTS = "subscription S($id: ID!) { orderEvents(orderId: $id) { seq status } }"
TERMINAL = {"CONFIRMED", "FAILED"}


@dataclass
class Outcome:
    """One order as its client saw it (perf_counter times)."""

    due: float = 0.0
    sent: float = 0.0
    answered: float = 0.0
    ended: float = 0.0
    status: str = ""
    error: str | None = None


def machine_reading() -> float:
    """Return the best of ``python3 -m timeit -n 20 "sum(range(10**6))"`` in ms."""
    out = subprocess.run(
        [sys.executable, "-m", "timeit", "-n", "20", "sum(range(10**6))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    match = re.search(r"([\d.]+) (msec|usec|sec) per loop", out)
    if match is None:
        raise RuntimeError(f"unreadable timeit output: {out!r}")
    value, unit = float(match.group(1)), match.group(2)
    return value * {"usec": 0.001, "msec": 1.0, "sec": 1000.0}[unit]


class Client:
    """One client: a keep-alive HTTP connection for placements, websockets for the streams."""

    def __init__(self, cluster: Cluster, pool: RawHttpPool, token: str, *, shared: bool) -> None:
        self._pool = pool
        self._token = token
        self._shared = shared
        url = urlsplit(cluster.ws_url(0))
        self._host, self._port, self._path = url.hostname or "", url.port or 80, url.path
        self._socket: RawWebSocket | None = None
        self._ids = itertools.count(1)

    async def place(self, i: int, out: Outcome) -> str | None:
        """Place order i; return its id (None when refused or failed)."""
        out.sent = time.perf_counter()
        body = {"query": PLACE_ONE, "variables": {"input": order_input(i)}}
        status, payload = await self._pool.post_json(
            "/graphql", body, {"Authorization": f"Bearer {self._token}"}
        )
        out.answered = time.perf_counter()
        if status != 200:
            out.error = f"HTTP {status}"
            return None
        error = graphql_errors(payload)
        placed = payload["data"]["placeOrder"] if not error else {}
        if error or placed.get("__typename") != "OrderPlaced":
            out.error = error or str(placed)
            return None
        return str(placed["order"]["id"])

    async def _open(self) -> RawWebSocket:
        socket = await RawWebSocket.connect(self._host, self._port, path=self._path)
        socket.send_json(
            {"type": "connection_init", "payload": {"Authorization": f"Bearer {self._token}"}}
        )
        ack = await socket.receive_text()
        if isinstance(ack, Closed) or json.loads(ack).get("type") != "connection_ack":
            raise ConnectionError(f"no connection_ack: {ack}")
        return socket

    async def follow(self, order_id: str, out: Outcome) -> None:
        """Subscribe to the order's events and read them to its end."""
        if self._shared:
            if self._socket is None:
                self._socket = await self._open()
            socket = self._socket
        else:
            socket = await self._open()
        op = str(next(self._ids))
        socket.send_json(
            {
                "id": op,
                "type": "subscribe",
                "payload": {"query": EVENTS, "variables": {"id": order_id}},
            }
        )
        try:
            while True:
                raw = await socket.receive_text()
                if isinstance(raw, Closed):
                    out.error = f"closed {raw.code} {raw.reason}"
                    return
                message = json.loads(raw)
                if message.get("id") != op:
                    continue
                if message["type"] == "next":
                    status = message["payload"]["data"]["orderEvents"]["status"]
                    if status in TERMINAL:
                        out.ended, out.status = time.perf_counter(), status
                        if self._shared:  # the stream ends with the order; leave it anyway
                            socket.send_json({"id": op, "type": "complete"})
                        return
                elif message["type"] in {"error", "complete"}:
                    out.error = f"{message['type']}: {message.get('payload')}"
                    return
        finally:
            if not self._shared:
                await socket.close()

    async def close(self) -> None:
        """Close the shared websocket."""
        if self._socket is not None:
            await self._socket.close()


async def run_closed(clients: list[Client], orders: int) -> list[Outcome]:
    """Each client places and follows one order at a time until ``orders`` were placed."""
    outcomes: list[Outcome] = []
    counter = itertools.count()

    async def loop(client: Client) -> None:
        while (i := next(counter)) < orders:
            out = Outcome()
            outcomes.append(out)
            out.due = time.perf_counter()
            order_id = await client.place(i, out)
            if order_id is not None:
                await client.follow(order_id, out)

    def status() -> str:
        return f"{len(outcomes)}/{orders} placed, {sum(1 for o in outcomes if o.ended)} ended"

    async with ticker(status):
        await asyncio.gather(*(loop(c) for c in clients))
    return outcomes


async def run_open(clients: list[Client], orders: int, rate: float) -> list[Outcome]:
    """Order i is due at start + i / rate; each is placed and followed on a task of its own."""
    outcomes = [Outcome() for _ in range(orders)]
    start = time.perf_counter()

    async def one(i: int, client: Client, out: Outcome) -> None:
        order_id = await client.place(i, out)
        if order_id is not None:
            await client.follow(order_id, out)

    def status() -> str:
        sent = sum(1 for o in outcomes if o.sent)
        return f"{sent}/{orders} sent, {sum(1 for o in outcomes if o.ended)} ended"

    tasks = []
    async with ticker(status):
        for i, out in enumerate(outcomes):
            out.due = start + i / rate
            delay = out.due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i, clients[i % len(clients)], out)))
        await asyncio.gather(*tasks)
    return outcomes


def p50_p99(values: list[float]) -> str:
    """Return "p50 / p99" of durations in seconds, in ms."""
    return f"{ms(percentile(values, 50))} / {ms(percentile(values, 99))}"


async def run(args: argparse.Namespace) -> int:
    before = machine_reading()
    progress(f"machine reading {before:.1f} ms")
    env = {"ETERNA_LOG_LEVEL": "WARNING", **parse_env(args.env)}
    async with Cluster(
        workers=args.workers, env=env, source=args.source, market=args.market
    ) as cluster:
        url = urlsplit(cluster.graphql_url(0))
        pool = RawHttpPool(url.hostname or "", url.port or 80, size=args.in_flight)
        tokens = [cluster.token(f"stream-user-{u}") for u in range(args.users)]
        shared = args.mode == "shared-socket"
        clients = [
            Client(cluster, pool, tokens[c % len(tokens)], shared=shared)
            for c in range(args.in_flight)
        ]
        # Warm-up, not counted: every code path once, connections opened.
        await run_closed(clients[: min(8, len(clients))], args.warmup)
        await settle(args.settle)
        rss = RssSampler(cluster.procs).start()
        cpu = CpuMeter(cluster.procs).start()
        started = time.perf_counter()
        if args.mode == "open-loop":
            outcomes = await run_open(clients, args.orders, args.rate)
        else:
            outcomes = await run_closed(clients, args.orders)
        wall = time.perf_counter() - started
        cpu.stop()
        await rss.stop()
        for client in clients:
            await client.close()
    after = machine_reading()
    ended = [o for o in outcomes if o.ended]
    confirmed = [o for o in ended if o.status == "CONFIRMED"]
    errors = [o.error for o in outcomes if o.error]
    placement = [o.answered - (o.due if args.mode == "open-loop" else o.sent) for o in outcomes]
    to_confirmed = [o.ended - o.sent for o in confirmed]
    rows = [
        ("mode", args.mode + (f" at {args.rate:g}/s" if args.mode == "open-loop" else "")),
        ("orders (in flight)", f"{args.orders} ({args.in_flight} clients, {args.users} users)"),
        ("throughput", f"{len(ended) / wall:.1f} orders/s ({len(ended)} ended in {wall:.1f} s)"),
        ("CONFIRMED / FAILED", f"{len(confirmed)} / {len(ended) - len(confirmed)}"),
        ("errors", f"{len(errors)}" + (f" (first: {errors[0][:120]})" if errors else "")),
        (
            "placement p50 / p99",
            f"{ms(percentile(placement, 50))} / {ms(percentile(placement, 99))}",
        ),
        (
            "placed -> CONFIRMED p50 / p99",
            p50_p99(to_confirmed) if to_confirmed else "-",
        ),
        *cpu.rows(len(ended)),
        *((f"peak RSS {name}", f"{peak:.0f} MiB") for name, peak in rss.peak.items()),
        ("machine reading before / after", f"{before:.1f} / {after:.1f} ms"),
    ]
    print_table(f"One order per request, its own stream ({args.market})", rows)
    return 0 if len(ended) == args.orders and not errors else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--mode",
        choices=("socket-per-order", "shared-socket", "open-loop"),
        default="socket-per-order",
        help="how clients follow their orders (socket-per-order)",
    )
    parser.add_argument("--orders", type=int, default=2_000, help="orders measured (2000)")
    parser.add_argument("--in-flight", type=int, default=64, help="concurrent clients (64)")
    parser.add_argument("--users", type=int, default=8, help="users the clients act for (8)")
    parser.add_argument("--rate", type=float, default=100, help="open-loop orders/s (100)")
    parser.add_argument("--warmup", type=int, default=50, help="orders before measuring (50)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (1)")
    add_cluster_arguments(parser)
    args = parser.parse_args()
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()

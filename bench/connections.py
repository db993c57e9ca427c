"""Connection floods (goals: idle websockets closed within the connection_init timeout, API RSS
back within 20 % of its start a minute after the flood, /health p99 < 100 ms throughout).

Starts a throwaway cluster (1 API, no worker) with ``ETERNA_TRUSTED_PROXIES=127.0.0.1`` and
the default caps (100 websockets per address, 20 per user), then:

1. **Flood**: opens ``--connections`` websockets (20,000) that never send ``connection_init``,
   in waves of ``--wave`` (10,000; the API and this script each need a file descriptor per
   connection, and both run under the machine's limit), half graphql-transport-ws and half
   graphql-ws, each with its own ``X-Forwarded-For`` address: a botnet behind the proxy, so
   the per-address cap never refuses them and the connection_init deadline is what ends
   them. It records when and how the server closed each one, polls ``/health`` every
   ``--health-interval`` seconds throughout, and reads the API's RSS before, at the peak, and
   ``--after`` seconds (60) after the last connection closed.
2. **Caps**: ``--address-extra`` connections over the per-address cap from one address, and
   ``--user-extra`` over the per-user cap for one user from distinct addresses, each sending
   ``connection_init`` with a valid token: how many were acknowledged, how many refused, and
   with which close code and reason.

Against a tree without these limits (``--source`` of an older snapshot) the same run shows
what it used to do. The /health percentiles are over the flood's own duration: a tree that
holds each connection 60 s has a long, mostly quiet window, so compare the slow polls and
the maximum too. Run:  .venv/bin/python bench/connections.py [--connections 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from cluster import Cluster, RssSampler, raise_fd_limit
from common import (
    add_cluster_arguments,
    ms,
    parse_env,
    percentile,
    print_table,
    progress,
    settle,
    ticker,
)
from rawws import Closed, RawWebSocket

PROTOCOLS = ("graphql-transport-ws", "graphql-ws")
ADDRESS_CAP, USER_CAP = 100, 20


def forwarded(i: int) -> dict[str, str]:
    """Return the X-Forwarded-For header of the i-th client of the flood (10.x.y.z)."""
    return {"X-Forwarded-For": f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"}


def fd_limit(pid: int | str = "self") -> str:
    """Return the soft 'Max open files' limit of a process."""
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            return line.split()[3]
    return "?"


# Polls /health every interval; prints "sent-at seconds ok" per poll (CLOCK_MONOTONIC, which
# this process and the poller share).
POLLER = """
import sys, time, httpx
url, interval = sys.argv[1], float(sys.argv[2])
with httpx.Client(timeout=30) as client:
    while True:
        sent = time.monotonic()
        try:
            ok = client.get(url).status_code == 200
        except httpx.HTTPError:
            ok = False
        print(sent, time.monotonic() - sent, int(ok), flush=True)
        time.sleep(max(0.0, interval - (time.monotonic() - sent)))
"""


@dataclass
class Health:
    """Latencies of /health polled in the background, with when each was sent.

    The poller is a process of its own: in this one, whose event loop is busy opening and
    closing the flood's connections, a poll's answer would wait for this loop too, and the
    figure would measure the client.
    """

    url: str
    interval: float
    samples: list[tuple[float, float]] = field(default_factory=list)  # (sent at, seconds)
    failures: int = 0

    @contextlib.asynccontextmanager
    async def polling(self) -> AsyncIterator[None]:
        """Poll while the block runs."""
        poller = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            POLLER,
            self.url,
            str(self.interval),
            stdout=asyncio.subprocess.PIPE,
        )
        try:
            yield
        finally:
            poller.terminate()
            out, _ = await poller.communicate()
            for line in out.decode().splitlines():
                sent, seconds, ok = line.split()
                self.samples.append((float(sent), float(seconds)))
                self.failures += ok != "1"

    def between(self, start: float, end: float) -> list[float]:
        """Return the latencies of the polls sent between two monotonic times."""
        return [latency for sent, latency in self.samples if start <= sent <= end]


@dataclass
class Flood:
    """What happened to the connections of the flood."""

    held: list[float] = field(default_factory=list)  # seconds from open to the server's close
    codes: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)  # handshakes that failed
    still_open: int = 0  # not closed by the server within --wait
    open_now: int = 0
    most_open: int = 0
    opened: int = 0


async def flood(host: str, port: int, args: argparse.Namespace) -> Flood:
    """Open the flood's connections in waves and wait for the server to close each one."""
    result = Flood()
    gate = asyncio.Semaphore(args.handshakes)

    async def one(i: int) -> None:
        try:
            async with gate:
                ws = await RawWebSocket.connect(
                    host,
                    port,
                    subprotocol=PROTOCOLS[i % 2],
                    headers=None if args.same_address else forwarded(i),
                )
        except (OSError, ConnectionError, TimeoutError) as exc:
            result.refused[type(exc).__name__ + (f": {exc}" if str(exc) else "")] += 1
            return
        result.opened += 1
        result.open_now += 1
        result.most_open = max(result.most_open, result.open_now)
        try:
            async with asyncio.timeout(args.wait):
                closed = await ws.wait_closed()
        except TimeoutError:
            result.still_open += 1
            return
        finally:
            result.open_now -= 1
            await ws.close()
        result.held.append(closed.at - ws.opened_at)
        result.codes[f"{closed.code} {closed.reason}".strip()] += 1

    def describe() -> str:
        return (
            f"flood: {result.opened}/{args.connections} opened, {result.open_now} open now, "
            f"{len(result.held)} closed by the server"
        )

    async with ticker(describe, every=3.0):
        for start in range(0, args.connections, args.wave):
            stop = min(args.connections, start + args.wave)
            await asyncio.gather(*(one(i) for i in range(start, stop)))
    return result


async def capped(
    cluster: Cluster, count: int, *, users: list[str], addresses: list[dict[str, str]]
) -> Counter[str]:
    """Open ``count`` initialised connections; return how each was answered."""
    outcomes: Counter[str] = Counter()
    held: list[RawWebSocket] = []
    for i in range(count):
        ws = await RawWebSocket.connect("127.0.0.1", cluster.ports[0], headers=addresses[i])
        held.append(ws)
        ws.send_json(
            {
                "type": "connection_init",
                "payload": {"Authorization": f"Bearer {cluster.token(users[i])}"},
            }
        )
        try:
            async with asyncio.timeout(10):
                first = await ws.receive_text()
        except TimeoutError:
            first = "no answer in 10 s"
        if isinstance(first, Closed):
            outcomes[f"closed {first.code}: {first.reason}"] += 1
        else:
            outcomes["acknowledged" if "connection_ack" in first else first[:60]] += 1
    for ws in held:
        await ws.close()
    return outcomes


def flood_rows(result: Flood, args: argparse.Namespace) -> list[tuple[str, str]]:
    """Return the table rows about the flood's connections."""
    within = sum(1 for h in result.held if h <= args.init_timeout + 1)
    rows = [
        (
            "connections opened / refused at handshake",
            f"{result.opened} / {result.refused.total()}",
        ),
        ("most open at once (client side)", str(result.most_open)),
        ("closed by the server", f"{len(result.held)}"),
        (
            f"  within the init timeout + 1 s ({args.init_timeout + 1:g} s)",
            f"{within} ({100 * within / max(1, args.connections):.1f} % of all)",
        ),
        (
            "  held p50 / p99 / max",
            " / ".join(ms(percentile(result.held, p)) for p in (50, 99, 100)),
        ),
        (f"still open after {args.wait:g} s (dropped by us)", str(result.still_open)),
    ]
    rows += [(f"  close {code}", str(n)) for code, n in result.codes.most_common()]
    rows += [
        (f"  handshake failed: {why[:70]}", str(n)) for why, n in result.refused.most_common(5)
    ]
    return rows


async def run(args: argparse.Namespace) -> int:
    """Run the flood and the caps case; print the tables."""
    own_limit = raise_fd_limit()
    env = {
        "ETERNA_TRUSTED_PROXIES": "127.0.0.1",
        "ETERNA_MAX_CONNECTIONS_PER_ADDRESS": str(ADDRESS_CAP),
        "ETERNA_MAX_CONNECTIONS_PER_USER": str(USER_CAP),
        **parse_env(args.env),
    }
    progress(f"starting 1 API (this process may open {own_limit} files)")
    async with Cluster(
        apis=1, workers=0, env=env, source=args.source, market=args.market
    ) as cluster:
        api = cluster.api[0]
        health = Health(f"{cluster.http_url(0)}/health", args.health_interval)
        # Warm every path once (handshake, connection_init, refusal), so the start is warm.
        await capped(cluster, 20, users=["warm"] * 20, addresses=[forwarded(i) for i in range(20)])
        await settle(args.settle)
        await asyncio.sleep(2)
        start_rss = api.rss_mb()
        rss = RssSampler([api], interval=0.2).start()
        async with health.polling():
            began = time.monotonic()
            result = await flood("127.0.0.1", cluster.ports[0], args)
            ended = time.monotonic()
            peak = rss.peak.get(api.name, 0.0)
            progress(f"flood over in {ended - began:.0f} s; waiting {args.after:g} s for memory")
            await asyncio.sleep(args.after)
            after_rss = api.rss_mb()
            await rss.stop()
        during = health.between(began, ended)
        flood_table = flood_rows(result, args)
        flood_table += [
            (
                "/health during the flood: polls, p50 / p99 / max",
                f"{len(during)}, " + " / ".join(ms(percentile(during, p)) for p in (50, 99, 100)),
            ),
            ("  polls slower than 100 ms", str(sum(1 for d in during if d >= 0.1))),
            (
                "  ... sent at (s after the flood began)",
                ", ".join(
                    f"{sent - began:.1f}"
                    for sent, latency in health.samples
                    if began <= sent <= ended and latency >= 0.1
                )
                or "-",
            ),
            ("/health failures", str(health.failures)),
            (
                "API RSS at start / peak / after",
                f"{start_rss:.0f} / {peak:.0f} / {after_rss:.0f} MiB",
            ),
            (
                f"API RSS {args.after:g} s after vs start",
                f"{100 * (after_rss / start_rss - 1):+.1f} %",
            ),
            ("open files: this script / the API", f"{fd_limit()} / {fd_limit(api.pid)}"),
        ]
        print_table(f"Flood of {args.connections} idle websockets", flood_table)
        by_address = await capped(
            cluster,
            ADDRESS_CAP + args.address_extra,
            users=[f"addr-{i}" for i in range(ADDRESS_CAP + args.address_extra)],
            addresses=[{"X-Forwarded-For": "192.0.2.77"}] * (ADDRESS_CAP + args.address_extra),
        )
        by_user = await capped(
            cluster,
            USER_CAP + args.user_extra,
            users=["one-user"] * (USER_CAP + args.user_extra),
            addresses=[forwarded(50_000 + i) for i in range(USER_CAP + args.user_extra)],
        )
        cap_rows = [
            (f"{ADDRESS_CAP + args.address_extra} from one address: {what}", str(n))
            for what, n in by_address.most_common()
        ] + [
            (f"{USER_CAP + args.user_extra} of one user: {what}", str(n))
            for what, n in by_user.most_common()
        ]
        print_table(f"Caps (per address {ADDRESS_CAP}, per user {USER_CAP})", cap_rows)
    goals = [
        (
            "every connection closed by the server in time",
            sum(1 for h in result.held if h <= args.init_timeout + 1) == args.connections,
        ),
        ("RSS a minute after within 20 % of start", after_rss <= 1.2 * start_rss),
        ("/health p99 < 100 ms", percentile(during, 99) < 0.1),
    ]
    for goal, met in goals:
        print(f"{'met' if met else 'NOT met'}: {goal}")
    return 0 if all(met for _, met in goals) else 1


def main() -> None:
    """Parse the options and run."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=20_000, help="idle websockets (20000)")
    parser.add_argument("--wave", type=int, default=10_000, help="connections per wave (10000)")
    parser.add_argument("--handshakes", type=int, default=256, help="handshakes at once (256)")
    parser.add_argument(
        "--init-timeout", type=float, default=5, help="the server's connection_init timeout (5)"
    )
    parser.add_argument(
        "--wait", type=float, default=90, help="longest wait for the server's close (90 s)"
    )
    parser.add_argument(
        "--after", type=float, default=60, help="read RSS this long after the flood (60 s)"
    )
    parser.add_argument(
        "--health-interval", type=float, default=0.1, help="poll /health this often (0.1 s)"
    )
    parser.add_argument(
        "--same-address", action="store_true", help="flood from one address (no X-Forwarded-For)"
    )
    parser.add_argument("--address-extra", type=int, default=50, help="beyond the address cap")
    parser.add_argument("--user-extra", type=int, default=10, help="beyond the user cap")
    add_cluster_arguments(parser)
    sys.exit(asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()

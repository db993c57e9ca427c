"""/metrics of workers in the distributed mode: real processes on Postgres and Redis.

Two workers started with the same ETERNA_METRICS_PORT take that port and the next one; their
figures add up to what the orders did, and they log JSON lines that name each order.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest

from eterna.adapters.auth import JwtAuth
from eterna.core.clock import utcnow
from tests.conftest import REDIS_URL
from tests.json_logs import about, check_order_ids, parse_lines
from tests.prometheus_text import Scrape

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

SECRET = "metrics-e2e-secret-that-is-long-enough-for-hs256-0123"
ORDERS = 20
PLACE_MANY = """
mutation Many($inputs: [OrderInput!]!) {
  placeOrders(inputs: $inputs) { __typename ... on OrderPlaced { order { id } } }
}
"""
METRICS_LINE = re.compile(r"metrics on http://127\.0\.0\.1:(\d+)/metrics")


def _free_port_pair() -> int:
    """Return a port p such that p and p + 1 are free now."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port: int = s.getsockname()[1]
        with contextlib.suppress(OSError), socket.socket() as t:
            t.bind(("127.0.0.1", port + 1))
            return port
    raise RuntimeError("no two free ports in a row")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Cluster:
    """One API and two workers; each process's stdout and stderr in files."""

    folder: Path
    api_port: int
    metrics_port: int  # ETERNA_METRICS_PORT of both workers

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def out(self, name: str) -> str:
        return (self.folder / f"{name}.out").read_text()

    def err(self, name: str) -> str:
        return (self.folder / f"{name}.err").read_text()


@contextlib.contextmanager
def _started(
    env: dict[str, str], folder: Path, commands: dict[str, list[str]]
) -> Iterator[dict[str, int]]:
    """Start the processes; on exit SIGTERM them and fill the yielded dict with exit codes."""
    procs: dict[str, subprocess.Popen[bytes]] = {}
    codes: dict[str, int] = {}
    try:
        for name, args in commands.items():
            with (
                (folder / f"{name}.out").open("wb") as out,
                (folder / f"{name}.err").open("wb") as err,
            ):
                procs[name] = subprocess.Popen(
                    [sys.executable, "-m", "eterna", *args], env=env, stdout=out, stderr=err
                )
        yield codes
    finally:
        for proc in procs.values():
            proc.send_signal(signal.SIGTERM)
        for proc in procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        codes.update({name: proc.returncode for name, proc in procs.items()})


@pytest.fixture
async def cluster(pg_database: str, redis_prefix: str, tmp_path: Path) -> AsyncIterator[Cluster]:
    base = _free_port_pair()
    env = {
        **os.environ,
        "DATABASE_URL": pg_database,
        "REDIS_URL": REDIS_URL,
        "JWT_SECRET": SECRET,
        "ETERNA_REDIS_PREFIX": redis_prefix,
        "ETERNA_DATA_DIR": str(tmp_path / "data"),
        "ETERNA_CHAIN_SLOT_MS": "0",
        "ETERNA_LOG_LEVEL": "INFO",
        "ETERNA_LOG_FORMAT": "json",
        "ETERNA_METRICS_PORT": str(base),
    }
    migrate = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "eterna", "migrate", env=env, stdout=subprocess.DEVNULL
    )
    assert await migrate.wait() == 0
    api_port = _free_port()
    commands = {
        "api": ["serve", "--port", str(api_port)],
        "worker0": ["worker"],
        "worker1": ["worker"],
    }
    with _started(env, tmp_path, commands) as codes:
        running = Cluster(folder=tmp_path, api_port=api_port, metrics_port=base)
        await _wait_ready(running)
        yield running
    # The metrics server stops with the worker: SIGTERM still ends it cleanly.
    assert codes["worker0"] == codes["worker1"] == 0, codes


async def _wait_ready(cluster: Cluster) -> None:
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient() as client:
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"{cluster.api}/health")).status_code == 200:
                    break
            assert time.monotonic() < deadline, cluster.err("api")
            await asyncio.sleep(0.2)
    for name in ("worker0", "worker1"):
        while "worker ready" not in cluster.out(name):
            assert time.monotonic() < deadline, cluster.err(name)
            await asyncio.sleep(0.2)


def _metrics_port(cluster: Cluster, worker: str) -> int:
    found = METRICS_LINE.search(cluster.out(worker))
    assert found, cluster.out(worker)
    return int(found.group(1))


async def _scrape(client: httpx.AsyncClient, url: str) -> Scrape:
    response = await client.get(url)
    assert response.status_code == 200, response.text
    return Scrape.parse(response.text)


async def _stored_events(db: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(db)
    try:
        rows: list[asyncpg.Record] = await conn.fetch(
            "SELECT o.type, e.order_id::text AS order_id, e.seq, e.status "
            "FROM order_events e JOIN orders o ON o.id = e.order_id ORDER BY e.order_id, e.seq"
        )
        return rows
    finally:
        await conn.close()


async def _place_and_finish(client: httpx.AsyncClient, cluster: Cluster, db: str) -> set[str]:
    token = JwtAuth(SECRET).issue("trader", now=utcnow(), ttl=timedelta(hours=1))
    inputs = [
        {"type": "MARKET", "tokenIn": "SOL", "tokenOut": "USDC", "amountIn": f"0.{i + 1:03d}"}
        for i in range(ORDERS)
    ]
    response = await client.post(
        f"{cluster.api}/graphql",
        json={"query": PLACE_MANY, "variables": {"inputs": inputs}},
        headers={"Authorization": f"Bearer {token}"},
    )
    placed = response.json()["data"]["placeOrders"]
    ids = {p["order"]["id"] for p in placed}
    assert len(ids) == ORDERS
    deadline = time.monotonic() + 60
    while True:
        events = await _stored_events(db)
        if sum(1 for e in events if e["status"] == "CONFIRMED") == ORDERS:
            return ids
        assert time.monotonic() < deadline, "orders did not finish"
        await asyncio.sleep(0.2)


async def test_workers_serve_metrics_on_consecutive_ports_and_add_up(
    cluster: Cluster, pg_database: str
) -> None:
    ports = {w: _metrics_port(cluster, w) for w in ("worker0", "worker1")}
    assert sorted(ports.values()) == [cluster.metrics_port, cluster.metrics_port + 1]

    async with httpx.AsyncClient(timeout=10) as client:
        ids = await _place_and_finish(client, cluster, pg_database)
        events = await _stored_events(pg_database)
        urls = [f"http://127.0.0.1:{p}/metrics" for p in ports.values()]
        workers = [await _scrape(client, url) for url in urls]
        for _ in range(50):  # acknowledged once the task's result is saved
            if all(w.value("eterna_queue_pending_messages") == 0 for w in workers):
                break
            await asyncio.sleep(0.1)
            workers = [await _scrape(client, url) for url in urls]
        api = await _scrape(client, f"{cluster.api}/metrics")
        missing = await client.get(f"http://127.0.0.1:{min(ports.values())}/other")

    # Placement happens in the API, every later step in a worker.
    later = [e for e in events if e["seq"] > 1]
    by_status = Counter((e["type"], e["status"]) for e in later)
    for (order_type, status), n in by_status.items():
        got = sum(
            w.value("eterna_order_transitions_total", type=order_type, status=status)
            for w in workers
        )
        assert got == n, (order_type, status, got, n)
    # PENDING again only after a retry: the workers count those, the API the placements.
    pending = [
        w.value("eterna_order_transitions_total", type="MARKET", status="PENDING") for w in workers
    ]
    assert sum(pending) == by_status[("MARKET", "PENDING")]
    steps = sum(w.total("eterna_order_step_duration_seconds_count") for w in workers)
    assert steps == len(later)
    confirmed = sum(
        w.value("eterna_order_duration_seconds_count", type="MARKET", status="CONFIRMED")
        for w in workers
    )
    assert confirmed == ORDERS
    assert sum(w.total("eterna_routes_total") for w in workers) == by_status[("MARKET", "ROUTING")]
    for w in workers:
        assert w.value("eterna_build_info", role="worker", mode="distributed") == 1
        assert w.value("eterna_orders", type="MARKET", status="CONFIRMED") == ORDERS
        assert w.value("eterna_queue_lag_messages") == 0
        assert w.value("eterna_queue_pending_messages") == 0
        assert w.value("eterna_scrape_source_up", source="queue") == 1
        assert w.value("eterna_engine_orders_in_flight") == 0
    # Exactly one worker runs the trigger watcher.
    assert sum(w.value("eterna_watcher_active") for w in workers) == 1

    assert api.value("eterna_build_info", role="api", mode="distributed") == 1
    assert api.value("eterna_orders_placed_total", type="MARKET") == ORDERS
    assert api.value("eterna_order_transitions_total", type="MARKET", status="PENDING") == ORDERS
    assert api.value("eterna_subscriptions", kind="order") == 0
    assert api.value("eterna_queue_lag_messages") == 0
    assert missing.status_code == 404

    # JSON lines only, and every line about an order carries its id.
    for name in ("api", "worker0", "worker1"):
        check_order_ids(parse_lines(cluster.err(name)), ids)
    worker_lines = parse_lines(cluster.err("worker0")) + parse_lines(cluster.err("worker1"))
    for order_id in ids:
        steps_logged = [
            d for d in about(worker_lines, order_id) if d["logger"] == "eterna.application.engine"
        ]
        assert len(steps_logged) == 4, (order_id, steps_logged)
        assert any(d["logger"].startswith("taskiq") for d in about(worker_lines, order_id))

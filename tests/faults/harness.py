"""Real processes under faults: private Redis and Postgres servers that tests may restart.

The fault suite must kill and restart servers, so it never touches the machine's shared
ones: it starts its own ``redis-server`` and its own Postgres cluster (``initdb`` +
``pg_ctl``) on free ports in a temporary folder, plus the local chain (``eterna chain``),
an API and workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from eterna.adapters.auth import JwtAuth
from eterna.core.clock import utcnow

SECRET = "fault-suite-secret-long-enough-for-hs256-0123456789"
TERMINAL = ("CONFIRMED", "FAILED", "CANCELLED", "EXPIRED")
PLACE_MANY = """
mutation Many($inputs: [OrderInput!]!) {
  placeOrders(inputs: $inputs) { __typename ... on OrderPlaced { order { id } } }
}
"""


def free_port() -> int:
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    if initdb is None:
        raise RuntimeError("Postgres server binaries (initdb, pg_ctl) are not installed")
    return Path(initdb).parent


def _as_postgres(cmd: list[str]) -> list[str]:
    # initdb refuses to run as root: run the private cluster as the postgres user then.
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


class PrivateRedis:
    """A redis-server of our own, which can be killed and started again on the same port."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self._proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_port(self.port)

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None


class PrivatePostgres:
    """A Postgres cluster of our own in a temporary folder, restartable."""

    def __init__(self) -> None:
        self.port = free_port()
        # Not under pytest's tmp_path: that is private to root, and the server runs as postgres.
        self.root = Path(tempfile.mkdtemp(prefix="eterna-pg-"))
        self.data = self.root / "pgdata"
        self.bin = _pg_bin()

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def init(self) -> None:
        self.data.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
            shutil.chown(self.data, "postgres")
        subprocess.run(
            _as_postgres(
                [
                    str(self.bin / "initdb"),
                    "-D",
                    str(self.data),
                    "-A",
                    "trust",
                    "-U",
                    "postgres",
                    "--no-sync",
                ]
            ),
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            _as_postgres(
                [
                    str(self.bin / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-o",
                    options,
                    "-l",
                    str(self.data / "log"),
                    "-w",
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
        )

    def stop(self) -> None:
        subprocess.run(
            _as_postgres(
                [str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"]
            ),
            check=False,
            capture_output=True,
        )

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _wait_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {port}")


@dataclass
class Cluster:
    """The local chain, one API and some workers, talking to the private servers."""

    folder: Path
    env: dict[str, str]
    workers: int
    api_port: int = field(default_factory=free_port)
    chain_port: int = field(default_factory=free_port)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    started_at: dict[str, int] = field(default_factory=dict)
    kills: int = 0
    faults: Counter[str] = field(default_factory=Counter)  # injected so far, by kind

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def chain(self) -> str:
        return f"http://127.0.0.1:{self.chain_port}"

    def spawn(self, name: str, *args: str) -> None:
        with (self.folder / f"{name}.log").open("ab") as out:
            self.started_at[name] = out.tell()  # where this start's output begins
            self.procs[name] = subprocess.Popen(
                [sys.executable, "-m", "eterna", *args],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def start(self) -> None:
        self.spawn("chain", "chain", "--port", str(self.chain_port))
        self.spawn("api", "serve", "--port", str(self.api_port))
        for i in range(self.workers):
            self.spawn(f"worker{i}", "worker")

    def kill(self, name: str) -> None:
        """SIGKILL one process and start it again."""
        self.procs[name].kill()
        self.procs[name].wait()
        self.kills += 1
        self.faults["SIGKILL"] += 1
        self.spawn(name, "worker")

    def wait_ready(self, name: str, timeout: float = 60) -> None:
        """Wait until the worker's latest start printed ``worker ready``."""
        deadline = time.monotonic() + timeout
        path = self.folder / f"{name}.log"
        while b"worker ready" not in path.read_bytes()[self.started_at.get(name, 0) :]:
            if time.monotonic() > deadline or self.procs[name].poll() is not None:
                raise TimeoutError(f"{name} did not get ready:\n{self.log(name)}")
            time.sleep(0.05)

    def terminate(self, name: str, grace: float = 30) -> int:
        """SIGTERM one ready worker, wait for it to exit, start it again; return its exit code.

        Waiting for ``worker ready`` first makes each SIGTERM land on a running worker, which
        hands its orders back, rather than on one still importing its modules.
        """
        self.wait_ready(name)
        proc = self.procs[name]
        proc.send_signal(signal.SIGTERM)
        self.faults["SIGTERM"] += 1
        code = proc.wait(timeout=grace)
        self.spawn(name, "worker")
        return code

    def stop(self) -> None:
        for proc in self.procs.values():
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")[-4000:]


@contextlib.contextmanager
def cluster(
    folder: Path,
    db_url: str,
    redis_url: str,
    *,
    workers: int = 2,
    chain_env: dict[str, str] | None = None,
) -> Iterator[Cluster]:
    """Run a cluster against the given servers; stop it on exit."""
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_url,
        "JWT_SECRET": SECRET,
        "ETERNA_DATA_DIR": str(folder / "data"),
        "ETERNA_LOG_LEVEL": "WARNING",
        "ETERNA_CHAIN_SLOT_MS": "0",
        "ETERNA_LEASE_SECONDS": "3",
        "ETERNA_RECONCILE_SECONDS": "1",
        "ETERNA_BACKOFF_BASE_MS": "50",
        "ETERNA_BACKOFF_MAX_MS": "400",
        "ETERNA_RATE_LIMIT_PER_MINUTE": "0",
        "ETERNA_DB_POOL_SIZE": "10",
        **(chain_env or {}),
    }
    subprocess.run(
        [sys.executable, "-m", "eterna", "migrate"], env=env, check=True, capture_output=True
    )
    running = Cluster(folder=folder, env=env, workers=workers)
    env["ETERNA_SOLANA_RPC_URL"] = running.chain
    running.start()
    try:
        yield running
    finally:
        running.stop()


def token() -> str:
    """Return a token for the fault suite's trader."""
    return JwtAuth(SECRET).issue("trader", now=utcnow(), ttl=timedelta(hours=1))


async def wait_healthy(client: httpx.AsyncClient, url: str, within: float = 60) -> None:
    """Wait until url/health answers 200."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if (await client.get(f"{url}/health")).status_code == 200:
                return
        await asyncio.sleep(0.2)
    raise TimeoutError(f"{url} not healthy")


async def place(
    client: httpx.AsyncClient,
    api: str,
    orders: int,
    batch: int = 100,
    fields: dict[str, Any] | None = None,
) -> list[str]:
    """Place orders in batches of SOL -> USDC (with the fields given) and return their ids."""
    ids: list[str] = []
    for start in range(0, orders, batch):
        inputs = [
            {
                "type": "MARKET",
                "tokenIn": "SOL",
                "tokenOut": "USDC",
                "amountIn": f"0.{(start + i) % 900 + 100:03d}",
                **(fields or {}),
            }
            for i in range(min(batch, orders - start))
        ]
        response = await client.post(
            f"{api}/graphql",
            json={"query": PLACE_MANY, "variables": {"inputs": inputs}},
            headers={"Authorization": f"Bearer {token()}"},
        )
        placed = response.json()["data"]["placeOrders"]
        assert all(p["__typename"] == "OrderPlaced" for p in placed), placed
        ids += [p["order"]["id"] for p in placed]
    return ids


async def connect(db_url: str, connect_timeout: float = 60.0) -> asyncpg.Connection:
    """Connect to a private server over plain TCP, as it only speaks that.

    With asyncpg's default (``sslmode=prefer``) a connect cancelled by its timeout while the
    socket opens leaves the SSL request's future with an exception nobody retrieves, and the
    test's event loop reports that as a failure of a scenario that passed.
    """
    return await asyncpg.connect(db_url, timeout=connect_timeout, ssl=False)


async def unfinished(db_url: str) -> int:
    """Return how many orders are not in a terminal status (-1 when the database is down)."""
    try:
        conn = await connect(db_url, connect_timeout=2)
    except (OSError, asyncpg.PostgresError):
        return -1
    try:
        value = await conn.fetchval(
            "SELECT count(*) FROM orders WHERE status <> ALL($1)", list(TERMINAL)
        )
        return int(value)
    finally:
        await conn.close()


@dataclass
class Outcome:
    """What a scenario ended with."""

    orders: int
    confirmed: int
    failed: int
    retries: int
    seconds: float


async def verify(db_url: str, chain: str, ids: list[str], started: float) -> Outcome:
    """Check every invariant of the fault suite and return the scenario's figures."""
    conn = await connect(db_url)
    try:
        rows = await conn.fetch("SELECT id::text, status, last_seq, tx_signature FROM orders")
        events = await conn.fetch("SELECT order_id::text, seq, status FROM order_events")
    finally:
        await conn.close()
    seconds = time.monotonic() - started
    orders = {r["id"]: r for r in rows}
    assert sorted(orders) == sorted(ids)
    assert all(r["status"] in TERMINAL for r in rows), [r["status"] for r in rows]
    seqs: dict[str, list[int]] = {}
    for e in events:
        seqs.setdefault(e["order_id"], []).append(e["seq"])
    for order_id, row in orders.items():
        assert sorted(seqs[order_id]) == list(range(1, row["last_seq"] + 1)), order_id
    async with httpx.AsyncClient() as client:
        ledger: list[dict[str, Any]] = (await client.get(f"{chain}/admin/ledger")).json()
    landed: dict[str, list[str]] = {}
    for tx in ledger:
        if tx["success"]:
            landed.setdefault(tx["memo"], []).append(tx["signature"])
    for order_id, row in orders.items():
        if row["status"] == "CONFIRMED":
            assert landed.get(order_id) == [row["tx_signature"]], order_id
        else:
            assert order_id not in landed, order_id
    retries = sum(1 for e in events if e["status"] == "PENDING" and e["seq"] > 1)
    return Outcome(
        orders=len(rows),
        confirmed=sum(1 for r in rows if r["status"] == "CONFIRMED"),
        failed=sum(1 for r in rows if r["status"] == "FAILED"),
        retries=retries,
        seconds=round(seconds, 1),
    )


PLACE_GROUP = """
mutation Group($input: OrderGroupInput!) {
  placeOrderGroup(input: $input) {
    __typename
    ... on OrderGroupPlaced { group { id orders { id } } }
    ... on OrderRejected { code message field }
  }
}
"""
QUOTE = """
query Price($amount: Decimal!) {
  quote(tokenIn: "SOL", tokenOut: "USDC", amountIn: $amount) {
    ... on RouteQuote { route { amountOut } }
  }
}
"""


async def graphql(
    client: httpx.AsyncClient, api: str, query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    """Run one operation as the fault suite's trader; return its data."""
    response = await client.post(
        f"{api}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token()}"},
    )
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def sol_price(client: httpx.AsyncClient, api: str, amount: str = "0.2") -> Decimal:
    """Return what the best route pays in USDC per SOL for amount SOL now."""
    data = await graphql(client, api, QUOTE, {"amount": amount})
    return Decimal(data["quote"]["route"]["amountOut"]) / Decimal(amount)


async def move_sol_price(client: httpx.AsyncClient, chain: str, bps: int, *, up: bool) -> int:
    """Move every SOL/USDC pool's price about bps up or down, by a swap on each.

    A pool too thin to move so far is left as it is; return how many pools moved.
    """
    pools = (await client.get(f"{chain}/admin/pools")).json()
    moved_pools = 0
    for pool in pools:
        mints = {pool["tokenA"]["symbol"], pool["tokenB"]["symbol"]}
        if mints != {"SOL", "USDC"}:
            continue
        sol_is_a = pool["tokenA"]["symbol"] == "SOL"
        side = "sellB" if sol_is_a == up else "sellA"
        moved = await client.post(
            f"{chain}/admin/move-price", json={"pool": pool["address"], "bps": bps, "side": side}
        )
        if moved.status_code == 400 and "cannot move" in moved.text:
            continue
        assert moved.status_code == 200, moved.text
        moved_pools += 1
    return moved_pools


async def place_resting(
    client: httpx.AsyncClient, api: str, rng: random.Random, *, groups: int, stops: int
) -> tuple[list[str], list[tuple[str, str]]]:
    """Place OCO groups (take-profit and stop-loss, 1-3 % away) and lone stops around the price.

    Return every order id, and each group's legs (take-profit, stop-loss).
    """
    price = await sol_price(client, api)
    ids: list[str] = []
    legs: list[tuple[str, str]] = []

    def away(fraction: float) -> str:
        return str((price * Decimal(str(1 + fraction))).quantize(Decimal("0.000001")))

    for _ in range(groups):
        amount = f"0.{rng.randrange(100, 300)}"
        group = [
            {"type": "TAKE_PROFIT", "triggerPrice": away(rng.uniform(0.01, 0.03))},
            {"type": "STOP_LOSS", "triggerPrice": away(-rng.uniform(0.01, 0.03))},
        ]
        inputs = [leg | {"tokenIn": "SOL", "tokenOut": "USDC", "amountIn": amount} for leg in group]
        data = await graphql(client, api, PLACE_GROUP, {"input": {"legs": inputs}})
        placed = data["placeOrderGroup"]
        assert placed["__typename"] == "OrderGroupPlaced", placed
        tp, sl = (o["id"] for o in placed["group"]["orders"])
        legs.append((tp, sl))
        ids += [tp, sl]
    lone: list[dict[str, object]] = [
        {"type": "STOP_LOSS", "triggerPrice": away(-rng.uniform(0.01, 0.03))}
        if i % 2
        else {"type": "TRAILING_STOP", "trailBps": rng.randrange(150, 300)}
        for i in range(stops)
    ]
    sells: list[dict[str, object]] = [
        o | {"tokenIn": "SOL", "tokenOut": "USDC", "amountIn": "0.2"} for o in lone
    ]
    data = await graphql(client, api, PLACE_MANY, {"inputs": sells})
    assert all(p["__typename"] == "OrderPlaced" for p in data["placeOrders"]), data
    ids += [p["order"]["id"] for p in data["placeOrders"]]
    return ids, legs


async def count_status(db_url: str, status: str) -> int:
    """Return how many orders are in status (-1 when the database is down)."""
    try:
        conn = await connect(db_url, connect_timeout=2)
    except (OSError, asyncpg.PostgresError):
        return -1
    try:
        return int(await conn.fetchval("SELECT count(*) FROM orders WHERE status=$1", status))
    finally:
        await conn.close()


async def verify_groups(db_url: str, legs: list[tuple[str, str]]) -> dict[str, int]:
    """Check that no order fired twice and each group fired exactly one leg; count outcomes.

    A firing is a PENDING event with trigger details (the watcher's FIRE, or a worker's
    first look that fired a leg). The leg that did not fire must be CANCELLED by its
    sibling's firing, naming it.
    """
    conn = await connect(db_url)
    try:
        rows = await conn.fetch("SELECT id::text, status, fired_at FROM orders")
        fires = await conn.fetch(
            "SELECT order_id::text, count(*) AS n FROM order_events "
            "WHERE status='PENDING' AND data->'details' ? 'trigger' GROUP BY order_id"
        )
        cancels = await conn.fetch(
            "SELECT order_id::text, data->'details'->>'siblingId' AS sibling FROM order_events "
            "WHERE status='CANCELLED'"
        )
    finally:
        await conn.close()
    fired = {r["order_id"]: r["n"] for r in fires}
    assert all(n == 1 for n in fired.values()), fired  # no order fired twice
    orders = {r["id"]: r for r in rows}
    assert all((r["fired_at"] is not None) == (i in fired) for i, r in orders.items())
    by_sibling = {r["order_id"]: r["sibling"] for r in cancels}
    counts = Counter[str]()
    for tp, sl in legs:
        fired_legs = [leg for leg in (tp, sl) if leg in fired]
        assert len(fired_legs) == 1, (tp, sl, fired_legs)  # exactly one leg, never two
        (winner,) = fired_legs
        loser = sl if winner == tp else tp
        assert orders[loser]["status"] == "CANCELLED", (loser, orders[loser]["status"])
        assert by_sibling.get(loser) == winner, loser
        counts["take-profit" if winner == tp else "stop-loss"] += 1
        counts[str(orders[winner]["status"]).lower()] += 1
    return dict(counts)


@dataclass
class Fill:
    """A CONFIRMED order's outcome against the route of its last attempt."""

    order_id: str
    amount_out: Decimal
    quoted_out: Decimal  # the route's expected output: amountIn x quoted price
    min_amount_out: Decimal


async def fills(db_url: str) -> tuple[list[Fill], list[dict[str, Any]], list[str]]:
    """Return every CONFIRMED order's fill, the slippage choice of every ROUTING event, and
    the messages of the FAILED orders' events (why they failed)."""
    conn = await connect(db_url)
    try:
        rows = await conn.fetch(
            "SELECT id::text, amount_out, route FROM orders WHERE status = 'CONFIRMED'"
        )
        routed = await conn.fetch(
            "SELECT data FROM order_events WHERE status = 'ROUTING' ORDER BY order_id, seq"
        )
        failed = await conn.fetch(
            "SELECT e.order_id::text, e.seq, e.status, e.message FROM order_events e "
            "JOIN orders o ON o.id = e.order_id WHERE o.status = 'FAILED' AND e.seq > 1 "
            "ORDER BY e.order_id, e.seq"
        )
    finally:
        await conn.close()
    found = []
    for r in rows:
        route = json.loads(r["route"])
        found.append(
            Fill(
                r["id"],
                Decimal(r["amount_out"]),
                Decimal(route["amountOut"]),
                Decimal(route["minAmountOut"]),
            )
        )
    choices = [json.loads(e["data"]).get("details", {}).get("slippage", {}) for e in routed]
    why = [f"{f['order_id'][:8]} #{f['seq']} {f['status']}: {f['message']}" for f in failed]
    return found, choices, why

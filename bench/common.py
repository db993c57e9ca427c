"""Pieces the benchmark scripts share: GraphQL documents, order inputs, a websocket
subscriber speaking graphql-transport-ws, percentiles and tables."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import websockets
from cluster import Proc, wait_for_quiet_machine
from websockets.asyncio.client import ClientConnection

PLACE_ONE = """
mutation One($input: OrderInput!) {
  placeOrder(input: $input) {
    __typename ... on OrderPlaced { order { id } } ... on OrderRejected { code message }
  }
}
"""
PLACE_MANY = """
mutation Many($inputs: [OrderInput!]!) {
  placeOrders(inputs: $inputs) {
    __typename ... on OrderPlaced { order { id } } ... on OrderRejected { code message }
  }
}
"""
MY_EVENTS = "subscription { myOrderEvents { orderId seq status at } }"
STATUSES = ["PENDING", "ROUTING", "BUILDING", "SUBMITTED", "CONFIRMED"]


def order_input(i: int) -> dict[str, Any]:
    """Return the i-th market order: small, alternating SOL->USDC and USDC->SOL.

    Alternating directions keeps the pools where they started, so no order fails its
    slippage check however long a run is.
    """
    if i % 2 == 0:
        amount = f"0.{(i % 900) + 100:03d}"  # 0.100 .. 0.999 SOL
        return {"type": "MARKET", "tokenIn": "SOL", "tokenOut": "USDC", "amountIn": amount}
    amount = f"{(i % 90) + 10}.5"  # 10.5 .. 99.5 USDC
    return {"type": "MARKET", "tokenIn": "USDC", "tokenOut": "SOL", "amountIn": amount}


def percentile(values: Sequence[float], p: float) -> float:
    """Return the p-th percentile (0..100, nearest rank) of values, or NaN if empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def ms(seconds: float) -> str:
    """Format seconds as milliseconds."""
    return "n/a" if math.isnan(seconds) else f"{seconds * 1000:.1f} ms"


def print_table(title: str, rows: Sequence[tuple[str, str]]) -> None:
    """Print a two-column table."""
    width = max((len(k) for k, _ in rows), default=0)
    line = "-" * (width + 3 + max((len(v) for _, v in rows), default=0))
    print(f"\n{title}\n{line}")
    for key, value in rows:
        print(f"{key.ljust(width)} | {value}")
    print(line, flush=True)


def progress(text: str) -> None:
    """Print a progress line with a timestamp."""
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


@contextlib.asynccontextmanager
async def ticker(
    describe: Callable[[], str | Awaitable[str]], every: float = 2.0
) -> AsyncIterator[None]:
    """Print ``describe()`` as a progress line every ``every`` seconds while the block runs."""

    async def loop() -> None:
        while True:
            await asyncio.sleep(every)
            text = describe()
            progress(text if isinstance(text, str) else await text)

    task = asyncio.create_task(loop(), name="progress")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def parse_at(text: str) -> float:
    """Return the POSIX time of an event's ``at`` (ISO 8601 with offset)."""
    return datetime.fromisoformat(text).timestamp()


@dataclass
class Received:
    """One subscription message as the client received it."""

    payload: dict[str, Any]
    wall: float  # time.time() on arrival
    mono: float  # time.perf_counter() on arrival


@dataclass
class Subscriber:
    """One websocket connection with one graphql-transport-ws subscription."""

    url: str
    token: str
    query: str
    root: str  # the subscription field, e.g. myOrderEvents
    on_event: Callable[[Subscriber, Received], None] | None = None
    compression: bool = True
    events: list[Received] = field(default_factory=list)
    keep: bool = True
    errors: list[str] = field(default_factory=list)
    completed: bool = False
    _ws: ClientConnection | None = None
    _task: asyncio.Task[None] | None = None

    async def open(self, timeout: float = 30.0) -> None:  # noqa: ASYNC109
        """Connect, authenticate and subscribe; return once the subscribe message is sent."""
        self._ws = await websockets.connect(
            self.url,
            subprotocols=[websockets.Subprotocol("graphql-transport-ws")],
            compression="deflate" if self.compression else None,
            open_timeout=timeout,
            max_size=None,
        )
        await self._ws.send(
            json.dumps(
                {"type": "connection_init", "payload": {"Authorization": f"Bearer {self.token}"}}
            )
        )
        ack = json.loads(await asyncio.wait_for(self._ws.recv(), timeout))
        if ack.get("type") != "connection_ack":
            raise RuntimeError(f"no connection_ack: {ack}")
        await self._ws.send(
            json.dumps({"id": "1", "type": "subscribe", "payload": {"query": self.query}})
        )
        self._task = asyncio.create_task(self._read(), name="subscriber")

    async def _read(self) -> None:
        ws = self._ws
        if ws is None:
            return
        try:
            async for raw in ws:
                wall, mono = time.time(), time.perf_counter()
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "next":
                    payload = message["payload"]
                    if payload.get("errors"):
                        self.errors.append(json.dumps(payload["errors"]))
                        continue
                    received = Received(payload["data"][self.root], wall, mono)
                    if self.keep:
                        self.events.append(received)
                    if self.on_event is not None:
                        self.on_event(self, received)
                elif kind == "ping":
                    await ws.send(json.dumps({"type": "pong"}))
                elif kind == "complete":
                    self.completed = True
                    return
                elif kind == "error":
                    self.errors.append(json.dumps(message.get("payload")))
                elif kind != "pong":
                    self.errors.append(f"unexpected message: {raw!r}")
        except websockets.ConnectionClosed as exc:
            if exc.rcvd is None or exc.rcvd.code != 1000:
                self.errors.append(f"connection closed: {exc}")

    async def close(self) -> None:
        """Close the connection."""
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task


async def open_all(subscribers: Sequence[Subscriber], concurrency: int = 50) -> None:
    """Open many subscribers, at most ``concurrency`` handshakes at a time."""
    gate = asyncio.Semaphore(concurrency)
    opened = 0

    async def one(sub: Subscriber) -> None:
        nonlocal opened
        async with gate:
            await sub.open()
        opened += 1

    async with ticker(lambda: f"subscriptions: {opened}/{len(subscribers)} open"):
        await asyncio.gather(*(one(s) for s in subscribers))


def graphql_errors(body: dict[str, Any]) -> str | None:
    """Return the errors of a GraphQL response as text, or None."""
    errors = body.get("errors")
    return json.dumps(errors) if errors else None


def start_profilers(procs: Sequence[Proc], out: Path, rate: int) -> list[subprocess.Popen[bytes]]:
    """Start py-spy on every process of the cluster (collapsed stacks)."""
    pyspy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    out.mkdir(parents=True, exist_ok=True)
    return [
        subprocess.Popen(
            [
                pyspy,
                "record",
                "--pid",
                str(proc.pid),
                "--rate",
                str(rate),
                "--format",
                "raw",
                "--output",
                str(out / f"{proc.name}.txt"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=(out / f"{proc.name}.pyspy.log").open("wb"),
        )
        for proc in procs
    ]


def stop_profilers(spies: list[subprocess.Popen[bytes]]) -> None:
    """Stop py-spy (SIGINT makes it write its output)."""
    for spy in spies:
        spy.send_signal(signal.SIGINT)
    for spy in spies:
        try:
            spy.wait(timeout=30)
        except subprocess.TimeoutExpired:
            spy.kill()


async def settle(limit: float, threshold: float = 0.2) -> None:
    """Wait for a quiet machine before measuring (other runs on it would skew the figures)."""
    if limit <= 0:
        return
    started = time.monotonic()
    waiting = (
        f"waiting (at most {limit:g} s) for the machine to be under {100 * threshold:.0f}% busy"
    )
    async with ticker(lambda: f"{waiting}: {time.monotonic() - started:.0f} s so far", every=5):
        share = await wait_for_quiet_machine(limit, threshold)
    if share < threshold:
        progress(f"machine quiet ({100 * share:.0f}% busy); measuring")
    else:
        progress(
            f"WARNING: the machine is still {100 * share:.0f}% busy after {limit:g} s "
            "(other processes); figures will be skewed"
        )


def add_settle_argument(parser: argparse.ArgumentParser) -> None:
    """Add --settle: how long to wait for a quiet machine before measuring."""
    parser.add_argument(
        "--settle",
        type=float,
        default=30,
        help="wait up to this many seconds for other load on the machine to stop (30; 0 = no)",
    )


def parse_env(pairs: Sequence[str]) -> dict[str, str]:
    """Turn KEY=VALUE strings (--env) into a mapping."""
    env = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"--env wants KEY=VALUE, got {pair!r}")
        env[key] = value
    return env


def add_cluster_arguments(parser: argparse.ArgumentParser) -> None:
    """Add --settle, --source and --env, which every benchmark takes."""
    add_settle_argument(parser)
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment of the Eterna processes, e.g. ETERNA_WORKER_CONCURRENCY=20 "
        "(repeatable; PYTHONPATH is put before --source)",
    )
    parser.add_argument(
        "--market",
        choices=("chain", "in-process", "sandbox"),
        default="chain",
        help="where orders trade: chain (default), one `eterna chain` process every Eterna "
        "process talks JSON-RPC to; in-process, each process's own market (the local chain, "
        "or the sandbox of a tree from before it); sandbox, `eterna sandbox` as its own "
        "process, for such trees",
    )
    parser.add_argument(
        "--source",
        type=Path,
        help="run Eterna from this tree instead of the installed one, e.g. a snapshot made "
        "with: git archive HEAD | tar -x -C /tmp/eterna-head",
    )


class RawHttpPool:
    """A lean HTTP/1.1 keep-alive client for load generation (httpx costs the client far more
    CPU per request, and its pool slows down with many connections; on a two-core machine the
    load generator must stay out of the way of what it measures).

    ``size`` connections are opened lazily; requests beyond them wait for a free one.
    """

    def __init__(self, host: str, port: int, size: int = 64) -> None:
        self._host = host
        self._port = port
        self._size = size
        self._opened = 0
        self._idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = (
            asyncio.Queue()
        )
        self._all: list[asyncio.StreamWriter] = []

    async def _acquire(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._idle.empty() and self._opened < self._size:
            self._opened += 1
            try:
                reader, writer = await asyncio.open_connection(self._host, self._port)
            except OSError:
                self._opened -= 1
                raise
            self._all.append(writer)
            return reader, writer
        return await self._idle.get()

    async def post_json(
        self, path: str, body: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, Any]:
        """POST a JSON body; return the status and the decoded JSON answer."""
        payload = json.dumps(body, separators=(",", ":")).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self._host}:{self._port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
            + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
            + "\r\n"
        ).encode()
        reader, writer = await self._acquire()
        try:
            writer.write(head + payload)
            status_line = await reader.readline()
            if not status_line:
                raise ConnectionError("server closed the connection")
            status = int(status_line.split()[1])
            length = -1
            chunked = False
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b"\n", b""):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                name = name.strip().lower()
                if name == "content-length":
                    length = int(value)
                elif name == "transfer-encoding" and "chunked" in value.lower():
                    chunked = True
            if chunked:
                data = bytearray()
                while True:
                    size = int((await reader.readline()).split(b";")[0], 16)
                    if size == 0:
                        await reader.readline()
                        break
                    data += await reader.readexactly(size)
                    await reader.readexactly(2)
                raw = bytes(data)
            else:
                raw = await reader.readexactly(length) if length >= 0 else await reader.read()
        except BaseException:
            writer.close()
            self._opened -= 1
            raise
        self._idle.put_nowait((reader, writer))
        return status, json.loads(raw) if raw else None

    async def close(self) -> None:
        """Close every connection."""
        for writer in self._all:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

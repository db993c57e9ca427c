"""Abusive GraphQL documents against a live API (goal: slowest < 50 ms, /health p99 < 100 ms).

Starts an embedded ``eterna serve`` on a free port with a temporary data folder (``--source``
runs another tree, e.g. a snapshot of the tree before a change), then sends every document of
``abuse_documents.documents()`` one at a time: ``--repeat`` times with new whitespace, so no
cache knows the text, then ``--repeat`` times as it is, after one warm-up (the cached path).
A second connection polls ``/health`` all along. Per document it prints the request's size
and tokens, the answer (the refusal's ``extensions.code``, ``ANSWERED``, an HTTP status)
against what the gate must answer, the response times on the loopback: new to the caches
(median and slowest of the sends) and cached (median), and the CPU the server's event loop
spent on a send new to the caches (work moved to a worker thread is not in it: that column
shows how long the document held everyone else up). A document's time is its median new to
the caches; then /health p50/p99 and the goals.

A request slower than ``--timeout`` is abandoned (the tree before the gate spends minutes on
a fan-out of 25 fragments): the server is restarted for the next document, and the row
says ``timeout``.

Run:  .venv/bin/python bench/abuse.py [--repeat 5] [--source /tmp/eterna-before]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from abuse_documents import ANSWERED, Abuse, documents, tokens
from cluster import CpuMeter, Proc, free_port
from common import RawHttpPool, add_cluster_arguments, parse_env, percentile, progress, settle

from eterna.adapters.auth import JwtAuth

GOAL_SLOWEST_MS = 50.0
GOAL_HEALTH_P99_MS = 100.0
DOCUMENT_CODES = {"QUERY_TOO_COMPLEX", "GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED"}


def loop_cpu(pid: int) -> float:
    """Return the CPU seconds the process's main thread (uvicorn's event loop) has used.

    /proc/<pid>/schedstat counts nanoseconds, where /proc/<pid>/stat counts 10 ms ticks.
    """
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        return 0.0


class Server:
    """One embedded ``eterna serve`` in a temporary data folder, restartable."""

    def __init__(self, source: Path | None, env: dict[str, str], folder: Path) -> None:
        self.source = source.resolve() if source else None
        self.extra_env = env
        self.folder = folder
        self.port = 0
        self.proc: Proc | None = None
        self.starts = 0

    def env(self) -> dict[str, str]:
        """Return the environment: embedded mode, quiet logs, frozen slots, no rate limit."""
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"DATABASE_URL", "REDIS_URL", "JWT_SECRET", "ETERNA_SOLANA_RPC_URL"}
        }
        env.update(
            ETERNA_DATA_DIR=str(self.folder / "data"),
            ETERNA_LOG_LEVEL="WARNING",
            ETERNA_CHAIN_SLOT_MS="0",
            ETERNA_RATE_LIMIT_PER_MINUTE="100000000",
        )
        env.update(self.extra_env)
        paths = [p for p in (self.extra_env.get("PYTHONPATH"), self.source) if p]
        if paths:
            env["PYTHONPATH"] = os.pathsep.join(str(p) for p in paths)
        return env

    @property
    def url(self) -> str:
        """Return the base address."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Start the server and wait until /health answers."""
        self.port = free_port()
        self.starts += 1
        self.proc = self._spawn(self.folder / f"serve{self.starts}.log")
        popen = self.proc.popen
        deadline = time.monotonic() + 90
        async with httpx.AsyncClient(timeout=5) as client:
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{self.url}/health")).status_code == 200:
                        return
                if popen.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"eterna serve did not get ready:\n{self.proc.output()}")
                await asyncio.sleep(0.2)

    def _spawn(self, log: Path) -> Proc:
        command = [sys.executable, "-m", "eterna", "serve", "--host", "127.0.0.1"]
        with log.open("wb") as out:
            popen = subprocess.Popen(
                [*command, "--port", str(self.port)],
                env=self.env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.source,
            )
        return Proc("api", popen, log)

    async def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL)."""
        if self.proc is None:
            return
        popen = self.proc.popen
        if popen.poll() is None:
            popen.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(popen.wait, 10)
            except subprocess.TimeoutExpired:
                popen.kill()
                await asyncio.to_thread(popen.wait)
        self.proc = None

    def token(self) -> str:
        """Return a token signed with the secret the embedded mode generated."""
        secret = (self.folder / "data" / "jwt_secret").read_text().strip()
        return JwtAuth(secret).issue("abuse", now=datetime.now(UTC), ttl=timedelta(hours=2))


@dataclass
class HealthPoller:
    """Poll /health on its own connection; keep each response time."""

    every: float
    timeout: float
    samples: list[float] = field(default_factory=list)
    url: str = ""

    async def run(self) -> None:
        """Poll until cancelled (a restart changes ``url`` under it)."""
        async with httpx.AsyncClient(timeout=self.timeout) as client:
            while True:
                started = time.perf_counter()
                # A failed poll counts as slow as it was (a restart closes the connection).
                with contextlib.suppress(httpx.HTTPError):
                    await client.get(f"{self.url}/health")
                self.samples.append(time.perf_counter() - started)
                await asyncio.sleep(self.every)


@dataclass
class Row:
    """What one document got."""

    abuse: Abuse
    answers: list[str] = field(default_factory=list)
    uncached: list[float] = field(default_factory=list)
    cached: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # the server loop's, new to the caches

    def time(self) -> float:
        """Return the document's response time new to the caches: the median of its sends.

        The median, not the slowest: on a shared machine one send in a few meets another
        process on the core, which is no cost of the document.
        """
        return statistics.median(self.uncached)

    def answer(self) -> str:
        """Return the answer, or every distinct one when they differ."""
        distinct = sorted(set(self.answers))
        return distinct[0] if len(distinct) == 1 else "/".join(distinct)


def classify(status: int, body: Any) -> str:
    """Return the document's outcome: a code, ANSWERED, or what went wrong."""
    if status != 200:
        return f"HTTP {status}"
    errors = body.get("errors") if isinstance(body, dict) else None
    codes = [((e.get("extensions") or {}).get("code")) for e in errors or ()]
    known = [c for c in codes if c in DOCUMENT_CODES]
    if known:
        return str(known[0])
    if body.get("data") is None and errors:
        return "refused without a code: " + str(errors[0].get("message", ""))[:40]
    return ANSWERED


class Sender:
    """Sends documents to the server, restarting it when one does not come back in time."""

    def __init__(self, server: Server, poller: HealthPoller, timeout: float) -> None:
        self.server = server
        self.poller = poller
        self.timeout = timeout
        self.pool = RawHttpPool("127.0.0.1", server.port, size=1)
        self.headers = {"Authorization": f"Bearer {server.token()}"}

    async def send(self, body: dict[str, Any]) -> tuple[str, float, float]:
        """Send one body; return its outcome, response time and the server loop's CPU."""
        pid = self.server.proc.pid if self.server.proc else 0
        started, cpu = time.perf_counter(), loop_cpu(pid)
        try:
            status, answer = await self.post(body)
        except TimeoutError:
            await self.restart()
            return "timeout", self.timeout, self.timeout
        except (ConnectionError, OSError):
            await self.restart()
            return "connection lost", time.perf_counter() - started, 0.0
        return (
            classify(status, answer),
            time.perf_counter() - started,
            loop_cpu(pid) - cpu,
        )

    async def post(self, body: dict[str, Any]) -> tuple[int, Any]:
        """POST the body, on a new connection if the server closed an idle one."""
        try:
            return await asyncio.wait_for(
                self.pool.post_json("/graphql", body, self.headers), self.timeout
            )
        except (ConnectionError, OSError):
            if self.server.proc is None or self.server.proc.popen.poll() is not None:
                raise
        await self.pool.close()
        self.pool = RawHttpPool("127.0.0.1", self.server.port, size=1)
        return await asyncio.wait_for(
            self.pool.post_json("/graphql", body, self.headers), self.timeout
        )

    async def restart(self) -> None:
        """Replace a server that is stuck on a document by a fresh one."""
        await self.pool.close()
        await self.server.stop()
        await self.server.start()
        self.poller.url = self.server.url
        self.pool = RawHttpPool("127.0.0.1", self.server.port, size=1)
        self.headers = {"Authorization": f"Bearer {self.server.token()}"}

    async def measure(self, abuse: Abuse, repeat: int) -> Row:
        """Send a document ``repeat`` times new to the caches, then ``repeat`` times cached."""
        row = Row(abuse)
        for i in range(repeat):
            answer, elapsed, cpu = await self.send(abuse.body(padding=i + 1))
            row.answers.append(answer)
            row.uncached.append(elapsed)
            row.cpu.append(cpu)
            if answer in {"timeout", "connection lost"}:
                return row  # a stuck document is not sent again
        await self.send(abuse.body())
        for _ in range(repeat):
            answer, elapsed, _ = await self.send(abuse.body())
            row.answers.append(answer)
            row.cached.append(elapsed)
        return row


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f}"


def print_rows(rows: list[Row]) -> None:
    """Print one line per document."""
    print(
        f"\n{'document':<46} {'bytes':>8} {'tokens':>7}  {'answer':<26} "
        f"{'new p50':>9} {'new max':>9} {'loop CPU':>8} {'cached':>7}  expected"
    )
    for row in rows:
        abuse = row.abuse
        count = tokens(abuse.query)
        cached = _ms(statistics.median(row.cached)) if row.cached else "-"
        answer = row.answer()
        verdict = "ok" if answer == abuse.expect else f"expected {abuse.expect}"
        print(
            f"{abuse.name[:46]:<46} {abuse.size():>8,} {count if count is not None else '-':>7}  "
            f"{answer[:26]:<26} {_ms(row.time()):>9} {_ms(max(row.uncached)):>9} "
            f"{_ms(statistics.median(row.cpu)):>8} {cached:>7}  "
            f"{verdict}"
        )


def print_summary(
    rows: list[Row], health: list[float], idle: list[float], meter: CpuMeter, starts: int
) -> None:
    """Print /health, the goals and the machine's load."""
    slowest = max(rows, key=Row.time)
    spike = max(t for row in rows for t in (*row.uncached, *row.cached))
    costliest = max(rows, key=lambda r: statistics.median(r.cpu))
    p99 = percentile(health, 99)
    for label, samples in (("before the documents", idle), ("while they were sent", health)):
        print(
            f"\n/health {label}: {len(samples)} polls, p50 {_ms(percentile(samples, 50))} ms, "
            f"p99 {_ms(percentile(samples, 99))} ms, max {_ms(max(samples, default=0.0))} ms",
            end="",
        )
    print()
    print(
        f"longest hold of the event loop: {costliest.abuse.name}, "
        f"{_ms(statistics.median(costliest.cpu))} ms of its CPU a send"
    )
    print(
        f"slowest document: {slowest.abuse.name}, {_ms(slowest.time())} ms new to the caches "
        f"(median of its sends); slowest single response: {_ms(spike)} ms"
    )
    for label, value, goal in (
        ("slowest document", slowest.time() * 1000, GOAL_SLOWEST_MS),
        ("/health p99", p99 * 1000, GOAL_HEALTH_P99_MS),
    ):
        verdict = "met" if value < goal else "MISSED"
        print(f"goal {label} < {goal:.0f} ms: {value:,.1f} ms, {verdict}")
    wrong = [r.abuse.name for r in rows if r.answer() != r.abuse.expect]
    print(
        f"answers as expected: {len(rows) - len(wrong)}/{len(rows)}"
        + (f" (not: {', '.join(wrong)})" if wrong else "")
    )
    if starts > 1:
        print(f"the server was restarted {starts - 1} times: its CPU is not comparable")
    for key, cpu in meter.rows():
        if starts == 1 or key != "CPU api":
            print(f"{key}: {cpu}")


@contextlib.asynccontextmanager
async def running(args: argparse.Namespace) -> AsyncIterator[Server]:
    """Run the server in a temporary folder for the block."""
    with tempfile.TemporaryDirectory(prefix="eterna-abuse-") as folder:
        server = Server(args.source, parse_env(args.env), Path(folder))
        try:
            await server.start()
            yield server
        finally:
            await server.stop()


async def run(args: argparse.Namespace) -> None:
    """Start the server, send every document, print the table and the goals."""
    abuses = [a for a in documents() if not args.only or args.only in a.name]
    await settle(args.settle)
    async with running(args) as server:
        progress(f"eterna serve on {server.url}" + (f" from {args.source}" if args.source else ""))
        poller = HealthPoller(args.health_every / 1000, args.timeout, url=server.url)
        polling = asyncio.create_task(poller.run(), name="health")
        sender = Sender(server, poller, args.timeout)
        for _ in range(20):  # a fresh process's first requests import and build lazily
            await sender.send({"query": "{ tokens { symbol } venues { name } }"})
        progress(f"/health alone for {args.idle:g} s")
        await asyncio.sleep(args.idle)
        idle, poller.samples = poller.samples, []
        meter = CpuMeter([server.proc] if server.proc else []).start()
        rows: list[Row] = []
        try:
            for i, abuse in enumerate(abuses):
                progress(f"{i + 1}/{len(abuses)} {abuse.name}")
                rows.append(await sender.measure(abuse, args.repeat))
        finally:
            meter.stop()
            polling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await polling
            await sender.pool.close()
    print_rows(rows)
    print_summary(rows, poller.samples, idle, meter, server.starts)


def main() -> None:
    """Parse the arguments and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add_cluster_arguments(parser)
    parser.add_argument("--repeat", type=int, default=5, help="sends per document and path")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds before giving up")
    parser.add_argument("--health-every", type=float, default=10.0, help="ms between polls")
    parser.add_argument("--only", help="send only the documents whose name contains this")
    parser.add_argument(
        "--idle", type=float, default=5.0, help="seconds of /health alone before the documents"
    )
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()

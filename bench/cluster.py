"""Run a throwaway distributed Eterna on this machine, for benchmarks.

``Cluster`` creates a fresh Postgres database and a unique Redis key prefix, applies the
migrations, starts the market (by default ``eterna chain`` as its own process, slots moved
only on request, every process pointed at it with ``ETERNA_SOLANA_RPC_URL``), K ``eterna
serve`` and W ``eterna worker`` processes (WARNING logs, the per-user rate limit far above
any benchmark) and waits
until each API answers ``/health`` and each worker printed ``worker ready``. On exit it stops
them (SIGTERM, then SIGKILL), drops the database and deletes the Redis keys. Everything
listens on 127.0.0.1 only.

    async with Cluster(apis=1, workers=1) as cluster:
        token = cluster.token("alice")
        ...  # HTTP to cluster.http_url(0), websockets to cluster.ws_url(0)
        print(cluster.api[0].rss_mb(), cluster.api[0].peak_rss_mb())

``RssSampler`` polls VmRSS of several processes in the background (VmHWM, the kernel's own
peak, is read too); ``ProcStats`` reads a process's CPU seconds from /proc.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType

import asyncpg
import httpx
import redis.asyncio as aioredis

from eterna.adapters.auth import JwtAuth

PG_ADMIN_URL = os.environ.get(
    "ETERNA_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("ETERNA_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# Where the orders of a benchmark trade; see Cluster.
MARKETS = ("chain", "in-process", "sandbox")
SHARED_PROGRAMS = Path(__file__).resolve().parents[2] / "shared" / "programs"


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def raise_fd_limit() -> int:
    """Raise this process's open-file soft limit to the hard one (children inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def _status_kb(pid: int, key: str) -> int | None:
    """Return a ``kB`` field of /proc/<pid>/status (VmRSS, VmHWM), or None if gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return None


def rss_mb(pid: int) -> float | None:
    """Return the current resident set size of a process in MiB."""
    kb = _status_kb(pid, "VmRSS")
    return None if kb is None else kb / 1024


def hwm_mb(pid: int) -> float | None:
    """Return the peak resident set size (VmHWM) of a process in MiB."""
    kb = _status_kb(pid, "VmHWM")
    return None if kb is None else kb / 1024


def cpu_seconds(pid: int) -> float | None:
    """Return user + system CPU seconds a process has used (from /proc/<pid>/stat)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may contain spaces: fields start after the closing parenthesis.
    fields = stat.rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / CLOCK_TICKS


def group_cpu_seconds(prefixes: tuple[str, ...] = ("postgres", "redis-server")) -> dict[str, float]:
    """Return CPU seconds used by every process whose name starts with each prefix."""
    totals = dict.fromkeys(prefixes, 0.0)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        comm = stat[stat.find("(") + 1 : stat.rfind(")")]
        for prefix in prefixes:
            if comm.startswith(prefix):
                fields = stat.rsplit(")", 1)[1].split()
                totals[prefix] += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return totals


def machine_busy_seconds() -> tuple[float, float]:
    """Return (busy, total) CPU seconds of the whole machine, all cores, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])
    return (total - idle) / CLOCK_TICKS, total / CLOCK_TICKS


async def wait_for_quiet_machine(
    limit: float = 90.0, threshold: float = 0.2, window: float = 1.0
) -> float:
    """Wait (at most ``limit`` s) until the machine's cores are less than ``threshold`` busy.

    Other people's test runs on a shared machine would skew a benchmark; this waits for a
    quiet moment. Returns the busy share of the last window (printed by the callers).
    """
    deadline = time.monotonic() + limit
    while True:
        busy0, total0 = machine_busy_seconds()
        await asyncio.sleep(window)
        busy1, total1 = machine_busy_seconds()
        share = (busy1 - busy0) / max(total1 - total0, 1e-9)
        if share < threshold or time.monotonic() > deadline:
            return share


@dataclass
class Proc:
    """One process of the cluster."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        """Return the process id."""
        return self.popen.pid

    def rss_mb(self) -> float:
        """Return the current RSS in MiB (0 if the process is gone)."""
        return rss_mb(self.pid) or 0.0

    def peak_rss_mb(self) -> float:
        """Return the kernel's peak RSS (VmHWM) in MiB (0 if the process is gone)."""
        return hwm_mb(self.pid) or 0.0

    def cpu_seconds(self) -> float:
        """Return the CPU seconds used so far."""
        return cpu_seconds(self.pid) or 0.0

    def output(self) -> str:
        """Return what the process printed so far."""
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""


@dataclass
class RssSampler:
    """Poll the RSS of processes every ``interval`` seconds; remember the peak of each."""

    procs: list[Proc]
    interval: float = 0.1
    peak: dict[str, float] = field(default_factory=dict)
    first: dict[str, float] = field(default_factory=dict)
    last: dict[str, float] = field(default_factory=dict)
    _task: asyncio.Task[None] | None = None

    def sample(self) -> None:
        """Take one sample now."""
        for proc in self.procs:
            value = rss_mb(proc.pid)
            if value is None:
                continue
            self.first.setdefault(proc.name, value)
            self.last[proc.name] = value
            self.peak[proc.name] = max(self.peak.get(proc.name, 0.0), value)

    async def _run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(self.interval)

    def start(self) -> RssSampler:
        """Start sampling in the background."""
        self.sample()
        self._task = asyncio.create_task(self._run(), name="rss-sampler")
        return self

    async def stop(self) -> None:
        """Stop sampling (after one last sample)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.sample()


@dataclass
class CpuMeter:
    """CPU seconds each process (and this one) used between start() and stop()."""

    procs: list[Proc]
    used: dict[str, float] = field(default_factory=dict)
    _start: dict[str, float] = field(default_factory=dict)
    _wall: float = 0.0
    wall: float = 0.0

    machine_busy: float = 0.0  # share of all cores that were busy, 0..1

    def _read(self) -> dict[str, float]:
        now = {proc.name: proc.cpu_seconds() for proc in self.procs}
        now["client"] = time.process_time()
        now.update(group_cpu_seconds())
        now["_busy"], now["_total"] = machine_busy_seconds()
        return now

    def start(self) -> CpuMeter:
        """Remember the CPU counters now."""
        self._wall = time.perf_counter()
        self._start = self._read()
        return self

    def stop(self) -> CpuMeter:
        """Compute the CPU each process used since start()."""
        self.wall = time.perf_counter() - self._wall
        end = self._read()
        for key, value in end.items():
            if not key.startswith("_"):
                self.used[key] = value - self._start.get(key, 0.0)
        total = end["_total"] - self._start["_total"]
        self.machine_busy = (end["_busy"] - self._start["_busy"]) / total if total else 0.0
        return self

    def rows(self, orders: int = 0) -> list[tuple[str, str]]:
        """Return table rows: each process's share of a core (and CPU ms per order).

        ``postgres`` and ``redis-server`` count every such process on the machine, also
        those serving other people's runs.
        """
        rows = []
        for name, used in self.used.items():
            text = f"{used:.2f} s = {100 * used / self.wall:.0f}% of a core"
            if orders:
                text += f", {1000 * used / orders:.2f} ms/order"
            rows.append((f"CPU {name}", text))
        rows.append(("CPU whole machine busy", f"{100 * self.machine_busy:.0f}% of all cores"))
        cores = os.cpu_count() or 1
        ours = sum(v for k, v in self.used.items() if k not in {"postgres", "redis-server"})
        shared = self.used.get("postgres", 0.0) + self.used.get("redis-server", 0.0)
        other = self.machine_busy * cores * self.wall - ours - shared
        rows.append(
            (
                "CPU other processes (not this run)",
                f"{100 * max(other, 0) / self.wall:.0f}% of a core"
                + ("  <- machine shared, figures skewed" if other > 0.15 * self.wall else ""),
            )
        )
        return rows


class Cluster:
    """A throwaway distributed Eterna: K APIs and W workers on a fresh database."""

    def __init__(
        self,
        *,
        apis: int = 1,
        workers: int = 1,
        env: dict[str, str] | None = None,
        log_dir: Path | None = None,
        ready_timeout: float = 90.0,
        quiet: bool = False,
        source: Path | None = None,
        market: str = "chain",
    ) -> None:
        """Describe the cluster; ``source`` runs Eterna from another tree (e.g. a snapshot).

        By default the processes run the installed (editable) tree. With ``source``, they
        start in that folder with it first on PYTHONPATH, so a snapshot made with
        ``git archive HEAD | tar -x -C DIR`` is measured while others edit the work tree.

        ``market`` is where orders trade (:data:`MARKETS`): ``chain``, one ``eterna chain``
        shared over JSON-RPC; ``in-process``, each process's own market (the local chain, or
        the sandbox of a tree from before the chain); ``sandbox``, ``eterna sandbox`` as its
        own process, for such trees.
        """
        if market not in MARKETS:
            raise ValueError(f"market is one of {MARKETS}, not {market!r}")
        self.apis = apis
        self.workers = workers
        self.extra_env = dict(env or {})
        self.ready_timeout = ready_timeout
        self.quiet = quiet
        self.source = source.resolve() if source else None
        self.market = market
        self.market_port = 0
        self.market_proc: Proc | None = None
        self.log_dir = log_dir or Path(tempfile.mkdtemp(prefix="eterna-bench-"))
        self.log_dir.mkdir(parents=True, exist_ok=True)
        tag = uuid.uuid4().hex[:10]
        self.db_name = f"eterna_bench_{tag}"
        self.redis_prefix = f"eterna-bench-{tag}"
        self.jwt_secret = secrets.token_hex(32)
        self.auth = JwtAuth(self.jwt_secret)
        base, _, _ = PG_ADMIN_URL.rpartition("/")
        self.database_url = f"{base}/{self.db_name}"
        self.redis_url = REDIS_URL
        self.ports: list[int] = []
        self.api: list[Proc] = []
        self.worker: list[Proc] = []
        self._db_created = False

    # -- addresses and tokens -------------------------------------------------------

    def http_url(self, i: int = 0) -> str:
        """Return the base HTTP address of API process i."""
        return f"http://127.0.0.1:{self.ports[i]}"

    def graphql_url(self, i: int = 0) -> str:
        """Return the GraphQL HTTP endpoint of API process i."""
        return f"{self.http_url(i)}/graphql"

    def ws_url(self, i: int = 0) -> str:
        """Return the GraphQL websocket endpoint of API process i."""
        return f"ws://127.0.0.1:{self.ports[i]}/graphql"

    def token(self, user: str, ttl: timedelta = timedelta(hours=2)) -> str:
        """Return a JWT for the user, signed with this cluster's secret."""
        return self.auth.issue(user, now=datetime.now(UTC), ttl=ttl)

    @property
    def procs(self) -> list[Proc]:
        """Return every process, APIs first (then workers, then the market's if any)."""
        return [*self.api, *self.worker, *([self.market_proc] if self.market_proc else [])]

    @property
    def market_url(self) -> str | None:
        """Return the address of the market's own process (None when each process has one)."""
        return f"http://127.0.0.1:{self.market_port}" if self.market_port else None

    def env(self) -> dict[str, str]:
        """Return the environment of the cluster's processes."""
        return {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "JWT_SECRET": self.jwt_secret,
            "ETERNA_REDIS_PREFIX": self.redis_prefix,
            "ETERNA_DATA_DIR": str(self.log_dir / "data"),
            "ETERNA_LOG_LEVEL": "WARNING",
            # Slots move only on request: no drift, no blockhash expiry (both names, so a tree
            # from before the chain runs its sandbox the same way).
            "ETERNA_CHAIN_SLOT_MS": "0",
            "ETERNA_SANDBOX_SLOT_MS": "0",
            "ETERNA_GRAPHIQL": "false",
            # Keep the per-user rate limiter running (its cost is part of the flow) but far
            # above what a benchmark sends; the same for the read budgets and the caps on
            # websockets (every benchmark connects from one address).
            "ETERNA_RATE_LIMIT_PER_MINUTE": "100000000",
            "ETERNA_ORDERS_PER_MINUTE": "100000000",
            "ETERNA_QUOTE_RATE_LIMIT_PER_MINUTE": "100000000",
            "ETERNA_ANONYMOUS_RATE_LIMIT_PER_MINUTE": "100000000",
            "ETERNA_MAX_CONNECTIONS_PER_ADDRESS": "1000000",
            "ETERNA_MAX_CONNECTIONS_PER_USER": "1000000",
            **self._market_env(),
            **self._programs_env(),
            **self.extra_env,
            **self._pythonpath(),
        }

    def _programs_env(self) -> dict[str, str]:
        # A snapshot elsewhere (--source) has no ../shared/programs beside it: point it at the
        # programs beside this tree, unless told otherwise.
        if "ETERNA_PROGRAMS_DIR" in os.environ or not SHARED_PROGRAMS.is_dir():
            return {}
        return {"ETERNA_PROGRAMS_DIR": str(SHARED_PROGRAMS)}

    def _market_env(self) -> dict[str, str]:
        url = self.market_url
        if url is None:
            return {}
        if self.market == "sandbox":
            return {"ETERNA_SANDBOX_URL": url}
        return {"ETERNA_SOLANA_RPC_URL": url}

    def _pythonpath(self) -> dict[str, str]:
        paths = [p for p in (self.extra_env.get("PYTHONPATH"), self.source) if p]
        return {"PYTHONPATH": os.pathsep.join(str(p) for p in paths)} if paths else {}

    def _say(self, text: str) -> None:
        if not self.quiet:
            print(f"[cluster] {text}", flush=True)

    # -- lifecycle -------------------------------------------------------------------

    async def __aenter__(self) -> Cluster:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Create the database, migrate, start the processes and wait until they are ready."""
        raise_fd_limit()
        admin = await asyncpg.connect(PG_ADMIN_URL)
        try:
            await admin.execute(f'CREATE DATABASE "{self.db_name}"')
            self._db_created = True
        finally:
            await admin.close()
        self._say(f"database {self.db_name}, redis prefix {self.redis_prefix}, logs {self.log_dir}")
        if self.source:
            self._say(f"running Eterna from {self.source}")
        env = self.env()
        migrate = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "eterna",
            "migrate",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            cwd=self.source,
        )
        out, _ = await migrate.communicate()
        if migrate.returncode != 0:
            raise RuntimeError(f"eterna migrate failed:\n{out.decode(errors='replace')}")
        if self.market != "in-process":
            port = free_port()
            args = [self.market, "--host", "127.0.0.1", "--port", str(port)]
            self.market_proc = self._spawn(self.market, args, env)
            await self._wait_http(self.market_proc, f"http://127.0.0.1:{port}/health")
            self.market_port = port
            env = self.env()
        self.ports = [free_port() for _ in range(self.apis)]
        for i, port in enumerate(self.ports):
            self.api.append(
                self._spawn(f"api{i}", ["serve", "--host", "127.0.0.1", "--port", str(port)], env)
            )
        for i in range(self.workers):
            self.worker.append(self._spawn(f"worker{i}", ["worker"], env))
        await self._wait_ready()
        self._say(
            "ready: "
            + ", ".join(f"{p.name} pid {p.pid}" for p in self.procs)
            + (f" on ports {', '.join(map(str, self.ports))}")
        )

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> Proc:
        log = self.log_dir / f"{name}.log"
        command = [sys.executable, "-m", "eterna", *args]
        with log.open("wb") as out:
            popen = subprocess.Popen(
                command,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.source,
            )
        return Proc(name, popen, log)

    async def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.ready_timeout
        for i, proc in enumerate(self.api):
            await self._wait_http(proc, f"{self.http_url(i)}/health", deadline)
        for proc in self.worker:
            await self._wait_worker(proc, deadline)

    async def _wait_http(self, proc: Proc, url: str, deadline: float = 0.0) -> None:
        deadline = deadline or time.monotonic() + self.ready_timeout
        async with httpx.AsyncClient(timeout=5) as client:
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(url)).status_code == 200:
                        return
                if proc.popen.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{proc.name} did not get ready:\n{proc.output()}")
                await asyncio.sleep(0.2)

    async def _wait_worker(self, proc: Proc, deadline: float) -> None:
        while "worker ready" not in proc.output():
            if proc.popen.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{proc.name} did not get ready:\n{proc.output()}")
            await asyncio.sleep(0.2)

    async def add_worker(self) -> Proc:
        """Start one more worker and wait until it is ready."""
        proc = self._spawn(f"worker{len(self.worker)}", ["worker"], self.env())
        self.worker.append(proc)
        await self._wait_worker(proc, time.monotonic() + self.ready_timeout)
        return proc

    async def stop(self) -> None:
        """Stop the processes, drop the database, delete the Redis keys."""
        for proc in self.procs:
            if proc.popen.poll() is None:
                proc.popen.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                await asyncio.to_thread(proc.popen.wait, 15)
            except subprocess.TimeoutExpired:
                self._say(f"{proc.name} ignored SIGTERM; killing it")
                proc.popen.kill()
                proc.popen.wait()
        self.api.clear()
        self.worker.clear()
        self.market_proc = None
        self.market_port = 0
        if self._db_created:
            admin = await asyncpg.connect(PG_ADMIN_URL)
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
                self._db_created = False
            finally:
                await admin.close()
        client = aioredis.from_url(self.redis_url)
        try:
            keys = [k async for k in client.scan_iter(f"{self.redis_prefix}*")]
            if keys:
                await client.delete(*keys)
        finally:
            await client.aclose()

    # -- checks against the database ------------------------------------------------

    async def fetch(self, query: str, *args: object) -> list[asyncpg.Record]:
        """Run a read-only query on the cluster's database."""
        conn = await asyncpg.connect(self.database_url)
        try:
            rows: list[asyncpg.Record] = await conn.fetch(query, *args)
            return rows
        finally:
            await conn.close()

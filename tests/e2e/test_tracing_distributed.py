"""One order is one trace across processes: the API places it, a worker executes it.

The distributed mode with real processes on Postgres and Redis - the local chain, one
``eterna serve`` and one ``eterna worker`` - each tracing to the console exporter
(``OTEL_TRACES_EXPORTER=console``: a JSON object per span on stdout). The only thing that
carries the trace from the API to the worker is the queue message's labels (decision 0025),
so the worker's spans are found in the API's trace only if that hand-over works.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from eterna.adapters.auth import JwtAuth
from eterna.core.clock import utcnow
from tests.conftest import REDIS_URL

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

SECRET = "tracing-e2e-secret-that-is-long-enough-for-hs256-01"
PLACE = """
mutation Place($input: OrderInput!) {
  placeOrder(input: $input) { __typename ... on OrderPlaced { order { id } } }
}
"""
ORDER = "query Order($id: ID!) { order(id: $id) { status } }"
MARKET = {"type": "MARKET", "tokenIn": "SOL", "tokenOut": "USDC", "amountIn": "1"}
# The worker's spans reach stdout soon after they end; the API's only when it stops (its
# buffer holds far more than this test's spans), so they are there only if the stop flushes.
WORKER_TRACED = {"OTEL_TRACES_EXPORTER": "console", "OTEL_BSP_SCHEDULE_DELAY": "100"}
API_TRACED = {"OTEL_TRACES_EXPORTER": "console", "OTEL_BSP_SCHEDULE_DELAY": "600000"}
Span = dict[str, Any]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Cluster:
    """The chain, the API and the worker; each process's stdout and stderr in files."""

    folder: Path
    api_port: int
    chain_port: int
    procs: dict[str, subprocess.Popen[bytes]]

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def chain(self) -> str:
        return f"http://127.0.0.1:{self.chain_port}"

    def out(self, name: str) -> str:
        return (self.folder / f"{name}.out").read_text(errors="replace")

    def err(self, name: str) -> str:
        return (self.folder / f"{name}.err").read_text(errors="replace")

    def stop(self) -> dict[str, int]:
        """SIGTERM the API and the worker, then the chain; return their exit codes."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return {name: proc.returncode for name, proc in self.procs.items()}


def _start(cluster: Cluster, commands: dict[str, tuple[dict[str, str], list[str]]]) -> None:
    for name, (env, args) in commands.items():
        with (
            (cluster.folder / f"{name}.out").open("wb") as out,
            (cluster.folder / f"{name}.err").open("wb") as err,
        ):
            cluster.procs[name] = subprocess.Popen(
                [sys.executable, "-m", "eterna", *args], env=env, stdout=out, stderr=err
            )


@pytest.fixture
async def cluster(pg_database: str, redis_prefix: str, tmp_path: Path) -> AsyncIterator[Cluster]:
    chain_port, api_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": pg_database,
        "REDIS_URL": REDIS_URL,
        "JWT_SECRET": SECRET,
        "ETERNA_REDIS_PREFIX": redis_prefix,
        "ETERNA_DATA_DIR": str(tmp_path / "data"),
        "ETERNA_LOG_LEVEL": "WARNING",
        "ETERNA_SOLANA_RPC_URL": f"http://127.0.0.1:{chain_port}",
    }
    for name in [k for k in env if k.startswith("OTEL_")]:
        del env[name]  # the chain does not trace: only the API and the worker's spans
    migrate = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "eterna", "migrate", env=env, stdout=subprocess.DEVNULL
    )
    assert await migrate.wait() == 0
    running = Cluster(folder=tmp_path, api_port=api_port, chain_port=chain_port, procs={})
    commands = {  # in the order they are stopped: the chain outlives its clients
        "api": ({**env, **API_TRACED}, ["serve", "--port", str(api_port)]),
        "worker": ({**env, **WORKER_TRACED}, ["worker"]),
        "chain": (env, ["chain", "--port", str(chain_port)]),
    }
    try:
        _start(running, commands)
        await _wait_ready(running)
        yield running
    finally:
        running.stop()


async def _wait_ready(cluster: Cluster) -> None:
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient() as client:
        for name, url in (("chain", cluster.chain), ("api", cluster.api)):
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{url}/health")).status_code == 200:
                        break
                assert time.monotonic() < deadline, cluster.err(name)
                await asyncio.sleep(0.2)
    while "worker ready" not in cluster.out("worker"):
        assert time.monotonic() < deadline, cluster.err("worker")
        await asyncio.sleep(0.2)


def parse_spans(text: str) -> list[Span]:
    """Return the spans among concatenated JSON objects and other lines of ``text``.

    The console exporter writes each span as an indented JSON object; the process's own
    lines (its banner, ``worker ready``) sit between them. A ``{`` that does not open a
    whole object is skipped.
    """
    decoder = json.JSONDecoder()
    found: list[Span] = []
    at = text.find("{")
    while at != -1:
        try:
            value, end = decoder.raw_decode(text, at)
        except json.JSONDecodeError:
            at = text.find("{", at + 1)
            continue
        if isinstance(value, dict) and "context" in value and "name" in value:
            found.append(value)
        at = text.find("{", end)
    return found


def _about(spans: list[Span], order_id: str) -> list[Span]:
    return [s for s in spans if (s.get("attributes") or {}).get("eterna.order_id") == order_id]


def _confirmed(spans: list[Span], order_id: str) -> bool:
    return any(s["attributes"].get("eterna.status") == "CONFIRMED" for s in _about(spans, order_id))


async def _place_and_confirm(cluster: Cluster) -> str:
    token = JwtAuth(SECRET).issue("trader", now=utcnow(), ttl=timedelta(hours=1))
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=cluster.api, headers=headers, timeout=10) as client:
        body = (
            await client.post("/graphql", json={"query": PLACE, "variables": {"input": MARKET}})
        ).json()
        assert body["data"]["placeOrder"]["__typename"] == "OrderPlaced", body
        order_id: str = body["data"]["placeOrder"]["order"]["id"]
        deadline = time.monotonic() + 60
        while True:
            query = {"query": ORDER, "variables": {"id": order_id}}
            status = (await client.post("/graphql", json=query)).json()["data"]["order"]["status"]
            if status == "CONFIRMED":
                break
            assert status not in {"FAILED", "CANCELLED", "EXPIRED"}, status
            assert time.monotonic() < deadline, cluster.err("worker")
            await asyncio.sleep(0.1)
    # Wait for the worker's CONFIRMED span itself, so the check does not race its export.
    while not _confirmed(parse_spans(cluster.out("worker")), order_id):
        assert time.monotonic() < deadline, cluster.out("worker")[-4000:]
        await asyncio.sleep(0.1)
    return order_id


def _one(spans: list[Span], name: str) -> Span:
    found = [s for s in spans if s["name"] == name]
    assert len(found) == 1, (name, [s["name"] for s in spans])
    return found[0]


async def test_one_order_is_one_trace_across_the_api_and_the_worker(cluster: Cluster) -> None:
    order_id = await _place_and_confirm(cluster)
    codes = cluster.stop()
    # uvicorn ends a SIGTERMed API by raising the signal again once it has stopped.
    assert codes["api"] == -signal.SIGTERM, codes
    assert codes["worker"] == 0, codes
    api = parse_spans(cluster.out("api"))
    worker = parse_spans(cluster.out("worker"))

    # The API: the HTTP request's server span, the GraphQL operation inside it.
    operation = _one(api, "mutation Place")
    trace_id = operation["context"]["trace_id"]
    in_api = {s["context"]["span_id"]: s for s in api if s["context"]["trace_id"] == trace_id}
    request = in_api[operation["parent_id"]]
    assert request["kind"] == "SpanKind.SERVER", request
    assert request["parent_id"] is None  # the client sent no traceparent: the trace starts here

    # The worker: its consumer span continues the API's trace, its parent an API span.
    execute = [s for s in _about(worker, order_id) if s["name"] == "orders.execute"]
    assert len(execute) == 1, [s["name"] for s in worker]
    assert execute[0]["kind"] == "SpanKind.CONSUMER"
    assert execute[0]["context"]["trace_id"] == trace_id
    assert execute[0]["parent_id"] in in_api, (execute[0], sorted(in_api))
    assert {s["resource"]["attributes"]["service.name"] for s in (request, execute[0])} == {
        "eterna-api",
        "eterna-worker",
    }

    # Every stage the worker ran, up to CONFIRMED, is in that trace and under that span.
    stages = [s for s in _about(worker, order_id) if s["name"].startswith("order ")]
    reached = [s["attributes"]["eterna.status"] for s in stages]
    assert "CONFIRMED" in reached, reached
    assert {"ROUTING", "BUILDING", "SUBMITTED"} <= set(reached), reached
    assert {s["context"]["trace_id"] for s in stages} == {trace_id}
    in_worker = {s["context"]["span_id"]: s for s in worker if s["context"]["trace_id"] == trace_id}
    for stage in stages:
        assert _root_in_api(stage, in_worker, in_api) == request["context"]["span_id"], stage


def _root_in_api(span: Span, in_worker: dict[str, Span], in_api: dict[str, Span]) -> str:
    """Follow parent ids through the worker's spans, then the API's, to the trace's root."""
    while span["parent_id"] is not None:
        parent = in_worker.get(span["parent_id"]) or in_api.get(span["parent_id"])
        assert parent is not None, ("a parent span is missing", span)
        span = parent
    root: str = span["context"]["span_id"]
    return root

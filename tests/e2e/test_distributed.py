"""The distributed mode with real processes: two APIs and two workers on Postgres and Redis."""

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
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from eterna.adapters.auth import JwtAuth
from eterna.core.clock import utcnow
from tests.conftest import REDIS_URL

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

SECRET = "e2e-secret-that-is-long-enough-for-hs256-0123456789"
ORDERS = 100
MY_EVENTS = "subscription { myOrderEvents { orderId seq status } }"
PLACE_MANY = """
mutation Many($inputs: [OrderInput!]!) {
  placeOrders(inputs: $inputs) { __typename ... on OrderPlaced { order { id } } }
}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Cluster:
    """Running processes and their addresses."""

    api_ports: list[int]
    chain_url: str
    logs: Path

    def url(self, i: int) -> str:
        return f"http://127.0.0.1:{self.api_ports[i]}"


@contextlib.contextmanager
def _processes(
    env: dict[str, str], logs: Path, ports: list[int], workers: int, chain_port: int
) -> Iterator[None]:
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with (logs / "chain.log").open("wb") as out:
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "eterna", "chain", "--port", str(chain_port)],
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
        for i, port in enumerate(ports):
            with (logs / f"api{i}.log").open("wb") as out:
                procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "eterna", "serve", "--port", str(port)],
                        env=env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                )
        for i in range(workers):
            with (logs / f"worker{i}.log").open("wb") as out:
                procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "eterna", "worker"],
                        env=env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                )
        yield
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


async def _wait_ready(cluster: Cluster, workers: int) -> None:
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient() as client:
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"{cluster.chain_url}/health")).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise AssertionError((cluster.logs / "chain.log").read_text())
            await asyncio.sleep(0.2)
        for i in range(len(cluster.api_ports)):
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{cluster.url(i)}/health")).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise AssertionError((cluster.logs / f"api{i}.log").read_text())
                await asyncio.sleep(0.2)
    for i in range(workers):
        log = cluster.logs / f"worker{i}.log"
        while "worker ready" not in log.read_text():
            if time.monotonic() > deadline:
                raise AssertionError(log.read_text())
            await asyncio.sleep(0.2)


@pytest.fixture
async def cluster(pg_database: str, redis_prefix: str, tmp_path: Path) -> AsyncIterator[Cluster]:
    chain_port = _free_port()
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
    migrate = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "eterna", "migrate", env=env, stdout=subprocess.PIPE
    )
    assert await migrate.wait() == 0
    ports = [_free_port(), _free_port()]
    with _processes(env, tmp_path, ports, workers=2, chain_port=chain_port):
        running = Cluster(api_ports=ports, chain_url=env["ETERNA_SOLANA_RPC_URL"], logs=tmp_path)
        await _wait_ready(running, workers=2)
        yield running


async def _collect_events(url: str, token: str, want: int, ready: asyncio.Event) -> list[Any]:
    ws_url = url.replace("http://", "ws://") + "/graphql"
    events: list[Any] = []
    async with websockets.connect(
        ws_url, subprotocols=[websockets.Subprotocol("graphql-transport-ws")]
    ) as ws:
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        )
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": MY_EVENTS}}))
        await asyncio.sleep(0.5)  # the server starts the subscription before orders arrive
        ready.set()
        while len(events) < want:
            message = json.loads(await asyncio.wait_for(ws.recv(), 60))
            if message["type"] == "next":
                events.append(message["payload"]["data"]["myOrderEvents"])
            elif message["type"] != "pong":
                raise AssertionError(message)
    return events


async def test_orders_placed_on_one_api_stream_to_another_through_two_workers(
    cluster: Cluster,
) -> None:
    token = JwtAuth(SECRET).issue("trader", now=utcnow(), ttl=timedelta(hours=1))
    ready = asyncio.Event()
    listener = asyncio.create_task(_collect_events(cluster.url(1), token, ORDERS * 5, ready))
    await asyncio.wait_for(ready.wait(), 30)

    inputs = [
        {"type": "MARKET", "tokenIn": "SOL", "tokenOut": "USDC", "amountIn": f"0.{i + 1:03d}"}
        for i in range(ORDERS)
    ]
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as client:
        response = await client.post(
            f"{cluster.url(0)}/graphql", json={"query": PLACE_MANY, "variables": {"inputs": inputs}}
        )
        placed = response.json()["data"]["placeOrders"]
        assert [p["__typename"] for p in placed] == ["OrderPlaced"] * ORDERS
        ids = {p["order"]["id"] for p in placed}

        events = await asyncio.wait_for(listener, 120)

        assert len(events) == ORDERS * 5
        by_order: dict[str, list[int]] = {}
        for event in events:
            by_order.setdefault(event["orderId"], []).append(event["seq"])
        assert set(by_order) == ids
        assert all(seqs == [1, 2, 3, 4, 5] for seqs in by_order.values()), by_order
        finals = [e for e in events if e["seq"] == 5]
        assert {e["status"] for e in finals} == {"CONFIRMED"}

        listed = await client.post(
            f"{cluster.url(1)}/graphql",
            json={"query": "{ orders(first: 100, status: CONFIRMED) { edges { node { id } } } }"},
        )
        assert len(listed.json()["data"]["orders"]["edges"]) == ORDERS

        # One shared chain: exactly one successful transaction per confirmed order, counted
        # from the chain's own ledger by memo (the market maker's swaps carry none of ours).
        ledger = (await client.get(f"{cluster.chain_url}/admin/ledger")).json()
        landed = [row["memo"] for row in ledger if row["success"] and row["memo"] in ids]
        assert sorted(landed) == sorted(ids)

"""JSON logs: every line is one object, and every line about an order carries its id.

In-process, the embedded mode exercises each place that logs about an order: placement and
cancel in the service, the engine's steps and taskiq's lines about the task, the trigger
watcher firing a limit order, the reconciler re-queueing a stuck one. A real ``eterna serve``
shows that uvicorn's own lines (server and access log) come out in the same format.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from eterna.adapters.auth import JwtAuth
from eterna.application.reconciler import Reconciler
from eterna.application.service import OrderRequest
from eterna.core.clock import utcnow
from eterna.core.logs import LIBRARY_LOGGERS, configure_logging
from eterna.domain.orders import OrderType
from tasks.queue import TaskiqOrderQueue
from tests.e2e.conftest import Api
from tests.e2e.test_limit_sniper import (
    CANCEL,
    chain_api,
    limit_order,
    market_price,
    raise_sol_price,
    settled,
    wait_for,
)
from tests.e2e.test_market_orders import MARKET_1_SOL, place, wait_terminal
from tests.json_logs import about, check_order_ids, parse_lines

pytestmark = pytest.mark.anyio


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """Log JSON lines at INFO into a buffer for the test; restore logging afterwards."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    libraries = {
        n: (logging.getLogger(n).handlers[:], logging.getLogger(n).propagate)
        for n in LIBRARY_LOGGERS
    }
    buffer = io.StringIO()
    configure_logging("INFO", "json", stream=buffer)
    yield buffer
    root.handlers[:], level = saved
    root.setLevel(level)
    for name, (handlers, propagate) in libraries.items():
        logging.getLogger(name).handlers[:] = handlers
        logging.getLogger(name).propagate = propagate


async def _stuck_order(api: Api) -> str:
    """Store an order without queueing it: only the reconciler can get it going."""
    command = api.runtime.service.validate(
        "alice",
        OrderRequest(type=OrderType.MARKET, token_in="SOL", token_out="USDC", amount_in=Decimal(2)),
    )
    [placement] = await api.runtime.repo.place([command], utcnow())
    return str(placement.order.id)


async def test_every_line_about_an_order_carries_its_id(api: Api, json_log: io.StringIO) -> None:
    market = (await place(api, MARKET_1_SOL))["order"]["id"]
    await wait_terminal(api, market)

    price = await market_price(api, "1")
    fired = (await place(api, limit_order(price * Decimal("1.02"))))["order"]["id"]
    cancelled = (await place(api, limit_order(price * 2)))["order"]["id"]
    await wait_for(api, fired, {"WAITING"})
    await wait_for(api, cancelled, {"WAITING"})
    await settled(api)
    await api.gql(CANCEL, {"id": cancelled})
    async with chain_api(api) as chain:
        await raise_sol_price(chain, 500)
    await wait_for(api, fired, {"CONFIRMED"})

    stuck = await _stuck_order(api)
    later = utcnow() + timedelta(minutes=5)
    reconciler = Reconciler(
        api.runtime.repo,
        TaskiqOrderQueue(api.runtime.broker),
        lambda: later,
        interval_seconds=60,
        stale_after_seconds=60,
    )
    assert await reconciler.run_once() == 1
    await wait_terminal(api, stuck)

    lines = parse_lines(json_log.getvalue())
    ids = {market, fired, cancelled, stuck}
    check_order_ids(lines, ids)

    def said(order_id: str, logger: str, words: str) -> bool:
        return any(d["logger"] == logger and words in d["message"] for d in about(lines, order_id))

    for order_id in (market, fired, cancelled):
        assert said(order_id, "eterna.application.service", "placed"), order_id
    assert said(cancelled, "eterna.application.service", "cancelled by its owner")
    assert said(fired, "eterna.application.triggers.watcher", "PENDING")  # the watcher's FIRE write
    assert said(stuck, "eterna.application.reconciler", "re-queued")
    summary = [
        d for d in lines if d["logger"] == "eterna.application.reconciler" and "order_ids" in d
    ]
    assert summary[0]["order_ids"] == [stuck]
    for order_id in (market, fired, stuck):
        assert said(order_id, "eterna.application.engine", "CONFIRMED"), order_id
        # taskiq's own line about the task it runs, tagged by the task middleware
        assert said(order_id, "taskiq.receiver.receiver", "Executing task"), order_id


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def _serve(tmp_path: Path) -> AsyncIterator[tuple[str, Path]]:
    port = _free_port()
    env = {
        **os.environ,
        "ETERNA_DATA_DIR": str(tmp_path / "data"),
        "ETERNA_CHAIN_SLOT_MS": "0",
        "ETERNA_LOG_FORMAT": "json",
        "ETERNA_LOG_LEVEL": "INFO",
    }
    err = tmp_path / "serve.err"
    with err.open("wb") as stderr:
        proc = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "eterna", "serve", "--port", str(port)),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient() as client:
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{url}/health")).status_code == 200:
                        break
                assert time.monotonic() < deadline, err.read_text()
                await asyncio.sleep(0.2)
        yield url, err
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 20)


async def test_uvicorn_lines_come_out_as_json_too(tmp_path: Path) -> None:
    async with _serve(tmp_path) as (url, err):
        # The embedded mode generated its secret in the data folder.
        secret = (tmp_path / "data" / "jwt_secret").read_text().strip()
        token = JwtAuth(secret).issue("bob", now=utcnow(), ttl=timedelta(hours=1))
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as client:
            mutation = (
                'mutation { placeOrder(input: {type: MARKET, tokenIn: "SOL", tokenOut: "USDC", '
                'amountIn: "1"}) { ... on OrderPlaced { order { id } } } }'
            )
            answer = await client.post(f"{url}/graphql", json={"query": mutation})
            order_id = answer.json()["data"]["placeOrder"]["order"]["id"]
            for _ in range(100):
                query = f'{{ order(id: "{order_id}") {{ status }} }}'
                status = (await client.post(f"{url}/graphql", json={"query": query})).json()
                if status["data"]["order"]["status"] == "CONFIRMED":
                    break
                await asyncio.sleep(0.05)
    lines = parse_lines(err.read_text())  # also after the shutdown lines
    loggers = {d["logger"] for d in lines}
    assert {"uvicorn.error", "uvicorn.access"} <= loggers, loggers
    assert any("Application startup complete" in d["message"] for d in lines)
    assert any("POST /graphql" in d["message"] for d in lines if d["logger"] == "uvicorn.access")
    check_order_ids(lines, {order_id})
    assert any(d["logger"] == "eterna.application.engine" for d in about(lines, order_id))

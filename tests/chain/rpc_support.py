"""What the JSON-RPC tests share: HttpRpc over the chain app in process, outcomes to compare."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette

from eterna.adapters.localchain.node import LocalNode
from eterna.adapters.localchain.rpc_server import create_chain_app
from eterna.adapters.solana.http_rpc import HttpRpc

BASE_URL = "http://chain.test"


@contextlib.asynccontextmanager
async def http_rpc(node: LocalNode) -> AsyncIterator[tuple[HttpRpc, httpx.AsyncClient]]:
    """Yield an HttpRpc (and its client) talking to the node's app through an ASGI transport."""
    app: Starlette = create_chain_app(node, manage_lifecycle=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=BASE_URL
    ) as client:
        yield HttpRpc(client, BASE_URL + "/"), client


async def outcome(call: Awaitable[Any]) -> tuple[str, Any]:
    """Return ("ok", value) or ("error", class name, message, attributes) of an awaited call."""
    try:
        return "ok", await call
    except Exception as exc:
        details = {
            key: value
            for key, value in vars(exc).items()
            if key in ("code", "message", "data", "simulation")
        }
        return "error", (type(exc).__name__, str(exc), details)


@contextlib.asynccontextmanager
async def served(node: LocalNode) -> AsyncIterator[str]:
    """Serve the node's app with uvicorn on a free local port; yield its HTTP URL."""
    app = create_chain_app(node, manage_lifecycle=False)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", ws="websockets-sansio")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.should_exit = True
        await task
        sock.close()

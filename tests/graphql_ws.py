"""A small graphql-transport-ws / graphql-ws client for tests."""

from __future__ import annotations

import asyncio
import json
from typing import Any, Protocol

TIMEOUT = 20.0


class TextSocket(Protocol):
    """The few websocket operations the client needs."""

    async def send_text(self, data: str) -> None: ...

    async def receive_text(self) -> str: ...


async def _recv(ws: TextSocket, wait: float = TIMEOUT) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.receive_text(), wait))
    return message


async def init(ws: TextSocket, token: str | None) -> dict[str, Any]:
    """Send connection_init with the token and return the server's answer."""
    payload = {"Authorization": f"Bearer {token}"} if token else {}
    await ws.send_text(json.dumps({"type": "connection_init", "payload": payload}))
    return await _recv(ws)


async def collect(
    ws: TextSocket,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    op_id: str = "1",
    legacy: bool = False,
    limit: int | None = None,
    wait: float = TIMEOUT,
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Subscribe and gather data payloads until complete, an error, or limit items.

    Returns the items and the terminating message (None when stopped by the limit).
    """
    start = "start" if legacy else "subscribe"
    data_type = "data" if legacy else "next"
    await ws.send_text(
        json.dumps(
            {"id": op_id, "type": start, "payload": {"query": query, "variables": variables or {}}}
        )
    )
    items: list[dict[str, Any]] = []
    while limit is None or len(items) < limit:
        message = await _recv(ws, wait)
        if message.get("type") in {"ka", "ping", "pong"}:
            continue
        if message.get("id") != op_id:
            continue
        if message["type"] == data_type:
            payload = message["payload"]
            if payload.get("errors"):
                return items, message
            items.append(payload["data"])
        else:
            return items, message
    return items, None

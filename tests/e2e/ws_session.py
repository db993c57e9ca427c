"""Drive one websocket through the in-process app and report how the server ended it."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import httpx
from httpx_ws import AsyncWebSocketSession, WebSocketDisconnect, aconnect_ws


@dataclass
class Ended:
    """How a websocket session ended: the close frame and the messages before it."""

    code: int | None = None
    reason: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)


async def session(
    client: httpx.AsyncClient,
    messages: list[dict[str, Any]],
    *,
    protocol: str = "graphql-transport-ws",
    headers: dict[str, str] | None = None,
    wait: float = 10.0,
) -> Ended:
    """Open a websocket, send the messages, read until the server closes it.

    A session the server still serves after ``wait`` seconds is closed by the client and
    reported with ``code`` None.
    """
    ended = Ended()
    try:
        ws: AsyncWebSocketSession
        async with aconnect_ws(
            "/graphql", client, subprotocols=[protocol], headers=headers or {}
        ) as ws:
            for message in messages:
                await ws.send_text(json.dumps(message))
            async with asyncio.timeout(wait):
                while True:
                    ended.received.append(json.loads(await ws.receive_text()))
    except* WebSocketDisconnect as closed:
        first = closed.exceptions[0]
        if isinstance(first, WebSocketDisconnect):
            ended.code, ended.reason = first.code, first.reason
    except* TimeoutError:
        pass  # still open after ``wait``: ``code`` stays None
    return ended


def init(token: str | None) -> dict[str, Any]:
    """Return a connection_init message carrying the token (none: an empty payload)."""
    return {
        "type": "connection_init",
        "payload": {"Authorization": f"Bearer {token}"} if token else {},
    }

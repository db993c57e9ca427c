"""A request id per HTTP request and websocket: the caller's ``X-Request-ID``, or a new one.

A caller's id is kept when it is well-formed (1-128 of ``A-Z a-z 0-9 . _ : -``, so it can be
logged and echoed without escaping); anything else is replaced, never echoed. The id is
returned in the response's ``X-Request-ID`` header and set as
:data:`eterna.core.logs.current_request` while the request is served, so every log line it
causes carries it (the placement's background announcement too: tasks inherit it).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from eterna.core.logs import current_request

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

HEADER = b"x-request-id"
_WELL_FORMED = re.compile(rb"[A-Za-z0-9._:-]{1,128}")


def request_id_of(headers: list[tuple[bytes, bytes]]) -> str:
    """Return the caller's request id when it is well-formed, else a new one."""
    for name, value in headers:
        if name.lower() == HEADER and _WELL_FORMED.fullmatch(value):
            return value.decode("ascii")
    return uuid.uuid4().hex


class RequestId:
    """ASGI middleware giving each request and websocket its id (logs and response)."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request with its id set; add the id to an HTTP response's headers."""
        if scope["type"] not in {"http", "websocket"}:
            await self._app(scope, receive, send)
            return
        request_id = request_id_of(scope.get("headers") or [])
        token = current_request.set(request_id)
        try:
            if scope["type"] == "http":
                await self._app(scope, receive, _with_header(send, request_id))
            else:
                await self._app(scope, receive, send)
        finally:
            current_request.reset(token)


def _with_header(send: Send, request_id: str) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [h for h in message.get("headers", []) if h[0].lower() != HEADER]
            message["headers"] = [*headers, (HEADER, request_id.encode("ascii"))]
        await send(message)

    return sending

"""A size limit on what a client may send: HTTP request bodies and websocket messages.

Plain ASGI, so it wraps any app. An HTTP body is read up to the limit before the app sees it
(a GraphQL request is small; buffering it costs at most the limit) and refused with 413 when
its Content-Length, or the bytes actually streamed, exceed the limit. A websocket message over
the limit closes the connection with 1009 ("message too big"), as RFC 6455 specifies.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MESSAGE_TOO_BIG = 1009


def replaying(body: bytes, receive: Receive) -> Receive:
    """Return a receive that gives a body already read as one message, then defers to receive."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


class BodySizeLimit:
    """Refuse HTTP bodies and websocket messages larger than ``max_bytes``."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self._app = app
        self._max = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request within the limit."""
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
        else:
            await self._app(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        declared = _content_length(scope)
        if declared is not None and declared > self._max:
            await self._too_large(send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away before sending its body
            body: bytes = message.get("body", b"")
            size += len(body)
            if size > self._max:
                await self._too_large(send)
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        await self._app(scope, replaying(b"".join(chunks), receive), send)

    async def _too_large(self, send: Send) -> None:
        body = json.dumps(
            {
                "errors": [
                    {
                        "message": f"request body larger than {self._max} bytes",
                        "extensions": {"code": "PAYLOAD_TOO_LARGE"},
                    }
                ]
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        closed = False

        async def checked_receive() -> Message:
            nonlocal closed
            message = await receive()
            if message["type"] == "websocket.receive":
                data = message.get("bytes") or message.get("text") or ""
                size = len(data) if isinstance(data, bytes) else len(data.encode())
                if size > self._max:
                    closed = True
                    await send(
                        {
                            "type": "websocket.close",
                            "code": MESSAGE_TOO_BIG,
                            "reason": f"message larger than {self._max} bytes",
                        }
                    )
                    return {"type": "websocket.disconnect", "code": MESSAGE_TOO_BIG}
            return message

        async def guarded_send(message: Message) -> None:
            # After our close, the app may still try to answer or close: drop it.
            if not closed:
                await send(message)

        await self._app(scope, checked_receive, guarded_send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None

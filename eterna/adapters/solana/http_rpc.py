"""A Solana node's JSON-RPC over HTTP, and its subscriptions over a websocket.

One ``httpx.AsyncClient`` per process is passed in. Library errors are translated here and
nowhere else: a timeout, a refused connection, HTTP 429 or 5xx, or a lost websocket become
:class:`RpcUnavailableError` (transient); the node's error objects become the typed errors
of :mod:`eterna.adapters.solana.rpc_errors`. Nothing from httpx or websockets leaks out.

The websocket URL defaults to the HTTP one with a ws scheme (``eterna chain`` and the hosted
providers serve both on one port); ``solana-test-validator`` listens on the port after the
HTTP one, so pass ``ws_url`` for it. Each subscription context opens its own websocket.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import httpx
import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from eterna.adapters.solana.rpc_batch import CallBatcher
from eterna.adapters.solana.rpc_channel import ChannelSubscriptions
from eterna.adapters.solana.rpc_client import RpcClient, SubscribeRequest
from eterna.adapters.solana.rpc_errors import InvalidResponseError, RpcUnavailableError
from eterna.core.fair_gate import FairGate

_HEADERS = {"content-type": "application/json"}
_TOO_MANY_REQUESTS = 429
_SERVER_ERROR = 500
_MAX_FRAME = 64 * 1024 * 1024  # a programNotification carries a whole account
# How long leaving a subscription waits for the node to confirm the close. The subscriptions
# end with the connection anyway; websockets' default (10 s) held a stopping worker that long
# when a node left the handshake unanswered after a burst of unsubscribes.
_CLOSE_SECONDS = 1.0


def websocket_url(http_url: str) -> str:
    """Return the websocket URL served beside an HTTP RPC URL (same host and port)."""
    if http_url.startswith("https://"):
        return "wss://" + http_url.removeprefix("https://")
    if http_url.startswith("http://"):
        return "ws://" + http_url.removeprefix("http://")
    return http_url


class Poster(Protocol):
    """Posts a body and returns the status and the answer (httpx's errors on failure)."""

    async def post(
        self, url: str, body: bytes, headers: dict[str, str], within_seconds: float
    ) -> tuple[int, bytes]:
        """POST ``body`` to ``url``."""
        ...


class HttpRpc(RpcClient):
    """SolanaRpc over HTTP POST and websockets; see the module docstring."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        url: str,
        *,
        ws_url: str | None = None,
        timeout_seconds: float = 10.0,
        gate: FairGate | None = None,
        poster: Poster | None = None,
        batch: int = 32,
    ) -> None:
        self._http = http
        # The lean path for the posts (AiohttpTransport.post), when the process has one.
        self._poster = poster
        self._url = url
        self._ws_url = ws_url or websocket_url(url)
        self._timeout = timeout_seconds
        self._gate = gate
        self._calls = CallBatcher(self._exchange, most=batch)

    async def call(self, method: str, params: list[Any]) -> Any:
        """Send one JSON-RPC request and return its result; errors are typed.

        Calls made in the same turn of the event loop share one POST, up to ``batch`` of
        them (:mod:`eterna.adapters.solana.rpc_batch`). With a ``gate``, at most its
        capacity of calls are under way at once, and a call that waits is served in its
        user's turn (:mod:`eterna.core.fair_gate`); a call's slot is given back when its
        answer arrives, not when its caller next runs, which on a busy loop is later. With
        a ``poster``, the body goes through it rather than through the httpx client.
        """
        if self._gate is None:
            return await self._calls.call(method, params)
        await self._gate.acquire()
        return await self._calls.call(method, params, answered=self._gate.release)

    async def _exchange(self, body: Any) -> tuple[int, Any]:
        try:
            status, content = await self._post(orjson.dumps(body))
        except httpx.TimeoutException as exc:
            raise RpcUnavailableError(f"no answer in {self._timeout} s") from exc
        except httpx.HTTPError as exc:
            raise RpcUnavailableError(f"{type(exc).__name__}: {exc}") from exc
        if status == _TOO_MANY_REQUESTS or status >= _SERVER_ERROR:
            return status, None
        try:
            return status, orjson.loads(content)
        except orjson.JSONDecodeError as exc:
            raise InvalidResponseError(f"HTTP {status}, not JSON") from exc

    async def _post(self, body: bytes) -> tuple[int, bytes]:
        if self._poster is not None:
            return await self._poster.post(self._url, body, _HEADERS, self._timeout)
        response = await self._http.post(
            self._url, content=body, headers=_HEADERS, timeout=self._timeout
        )
        return response.status_code, response.content

    def subscribe(self, requests: Sequence[SubscribeRequest]) -> WebsocketSubscriptions:
        """Open the subscriptions on a new websocket; leaving closes it."""
        return WebsocketSubscriptions(self._ws_url, requests, timeout_seconds=self._timeout)


class WebsocketSubscriptions(ChannelSubscriptions):
    """Subscriptions on a websocket of their own."""

    def __init__(
        self, url: str, requests: Sequence[SubscribeRequest], *, timeout_seconds: float
    ) -> None:
        super().__init__(requests, timeout_seconds=timeout_seconds)
        self._url = url
        self._ws: ClientConnection | None = None

    async def open_channel(self) -> None:
        """Connect the websocket."""
        try:
            self._ws = await connect(
                self._url,
                open_timeout=self._timeout,
                close_timeout=_CLOSE_SECONDS,
                max_size=_MAX_FRAME,
                compression=None,
            )
        except (OSError, WebSocketException, TimeoutError) as exc:
            raise RpcUnavailableError(f"websocket {self._url}: {type(exc).__name__}") from exc

    async def send(self, message: dict[str, Any]) -> None:
        """Send one JSON message as a text frame."""
        if self._ws is None:
            raise RpcUnavailableError(f"websocket {self._url}: not connected")
        try:
            await self._ws.send(orjson.dumps(message).decode())
        except (ConnectionClosed, OSError) as exc:
            raise RpcUnavailableError(f"websocket {self._url}: closed") from exc

    async def receive(self) -> dict[str, Any]:
        """Return the next JSON message."""
        if self._ws is None:
            raise RpcUnavailableError(f"websocket {self._url}: not connected")
        try:
            frame = await self._ws.recv()
        except (ConnectionClosed, OSError) as exc:
            raise RpcUnavailableError(f"websocket {self._url}: closed") from exc
        try:
            message = orjson.loads(frame)
        except orjson.JSONDecodeError as exc:
            raise InvalidResponseError(f"websocket {self._url}: not JSON") from exc
        if not isinstance(message, dict):
            raise InvalidResponseError(f"websocket {self._url}: {message!r:.200}")
        return message

    async def close_channel(self) -> None:
        """Close the websocket."""
        if self._ws is not None:
            await self._ws.close()

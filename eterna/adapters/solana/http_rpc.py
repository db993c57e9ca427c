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

import asyncio
import itertools
import logging
from collections import deque
from collections.abc import AsyncIterator, Sequence
from types import TracebackType
from typing import Any

import httpx
import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from eterna.adapters.solana.rpc_client import Notifications, RpcClient, SubscribeRequest
from eterna.adapters.solana.rpc_codec import decode_error
from eterna.adapters.solana.rpc_errors import InvalidResponseError, RpcUnavailableError

log = logging.getLogger(__name__)

_HEADERS = {"content-type": "application/json"}
_TOO_MANY_REQUESTS = 429
_SERVER_ERROR = 500
_MAX_FRAME = 64 * 1024 * 1024  # a programNotification carries a whole account


def websocket_url(http_url: str) -> str:
    """Return the websocket URL served beside an HTTP RPC URL (same host and port)."""
    if http_url.startswith("https://"):
        return "wss://" + http_url.removeprefix("https://")
    if http_url.startswith("http://"):
        return "ws://" + http_url.removeprefix("http://")
    return http_url


class HttpRpc(RpcClient):
    """SolanaRpc over HTTP POST and websockets; see the module docstring."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        url: str,
        *,
        ws_url: str | None = None,
        timeout_seconds: float = 10.0,
    ) -> None:
        self._http = http
        self._url = url
        self._ws_url = ws_url or websocket_url(url)
        self._timeout = timeout_seconds
        self._ids = itertools.count(1)

    async def call(self, method: str, params: list[Any]) -> Any:
        """POST one JSON-RPC request and return its result; errors are typed."""
        body = orjson.dumps(
            {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}
        )
        try:
            response = await self._http.post(
                self._url, content=body, headers=_HEADERS, timeout=self._timeout
            )
        except httpx.TimeoutException as exc:
            raise RpcUnavailableError(f"{method}: no answer in {self._timeout} s") from exc
        except httpx.HTTPError as exc:
            raise RpcUnavailableError(f"{method}: {type(exc).__name__}: {exc}") from exc
        status = response.status_code
        if status == _TOO_MANY_REQUESTS or status >= _SERVER_ERROR:
            raise RpcUnavailableError(f"{method}: HTTP {status}")
        try:
            payload = orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            raise InvalidResponseError(f"{method}: HTTP {status}, not JSON") from exc
        if isinstance(payload, dict) and payload.get("error") is not None:
            raise decode_error(payload["error"])
        if not isinstance(payload, dict) or "result" not in payload:
            raise InvalidResponseError(f"{method}: HTTP {status}, no result: {payload!r:.200}")
        return payload["result"]

    def subscribe(self, requests: Sequence[SubscribeRequest]) -> WebsocketSubscriptions:
        """Open the subscriptions on a new websocket; leaving closes it."""
        return WebsocketSubscriptions(self._ws_url, requests, timeout_seconds=self._timeout)


class WebsocketSubscriptions:
    """Subscriptions on one websocket: confirmed on entry, unsubscribed on exit."""

    def __init__(
        self, url: str, requests: Sequence[SubscribeRequest], *, timeout_seconds: float
    ) -> None:
        self._url = url
        self._requests = list(requests)
        self._timeout = timeout_seconds
        self._ws: ClientConnection | None = None
        self._ids: tuple[int, ...] = ()
        self._early: deque[tuple[int, Any]] = deque()
        self._closing = False

    @property
    def ids(self) -> tuple[int, ...]:
        """Return the subscription ids, in request order."""
        return self._ids

    async def __aenter__(self) -> Notifications:
        try:
            self._ws = await connect(
                self._url, open_timeout=self._timeout, max_size=_MAX_FRAME, compression=None
            )
        except (OSError, WebSocketException, TimeoutError) as exc:
            raise RpcUnavailableError(f"websocket {self._url}: {type(exc).__name__}") from exc
        try:
            async with asyncio.timeout(self._timeout):
                self._ids = await self._confirm(self._ws)
        except BaseException:
            await self._ws.close()
            raise
        return self

    async def _confirm(self, ws: ClientConnection) -> tuple[int, ...]:
        """Send every subscribe request; wait for each answer, keeping early notifications."""
        for index, request in enumerate(self._requests):
            head = {"jsonrpc": "2.0", "id": index, "method": request.method}
            await self._send(ws, {**head, "params": request.params})
        answers: dict[int, int] = {}
        while len(answers) < len(self._requests):
            message = await self._receive(ws)
            if "method" in message:
                self._early.append(_notification(message))
                continue
            if message.get("error") is not None:
                raise decode_error(message["error"])
            answers[int(message["id"])] = int(message["result"])
        return tuple(answers[i] for i in range(len(self._requests)))

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        ws, self._closing = self._ws, True
        if ws is None:
            return
        try:
            # Unsubscribing before closing is what a node expects from a polite client; the
            # answers are not awaited, closing the socket ends the subscriptions anyway.
            for n, (request, sub) in enumerate(zip(self._requests, self._ids, strict=True)):
                unsubscribe = {"jsonrpc": "2.0", "id": len(self._requests) + n}
                await ws.send(
                    orjson.dumps({**unsubscribe, "method": request.unsubscribe, "params": [sub]})
                )
        except (ConnectionClosed, OSError):
            log.debug("websocket %s gone before unsubscribing", self._url)
        finally:
            await ws.close()

    async def __aiter__(self) -> AsyncIterator[tuple[int, Any]]:
        """Yield each notification's subscription id and result until the context ends."""
        ws = self._ws
        if ws is None:
            raise RuntimeError("enter the subscriptions before iterating them")
        while self._early:
            yield self._early.popleft()
        while True:
            try:
                message = await self._receive(ws)
            except RpcUnavailableError:
                if self._closing:
                    return
                raise
            if "method" in message:
                yield _notification(message)

    async def _send(self, ws: ClientConnection, message: dict[str, Any]) -> None:
        try:
            await ws.send(orjson.dumps(message).decode())
        except (ConnectionClosed, OSError) as exc:
            raise RpcUnavailableError(f"websocket {self._url}: closed") from exc

    async def _receive(self, ws: ClientConnection) -> dict[str, Any]:
        try:
            frame = await ws.recv()
        except (ConnectionClosed, OSError) as exc:
            raise RpcUnavailableError(f"websocket {self._url}: closed") from exc
        try:
            message = orjson.loads(frame)
        except orjson.JSONDecodeError as exc:
            raise InvalidResponseError(f"websocket {self._url}: not JSON") from exc
        if not isinstance(message, dict):
            raise InvalidResponseError(f"websocket {self._url}: {message!r:.200}")
        return message


def _notification(message: dict[str, Any]) -> tuple[int, Any]:
    """Return a notification's subscription id and result."""
    try:
        params = message["params"]
        return int(params["subscription"]), params["result"]
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidResponseError(f"a malformed notification {message!r:.200}") from exc

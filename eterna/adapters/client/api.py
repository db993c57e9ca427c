"""Eterna's public API from a terminal: over HTTP, and graphql-transport-ws for steps.

Queries and mutations go over HTTP (httpx), subscriptions over websockets. Every failure
is a :class:`ClientError` with a code: the API's own (``OrderRejected.code``,
``extensions.code``, such as ``UNAUTHENTICATED`` or ``NOT_FOUND``) or one of the client's
for what never reached the API (``CONNECTION_FAILED``, ``HTTP_ERROR``, ``BAD_RESPONSE``,
``CONNECTION_CLOSED``). Nothing from httpx or websockets leaks out.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.typing import Subprotocol

from eterna.adapters.client import operations as ops
from eterna.domain.errors import EternaError

PROTOCOL = Subprotocol("graphql-transport-ws")
# Close codes of graphql-transport-ws that mean the credentials were refused.
_AUTH_CLOSE_CODES = {4401, 4403}

Json = dict[str, Any]


class ClientError(EternaError):
    """A request that failed, with the code to switch on and a message for people."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.field = field

    def __str__(self) -> str:
        where = f" (field {self.field})" if self.field else ""
        return f"{self.code}: {self.message}{where}"


def graphql_url(url: str) -> str:
    """Return the API's /graphql address for a base address (with or without /graphql)."""
    base = url.rstrip("/")
    return base if base.endswith("/graphql") else base + "/graphql"


def _raise_for_errors(body: Json) -> None:
    """Raise the first GraphQL error of a response as a ClientError with its code."""
    errors = body.get("errors")
    if errors:
        first = errors[0]
        extensions = first.get("extensions") or {}
        raise ClientError(
            str(extensions.get("code", "GRAPHQL_ERROR")),
            str(first.get("message", "unknown error")),
            extensions.get("field"),
        )


def _refusal(result: Json) -> ClientError:
    """Turn a union's rejection member into an error."""
    message = str(result.get("message", ""))
    if result.get("retryAfterSeconds") is not None:
        message += f" (retry after {result['retryAfterSeconds']} s)"
    return ClientError(str(result.get("code", "REJECTED")), message, result.get("field"))


class EternaClient:
    """The public API of one Eterna server, as one user (the token's)."""

    def __init__(self, url: str, token: str | None, *, timeout: float = 15.0) -> None:
        self.url = graphql_url(url)
        self._token = token
        self._timeout = timeout

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"} if self._token else {}

    async def execute(self, query: str, variables: Json) -> Json:
        """Run one query or mutation and return its data, or raise ClientError."""
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as http:
                response = await http.post(
                    self.url,
                    json={"query": query, "variables": variables},
                    headers=self._headers(),
                )
        except httpx.HTTPError as exc:
            raise ClientError(
                "CONNECTION_FAILED", f"cannot reach {self.url}: {exc or type(exc).__name__}"
            ) from None
        try:
            body = response.json()
        except ValueError:
            raise ClientError(
                "HTTP_ERROR", f"{self.url} answered {response.status_code}, not GraphQL"
            ) from None
        if not isinstance(body, dict):
            raise ClientError("BAD_RESPONSE", "the answer is not a GraphQL response")
        _raise_for_errors(body)
        data = body.get("data")
        if not isinstance(data, dict):
            raise ClientError("BAD_RESPONSE", f"no data in the answer ({response.status_code})")
        return data

    async def place(self, order: Json) -> Json:
        """Place one order (an OrderInput) and return it, or raise its rejection."""
        result = (await self.execute(ops.PLACE, {"input": order}))["placeOrder"]
        if result["__typename"] != "OrderPlaced":
            raise _refusal(result)
        placed: Json = result["order"]
        return placed

    async def orders(
        self,
        *,
        first: int | None = None,
        after: str | None = None,
        status: str | None = None,
        order_type: str | None = None,
    ) -> Json:
        """Return one page of the user's orders (``edges`` and ``pageInfo``), newest first."""
        variables = {"first": first, "after": after, "status": status, "type": order_type}
        page: Json = (await self.execute(ops.LIST, variables))["orders"]
        return page

    async def cancel(self, order_id: str) -> Json:
        """Cancel one order and return it, or raise why it was not cancelled."""
        result = (await self.execute(ops.CANCEL, {"id": order_id}))["cancelOrder"]
        if result["__typename"] != "OrderCancelled":
            raise _refusal(result)
        cancelled: Json = result["order"]
        return cancelled

    async def quote(
        self, token_in: str, token_out: str, amount_in: str, slippage_bps: int | None
    ) -> Json:
        """Return the route a market order would take now and every venue's quote."""
        variables = {
            "tokenIn": token_in,
            "tokenOut": token_out,
            "amountIn": amount_in,
            "slippageBps": slippage_bps,
        }
        result: Json = (await self.execute(ops.QUOTE, variables))["quote"]
        if result["__typename"] != "RouteQuote":
            raise _refusal(result)
        return result

    async def watch(self, order_id: str, after_seq: int = 0) -> AsyncIterator[Json]:
        """Yield the order's steps after ``after_seq``, live, until its terminal step."""
        ws_url = "ws" + self.url.removeprefix("http")
        try:
            async with connect(
                ws_url, subprotocols=[PROTOCOL], open_timeout=self._timeout
            ) as socket:
                await _handshake(socket, self._headers())
                subscribe = {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {
                        "query": ops.WATCH,
                        "variables": {"orderId": order_id, "afterSeq": after_seq},
                    },
                }
                await socket.send(json.dumps(subscribe))
                async for event in _events(socket):
                    yield event
        except ConnectionClosed as exc:
            raise _closed(exc) from None
        except (OSError, InvalidHandshake, InvalidURI, TimeoutError) as exc:
            raise ClientError(
                "CONNECTION_FAILED", f"cannot reach {ws_url}: {exc or type(exc).__name__}"
            ) from None


async def _handshake(socket: ClientConnection, headers: dict[str, str]) -> None:
    """Send connection_init with the credentials and wait for the acknowledgement."""
    await socket.send(json.dumps({"type": "connection_init", "payload": headers}))
    while True:
        message = json.loads(await socket.recv())
        if message.get("type") == "connection_ack":
            return
        if message.get("type") == "ping":
            await socket.send(json.dumps({"type": "pong"}))


async def _events(socket: ClientConnection) -> AsyncIterator[Json]:
    """Yield the data of each ``next`` until ``complete``; raise an ``error`` as ClientError."""
    while True:
        message = json.loads(await socket.recv())
        kind = message.get("type")
        if kind == "ping":
            await socket.send(json.dumps({"type": "pong"}))
        elif kind == "next":
            payload = message.get("payload") or {}
            _raise_for_errors(payload)
            yield payload["data"]["orderEvents"]
        elif kind == "error":
            _raise_for_errors({"errors": message.get("payload") or [{}]})
        elif kind == "complete":
            return


def _closed(exc: ConnectionClosed) -> ClientError:
    """Say why the server closed the websocket."""
    code = exc.rcvd.code if exc.rcvd else 1006
    reason = exc.rcvd.reason if exc.rcvd and exc.rcvd.reason else "no reason given"
    if code in _AUTH_CLOSE_CODES:
        return ClientError("UNAUTHENTICATED", f"the server refused the token ({code}: {reason})")
    return ClientError("CONNECTION_CLOSED", f"the server closed the connection ({code}: {reason})")

"""An httpx transport that sends requests through aiohttp's client: JSON-RPC at less CPU.

A worker makes several JSON-RPC calls per order. Profiles on ``eterna chain`` showed most of
its CPU in httpx's own connection pool (httpcore scans every connection for each request)
rather than in anything the call needs; aiohttp's client parses HTTP in C and keeps its
connections alive with little bookkeeping. :class:`HttpRpc` keeps speaking httpx (tests give
it an ASGI transport); this transport only moves the bytes. Errors become httpx's, so the
RPC client translates them as before.

Building httpx's request and response objects around each call still cost more than the
call itself: 415 µs of the client's CPU per ``getSlot`` against ``eterna chain``, 171 µs
through aiohttp alone. :meth:`AiohttpTransport.post` is that lean path, which
:class:`~eterna.adapters.solana.http_rpc.HttpRpc` takes for its JSON-RPC posts when given the
transport; the session and its connections are the same.
"""

from __future__ import annotations

import aiohttp
import httpx


class AiohttpTransport(httpx.AsyncBaseTransport):
    """Send httpx requests with one aiohttp session, created on the first request."""

    def __init__(self, *, max_connections: int = 16) -> None:
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    def _live(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._max_connections)
            # Timeouts are the caller's (httpx's per-request timeout is passed on below).
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=aiohttp.ClientTimeout(total=None)
            )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send the request and read the whole answer.

        :raises httpx.TimeoutException: when it takes longer than the request's timeout.
        :raises httpx.TransportError: when the connection fails.
        """
        timeout = request.extensions.get("timeout", {}).get("read")
        body = await request.aread()
        try:
            async with self._live().request(
                request.method,
                str(request.url),
                data=body,
                headers=list(request.headers.multi_items()),
                timeout=aiohttp.ClientTimeout(total=timeout),
                allow_redirects=False,
                auto_decompress=True,
            ) as answer:
                content = await answer.read()
                return httpx.Response(
                    answer.status,
                    headers=[
                        (k, v)
                        for k, v in answer.headers.items()
                        if k.lower() not in ("content-encoding", "transfer-encoding")
                    ],
                    content=content,
                    request=request,
                )
        except TimeoutError as exc:
            raise httpx.ReadTimeout(f"no answer in {timeout} s", request=request) from exc
        except aiohttp.ClientError as exc:
            raise httpx.ConnectError(f"{type(exc).__name__}: {exc}", request=request) from exc

    async def post(
        self, url: str, body: bytes, headers: dict[str, str], within_seconds: float
    ) -> tuple[int, bytes]:
        """POST a body and return the status and the whole answer, without httpx's objects.

        :raises httpx.TimeoutException: when it takes longer than ``within_seconds``.
        :raises httpx.TransportError: when the connection fails.
        """
        try:
            async with self._live().post(
                url,
                data=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=within_seconds),
                allow_redirects=False,
            ) as answer:
                return answer.status, await answer.read()
        except TimeoutError as exc:
            raise httpx.ReadTimeout(f"no answer in {within_seconds} s") from exc
        except aiohttp.ClientError as exc:
            raise httpx.ConnectError(f"{type(exc).__name__}: {exc}") from exc

    async def aclose(self) -> None:
        """Close the session and its connections."""
        if self._session is not None:
            await self._session.close()
            self._session = None

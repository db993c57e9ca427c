"""Serving ``/metrics``: an ASGI app for the API's routes, and a small server for workers.

A worker has no HTTP server of its own, so it runs one just for ``/metrics``, on the first
free port of ``ETERNA_METRICS_PORT`` .. ``+ PORT_TRIES - 1``: several workers on one host
need no configuration each (they take 9464, 9465, ... in start order), and a worker given a
port of its own gets exactly that one when it is free. Counters are per process anyway, so
which worker answers on which port does not matter to Prometheus's sums.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from typing import Any

import uvicorn
from prometheus_client import make_asgi_app

from eterna.adapters.metrics.families import Metrics

log = logging.getLogger(__name__)

PORT_TRIES = 16
# The ASGI types, as Starlette and uvicorn spell them.
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class MetricsApp:
    """An ASGI app answering GET ``/metrics`` (any path, when mounted) in Prometheus's formats."""

    def __init__(self, metrics: Metrics, *, path: str | None = None) -> None:
        """Serve every request, or only those for ``path`` (404 elsewhere)."""
        self._metrics = metrics
        self._path = path
        self._exposition = make_asgi_app(metrics.registry)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refresh the scrape-time gauges and answer with every family."""
        if scope.get("type") != "http":
            return  # lifespan messages: nothing to set up
        if self._path is not None and scope.get("path") != self._path:
            await _plain(send, 404, b"not found: metrics are at /metrics\n")
            return
        if scope.get("method") not in {"GET", "HEAD"}:
            await _plain(send, 405, b"method not allowed\n")
            return
        await self._metrics.refresh()
        await self._exposition(scope, receive, send)


async def _plain(send: Send, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"text/plain; charset=utf-8")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class _Server(uvicorn.Server):
    """uvicorn's server without its signal handlers: the worker handles SIGTERM itself."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Leave the process's signal handling alone."""
        yield


def bind_first_free(host: str, port: int, tries: int = PORT_TRIES) -> socket.socket:
    """Return a listening socket on the first free port of port .. port + tries - 1.

    :raises OSError: when every one of them is taken.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    last: OSError | None = None
    for candidate in range(port, port + tries):
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.bind((host, candidate))
            # Listen at once: two sockets merely bound may share a port on Linux.
            sock.listen(128)
        except OSError as exc:
            sock.close()
            last = exc
            continue
        return sock
    raise OSError(f"no free port for /metrics in {port}..{port + tries - 1} on {host}: {last}")


class MetricsServer:
    """A small HTTP server for ``/metrics`` in a process that has no other."""

    def __init__(self, metrics: Metrics, host: str, port: int) -> None:
        self._app = MetricsApp(metrics, path="/metrics")
        self._host = host
        self._first_port = port
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None
        self.port: int | None = None

    async def start(self) -> int:
        """Bind the first free port and serve; return the port.

        :raises OSError: when no port of the range is free.
        """
        sock = bind_first_free(self._host, self._first_port)
        self.port = int(sock.getsockname()[1])
        config = uvicorn.Config(
            self._app, lifespan="off", log_config=None, access_log=False, ws="none"
        )
        self._server = _Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]), name="metrics")
        while not self._server.started:
            if self._task.done():  # it failed before it served: say why
                await self._task
                raise OSError("the metrics server stopped at once")
            await asyncio.sleep(0.01)
        log.info("metrics on http://%s:%d/metrics", self._host, self.port)
        return self.port

    async def stop(self) -> None:
        """Stop serving."""
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._server = self._task = None

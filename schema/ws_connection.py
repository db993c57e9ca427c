"""One GraphQL websocket: frames in and out, its authentication, its running operations.

Both protocols served at ``/graphql`` (graphql-transport-ws and the legacy graphql-ws) are
ours, on strawberry's public ``Schema.stream`` and ``Schema.subscribe``: what a connection
must do besides (close with a reason that says why, refuse malformed messages, time out a
connection that never sends connection_init, bound its operations) is not something
strawberry's handlers let an application change through a documented hook.

:class:`Connection` holds what the two share; :mod:`schema.ws_transport` and
:mod:`schema.ws_legacy` speak each protocol.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
from graphql import GraphQLError
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.types import ExecutionResult

from eterna.domain.errors import EternaError
from schema import EternaSchema
from schema.context import Context

log = logging.getLogger("eterna.api")

MAX_OPERATION_ID_LENGTH = 128
MAX_CLOSE_REASON = 123  # bytes, RFC 6455 section 5.5
_DISCONNECTED = (WebSocketDisconnect, RuntimeError, OSError)


class InitRefusedError(EternaError):
    """connection_init is refused (the context's ``refusal`` says why, in the close frame)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Host(Protocol):
    """What a connection needs from the endpoint serving it."""

    schema: EternaSchema

    async def on_ws_connect(self, context: Context) -> Mapping[str, object] | None:
        """Authenticate connection_init; return the ack's payload.

        :raises InitRefusedError: to refuse the connection.
        """
        ...


@dataclass(frozen=True)
class Limits:
    """A connection's bounds: the wait for connection_init, and operations at once."""

    init_timeout_seconds: float = 5.0
    max_operations: int = 20


def is_malformed(message: object, *, start: str, stop: str) -> bool:
    """Tell whether a message lacks the shape its type promises (a dict id, a string payload)."""
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return True
    kind = message["type"]
    if kind in (start, stop):
        op_id = message.get("id")
        if not isinstance(op_id, str) or not 0 < len(op_id) <= MAX_OPERATION_ID_LENGTH:
            return True
    if kind != start:
        return False
    payload = message.get("payload")
    return not (
        isinstance(payload, dict)
        and isinstance(payload.get("query"), str)
        and isinstance(payload.get("variables", {}), dict | None)
        and isinstance(payload.get("operationName"), str | None)
        and isinstance(payload.get("extensions", {}), dict | None)
    )


def result_payload(result: ExecutionResult) -> dict[str, object]:
    """Return the wire form of one result: data, and errors and extensions when there are."""
    payload: dict[str, object] = {"data": result.data}
    if result.errors:
        payload["errors"] = [error.formatted for error in result.errors]
    if result.extensions:
        payload["extensions"] = result.extensions
    return payload


def errors_payload(errors: list[GraphQLError]) -> list[dict[str, Any]]:
    """Return errors in their wire form."""
    return [dict(error.formatted) for error in errors]


class Connection:
    """A websocket after its handshake, speaking one protocol (subclasses say which)."""

    def __init__(self, ws: WebSocket, host: Host, context: Context, limits: Limits) -> None:
        self.ws = ws
        self.host = host
        self.context = context
        self.limits = limits
        self.init_received = False
        self.acknowledged = False
        self.closed = False
        self.operations: dict[str, asyncio.Task[None]] = {}
        self._timeout: asyncio.Task[None] | None = None

    async def run(self) -> None:
        """Serve the connection until either side closes it."""
        timer = asyncio.get_running_loop().call_later(
            self.limits.init_timeout_seconds, self._init_timed_out
        )
        try:
            while not self.closed:
                message = await self.ws.receive()
                if message["type"] == "websocket.disconnect":
                    self.closed = True
                    break
                text = message.get("text")
                if text is None:
                    await self.on_binary()
                    continue
                try:
                    decoded = orjson.loads(text)
                except (ValueError, RecursionError):
                    await self.on_not_json()
                    continue
                await self.handle(decoded)
        except _DISCONNECTED:
            self.closed = True
        except Exception:  # a fault of ours: the client learns no more than that
            log.exception("websocket connection failed")
            await self.close(1011, "Internal error")
        finally:
            timer.cancel()
            await self._end_operations()

    async def handle(self, message: Any) -> None:
        """Handle one decoded message."""
        raise NotImplementedError

    async def on_binary(self) -> None:
        """Answer a binary frame (the protocols are text only)."""
        raise NotImplementedError

    async def on_not_json(self) -> None:
        """Answer a text frame that is not JSON."""
        raise NotImplementedError

    async def send(self, frame: Mapping[str, object]) -> None:
        """Send a frame, unless the connection is gone."""
        if self.closed:
            return
        try:
            await self.ws.send_text(orjson.dumps(frame).decode())
        except _DISCONNECTED:
            self.closed = True

    async def close(self, code: int, reason: str) -> None:
        """Close the connection; a refusal of connection_init says why in the reason."""
        if self.closed:
            return
        self.closed = True
        if self.context.refusal:
            reason = f"{reason or 'Forbidden'}: {self.context.refusal}"
        reason = reason.encode()[:MAX_CLOSE_REASON].decode(errors="ignore")
        with contextlib.suppress(*_DISCONNECTED):
            await self.ws.close(code, reason)

    async def authenticate(self, payload: dict[str, Any] | None) -> Mapping[str, object] | None:
        """Hand connection_init's payload to the host; return the ack's payload.

        :raises InitRefusedError: when the host refuses the connection.
        """
        self.context.connection_params = payload
        return await self.host.on_ws_connect(self.context)

    async def acknowledge(self, ack: Mapping[str, object] | None) -> None:
        """Send connection_ack (with the host's payload, if any); operations may start."""
        frame: dict[str, object] = {"type": "connection_ack"}
        if ack is not None:
            frame["payload"] = ack
        await self.send(frame)
        self.acknowledged = True

    def start(self, op_id: str, work: Coroutine[Any, Any, None]) -> None:
        """Run an operation in a task of its own, under its id."""
        task = asyncio.create_task(self._guarded(op_id, work), name=f"graphql-ws-{op_id}")
        self.operations[op_id] = task

    async def _guarded(self, op_id: str, work: Coroutine[Any, Any, None]) -> None:
        """Run an operation; one that fails is logged, completed and its id freed."""
        try:
            await work
        except Exception:
            log.exception("websocket operation %s failed", op_id)
            self.forget(op_id)
            await self.send({"type": "complete", "id": op_id})

    def forget(self, op_id: str) -> None:
        """Free an operation's id once its last frame is due (or it was stopped)."""
        task = self.operations.get(op_id)
        if task is asyncio.current_task() or (task is not None and task.done()):
            del self.operations[op_id]

    async def stop(self, op_id: str) -> None:
        """Stop an operation and wait until it has cleaned up."""
        task = self.operations.pop(op_id, None)
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await task

    def _init_timed_out(self) -> None:
        if not self.init_received and not self.closed:
            self._timeout = asyncio.create_task(
                self.close(4408, "Connection initialisation timeout")
            )

    async def _end_operations(self) -> None:
        tasks = list(self.operations.values())
        self.operations.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await task
        if self._timeout is not None:
            with contextlib.suppress(*_DISCONNECTED):
                await self._timeout

"""The ASGI GraphQL endpoint: HTTP, both websocket protocols, and authentication."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
from collections.abc import AsyncGenerator, Mapping, Sequence
from datetime import timedelta
from typing import Any, NoReturn

import orjson
from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.async_base_view import AsyncWebSocketAdapter
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import Message
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import OperationMessage

from eterna.adapters.auth import AuthError, JwtAuth
from eterna.adapters.web.connection_limits import OpenConnections
from eterna.application.read_budgets import ReadBudgets
from eterna.application.service import OrderService
from schema import EternaSchema
from schema.context import Context
from schema.playground import playground_html

log = logging.getLogger("eterna.api")

MAX_OPERATION_ID_LENGTH = 128
MAX_CLOSE_REASON = 123  # bytes, RFC 6455 section 5.5


def is_malformed(message: object, *, start: str, stop: str) -> bool:
    """Tell whether a websocket message lacks the shape its type promises.

    strawberry's handlers index messages directly; a list, a dict id or a string payload
    would raise inside them. Checking the shape first turns such input into a 4400 close.
    """
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


class ExplainedClose(AsyncWebSocketAdapter):
    """A connection's websocket whose close frame says why connection_init was refused.

    strawberry closes a refused connection_init with a fixed reason (4403 "Forbidden" on
    graphql-transport-ws, 1011 and none on graphql-ws); the context carries ours.
    """

    def __init__(self, inner: AsyncWebSocketAdapter, context: Context) -> None:
        super().__init__(inner.view)
        self._inner = inner
        self._context = context

    def iter_json(self, *, ignore_parsing_errors: bool = False) -> AsyncGenerator[object, None]:
        """Return the incoming messages, decoded."""
        return self._inner.iter_json(ignore_parsing_errors=ignore_parsing_errors)

    async def send_json(self, message: Mapping[str, object]) -> None:
        """Send a message."""
        await self._inner.send_json(message)

    async def close(self, code: int, reason: str) -> None:
        """Close, with the refusal's reason when there is one."""
        if self._context.refusal:
            reason = f"{reason or 'Forbidden'}: {self._context.refusal}"
        # A close frame carries at most 123 bytes of reason.
        await self._inner.close(code, reason.encode()[:MAX_CLOSE_REASON].decode(errors="ignore"))


def _client(request: Request | WebSocket) -> str:
    """Return the client's address (as the client-address middleware resolved it) for logs."""
    return request.client.host if request.client else "unknown"


def _released(context: Context) -> None:
    """Give the connection's place under the per-user cap back, if it holds one."""
    if context.release_slot is not None:
        context.release_slot()
        context.release_slot = None


class StrictGraphQLTransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws, closing with 4400 on a message of the wrong shape."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.websocket = ExplainedClose(self.websocket, self.context)

    async def handle(self) -> None:
        """Serve the connection (strawberry closes it 4408 without a timely connection_init)."""
        try:
            await super().handle()
        finally:
            _released(self.context)

    async def handle_message(self, message: Message) -> None:
        """Handle a well-formed message; close on any other."""
        if is_malformed(message, start="subscribe", stop="complete"):
            await self.handle_invalid_message("Invalid message")
            return
        await super().handle_message(message)


class StrictGraphQLWSHandler(BaseGraphQLWSHandler[Context, None]):
    """Legacy graphql-ws, closing with 4400 on a message of the wrong shape.

    The legacy protocol defines no wait for connection_init and strawberry applies none;
    this handler closes a connection without one in time as graphql-transport-ws does
    (4408), so neither protocol lets an idle socket hold the process's memory.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.websocket = ExplainedClose(self.websocket, self.context)
        self._init_received = False
        self._closing: asyncio.Task[None] | None = None

    async def handle(self) -> None:
        """Serve the connection; close it with 4408 unless connection_init comes in time."""
        wait = self.view.connection_init_wait_timeout.total_seconds()
        timer = asyncio.get_running_loop().call_later(wait, self._init_timed_out)
        try:
            await super().handle()
        finally:
            timer.cancel()
            _released(self.context)

    def _init_timed_out(self) -> None:
        if not self._init_received:
            self._closing = asyncio.create_task(self._close_timed_out())

    async def _close_timed_out(self) -> None:
        # The client may be leaving at this very moment: then there is nothing to close.
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await self.websocket.close(code=4408, reason="Connection initialisation timeout")

    async def handle_message(self, message: OperationMessage) -> None:
        """Handle a well-formed message; close on any other."""
        if is_malformed(message, start="start", stop="stop"):
            await self.websocket.close(code=4400, reason="Invalid message")
            return
        if message["type"] == "connection_init":
            self._init_received = True
        await super().handle_message(message)


class EternaGraphQL(GraphQL[Context, None]):
    """GraphQL over HTTP and websockets, authenticated by JWT."""

    graphql_transport_ws_handler_class = StrictGraphQLTransportWSHandler
    graphql_ws_handler_class = StrictGraphQLWSHandler

    def __init__(
        self,
        schema: EternaSchema,
        service: OrderService,
        auth: JwtAuth,
        *,
        graphiql: bool,
        max_subscriptions_per_connection: int = 20,
        allowed_origins: Sequence[str] = (),
        init_timeout: timedelta = timedelta(seconds=5),
        per_user: OpenConnections | None = None,
        reads: ReadBudgets | None = None,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if graphiql else None,
            max_subscriptions_per_connection=max_subscriptions_per_connection,
            allowed_origins=allowed_origins,
            connection_init_wait_timeout=init_timeout,
        )
        self._service = service
        self._auth = auth
        self._per_user = OpenConnections(cap=0) if per_user is None else per_user
        self._reads = ReadBudgets() if reads is None else reads
        self._playground = playground_html() if graphiql else ""

    def parse_json(self, data: str | bytes) -> Any:
        """Parse a request body (or GET variables): a JSON object, or a list for batches.

        strawberry reads fields of the body without checking it is an object; ``null`` or a
        number would raise inside it and answer 500.
        """
        value = super().parse_json(data)
        if not isinstance(value, dict | list):
            raise HTTPException(400, "The request body must be a JSON object")
        return value

    def decode_json(self, data: str | bytes) -> object:
        """Decode JSON; non-UTF-8 bytes and nesting past the recursion limit are invalid too.

        The json module raises other errors than JSONDecodeError for them: they would be 500s.
        """
        try:
            return super().decode_json(data)
        except (RecursionError, UnicodeDecodeError):
            raise json.JSONDecodeError("not valid JSON", "", 0) from None

    def encode_json(self, data: object) -> str:
        """Encode a response or a websocket message (as text: graphql-ws frames are text)."""
        return orjson.dumps(data).decode()

    @property
    def graphql_ide_html(self) -> str:
        """Return GraphiQL with subscriptions authenticated from its Headers tab."""
        return self._playground

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket | None
    ) -> Context:
        """Authenticate HTTP from its header; websockets authenticate at connection_init."""
        if isinstance(request, WebSocket):
            return Context(request, response, self._service, cache_events=False, reads=self._reads)
        context = Context(request, response, self._service, reads=self._reads)
        header = request.headers.get("authorization")
        if header:
            try:
                context.principal = self._auth.authenticate(header)
            except AuthError as exc:
                # The reason only ("token expired", "invalid token"): never the header.
                log.info("rejected credentials from %s: %s", _client(request), exc.reason)
                context.auth_failure = exc.reason
        return context

    async def on_ws_connect(self, context: Context) -> dict[str, object] | None:
        """Accept the connection with a valid token, within the user's cap of connections.

        A refusal closes the connection (4403 on graphql-transport-ws; connection_error and
        1011 on graphql-ws) with the reason in the close frame: "token expired", "invalid
        token", or the cap.
        """
        _released(context)  # graphql-ws may send connection_init again, maybe as someone else
        params: dict[str, Any] = context.connection_params or {}
        header = params.get("Authorization") or params.get("authorization")
        token = params.get("authToken")
        if not header and isinstance(token, str):
            header = f"Bearer {token}"
        try:
            principal = self._auth.authenticate(header if isinstance(header, str) else None)
        except AuthError as exc:
            log.info(
                "rejected websocket credentials from %s: %s", _client(context.request), exc.reason
            )
            self._refuse(context, exc.reason)
        user = principal.user_id
        if not self._per_user.try_open(user):
            log.info(
                "refused a websocket of user %r from %s over the per-user cap of %d",
                user,
                _client(context.request),
                self._per_user.cap,
            )
            self._refuse(
                context, f"too many open connections for this user (at most {self._per_user.cap})"
            )
        context.principal = principal
        context.release_slot = functools.partial(self._per_user.close, user)
        return None

    @staticmethod
    def _refuse(context: Context, reason: str) -> NoReturn:
        context.principal = None
        context.refusal = reason
        raise ConnectionRejectionError({"message": reason})

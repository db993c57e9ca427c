"""The ASGI GraphQL endpoint: HTTP, both websocket protocols, and authentication."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

import orjson
from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import Message
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import OperationMessage

from eterna.auth import AuthError, JwtAuth
from eterna.service import OrderService
from schema import EternaSchema
from schema.context import Context
from schema.playground import playground_html

log = logging.getLogger("eterna.api")

MAX_OPERATION_ID_LENGTH = 128


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


class StrictGraphQLTransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws, closing with 4400 on a message of the wrong shape."""

    async def handle_message(self, message: Message) -> None:
        """Handle a well-formed message; close on any other."""
        if is_malformed(message, start="subscribe", stop="complete"):
            await self.handle_invalid_message("Invalid message")
            return
        await super().handle_message(message)


class StrictGraphQLWSHandler(BaseGraphQLWSHandler[Context, None]):
    """Legacy graphql-ws, closing with 4400 on a message of the wrong shape."""

    async def handle_message(self, message: OperationMessage) -> None:
        """Handle a well-formed message; close on any other."""
        if is_malformed(message, start="start", stop="stop"):
            await self.websocket.close(code=4400, reason="Invalid message")
            return
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
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if graphiql else None,
            max_subscriptions_per_connection=max_subscriptions_per_connection,
            allowed_origins=allowed_origins,
        )
        self._service = service
        self._auth = auth
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
            return Context(request, response, self._service, cache_events=False)
        context = Context(request, response, self._service)
        header = request.headers.get("authorization")
        if header:
            try:
                context.principal = self._auth.authenticate(header)
            except AuthError as exc:
                # The reason only ("token expired", "invalid token"): never the header.
                log.info("rejected credentials: %s", exc.reason)
                context.auth_failure = exc.reason
        return context

    async def on_ws_connect(self, context: Context) -> dict[str, object] | None:
        """Accept the connection only with a valid token in the connection_init payload."""
        params: dict[str, Any] = context.connection_params or {}
        header = params.get("Authorization") or params.get("authorization")
        token = params.get("authToken")
        if not header and isinstance(token, str):
            header = f"Bearer {token}"
        try:
            context.principal = self._auth.authenticate(header if isinstance(header, str) else None)
        except AuthError as exc:
            log.info("rejected websocket credentials: %s", exc.reason)
            raise ConnectionRejectionError({"reason": "unauthorized"}) from None
        return None

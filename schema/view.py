"""The ASGI GraphQL endpoint: HTTP, both websocket protocols, and authentication."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError

from eterna.auth import AuthError, JwtAuth
from eterna.service import OrderService
from schema import EternaSchema
from schema.context import Context
from schema.playground import playground_html

log = logging.getLogger("eterna.api")


class EternaGraphQL(GraphQL[Context, None]):
    """GraphQL over HTTP and websockets, authenticated by JWT."""

    def __init__(
        self,
        schema: EternaSchema,
        service: OrderService,
        auth: JwtAuth,
        *,
        graphiql: bool,
        max_subscriptions_per_connection: int = 100,
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
        principal = None
        header = request.headers.get("authorization")
        if header:
            try:
                principal = self._auth.authenticate(header)
            except AuthError as exc:
                log.info("rejected credentials: %s", exc)
        return Context(request, response, self._service, principal=principal)

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
            log.info("rejected websocket credentials: %s", exc)
            raise ConnectionRejectionError({"reason": "unauthorized"}) from None
        return None

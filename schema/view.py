"""The ASGI GraphQL endpoint: HTTP through strawberry's view, websockets ours, JWT auth.

HTTP (queries, mutations, GraphiQL) is strawberry's ASGI view, customised through its
documented hooks only (``get_context``, ``decode_json``, ``encode_json``,
``render_graphql_ide``). Websockets are served by our own protocol handlers
(:mod:`schema.ws_connection`), after the Origin check of :mod:`schema.ws_origin`.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import secrets
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, NoReturn

import orjson
from graphql import FieldNode, OperationDefinitionNode, OperationType
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from eterna.adapters.auth import AuthError, JwtAuth, Principal
from eterna.adapters.web.connection_limits import OpenConnections
from eterna.adapters.web.graphiql_files import content_security_policy
from eterna.adapters.web.http_limits import replaying
from eterna.adapters.web.request_gate import GateFullError, RequestGate
from eterna.application.admin import AdminService
from eterna.application.read_budgets import ReadBudgets
from eterna.application.service import OrderService
from schema import EternaSchema
from schema.context import Context
from schema.document_gate import DocumentGate
from schema.playground import playground_html
from schema.ws_connection import Connection, InitRefusedError, Limits
from schema.ws_legacy import PROTOCOL as LEGACY_PROTOCOL
from schema.ws_legacy import LegacyConnection
from schema.ws_origin import OriginPolicy
from schema.ws_transport import PROTOCOL as TRANSPORT_PROTOCOL
from schema.ws_transport import TransportConnection

log = logging.getLogger("eterna.api")

# Where the endpoint leaves what it learnt from the Authorization header for the context.
_AUTH_SCOPE_KEY = "eterna.auth"

_PROTOCOLS: dict[str, type[Connection]] = {
    TRANSPORT_PROTOCOL: TransportConnection,
    LEGACY_PROTOCOL: LegacyConnection,
}


def _client(request: Request | WebSocket) -> str:
    """Return the client's address (as the client-address middleware resolved it) for logs."""
    return request.client.host if request.client else "unknown"


def _released(context: Context) -> None:
    """Give the connection's place under the per-user cap back, if it holds one."""
    if context.release_slot is not None:
        context.release_slot()
        context.release_slot = None


class _HttpView(GraphQL[Context, None]):
    """strawberry's view for GraphQL over HTTP, with our context, JSON and GraphiQL page."""

    def __init__(
        self,
        schema: EternaSchema,
        service: OrderService,
        auth: JwtAuth,
        reads: ReadBudgets,
        *,
        graphiql: bool,
        admin: AdminService | None = None,
    ) -> None:
        super().__init__(schema, graphql_ide="graphiql" if graphiql else None)
        self._service = service
        self._auth = auth
        self._reads = reads
        self._admin = admin

    def decode_json(self, data: str | bytes) -> object:
        """Decode a body (or GET variables): a JSON object, or a list for batches.

        strawberry reads fields of the body without checking it is an object; ``null`` or a
        number would raise inside it and answer 500. Non-UTF-8 bytes and nesting past the
        recursion limit raise other errors than JSONDecodeError: they would be 500s too.
        """
        try:
            value = super().decode_json(data)
        except (RecursionError, UnicodeDecodeError):
            raise json.JSONDecodeError("not valid JSON", "", 0) from None
        if not isinstance(value, dict | list):
            raise json.JSONDecodeError("not a JSON object", "", 0)
        return value

    def encode_json(self, data: object) -> str:
        """Encode a response."""
        return orjson.dumps(data).decode()

    async def render_graphql_ide(self, request: Request) -> Response:
        """Return GraphiQL (subscriptions authenticated from its Headers tab), nonce fresh."""
        nonce = secrets.token_urlsafe(18)
        return HTMLResponse(
            playground_html(nonce),
            headers={
                "Content-Security-Policy": content_security_policy(nonce),
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
            },
        )

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket | None
    ) -> Context:
        """Authenticate the request from its header."""
        context = Context(request, response, self._service, reads=self._reads, admin=self._admin)
        known: tuple[Principal | None, str | None] | None = request.scope.get(_AUTH_SCOPE_KEY)
        if known is None:
            known = authenticate(self._auth, request)
        context.principal, context.auth_failure = known
        return context


def authenticate(
    auth: JwtAuth, request: Request | WebSocket
) -> tuple[Principal | None, str | None]:
    """Return who the Authorization header says the caller is, or why it is refused."""
    header = request.headers.get("authorization")
    if not header:
        return None, None
    try:
        return auth.authenticate(header), None
    except AuthError as exc:
        # The reason only ("token expired", "invalid token"): never the header.
        log.info("rejected credentials from %s: %s", _client(request), exc.reason)
        return None, exc.reason


# The mutations counted against the mutation rate limit (OrderService.place, cancel,
# place_group, cancel_group).
RATE_LIMITED_MUTATIONS = frozenset(
    {"placeOrder", "placeOrders", "cancelOrder", "placeOrderGroup", "cancelOrderGroup"}
)


def _rate_limited(message: str, retry_after: float) -> Response:
    """Return HTTP 429 with a RATE_LIMITED error saying when to try again."""
    error = {
        "message": message,
        "extensions": {"code": "RATE_LIMITED", "retryAfterSeconds": retry_after},
    }
    headers = {"Retry-After": str(max(1, math.ceil(retry_after)))}
    return JSONResponse({"errors": [error]}, status_code=429, headers=headers)


def _over_rate_limit(wait_seconds: float) -> Response:
    """Return the answer to a mutation sent while its caller is over the rate limit."""
    shown = round(wait_seconds, 1) or 0.1
    return _rate_limited(f"too many requests: retry in {shown:.1f} s", shown)


def only_rate_limited_mutations(gate: DocumentGate | None, body: bytes) -> bool:
    """Tell whether a request body is one operation made only of rate-limited mutations.

    Only from what is known already: a document the gate has parsed before (a flood repeats
    its text), its operation a mutation whose every root selection is a field of
    :data:`RATE_LIMITED_MUTATIONS` without directives. Anything else (a batch, a new text, a
    fragment at the root) is left to the normal path.
    """
    if gate is None:
        return False
    try:
        request = orjson.loads(body)
    except orjson.JSONDecodeError:
        return False
    if not isinstance(request, dict) or not isinstance(request.get("query"), str):
        return False
    known = gate.cache.get(request["query"])
    if known is None or known.document is None:
        return False
    operations = [d for d in known.document.definitions if isinstance(d, OperationDefinitionNode)]
    name = request.get("operationName")
    if name is not None:
        operations = [o for o in operations if o.name is not None and o.name.value == name]
    if len(operations) != 1 or operations[0].operation is not OperationType.MUTATION:
        return False
    return all(
        isinstance(s, FieldNode) and not s.directives and s.name.value in RATE_LIMITED_MUTATIONS
        for s in operations[0].selection_set.selections
    )


async def _read_body(receive: Receive) -> tuple[bytes, Receive]:
    """Read the whole body; return it and a receive that gives it to the app again.

    :class:`~eterna.adapters.web.http_limits.BodySizeLimit` has bounded it already.
    """
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            chunks.clear()
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    return body, replaying(body, receive)


def _too_many_in_progress(gate: RequestGate) -> Response:
    """Return the answer to a caller with too many requests waiting for their turn."""
    message = (
        f"too many requests in progress: at most {gate.limit} run at once per caller and "
        f"{gate.max_waiting} wait; send the next when an answer comes"
    )
    return _rate_limited(message, 1)


class EternaGraphQL:
    """GraphQL over HTTP and websockets (both protocols), authenticated by JWT."""

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
        requests: RequestGate | None = None,
        admin: AdminService | None = None,
    ) -> None:
        self.schema = schema
        self._service = service
        self._admin = admin
        self._auth = auth
        self._per_user = OpenConnections(cap=0) if per_user is None else per_user
        self._reads = ReadBudgets() if reads is None else reads
        self._origins = OriginPolicy(allowed_origins)
        self._limits = Limits(init_timeout.total_seconds(), max_subscriptions_per_connection)
        self._http = _HttpView(schema, service, auth, self._reads, graphiql=graphiql, admin=admin)
        self.requests = RequestGate(0) if requests is None else requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one HTTP request or one websocket."""
        if scope["type"] == "websocket":
            await self._serve_websocket(WebSocket(scope, receive, send))
        else:
            await self._serve_http(scope, receive, send)

    async def _serve_http(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve a request when its caller's turn comes (see :class:`RequestGate`)."""
        request = Request(scope)
        known = scope[_AUTH_SCOPE_KEY] = authenticate(self._auth, request)
        principal = known[0]
        if principal is not None:
            wait = self._service.mutations_refused_for(principal.user_id)
            if wait is not None:
                # A caller over the mutation rate limit: their mutations are refused before
                # any of their work is done (they would be refused anyway).
                body, receive = await _read_body(receive)
                if only_rate_limited_mutations(self.schema.document_gate, body):
                    await _over_rate_limit(wait)(scope, receive, send)
                    return
        caller = f"user:{principal.user_id}" if principal else f"address:{_client(request)}"
        try:
            await self.requests.enter(caller)
        except GateFullError:
            log.info("refused a request of %s: too many in progress", caller)
            await _too_many_in_progress(self.requests)(scope, receive, send)
            return
        try:
            await self._http(scope, receive, send)
        finally:
            self.requests.leave(caller)

    async def _serve_websocket(self, ws: WebSocket) -> None:
        if not self._origins.allows(ws.headers):
            log.info("refused a websocket from %s: origin %r", _client(ws), ws.headers["origin"])
            await ws.close(code=1008)  # before accepting: the handshake is answered 403
            return
        offered: list[str] = list(ws.scope.get("subprotocols") or ())
        protocol = next((p for p in offered if p in _PROTOCOLS), None)
        await ws.accept(subprotocol=protocol)
        if protocol is None:
            await ws.close(4406, "Subprotocol not acceptable")
            return
        context = Context(
            ws, ws, self._service, cache_events=False, reads=self._reads, admin=self._admin
        )
        try:
            await _PROTOCOLS[protocol](ws, self, context, self._limits).run()
        finally:
            _released(context)

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
        raise InitRefusedError(reason)

"""Composition root of the API: GraphQL, websockets, health, metrics and the order page."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, WebSocketRoute
from starlette.routing import Route as HttpRoute
from starlette.types import Receive, Scope, Send

from eterna.adapters.metrics.http import MetricsApp
from eterna.adapters.tracing import TracedRequests, flush_tracing, tracing_active
from eterna.adapters.web.client_address import ClientAddress, TrustedProxies
from eterna.adapters.web.connection_limits import ConnectionCap, OpenConnections
from eterna.adapters.web.graphiql_files import GraphiqlFiles
from eterna.adapters.web.http_limits import BodySizeLimit
from eterna.adapters.web.memory import TrimAfterClosing, tune_collector
from eterna.adapters.web.order_page import OrderPage
from eterna.adapters.web.request_gate import RequestGate
from eterna.adapters.web.request_id import RequestId
from eterna.application.read_budgets import read_budgets
from eterna.entrypoints.bootstrap import Runtime, open_runtime
from eterna.entrypoints.config import Settings
from eterna.entrypoints.migration_state import NOT_MIGRATED
from models.config import ping
from schema import build_schema
from schema.document_cost import DocumentLimits
from schema.operations import OperationRecorder, observed
from schema.view import EternaGraphQL

log = logging.getLogger(__name__)


class _GraphQLEndpoint:
    """Forward to the GraphQL app built in the lifespan (it needs the running services)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app: Any = scope["app"]
        await app.state.graphql(scope, receive, send)


class _Recorder:
    """Forward each GraphQL operation's record to the metrics built in the lifespan."""

    def __init__(self) -> None:
        self.target: OperationRecorder | None = None

    def operation(
        self,
        name: str,
        kind: str,
        seconds: float,
        errors: Sequence[str],
        refusals: Sequence[str],
    ) -> None:
        """Record the operation once the runtime's metrics exist."""
        if self.target is not None:
            self.target.operation(name, kind, seconds, errors, refusals)


class _MetricsEndpoint:
    """Forward to the metrics of the runtime built in the lifespan."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app: Any = scope["app"]
        await app.state.metrics(scope, receive, send)


async def health(request: Request) -> JSONResponse:
    """Report whether the database and (when configured) Redis answer."""
    runtime: Runtime = request.app.state.runtime
    checks: dict[str, str] = {}
    try:
        await ping()
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"unavailable: {type(exc).__name__}"
    migrations = runtime.migrations
    # Checked again only while missing: a migrated database costs nothing more here.
    missing = checks["database"] == "ok" and migrations is not None and migrations.pending
    if missing and migrations is not None and await migrations.check():
        checks["database"] = NOT_MIGRATED
    if runtime.redis is None:
        checks["redis"] = "not configured"
    else:
        try:
            await runtime.redis.ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"unavailable: {type(exc).__name__}"
    healthy = all(v in {"ok", "not configured"} for v in checks.values())
    body = {"status": "ok" if healthy else "unavailable", **checks}
    return JSONResponse(body, status_code=200 if healthy else 503)


def document_limits(settings: Settings) -> DocumentLimits:
    """Return the cost limits of a GraphQL document from the settings."""
    return DocumentLimits(
        depth=settings.max_query_depth,
        aliases=settings.max_aliases,
        selections=settings.max_selections,
        field_repeats=settings.max_field_repeats,
        fragments=settings.max_fragments,
        operations=settings.max_operations,
        directives=settings.max_directives,
        variables=settings.max_variables,
        # GraphiQL and code generators ask for the schema once; each more copy of its
        # answer costs as much as the first (15 aliased copies: about 130 ms here).
        schema_fields=1,
    )


def create_app(settings: Settings) -> Starlette:
    """Return the ASGI app for the settings, with its cost, size and origin limits."""
    recorder = _Recorder()
    schema = build_schema(
        limits=document_limits(settings),
        max_tokens=settings.max_tokens,
        max_variable_values=settings.max_variable_values,
        introspection=settings.introspection,
        field_suggestions=settings.field_suggestions,
        extra_extensions=(observed(recorder),),
    )

    # Open websockets of this process, per client address and per user.
    per_address = OpenConnections(settings.max_connections_per_address)
    per_user = OpenConnections(settings.max_connections_per_user)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            async with serving(app):
                yield
        finally:
            flush_tracing()  # the process may die by its SIGTERM next: see flush_tracing

    @contextlib.asynccontextmanager
    async def serving(app: Starlette) -> AsyncIterator[None]:
        async with open_runtime(settings, "api") as runtime:
            app.state.runtime = runtime
            app.state.metrics = MetricsApp(runtime.metrics)
            recorder.target = runtime.metrics.graphql
            runtime.metrics.watch_websockets(lambda: per_address.total)
            app.state.graphql = EternaGraphQL(
                schema,
                runtime.service,
                runtime.auth,
                admin=runtime.admin,
                graphiql=settings.graphiql,
                max_subscriptions_per_connection=settings.max_subscriptions_per_connection,
                allowed_origins=settings.allowed_origins,
                init_timeout=timedelta(seconds=settings.ws_init_timeout_seconds),
                per_user=per_user,
                requests=RequestGate(
                    settings.max_requests_in_progress,
                    max_waiting=settings.max_requests_waiting,
                ),
                reads=read_budgets(
                    runtime.redis,
                    prefix=settings.redis_prefix,
                    anonymous_per_minute=settings.anonymous_rate_limit_per_minute,
                    quotes_per_minute=settings.quote_rate_limit_per_minute,
                ),
            )
            tune_collector()
            trimmer = TrimAfterClosing(lambda: per_address.total)
            trimmer.start()
            try:
                yield
            finally:
                await trimmer.stop()

    # Outermost first: the client's address is known before anything counts it.
    middleware = [
        Middleware(RequestId),
        Middleware(ClientAddress, proxies=TrustedProxies(settings.trusted_proxies)),
        Middleware(ConnectionCap, per_address=per_address),
        Middleware(BodySizeLimit, max_bytes=settings.max_body_bytes),
    ]
    if settings.cors_origins:
        # Outermost, so refusals (413) carry CORS headers too. Tokens travel in the
        # Authorization header, never in cookies: no credentials mode is needed.
        middleware.insert(
            0,
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
                expose_headers=["X-Request-ID"],
                max_age=600,
            ),
        )
    if tracing_active():  # outermost: the request's span holds everything it causes
        middleware.insert(0, Middleware(TracedRequests))
    endpoint = _GraphQLEndpoint()
    routes: list[BaseRoute] = [
        HttpRoute("/graphql", endpoint, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", endpoint),
        HttpRoute("/health", health, methods=["GET"]),
        HttpRoute("/metrics", _MetricsEndpoint(), methods=["GET", "HEAD"]),
    ]
    if settings.order_page:
        routes.extend(OrderPage().routes())
    if settings.graphiql:
        routes.extend(GraphiqlFiles().routes())
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.open_per_address = per_address
    app.state.open_per_user = per_user
    return app

"""The per-request (or per-websocket) context resolvers receive."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import strawberry
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.dataloader import DataLoader

from eterna.adapters.auth import Principal
from eterna.adapters.web.client_address import budget_key
from eterna.application.admin import AdminService
from eterna.application.audit import Caller
from eterna.application.read_budgets import ReadBudgets
from eterna.application.service import OrderService
from eterna.domain.errors import RejectionCode
from eterna.domain.orders import Order, OrderEvent
from schema.errors import ApiError


@dataclass
class Context:
    """Who is calling, and the service they act through."""

    request: Request | WebSocket
    response: Response | WebSocket | None
    service: OrderService
    principal: Principal | None = None
    auth_failure: str | None = None
    connection_params: dict[str, Any] | None = None
    cache_events: bool = True
    # Why a websocket's connection_init was refused, said in its close frame.
    refusal: str | None = None
    # Gives the websocket's place under the per-user cap back; set while it holds one.
    release_slot: Callable[[], None] | None = None
    reads: ReadBudgets = field(default_factory=ReadBudgets)
    # Codes of the refusals returned as results (OrderRejected, CancelRejected), for metrics.
    refusals: list[str] = field(default_factory=list)
    # The administrators' operations; None where the app offers none (tests of the schema).
    admin: AdminService | None = None

    @functools.cached_property
    def events_loader(self) -> DataLoader[str, list[OrderEvent]]:
        """Return the batching loader of orders' events, made on first use.

        Its load function holds the service, not the context: a context that its own loader
        referred back to would be a reference cycle, and a cycle waits for the cyclic GC, with
        the request or websocket and everything they hold (buffers, the protocol object).
        A websocket context lives as long as the connection: it never caches.
        """
        service = self.service

        async def load(keys: Sequence[str]) -> list[list[OrderEvent]]:
            ids = [uuid.UUID(k) for k in keys]
            found = await service.events_of_orders(ids)
            return [found.get(i, []) for i in ids]

        return DataLoader(load, cache=self.cache_events)

    @functools.cached_property
    def children_loader(self) -> DataLoader[str, list[Order]]:
        """Return the batching loader of TWAP orders' slices (see events_loader)."""
        service = self.service

        async def load(keys: Sequence[str]) -> list[list[Order]]:
            ids = [uuid.UUID(k) for k in keys]
            found = await service.children_of(ids)
            return [found.get(i, []) for i in ids]

        return DataLoader(load, cache=self.cache_events)

    @property
    def client_key(self) -> str:
        """Return the key the caller's address is counted under (see client_address.budget_key)."""
        client = self.request.client
        return budget_key(client.host if client else None)

    async def spend_read(self, *, quote: bool = False) -> None:
        """Count one read field: a quote per user, any read without a token per address.

        A token that expired since a websocket opened counts as none.

        :raises RateLimitedError: over the budget.
        """
        principal = self.principal
        if principal is not None and principal.expired(datetime.now(UTC)):
            principal = None
        await self.reads.spend(
            user_id=principal.user_id if principal else None,
            client_key=self.client_key,
            quote=quote,
        )

    @property
    def user_id(self) -> str:
        """Return the caller's user id, or raise UNAUTHENTICATED saying what is wrong."""
        return self.authenticated.user_id

    @property
    def authenticated(self) -> Principal:
        """Return the caller, or raise UNAUTHENTICATED when there is none or it expired.

        A websocket keeps its principal for the life of the connection, so expiry is
        checked on every use, not only at connection_init.
        """
        if self.principal is None:
            reason = self.auth_failure or "authentication required"
            raise ApiError(
                RejectionCode.UNAUTHENTICATED,
                f"{reason}: send 'Authorization: Bearer <token>'",
            )
        if self.principal.expired(datetime.now(UTC)):
            raise ApiError(
                RejectionCode.UNAUTHENTICATED, "token expired: reconnect with a fresh token"
            )
        return self.principal

    @property
    def caller(self) -> Caller:
        """Return who calls and from where, for the audit trail (UNAUTHENTICATED if nobody)."""
        client = self.request.client
        agent = self.request.headers.get("user-agent")
        return Caller(
            self.user_id,
            client_address=client.host if client else None,
            user_agent=agent[:256] if agent else None,
        )

    @property
    def administration(self) -> AdminService:
        """Return the administrators' service, or raise FORBIDDEN for anyone else."""
        if not self.authenticated.admin or self.admin is None:
            raise ApiError(RejectionCode.FORBIDDEN, "this needs a token with the admin role")
        return self.admin


Info = strawberry.Info[Context, None]

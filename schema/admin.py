"""Administration and the audit trail in the schema.

Every administrator's field checks the caller's token for the admin role first and refuses
anyone else with FORBIDDEN (UNAUTHENTICATED without a token), before anything is read or
changed. An owner reads the audit entries of their own orders (``orderAudit``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from eterna.application.admin import Pause
from eterna.application.audit import AuditEntry
from eterna.domain.errors import RejectedError
from schema.context import Info
from schema.errors import ApiError
from schema.types import Order


@strawberry.type(description="One audited action: who did what to which order or setting.")
class AuditEvent:
    """An audit entry as clients see it."""

    at: datetime = strawberry.field(description="When it happened (UTC).")
    actor: str = strawberry.field(description="The user id of who did it.")
    action: str = strawberry.field(
        description="order.placed, order.cancelled, admin.paused, admin.resumed, "
        "admin.cancelled_user_orders or admin.read_order."
    )
    subject: str = strawberry.field(
        description="The order id, the user whose orders were cancelled, or the paused pair "
        "(mints; * for all trading)."
    )
    client_address: str | None = strawberry.field(
        description="The caller's address (behind trusted proxies: the client's)."
    )
    user_agent: str | None = strawberry.field(description="The caller's User-Agent header.")
    detail: str = strawberry.field(description="A short note, e.g. how many were cancelled.")

    @classmethod
    def from_entry(cls, entry: AuditEntry) -> AuditEvent:
        """Return the GraphQL view of an entry."""
        return cls(
            at=entry.at,
            actor=entry.actor,
            action=entry.action,
            subject=entry.subject,
            client_address=entry.client_address,
            user_agent=entry.user_agent,
            detail=entry.detail,
        )


@strawberry.type(description="A trading pause in force.")
class TradingPause:
    """A pause: all trading or one pair."""

    key: str = strawberry.field(description="* for all trading, else the pair's two mints.")
    label: str = strawberry.field(description="'all trading' or the pair, e.g. SOL/USDC.")

    @classmethod
    def from_pause(cls, pause: Pause) -> TradingPause:
        """Return the GraphQL view of a pause."""
        return cls(key=pause.key, label=pause.label)


PairArgument = Annotated[
    str | None,
    strawberry.argument(description="A pair such as SOL/USDC (both directions); unset: all."),
]


@strawberry.type
class AuditQuery:
    """The owner's audit trail, and the administrators' reads."""

    @strawberry.field(
        description="Who placed and cancelled one of your orders, when and from where; "
        "empty if it does not exist or is not yours."
    )
    async def order_audit(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The order's id.")],  # noqa: A002
    ) -> list[AuditEvent]:
        """Return the audit entries of the caller's order."""
        order = await info.context.service.get(info.context.user_id, str(id))
        if order is None:
            return []
        entries = await info.context.service.audit.recent(limit=100, subject=str(order.id))
        return [AuditEvent.from_entry(e) for e in entries]

    @strawberry.field(description="Admin only: any user's order; null if there is none.")
    async def admin_order(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The order's id.")],  # noqa: A002
    ) -> Order | None:
        """Return any order (the read is audited)."""
        admin = info.context.administration
        order = await admin.read_order(info.context.caller, str(id))
        return Order.from_domain(order) if order else None

    @strawberry.field(description="Admin only: the audit trail, newest first.")
    async def audit_events(
        self,
        info: Info,
        limit: Annotated[int, strawberry.argument(description="At most this many (1-500).")] = 50,
        actor: Annotated[
            str | None, strawberry.argument(description="Only this user's actions.")
        ] = None,
        subject: Annotated[
            str | None, strawberry.argument(description="Only about this order, user or pair.")
        ] = None,
    ) -> list[AuditEvent]:
        """Return audit entries."""
        admin = info.context.administration
        try:
            entries = await admin.audit_trail(limit=limit, actor=actor, subject=subject)
        except RejectedError as exc:
            raise ApiError.from_rejection(exc) from None
        return [AuditEvent.from_entry(e) for e in entries]

    @strawberry.field(description="Admin only: the trading pauses in force.")
    async def trading_pauses(self, info: Info) -> list[TradingPause]:
        """Return the pauses in force."""
        admin = info.context.administration
        return [TradingPause.from_pause(p) for p in await admin.pauses()]


@strawberry.type
class AdminMutation:
    """Administrators' operations; each one is audited."""

    @strawberry.mutation(
        description="Admin only: refuse new orders (TRADING_PAUSED) for all trading or one "
        "pair, on every API process. Orders already placed go on. Returns the pauses in force."
    )
    async def pause_trading(self, info: Info, pair: PairArgument = None) -> list[TradingPause]:
        """Pause trading."""
        admin = info.context.administration
        try:
            pauses = await admin.pause(info.context.caller, pair)
        except RejectedError as exc:
            raise ApiError.from_rejection(exc) from None
        return [TradingPause.from_pause(p) for p in pauses]

    @strawberry.mutation(
        description="Admin only: lift the pause of all trading or of one pair (a pair's pause "
        "is separate from the global one). Returns the pauses in force."
    )
    async def resume_trading(self, info: Info, pair: PairArgument = None) -> list[TradingPause]:
        """Resume trading."""
        admin = info.context.administration
        try:
            pauses = await admin.resume(info.context.caller, pair)
        except RejectedError as exc:
            raise ApiError.from_rejection(exc) from None
        return [TradingPause.from_pause(p) for p in pauses]

    @strawberry.mutation(
        description="Admin only: cancel every PENDING and WAITING order of a user; returns "
        "the orders cancelled (one that a worker took meanwhile finishes)."
    )
    async def cancel_user_orders(
        self,
        info: Info,
        user_id: Annotated[str, strawberry.argument(description="The user (the token's sub).")],
    ) -> list[Order]:
        """Cancel a user's open orders."""
        admin = info.context.administration
        cancelled = await admin.cancel_user_orders(info.context.caller, user_id)
        return [Order.from_domain(o) for o in cancelled]

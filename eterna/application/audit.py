"""The audit trail: who placed, cancelled or administered what, when, and from where.

Placements and cancels are recorded with the caller's user id, client address and user
agent; every administrator's action (pausing, resuming, cancelling a user's orders, reading
another user's order) is recorded too. Owners read the entries about their orders;
administrators read all of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

# Actions, as stored: stable values an operator filters on.
PLACED = "order.placed"
CANCELLED = "order.cancelled"
PAUSED = "admin.paused"
RESUMED = "admin.resumed"
CANCELLED_USER_ORDERS = "admin.cancelled_user_orders"
READ_ORDER = "admin.read_order"


@dataclass(frozen=True, slots=True)
class Caller:
    """Who makes a request, and from where (the address as ClientAddress computed it)."""

    user_id: str
    client_address: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audited action."""

    at: datetime
    actor: str
    action: str
    subject: str
    client_address: str | None = None
    user_agent: str | None = None
    detail: str = ""

    @classmethod
    def of(
        cls, caller: Caller, action: str, subject: str, at: datetime, detail: str = ""
    ) -> AuditEntry:
        """Return the entry of ``caller`` doing ``action`` to ``subject``."""
        return cls(
            at=at,
            actor=caller.user_id,
            action=action,
            subject=subject,
            client_address=caller.client_address,
            user_agent=caller.user_agent,
            detail=detail,
        )


class AuditLog(Protocol):
    """Where audit entries are kept."""

    async def record(self, entries: Sequence[AuditEntry]) -> None:
        """Store the entries."""

    async def recent(
        self, *, limit: int, actor: str | None = None, subject: str | None = None
    ) -> list[AuditEntry]:
        """Return the newest entries first, of one actor or subject when given."""


class MemoryAuditLog:
    """An audit log in memory (unit tests and fakes)."""

    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    async def record(self, entries: Sequence[AuditEntry]) -> None:
        """Keep the entries."""
        self.entries.extend(entries)

    async def recent(
        self, *, limit: int, actor: str | None = None, subject: str | None = None
    ) -> list[AuditEntry]:
        """Return the newest entries first, of one actor or subject when given."""
        found = [
            e
            for e in reversed(self.entries)
            if (actor is None or e.actor == actor) and (subject is None or e.subject == subject)
        ]
        return found[:limit]

"""The audit trail: who placed, cancelled or administered what, when, and from where.

Placements and cancels are recorded with the caller's user id, client address and user
agent; every administrator's action (pausing, resuming, cancelling a user's orders, reading
another user's order) is recorded too. Owners read the entries about their orders;
administrators read all of them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
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


@dataclass(eq=False)
class _Batch:
    """Entries gathered for one write, and the write's outcome."""

    entries: list[AuditEntry]
    done: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class BatchingAuditLog:
    """An audit log whose writes join: entries recorded during a write go in the next one.

    Each placement's entry was a statement of its own; under load the entries of all the
    placements announced while one write runs are stored together (group commit, as for
    the orders' steps). ``record`` still returns only once its own entries are stored, and
    raises what their write raised.
    """

    def __init__(self, inner: AuditLog) -> None:
        self._inner = inner
        self._gathering: _Batch | None = None  # the batch new entries join
        self._writing = asyncio.Lock()

    async def record(self, entries: Sequence[AuditEntry]) -> None:
        """Store the entries with those recorded at about the same moment."""
        if not entries:
            return
        batch = self._gathering
        if batch is not None:  # a write is being prepared: join it
            batch.entries.extend(entries)
            await asyncio.shield(batch.done)
            return
        batch = self._gathering = _Batch(list(entries))
        # Nobody may be left waiting for it: a failure nobody else awaited is still read.
        batch.done.add_done_callback(lambda f: f.cancelled() or f.exception())
        try:
            async with self._writing:  # one write at a time; later entries gather meanwhile
                if self._gathering is batch:
                    self._gathering = None
                await self._inner.record(batch.entries)
        except BaseException as exc:
            if self._gathering is batch:
                self._gathering = None
            if not batch.done.done():
                failure = exc if isinstance(exc, Exception) else RuntimeError("audit write stopped")
                batch.done.set_exception(failure)
            raise
        batch.done.set_result(None)

    async def recent(
        self, *, limit: int, actor: str | None = None, subject: str | None = None
    ) -> list[AuditEntry]:
        """Return the newest entries first, of one actor or subject when given."""
        return await self._inner.recent(limit=limit, actor=actor, subject=subject)


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

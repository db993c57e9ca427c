"""Rows of the audit trail: who did what to which order or setting, from where."""

from __future__ import annotations

from collections.abc import Sequence

from tortoise import fields
from tortoise.models import Model

from eterna.application.audit import AuditEntry

ACTION_LENGTH = 40
SUBJECT_LENGTH = 128
ADDRESS_LENGTH = 64
AGENT_LENGTH = 256


class AuditEventModel(Model):
    """One audited action: a placement, a cancel, or an administrator's action."""

    id = fields.BigIntField(primary_key=True)
    at = fields.DatetimeField()
    actor = fields.CharField(max_length=128)
    action = fields.CharField(max_length=ACTION_LENGTH)
    # The order id, the user whose orders were cancelled, or the pair paused ("" for all).
    subject = fields.CharField(max_length=SUBJECT_LENGTH)
    client_address = fields.CharField(max_length=ADDRESS_LENGTH, null=True)
    user_agent = fields.CharField(max_length=AGENT_LENGTH, null=True)
    detail = fields.CharField(max_length=256, default="")

    class Meta:
        """Table and indexes."""

        table = "audit_events"
        table_description = "Who placed, cancelled or administered what, when and from where."
        indexes = (("subject", "id"), ("actor", "id"))


class TortoiseAuditLog:
    """The audit trail in the orders' database."""

    async def record(self, entries: Sequence[AuditEntry]) -> None:
        """Store the entries in one statement."""
        if not entries:
            return
        await AuditEventModel.bulk_create(
            [
                AuditEventModel(
                    at=e.at,
                    actor=e.actor,
                    action=e.action,
                    subject=e.subject[:SUBJECT_LENGTH],
                    client_address=(e.client_address or None) and e.client_address[:ADDRESS_LENGTH],
                    user_agent=(e.user_agent or None) and e.user_agent[:AGENT_LENGTH],
                    detail=e.detail[:256],
                )
                for e in entries
            ]
        )

    async def recent(
        self, *, limit: int, actor: str | None = None, subject: str | None = None
    ) -> list[AuditEntry]:
        """Return the newest entries first, of one actor or subject when given."""
        query = AuditEventModel.all()
        if actor is not None:
            query = query.filter(actor=actor)
        if subject is not None:
            query = query.filter(subject=subject)
        rows = await query.order_by("-id").limit(limit)
        return [
            AuditEntry(
                at=r.at,
                actor=r.actor,
                action=r.action,
                subject=r.subject,
                client_address=r.client_address,
                user_agent=r.user_agent,
                detail=r.detail,
            )
            for r in rows
        ]

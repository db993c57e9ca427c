from datetime import datetime
from typing import Optional

from pydantic import Field

from .base_model import BaseModel


class AuditEvents(BaseModel):
    audit_events: list["AuditEventsAuditEvents"] = Field(alias="auditEvents")


class AuditEventsAuditEvents(BaseModel):
    at: datetime
    actor: str
    action: str
    subject: str
    client_address: Optional[str] = Field(alias="clientAddress")
    user_agent: Optional[str] = Field(alias="userAgent")
    detail: str


AuditEvents.model_rebuild()

from datetime import datetime
from typing import Optional

from pydantic import Field

from .base_model import BaseModel


class OrderAudit(BaseModel):
    order_audit: list["OrderAuditOrderAudit"] = Field(alias="orderAudit")


class OrderAuditOrderAudit(BaseModel):
    at: datetime
    actor: str
    action: str
    client_address: Optional[str] = Field(alias="clientAddress")
    user_agent: Optional[str] = Field(alias="userAgent")


OrderAudit.model_rebuild()

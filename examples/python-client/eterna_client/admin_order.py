from datetime import datetime
from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .enums import OrderStatus


class AdminOrder(BaseModel):
    admin_order: Optional["AdminOrderAdminOrder"] = Field(alias="adminOrder")


class AdminOrderAdminOrder(BaseModel):
    id: str
    status: OrderStatus
    created_at: datetime = Field(alias="createdAt")


AdminOrder.model_rebuild()

from datetime import datetime
from decimal import Decimal
from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .enums import OrderStatus, OrderType
from .fragments import (
    GroupFields,
    GroupFieldsOrders,  # noqa: F401
)


class OrderGroup(BaseModel):
    order_group: Optional["OrderGroupOrderGroup"] = Field(alias="orderGroup")


class OrderGroupOrderGroup(GroupFields):
    orders: list["OrderGroupOrderGroupOrders"]


class OrderGroupOrderGroupOrders(BaseModel):
    id: str
    events: list["OrderGroupOrderGroupOrdersEvents"]


class OrderGroupOrderGroupOrdersEvents(BaseModel):
    seq: int
    status: OrderStatus
    at: datetime
    message: str
    trigger: Optional["OrderGroupOrderGroupOrdersEventsTrigger"]
    cancelled_by_sibling: Optional[str] = Field(alias="cancelledBySibling")


class OrderGroupOrderGroupOrdersEventsTrigger(BaseModel):
    kind: OrderType
    price: Optional[Decimal]
    pool: Optional[str]


OrderGroup.model_rebuild()
OrderGroupOrderGroup.model_rebuild()
OrderGroupOrderGroupOrders.model_rebuild()
OrderGroupOrderGroupOrdersEvents.model_rebuild()

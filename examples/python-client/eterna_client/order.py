from typing import Optional

from .base_model import BaseModel
from .fragments import (  # noqa: F401
    EventFields,
    OrderFields,
    OrderFieldsFills,
    OrderFieldsRoute,
    OrderFieldsTokenIn,
    OrderFieldsTokenOut,
)


class Order(BaseModel):
    order: Optional["OrderOrder"]


class OrderOrder(OrderFields):
    events: list["OrderOrderEvents"]


OrderOrderEvents = EventFields
Order.model_rebuild()
OrderOrder.model_rebuild()

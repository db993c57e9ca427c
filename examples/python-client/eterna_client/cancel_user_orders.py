from pydantic import Field

from .base_model import BaseModel
from .enums import OrderStatus


class CancelUserOrders(BaseModel):
    cancel_user_orders: list["CancelUserOrdersCancelUserOrders"] = Field(
        alias="cancelUserOrders"
    )


class CancelUserOrdersCancelUserOrders(BaseModel):
    id: str
    status: OrderStatus


CancelUserOrders.model_rebuild()

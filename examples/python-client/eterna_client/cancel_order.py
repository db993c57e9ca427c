from datetime import datetime
from typing import Literal, Optional, Union

from pydantic import Field

from .base_model import BaseModel
from .enums import OrderStatus, RejectionCode


class CancelOrder(BaseModel):
    cancel_order: Union[
        "CancelOrderCancelOrderOrderCancelled", "CancelOrderCancelOrderCancelRejected"
    ] = Field(alias="cancelOrder", discriminator="typename__")


class CancelOrderCancelOrderOrderCancelled(BaseModel):
    typename__: Literal["OrderCancelled"] = Field(alias="__typename")
    order: "CancelOrderCancelOrderOrderCancelledOrder"


class CancelOrderCancelOrderOrderCancelledOrder(BaseModel):
    id: str
    status: OrderStatus
    updated_at: datetime = Field(alias="updatedAt")


class CancelOrderCancelOrderCancelRejected(BaseModel):
    typename__: Literal["CancelRejected"] = Field(alias="__typename")
    code: RejectionCode
    message: str
    retry_after_seconds: Optional[float] = Field(alias="retryAfterSeconds")


CancelOrder.model_rebuild()
CancelOrderCancelOrderOrderCancelled.model_rebuild()

from datetime import datetime
from typing import Literal, Optional, Union

from pydantic import Field

from .base_model import BaseModel
from .enums import OrderStatus, RejectionCode


class CancelOrderGroup(BaseModel):
    cancel_order_group: Union[
        "CancelOrderGroupCancelOrderGroupOrderGroupCancelled",
        "CancelOrderGroupCancelOrderGroupCancelRejected",
    ] = Field(alias="cancelOrderGroup", discriminator="typename__")


class CancelOrderGroupCancelOrderGroupOrderGroupCancelled(BaseModel):
    typename__: Literal["OrderGroupCancelled"] = Field(alias="__typename")
    group: "CancelOrderGroupCancelOrderGroupOrderGroupCancelledGroup"


class CancelOrderGroupCancelOrderGroupOrderGroupCancelledGroup(BaseModel):
    id: str
    orders: list["CancelOrderGroupCancelOrderGroupOrderGroupCancelledGroupOrders"]


class CancelOrderGroupCancelOrderGroupOrderGroupCancelledGroupOrders(BaseModel):
    id: str
    status: OrderStatus
    updated_at: datetime = Field(alias="updatedAt")


class CancelOrderGroupCancelOrderGroupCancelRejected(BaseModel):
    typename__: Literal["CancelRejected"] = Field(alias="__typename")
    code: RejectionCode
    message: str
    retry_after_seconds: Optional[float] = Field(alias="retryAfterSeconds")


CancelOrderGroup.model_rebuild()
CancelOrderGroupCancelOrderGroupOrderGroupCancelled.model_rebuild()
CancelOrderGroupCancelOrderGroupOrderGroupCancelledGroup.model_rebuild()

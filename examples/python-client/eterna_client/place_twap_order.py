from datetime import datetime
from decimal import Decimal
from typing import Literal, Optional, Union

from pydantic import Field

from .base_model import BaseModel
from .enums import OrderStatus, OrderType
from .fragments import RejectionFields


class PlaceTwapOrder(BaseModel):
    place_order: Union[
        "PlaceTwapOrderPlaceOrderOrderPlaced", "PlaceTwapOrderPlaceOrderOrderRejected"
    ] = Field(alias="placeOrder", discriminator="typename__")


class PlaceTwapOrderPlaceOrderOrderPlaced(BaseModel):
    typename__: Literal["OrderPlaced"] = Field(alias="__typename")
    order: "PlaceTwapOrderPlaceOrderOrderPlacedOrder"


class PlaceTwapOrderPlaceOrderOrderPlacedOrder(BaseModel):
    id: str
    client_order_id: Optional[str] = Field(alias="clientOrderId")
    type_: OrderType = Field(alias="type")
    status: OrderStatus
    amount_in: Decimal = Field(alias="amountIn")
    limit_price: Optional[Decimal] = Field(alias="limitPrice")
    twap: Optional["PlaceTwapOrderPlaceOrderOrderPlacedOrderTwap"]
    created_at: datetime = Field(alias="createdAt")


class PlaceTwapOrderPlaceOrderOrderPlacedOrderTwap(BaseModel):
    slices: int
    duration_seconds: int = Field(alias="durationSeconds")
    jitter_bps: int = Field(alias="jitterBps")
    next_slice_index: int = Field(alias="nextSliceIndex")
    next_slice_at: Optional[datetime] = Field(alias="nextSliceAt")


class PlaceTwapOrderPlaceOrderOrderRejected(RejectionFields):
    typename__: Literal["OrderRejected"] = Field(alias="__typename")


PlaceTwapOrder.model_rebuild()
PlaceTwapOrderPlaceOrderOrderPlaced.model_rebuild()
PlaceTwapOrderPlaceOrderOrderPlacedOrder.model_rebuild()

from typing import Literal, Union

from pydantic import Field

from .base_model import BaseModel
from .fragments import OrderFields, RejectionFields


class PlaceLimitOrder(BaseModel):
    place_order: Union[
        "PlaceLimitOrderPlaceOrderOrderPlaced", "PlaceLimitOrderPlaceOrderOrderRejected"
    ] = Field(alias="placeOrder", discriminator="typename__")


class PlaceLimitOrderPlaceOrderOrderPlaced(BaseModel):
    typename__: Literal["OrderPlaced"] = Field(alias="__typename")
    order: "PlaceLimitOrderPlaceOrderOrderPlacedOrder"


PlaceLimitOrderPlaceOrderOrderPlacedOrder = OrderFields


class PlaceLimitOrderPlaceOrderOrderRejected(RejectionFields):
    typename__: Literal["OrderRejected"] = Field(alias="__typename")


PlaceLimitOrder.model_rebuild()
PlaceLimitOrderPlaceOrderOrderPlaced.model_rebuild()

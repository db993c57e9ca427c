from typing import Literal, Union

from pydantic import Field

from .base_model import BaseModel
from .fragments import OrderFields, RejectionFields


class PlaceTwapOrder(BaseModel):
    place_order: Union[
        "PlaceTwapOrderPlaceOrderOrderPlaced", "PlaceTwapOrderPlaceOrderOrderRejected"
    ] = Field(alias="placeOrder", discriminator="typename__")


class PlaceTwapOrderPlaceOrderOrderPlaced(BaseModel):
    typename__: Literal["OrderPlaced"] = Field(alias="__typename")
    order: "PlaceTwapOrderPlaceOrderOrderPlacedOrder"


PlaceTwapOrderPlaceOrderOrderPlacedOrder = OrderFields


class PlaceTwapOrderPlaceOrderOrderRejected(RejectionFields):
    typename__: Literal["OrderRejected"] = Field(alias="__typename")


PlaceTwapOrder.model_rebuild()
PlaceTwapOrderPlaceOrderOrderPlaced.model_rebuild()

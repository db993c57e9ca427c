from typing import Literal, Union

from pydantic import Field

from .base_model import BaseModel
from .fragments import OrderFields, RejectionFields


class PlaceStopLossOrder(BaseModel):
    place_order: Union[
        "PlaceStopLossOrderPlaceOrderOrderPlaced",
        "PlaceStopLossOrderPlaceOrderOrderRejected",
    ] = Field(alias="placeOrder", discriminator="typename__")


class PlaceStopLossOrderPlaceOrderOrderPlaced(BaseModel):
    typename__: Literal["OrderPlaced"] = Field(alias="__typename")
    order: "PlaceStopLossOrderPlaceOrderOrderPlacedOrder"


PlaceStopLossOrderPlaceOrderOrderPlacedOrder = OrderFields


class PlaceStopLossOrderPlaceOrderOrderRejected(RejectionFields):
    typename__: Literal["OrderRejected"] = Field(alias="__typename")


PlaceStopLossOrder.model_rebuild()
PlaceStopLossOrderPlaceOrderOrderPlaced.model_rebuild()

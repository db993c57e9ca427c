from typing import Literal, Union

from pydantic import Field

from .base_model import BaseModel
from .fragments import OrderFields, RejectionFields


class PlaceTrailingStopOrder(BaseModel):
    place_order: Union[
        "PlaceTrailingStopOrderPlaceOrderOrderPlaced",
        "PlaceTrailingStopOrderPlaceOrderOrderRejected",
    ] = Field(alias="placeOrder", discriminator="typename__")


class PlaceTrailingStopOrderPlaceOrderOrderPlaced(BaseModel):
    typename__: Literal["OrderPlaced"] = Field(alias="__typename")
    order: "PlaceTrailingStopOrderPlaceOrderOrderPlacedOrder"


PlaceTrailingStopOrderPlaceOrderOrderPlacedOrder = OrderFields


class PlaceTrailingStopOrderPlaceOrderOrderRejected(RejectionFields):
    typename__: Literal["OrderRejected"] = Field(alias="__typename")


PlaceTrailingStopOrder.model_rebuild()
PlaceTrailingStopOrderPlaceOrderOrderPlaced.model_rebuild()

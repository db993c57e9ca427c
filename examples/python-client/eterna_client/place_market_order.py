from typing import Literal, Union

from pydantic import Field

from .base_model import BaseModel
from .fragments import OrderFields, RejectionFields


class PlaceMarketOrder(BaseModel):
    place_order: Union[
        "PlaceMarketOrderPlaceOrderOrderPlaced",
        "PlaceMarketOrderPlaceOrderOrderRejected",
    ] = Field(alias="placeOrder", discriminator="typename__")


class PlaceMarketOrderPlaceOrderOrderPlaced(BaseModel):
    typename__: Literal["OrderPlaced"] = Field(alias="__typename")
    order: "PlaceMarketOrderPlaceOrderOrderPlacedOrder"


PlaceMarketOrderPlaceOrderOrderPlacedOrder = OrderFields


class PlaceMarketOrderPlaceOrderOrderRejected(RejectionFields):
    typename__: Literal["OrderRejected"] = Field(alias="__typename")


PlaceMarketOrder.model_rebuild()
PlaceMarketOrderPlaceOrderOrderPlaced.model_rebuild()

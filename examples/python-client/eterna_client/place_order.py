from typing import Literal, Union

from pydantic import Field

from .base_model import BaseModel
from .fragments import OrderFields, RejectionFields


class PlaceOrder(BaseModel):
    place_order: Union[
        "PlaceOrderPlaceOrderOrderPlaced", "PlaceOrderPlaceOrderOrderRejected"
    ] = Field(alias="placeOrder", discriminator="typename__")


class PlaceOrderPlaceOrderOrderPlaced(BaseModel):
    typename__: Literal["OrderPlaced"] = Field(alias="__typename")
    order: "PlaceOrderPlaceOrderOrderPlacedOrder"


PlaceOrderPlaceOrderOrderPlacedOrder = OrderFields


class PlaceOrderPlaceOrderOrderRejected(RejectionFields):
    typename__: Literal["OrderRejected"] = Field(alias="__typename")


PlaceOrder.model_rebuild()
PlaceOrderPlaceOrderOrderPlaced.model_rebuild()

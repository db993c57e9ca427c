from typing import Literal, Union

from pydantic import Field

from .base_model import BaseModel
from .fragments import OrderFields, RejectionFields


class PlaceTakeProfitOrder(BaseModel):
    place_order: Union[
        "PlaceTakeProfitOrderPlaceOrderOrderPlaced",
        "PlaceTakeProfitOrderPlaceOrderOrderRejected",
    ] = Field(alias="placeOrder", discriminator="typename__")


class PlaceTakeProfitOrderPlaceOrderOrderPlaced(BaseModel):
    typename__: Literal["OrderPlaced"] = Field(alias="__typename")
    order: "PlaceTakeProfitOrderPlaceOrderOrderPlacedOrder"


PlaceTakeProfitOrderPlaceOrderOrderPlacedOrder = OrderFields


class PlaceTakeProfitOrderPlaceOrderOrderRejected(RejectionFields):
    typename__: Literal["OrderRejected"] = Field(alias="__typename")


PlaceTakeProfitOrder.model_rebuild()
PlaceTakeProfitOrderPlaceOrderOrderPlaced.model_rebuild()

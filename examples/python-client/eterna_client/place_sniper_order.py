from typing import Literal, Union

from pydantic import Field

from .base_model import BaseModel
from .fragments import OrderFields, RejectionFields


class PlaceSniperOrder(BaseModel):
    place_order: Union[
        "PlaceSniperOrderPlaceOrderOrderPlaced",
        "PlaceSniperOrderPlaceOrderOrderRejected",
    ] = Field(alias="placeOrder", discriminator="typename__")


class PlaceSniperOrderPlaceOrderOrderPlaced(BaseModel):
    typename__: Literal["OrderPlaced"] = Field(alias="__typename")
    order: "PlaceSniperOrderPlaceOrderOrderPlacedOrder"


PlaceSniperOrderPlaceOrderOrderPlacedOrder = OrderFields


class PlaceSniperOrderPlaceOrderOrderRejected(RejectionFields):
    typename__: Literal["OrderRejected"] = Field(alias="__typename")


PlaceSniperOrder.model_rebuild()
PlaceSniperOrderPlaceOrderOrderPlaced.model_rebuild()

from typing import Annotated, Literal, Union

from pydantic import Field

from .base_model import BaseModel
from .fragments import OrderFields, RejectionFields


class PlaceOrders(BaseModel):
    place_orders: list[
        Annotated[
            Union[
                "PlaceOrdersPlaceOrdersOrderPlaced",
                "PlaceOrdersPlaceOrdersOrderRejected",
            ],
            Field(discriminator="typename__"),
        ]
    ] = Field(alias="placeOrders")


class PlaceOrdersPlaceOrdersOrderPlaced(BaseModel):
    typename__: Literal["OrderPlaced"] = Field(alias="__typename")
    order: "PlaceOrdersPlaceOrdersOrderPlacedOrder"


PlaceOrdersPlaceOrdersOrderPlacedOrder = OrderFields


class PlaceOrdersPlaceOrdersOrderRejected(RejectionFields):
    typename__: Literal["OrderRejected"] = Field(alias="__typename")


PlaceOrders.model_rebuild()
PlaceOrdersPlaceOrdersOrderPlaced.model_rebuild()

from typing import Literal, Union

from pydantic import Field

from .base_model import BaseModel
from .fragments import GroupFields, RejectionFields


class PlaceOrderGroup(BaseModel):
    place_order_group: Union[
        "PlaceOrderGroupPlaceOrderGroupOrderGroupPlaced",
        "PlaceOrderGroupPlaceOrderGroupOrderRejected",
    ] = Field(alias="placeOrderGroup", discriminator="typename__")


class PlaceOrderGroupPlaceOrderGroupOrderGroupPlaced(BaseModel):
    typename__: Literal["OrderGroupPlaced"] = Field(alias="__typename")
    group: "PlaceOrderGroupPlaceOrderGroupOrderGroupPlacedGroup"


PlaceOrderGroupPlaceOrderGroupOrderGroupPlacedGroup = GroupFields


class PlaceOrderGroupPlaceOrderGroupOrderRejected(RejectionFields):
    typename__: Literal["OrderRejected"] = Field(alias="__typename")


PlaceOrderGroup.model_rebuild()
PlaceOrderGroupPlaceOrderGroupOrderGroupPlaced.model_rebuild()

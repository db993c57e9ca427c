from pydantic import Field

from .base_model import BaseModel
from .fragments import EventFields


class MyOrderEvents(BaseModel):
    my_order_events: "MyOrderEventsMyOrderEvents" = Field(alias="myOrderEvents")


MyOrderEventsMyOrderEvents = EventFields
MyOrderEvents.model_rebuild()

from pydantic import Field

from .base_model import BaseModel
from .fragments import EventFields


class OrderEvents(BaseModel):
    order_events: "OrderEventsOrderEvents" = Field(alias="orderEvents")


OrderEventsOrderEvents = EventFields
OrderEvents.model_rebuild()

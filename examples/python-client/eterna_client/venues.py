from pydantic import Field

from .base_model import BaseModel


class Venues(BaseModel):
    venues: list["VenuesVenues"]


class VenuesVenues(BaseModel):
    name: str
    kind: str
    pool_count: int = Field(alias="poolCount")


Venues.model_rebuild()

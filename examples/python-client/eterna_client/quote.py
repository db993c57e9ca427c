from typing import Literal, Union

from pydantic import Field

from .base_model import BaseModel
from .enums import RejectionCode
from .fragments import QuoteFields, RouteFields


class Quote(BaseModel):
    quote: Union["QuoteQuoteRouteQuote", "QuoteQuoteQuoteRejected"] = Field(
        discriminator="typename__"
    )


class QuoteQuoteRouteQuote(BaseModel):
    typename__: Literal["RouteQuote"] = Field(alias="__typename")
    route: "QuoteQuoteRouteQuoteRoute"
    quotes: list["QuoteQuoteRouteQuoteQuotes"]


QuoteQuoteRouteQuoteRoute = RouteFields
QuoteQuoteRouteQuoteQuotes = QuoteFields


class QuoteQuoteQuoteRejected(BaseModel):
    typename__: Literal["QuoteRejected"] = Field(alias="__typename")
    code: RejectionCode
    message: str


Quote.model_rebuild()
QuoteQuoteRouteQuote.model_rebuild()

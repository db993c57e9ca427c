from pydantic import Field

from .base_model import BaseModel


class TradingPauses(BaseModel):
    trading_pauses: list["TradingPausesTradingPauses"] = Field(alias="tradingPauses")


class TradingPausesTradingPauses(BaseModel):
    key: str
    label: str


TradingPauses.model_rebuild()

from pydantic import Field

from .base_model import BaseModel


class PauseTrading(BaseModel):
    pause_trading: list["PauseTradingPauseTrading"] = Field(alias="pauseTrading")


class PauseTradingPauseTrading(BaseModel):
    key: str
    label: str


PauseTrading.model_rebuild()

from pydantic import Field

from .base_model import BaseModel


class ResumeTrading(BaseModel):
    resume_trading: list["ResumeTradingResumeTrading"] = Field(alias="resumeTrading")


class ResumeTradingResumeTrading(BaseModel):
    key: str
    label: str


ResumeTrading.model_rebuild()

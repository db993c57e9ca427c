from datetime import datetime
from decimal import Decimal
from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .enums import OrderStatus


class TwapProgress(BaseModel):
    order: Optional["TwapProgressOrder"]


class TwapProgressOrder(BaseModel):
    id: str
    status: OrderStatus
    amount_in: Decimal = Field(alias="amountIn")
    amount_out: Optional[Decimal] = Field(alias="amountOut")
    executed_price: Optional[Decimal] = Field(alias="executedPrice")
    twap: Optional["TwapProgressOrderTwap"]
    progress: Optional["TwapProgressOrderProgress"]
    children: list["TwapProgressOrderChildren"]


class TwapProgressOrderTwap(BaseModel):
    slices: int
    duration_seconds: int = Field(alias="durationSeconds")
    jitter_bps: int = Field(alias="jitterBps")
    next_slice_index: int = Field(alias="nextSliceIndex")
    next_slice_at: Optional[datetime] = Field(alias="nextSliceAt")


class TwapProgressOrderProgress(BaseModel):
    slices: int
    slices_placed: int = Field(alias="slicesPlaced")
    slices_done: int = Field(alias="slicesDone")
    slices_filled: int = Field(alias="slicesFilled")
    slices_failed: int = Field(alias="slicesFailed")
    slices_remaining: int = Field(alias="slicesRemaining")
    filled_amount_in: Decimal = Field(alias="filledAmountIn")
    amount_out: Decimal = Field(alias="amountOut")
    average_price: Optional[Decimal] = Field(alias="averagePrice")


class TwapProgressOrderChildren(BaseModel):
    id: str
    slice_index: Optional[int] = Field(alias="sliceIndex")
    status: OrderStatus
    amount_in: Decimal = Field(alias="amountIn")
    amount_out: Optional[Decimal] = Field(alias="amountOut")
    executed_price: Optional[Decimal] = Field(alias="executedPrice")
    failure_reason: Optional[str] = Field(alias="failureReason")
    created_at: datetime = Field(alias="createdAt")


TwapProgress.model_rebuild()
TwapProgressOrder.model_rebuild()

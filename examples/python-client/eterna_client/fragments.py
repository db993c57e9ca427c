from datetime import datetime
from decimal import Decimal
from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .enums import OrderStatus, OrderType, RejectionCode


class QuoteFields(BaseModel):
    venue: str
    pool: str
    amount_out: Decimal = Field(alias="amountOut")
    fee: Decimal
    price_impact_bps: int = Field(alias="priceImpactBps")


class TokenFields(BaseModel):
    mint: str
    symbol: Optional[str]
    decimals: int


class RouteFields(BaseModel):
    amount_in: Decimal = Field(alias="amountIn")
    amount_out: Decimal = Field(alias="amountOut")
    min_amount_out: Decimal = Field(alias="minAmountOut")
    price_impact_bps: int = Field(alias="priceImpactBps")
    legs: list["RouteFieldsLegs"]


class RouteFieldsLegs(BaseModel):
    venue: str
    pool: str
    token_in: "RouteFieldsLegsTokenIn" = Field(alias="tokenIn")
    token_out: "RouteFieldsLegsTokenOut" = Field(alias="tokenOut")
    amount_in: Decimal = Field(alias="amountIn")
    amount_out: Decimal = Field(alias="amountOut")
    fee: Decimal


class RouteFieldsLegsTokenIn(TokenFields):
    pass


class RouteFieldsLegsTokenOut(TokenFields):
    pass


class EventFields(BaseModel):
    order_id: str = Field(alias="orderId")
    seq: int
    status: OrderStatus
    at: datetime
    attempt: int
    message: str
    quotes: Optional[list["EventFieldsQuotes"]]
    route: Optional["EventFieldsRoute"]
    tx_signature: Optional[str] = Field(alias="txSignature")
    amount_out: Optional[Decimal] = Field(alias="amountOut")
    executed_price: Optional[Decimal] = Field(alias="executedPrice")
    error: Optional[str]
    trigger: Optional["EventFieldsTrigger"]
    cancelled_by_sibling: Optional[str] = Field(alias="cancelledBySibling")
    fill: Optional["EventFieldsFill"]


class EventFieldsQuotes(QuoteFields):
    pass


class EventFieldsRoute(RouteFields):
    pass


class EventFieldsTrigger(BaseModel):
    kind: OrderType
    price: Optional[Decimal]
    trigger_price: Optional[Decimal] = Field(alias="triggerPrice")
    best_price: Optional[Decimal] = Field(alias="bestPrice")
    limit_price: Optional[Decimal] = Field(alias="limitPrice")
    pool: Optional[str]
    venue: Optional[str]


class EventFieldsFill(BaseModel):
    amount_in: Decimal = Field(alias="amountIn")
    amount_out: Decimal = Field(alias="amountOut")
    price: Decimal


class GroupFields(BaseModel):
    id: str
    orders: list["GroupFieldsOrders"]


class GroupFieldsOrders(BaseModel):
    id: str
    type_: OrderType = Field(alias="type")
    status: OrderStatus
    token_in: "GroupFieldsOrdersTokenIn" = Field(alias="tokenIn")
    token_out: "GroupFieldsOrdersTokenOut" = Field(alias="tokenOut")
    amount_in: Decimal = Field(alias="amountIn")
    limit_price: Optional[Decimal] = Field(alias="limitPrice")
    trigger_price: Optional[Decimal] = Field(alias="triggerPrice")
    trail_bps: Optional[int] = Field(alias="trailBps")
    best_price: Optional[Decimal] = Field(alias="bestPrice")
    expires_at: Optional[datetime] = Field(alias="expiresAt")
    amount_out: Optional[Decimal] = Field(alias="amountOut")
    executed_price: Optional[Decimal] = Field(alias="executedPrice")
    group_id: Optional[str] = Field(alias="groupId")


class GroupFieldsOrdersTokenIn(BaseModel):
    symbol: Optional[str]


class GroupFieldsOrdersTokenOut(BaseModel):
    symbol: Optional[str]


class OrderFields(BaseModel):
    id: str
    client_order_id: Optional[str] = Field(alias="clientOrderId")
    type_: OrderType = Field(alias="type")
    status: OrderStatus
    token_in: "OrderFieldsTokenIn" = Field(alias="tokenIn")
    token_out: "OrderFieldsTokenOut" = Field(alias="tokenOut")
    amount_in: Decimal = Field(alias="amountIn")
    slippage_bps: int = Field(alias="slippageBps")
    max_slippage_bps: Optional[int] = Field(alias="maxSlippageBps")
    limit_price: Optional[Decimal] = Field(alias="limitPrice")
    trigger_price: Optional[Decimal] = Field(alias="triggerPrice")
    trail_bps: Optional[int] = Field(alias="trailBps")
    best_price: Optional[Decimal] = Field(alias="bestPrice")
    expires_at: Optional[datetime] = Field(alias="expiresAt")
    attempts: int
    route: Optional["OrderFieldsRoute"]
    amount_out: Optional[Decimal] = Field(alias="amountOut")
    executed_price: Optional[Decimal] = Field(alias="executedPrice")
    all_or_none: bool = Field(alias="allOrNone")
    min_fill_amount: Optional[Decimal] = Field(alias="minFillAmount")
    filled_amount_in: Decimal = Field(alias="filledAmountIn")
    remaining_amount_in: Decimal = Field(alias="remainingAmountIn")
    fills: list["OrderFieldsFills"]
    tx_signature: Optional[str] = Field(alias="txSignature")
    failure_reason: Optional[str] = Field(alias="failureReason")
    created_at: datetime = Field(alias="createdAt")
    updated_at: datetime = Field(alias="updatedAt")
    group_id: Optional[str] = Field(alias="groupId")


class OrderFieldsTokenIn(TokenFields):
    pass


class OrderFieldsTokenOut(TokenFields):
    pass


class OrderFieldsRoute(RouteFields):
    pass


class OrderFieldsFills(BaseModel):
    amount_in: Decimal = Field(alias="amountIn")
    amount_out: Decimal = Field(alias="amountOut")
    price: Decimal
    tx_signature: Optional[str] = Field(alias="txSignature")
    at: datetime
    seq: int


class RejectionFields(BaseModel):
    code: RejectionCode
    message: str
    field: Optional[str]
    retry_after_seconds: Optional[float] = Field(alias="retryAfterSeconds")


QuoteFields.model_rebuild()
TokenFields.model_rebuild()
RouteFields.model_rebuild()
EventFields.model_rebuild()
GroupFields.model_rebuild()
OrderFields.model_rebuild()
RejectionFields.model_rebuild()

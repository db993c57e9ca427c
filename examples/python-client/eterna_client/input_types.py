from datetime import datetime
from decimal import Decimal
from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .enums import OrderType


class OrderInput(BaseModel):
    """An order to place."""

    type_: OrderType = Field(alias="type")
    "MARKET, LIMIT or SNIPER."
    token_in: str = Field(alias="tokenIn")
    'Symbol ("SOL") or mint address.'
    token_out: str = Field(alias="tokenOut")
    "Symbol or mint; a SNIPER order may name a mint no venue lists yet."
    amount_in: Decimal = Field(alias="amountIn")
    "In tokenIn units, within its decimals."
    slippage_bps: Optional[int] = Field(alias="slippageBps", default=None)
    "1..5000, default 50."
    limit_price: Optional[Decimal] = Field(alias="limitPrice", default=None)
    "LIMIT: minimum tokenOut per 1 tokenIn."
    min_liquidity: Optional[Decimal] = Field(alias="minLiquidity", default=None)
    "SNIPER: optional filter, in tokenIn units."
    max_price_impact_bps: Optional[int] = Field(alias="maxPriceImpactBps", default=None)
    "Refuse routes that move the price more than this."
    expires_at: Optional[datetime] = Field(alias="expiresAt", default=None)
    "LIMIT, SNIPER: when the order stops resting, at most the server's horizon ahead (30 days by default); unset, it expires at the horizon."
    client_order_id: Optional[str] = Field(alias="clientOrderId", default=None)
    "Idempotency key, unique per user: placing it again returns the same order."

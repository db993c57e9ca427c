from datetime import datetime
from decimal import Decimal
from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .enums import OrderType


class OrderGroupInput(BaseModel):
    """An OCO group to place: two resting orders, one position."""

    legs: list["OrderInput"]
    "Exactly two legs, each LIMIT, STOP_LOSS, TAKE_PROFIT or TRAILING_STOP, spending the same tokenIn; a clientOrderId on each or on neither (placing the same two again returns the first group). The first to fire cancels the other."


class OrderInput(BaseModel):
    """An order to place."""

    type_: OrderType = Field(alias="type")
    "MARKET, LIMIT, SNIPER, STOP_LOSS, TAKE_PROFIT, TRAILING_STOP or TWAP."
    token_in: str = Field(alias="tokenIn")
    'Symbol ("SOL") or mint address.'
    token_out: str = Field(alias="tokenOut")
    "Symbol or mint; a SNIPER order may name a mint no venue lists yet."
    amount_in: Decimal = Field(alias="amountIn")
    "In tokenIn units, within its decimals."
    slippage_bps: Optional[int] = Field(alias="slippageBps", default=None)
    "A fixed tolerance below the route's expected output, 1..5000, default 50. Not with maxSlippageBps."
    max_slippage_bps: Optional[int] = Field(alias="maxSlippageBps", default=None)
    "Adaptive slippage, 1..5000: the engine picks each attempt's tolerance from the route's depth and the pools' recent moves and failures, widens it after a slippage failure, never above this cap (the ROUTING event says what it chose and why). Not with slippageBps."
    limit_price: Optional[Decimal] = Field(alias="limitPrice", default=None)
    "LIMIT: minimum tokenOut per 1 tokenIn. STOP_LOSS, TAKE_PROFIT, TRAILING_STOP: optional floor once fired (a fill below it fails BELOW_LIMIT_PRICE, nothing swapped); for STOP_LOSS and TAKE_PROFIT at most triggerPrice. TWAP: optional floor of every slice (a slice whose best route pays less is skipped, nothing sent)."
    trigger_price: Optional[Decimal] = Field(alias="triggerPrice", default=None)
    "STOP_LOSS (required): fire when the best route for the whole amountIn pays this many tokenOut per 1 tokenIn or less. TAKE_PROFIT (required): fire when it pays this or more. Positive, at most 18 decimals."
    trail_bps: Optional[int] = Field(alias="trailBps", default=None)
    "TRAILING_STOP (required), 1..5000: fire when the best route for the whole amountIn pays this many bps below the best price it paid since placement."
    slices: Optional[int] = None
    "TWAP (required), 1..100: how many slices amountIn is cut into (exactly, to the base unit; the last slice takes the remainder)."
    duration_seconds: Optional[int] = Field(alias="durationSeconds", default=None)
    "TWAP (required), 1..604800: the slices are placed over this many seconds, slice k at k x durationSeconds / slices after placement."
    jitter_bps: Optional[int] = Field(alias="jitterBps", default=None)
    "TWAP (optional), 0..5000: move each slice's time by up to this share of the interval between slices, either way (default 0)."
    all_or_none: Optional[bool] = Field(alias="allOrNone", default=None)
    "LIMIT: true fills the whole amountIn at once or not at all. False or unset: when the whole amount does not meet the limit, the largest part that does trades (at least minFillAmount) and the rest keeps resting. Only for LIMIT orders."
    min_fill_amount: Optional[Decimal] = Field(alias="minFillAmount", default=None)
    "LIMIT filling in parts: the least tokenIn one fill spends, from 1% of amountIn (an order fills in at most 100 parts) up to amountIn (what remains, when less is left); unset, a share of amountIn the server sets (1% by default). Not with allOrNone: true."
    min_liquidity: Optional[Decimal] = Field(alias="minLiquidity", default=None)
    "SNIPER: optional filter, in tokenIn units."
    max_price_impact_bps: Optional[int] = Field(alias="maxPriceImpactBps", default=None)
    "Refuse routes that move the price more than this."
    expires_at: Optional[datetime] = Field(alias="expiresAt", default=None)
    "LIMIT, SNIPER and stops: when the order stops resting, at most the server's horizon ahead (30 days by default); unset, it expires at the horizon."
    client_order_id: Optional[str] = Field(alias="clientOrderId", default=None)
    "Idempotency key, unique per user: placing it again returns the same order."


OrderGroupInput.model_rebuild()

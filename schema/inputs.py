"""GraphQL inputs."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from eterna.service import OrderRequest
from schema.types import OrderType


@strawberry.input(description="An order to place.")
class OrderInput:
    """An order to place."""

    type: OrderType
    token_in: str = strawberry.field(description='Symbol ("SOL") or mint address.')
    token_out: str = strawberry.field(
        description="Symbol or mint; a SNIPER order may name a mint no venue lists yet."
    )
    amount_in: Decimal = strawberry.field(description="In tokenIn units, within its decimals.")
    slippage_bps: int | None = strawberry.field(default=None, description="1..5000, default 50.")
    limit_price: Decimal | None = strawberry.field(
        default=None, description="LIMIT: minimum tokenOut per 1 tokenIn."
    )
    min_liquidity: Decimal | None = strawberry.field(
        default=None, description="SNIPER: optional filter, in tokenIn units."
    )
    max_price_impact_bps: int | None = strawberry.field(
        default=None, description="Refuse routes that move the price more than this."
    )
    expires_at: datetime | None = strawberry.field(default=None, description="LIMIT, SNIPER.")
    client_order_id: str | None = strawberry.field(
        default=None,
        description="Idempotency key, unique per user: placing it again returns the same order.",
    )

    def to_request(self) -> OrderRequest:
        """Return the service request."""
        return OrderRequest(
            type=self.type,
            token_in=self.token_in,
            token_out=self.token_out,
            amount_in=self.amount_in,
            slippage_bps=self.slippage_bps,
            limit_price=self.limit_price,
            min_liquidity=self.min_liquidity,
            max_price_impact_bps=self.max_price_impact_bps,
            expires_at=self.expires_at,
            client_order_id=self.client_order_id,
        )

"""An optional limit on orders started per minute, shared by every worker through Redis."""

from __future__ import annotations

import asyncio
import uuid

from eterna.application.engine import ExecutionEngine
from eterna.application.ratelimit import RateLimiter
from eterna.domain.orders import Order

GLOBAL_KEY = "orders:global"


class ThrottledEngine:
    """Wait for the shared budget before each execution, then hand it to the engine."""

    def __init__(self, engine: ExecutionEngine, limiter: RateLimiter) -> None:
        self._engine = engine
        self._limiter = limiter

    async def execute(self, order_id: uuid.UUID, user_id: str = "") -> Order | None:
        """Execute the order once the global budget allows it."""
        while True:
            decision = await self._limiter.hit(GLOBAL_KEY)
            if decision.allowed:
                return await self._engine.execute(order_id, user_id)
            await asyncio.sleep(max(decision.retry_after_seconds, 0.01))

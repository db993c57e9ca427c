"""Figures about the stored orders, for the metrics read at scrape time."""

from __future__ import annotations

from tortoise.functions import Count

from eterna.domain.orders import OrderStatus, OrderType
from models.orders import OrderModel


async def count_orders() -> dict[tuple[OrderType, OrderStatus], int]:
    """Return how many orders there are of each type and status (absent pairs have none)."""
    rows = (
        await OrderModel.all()
        .annotate(n=Count("id"))
        .group_by("type", "status")
        .values("type", "status", "n")
    )
    return {(OrderType(r["type"]), OrderStatus(r["status"])): int(r["n"]) for r in rows}

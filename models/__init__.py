"""Tortoise models and the repository that maps rows to domain objects."""

from models.orders import OrderEventModel, OrderModel

__all__ = ["OrderEventModel", "OrderModel"]

"""Storage: the Tortoise models of the schema, and the order stores (Postgres, Tortoise, memory)."""

from models.orders import OrderEventModel, OrderModel

__all__ = ["OrderEventModel", "OrderModel"]

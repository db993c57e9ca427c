"""The kinds of order and the statuses an order moves through."""

from __future__ import annotations

import enum


class OrderType(enum.Enum):
    """What the order waits for before it swaps."""

    MARKET = "MARKET"
    LIMIT = "LIMIT"
    SNIPER = "SNIPER"


class OrderStatus(enum.Enum):
    """Where an order is in its life; see eterna.domain.state_machine for the allowed moves."""

    PENDING = "PENDING"
    WAITING = "WAITING"
    ROUTING = "ROUTING"
    BUILDING = "BUILDING"
    SUBMITTED = "SUBMITTED"
    CONFIRMED = "CONFIRMED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"

    @property
    def is_terminal(self) -> bool:
        """Tell whether no further transition is possible."""
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset(
    {OrderStatus.CONFIRMED, OrderStatus.FAILED, OrderStatus.CANCELLED, OrderStatus.EXPIRED}
)

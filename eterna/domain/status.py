"""The kinds of order and the statuses an order moves through."""

from __future__ import annotations

import enum


class OrderType(enum.Enum):
    """What the order waits for before it swaps."""

    MARKET = "MARKET"
    LIMIT = "LIMIT"
    SNIPER = "SNIPER"
    STOP_LOSS = "STOP_LOSS"
    TAKE_PROFIT = "TAKE_PROFIT"
    TRAILING_STOP = "TRAILING_STOP"
    # A parent that places MARKET child orders (slices) over time (see eterna.domain.twap).
    TWAP = "TWAP"

    @property
    def is_stop(self) -> bool:
        """Tell whether the order is a stop (stop-loss, take-profit or trailing stop).

        A stop rests like a limit order but, once fired, trades as a market order: it never
        goes back to WAITING (see eterna.domain.stops).
        """
        return self in STOP_TYPES

    @property
    def rests_on_price(self) -> bool:
        """Tell whether a failure on price sends the order back to WAITING (LIMIT, SNIPER)."""
        return self in (OrderType.LIMIT, OrderType.SNIPER)


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


STOP_TYPES = frozenset({OrderType.STOP_LOSS, OrderType.TAKE_PROFIT, OrderType.TRAILING_STOP})

TERMINAL_STATUSES = frozenset(
    {OrderStatus.CONFIRMED, OrderStatus.FAILED, OrderStatus.CANCELLED, OrderStatus.EXPIRED}
)

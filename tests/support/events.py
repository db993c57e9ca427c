"""Events the tests of event transport publish: a PENDING event of a new order."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from eterna.domain.orders import OrderEvent, OrderStatus


def pending_event(user: str, seq: int = 1) -> OrderEvent:
    """Return a PENDING event of a fresh order of the user, at a fixed time."""
    return OrderEvent(
        order_id=uuid.uuid4(),
        user_id=user,
        seq=seq,
        status=OrderStatus.PENDING,
        at=datetime(2030, 1, 1, tzinfo=UTC),
        attempt=0,
        message="accepted",
    )

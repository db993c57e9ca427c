"""A long-lived subscription holds no more objects after many events than after a few."""

from __future__ import annotations

import asyncio
import gc
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from eterna.adapters.auth import Principal
from eterna.application.events.hub import EventHub
from eterna.application.events.streams import user_event_stream
from eterna.domain.orders import OrderEvent, OrderStatus
from schema import build_schema
from schema.context import Context

pytestmark = pytest.mark.anyio

STATUSES = [OrderStatus.PENDING, OrderStatus.ROUTING, OrderStatus.CONFIRMED]


class _Service:
    """The one call myOrderEvents makes, over an in-process hub."""

    def __init__(self, hub: EventHub) -> None:
        self.hub = hub

    def my_order_events(self, user_id: str) -> AsyncIterator[OrderEvent]:
        return user_event_stream(
            self.hub,
            cast("Any", None),  # every order starts at seq 1: no database read
            user_id,
            now=lambda: datetime.now(UTC),
        )


def _tracked(name: str) -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if type(o).__name__ == name)


@pytest.mark.parametrize(
    "query",
    [
        "subscription { myOrderEvents { orderId seq status } }",  # completed by its plan
        # Completed by graphql-core's executor, one built for each event.
        "subscription { myOrderEvents { ...F } } fragment F on OrderEvent { orderId seq }",
    ],
)
async def test_each_event_leaves_nothing_behind_in_the_executor(query: str) -> None:
    hub = EventHub()
    principal = Principal("alice", datetime.now(UTC) + timedelta(hours=1))
    context = Context(
        request=cast("Any", None),
        response=None,
        service=cast("Any", _Service(hub)),
        principal=principal,
    )
    stream: Any = await build_schema().subscribe(query, context_value=context)

    async def deliver(orders: int) -> None:
        async def feed() -> None:
            await asyncio.sleep(0.01)  # the subscription registers its listener
            for _ in range(orders):
                order_id = uuid.uuid4()
                for seq, status in enumerate(STATUSES, start=1):
                    at = datetime.now(UTC)
                    hub.dispatch(OrderEvent(order_id, "alice", seq, status, at, 0, "step"))
                await asyncio.sleep(0)

        task = asyncio.create_task(feed())
        for _ in range(orders * len(STATUSES)):
            result = await asyncio.wait_for(anext(stream), 5)
            assert not result.errors
        await task

    try:
        await deliver(10)
        after_a_few = _tracked("CollectedFields")
        await deliver(300)
        assert _tracked("CollectedFields") <= after_a_few
    finally:
        await stream.aclose()

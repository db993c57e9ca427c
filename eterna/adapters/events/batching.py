"""Batched publishing: a layer around any publisher that sends concurrent calls together.

A busy worker finishes steps of many orders at once, and each step publishes its event
after its commit. Around a publisher whose every call costs a round trip (the Redis Stream
one), :class:`BatchingPublisher` hands every call made while a publish is in flight to the
next publish, in call order: one round trip for all of them. A call made while nothing is
in flight goes out at once.

Semantics kept from the publisher it wraps: a call returns once its events are published.
A failure is logged, never raised (the events are committed; subscribers fill gaps from
the database). A caller cancelled while it waits stops waiting, and its events still go
out with the next publish; it never holds back or loses the events of other callers.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from eterna.application.ports import EventPublisher
from eterna.core.coalesce import Coalescer
from eterna.domain.orders import OrderEvent

log = logging.getLogger(__name__)


class BatchingPublisher:
    """Publish through ``inner``, calls made while a publish is in flight together."""

    def __init__(self, inner: EventPublisher, *, name: str = "event-publisher") -> None:
        self._inner = inner
        # Committed events must go out even when whoever published them has stopped waiting.
        self._calls: Coalescer[Sequence[OrderEvent], None] = Coalescer(
            self._publish_together, name=name, keep_cancelled=True
        )

    async def publish(self, events: Sequence[OrderEvent]) -> None:
        """Publish the events, with those of the calls made meanwhile; return once they are."""
        if events:
            await self._calls.submit(events)

    async def _publish_together(self, calls: Sequence[Sequence[OrderEvent]]) -> list[None]:
        events = [event for call in calls for event in call]
        try:
            await self._inner.publish(events)
        except Exception:  # a publisher that raises: its events are committed all the same
            log.exception("could not publish %d events", len(events))
        return [None] * len(calls)

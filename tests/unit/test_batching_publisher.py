"""Batched publishing around a fake publisher: calls in flight together share one publish."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from eterna.adapters.events.batching import BatchingPublisher
from eterna.domain.orders import OrderEvent, OrderStatus

pytestmark = pytest.mark.anyio


def _event(user: str, seq: int = 1) -> OrderEvent:
    return OrderEvent(
        order_id=uuid.uuid4(),
        user_id=user,
        seq=seq,
        status=OrderStatus.PENDING,
        at=datetime(2030, 1, 1, tzinfo=UTC),
        attempt=0,
        message="accepted",
    )


class FakePublisher:
    """Record each publish; hold it while the gate is closed; fail when told to."""

    def __init__(self) -> None:
        self.calls: list[list[OrderEvent]] = []
        self.published: list[OrderEvent] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.fail_with: Exception | None = None

    async def publish(self, events: Sequence[OrderEvent]) -> None:
        self.calls.append(list(events))
        await self.gate.wait()
        if self.fail_with is not None:
            raise self.fail_with
        self.published += events


async def _turns(n: int = 3) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


async def test_a_lone_call_goes_out_at_once_and_returns_once_published() -> None:
    inner = FakePublisher()
    publisher = BatchingPublisher(inner)
    one, two = _event("a"), _event("a", 2)
    await publisher.publish([one, two])
    assert inner.published == [one, two]
    await publisher.publish([])  # nothing to publish: no call
    assert inner.calls == [[one, two]]


async def test_calls_made_while_a_publish_is_in_flight_go_out_together_in_call_order() -> None:
    inner = FakePublisher()
    publisher = BatchingPublisher(inner)
    inner.gate.clear()
    first = asyncio.ensure_future(publisher.publish([_event("a")]))
    await _turns()
    assert len(inner.calls) == 1
    later = [_event("b"), _event("c"), _event("d", 2)]
    rest = [
        asyncio.ensure_future(publisher.publish(later[:1])),
        asyncio.ensure_future(publisher.publish(later[1:])),
    ]
    await _turns()
    assert not any(call.done() for call in [first, *rest])  # none returns before its publish
    inner.gate.set()
    await asyncio.gather(first, *rest)
    assert [len(call) for call in inner.calls] == [1, 3]
    assert inner.calls[1] == later


async def test_a_call_returns_only_once_its_own_events_are_published() -> None:
    inner = FakePublisher()
    publisher = BatchingPublisher(inner)

    async def steps(user: str) -> None:
        order = _event(user)
        for seq in range(1, 11):
            event = replace(order, seq=seq)
            await publisher.publish([event])
            assert event in inner.published

    await asyncio.gather(*(steps(f"user{i}") for i in range(8)))
    assert len(inner.published) == 80
    assert len(inner.calls) < 80  # calls in flight together went out together
    for i in range(8):
        seqs = [e.seq for e in inner.published if e.user_id == f"user{i}"]
        assert seqs == list(range(1, 11))


async def test_a_failure_is_logged_not_raised_and_the_next_calls_go_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    inner = FakePublisher()
    publisher = BatchingPublisher(inner)
    inner.fail_with = ConnectionError("stream unreachable")
    await asyncio.gather(publisher.publish([_event("a")]), publisher.publish([_event("b")]))
    assert "could not publish 2 events" in caplog.text
    inner.fail_with = None
    later = _event("c")
    await publisher.publish([later])
    assert inner.published == [later]


async def test_a_cancelled_caller_loses_nobodys_events_not_even_its_own() -> None:
    inner = FakePublisher()
    publisher = BatchingPublisher(inner)
    inner.gate.clear()
    first, cancelled, last = _event("a"), _event("b"), _event("c")
    leader = asyncio.ensure_future(publisher.publish([first]))
    await _turns()
    doomed = asyncio.ensure_future(publisher.publish([cancelled]))
    follower = asyncio.ensure_future(publisher.publish([last]))
    await _turns()
    doomed.cancel()
    await _turns()
    inner.gate.set()
    await asyncio.wait_for(asyncio.gather(leader, follower), 5)
    assert doomed.cancelled()
    assert inner.published == [first, cancelled, last]


async def test_a_caller_cancelled_during_its_publish_leaves_it_to_finish() -> None:
    inner = FakePublisher()
    publisher = BatchingPublisher(inner)
    inner.gate.clear()
    event = _event("a")
    doomed = asyncio.ensure_future(publisher.publish([event]))
    await _turns()
    doomed.cancel()
    await _turns()
    inner.gate.set()
    await _turns()
    assert inner.published == [event]
    later = _event("b")
    await asyncio.wait_for(publisher.publish([later]), 5)  # no publish is left stuck
    assert inner.published == [event, later]

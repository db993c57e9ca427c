"""The fair broker: labelled kicks land in their user's lane and come out in turn."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from taskiq import AckableMessage

from eterna.application.ports import QueuedOrder
from tasks.broker import EXECUTE_ORDER, FairBroker, build_broker
from tasks.lanes import MemoryLanes, RedisLanes
from tasks.queue import QueueUnavailableError, TaskiqOrderQueue
from tests.conftest import REDIS_URL

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def broker(request: pytest.FixtureRequest, redis_prefix: str) -> AsyncIterator[FairBroker]:
    client = aioredis.from_url(REDIS_URL)
    lanes = MemoryLanes() if request.param == "memory" else RedisLanes(client, redis_prefix)
    broker = build_broker(lanes)
    await broker.startup()
    try:
        yield broker
    finally:
        await broker.shutdown()
        await client.aclose()


def _orders(user: str, n: int) -> list[QueuedOrder]:
    return [QueuedOrder(uuid.uuid4(), user) for _ in range(n)]


async def _take(broker: FairBroker, n: int) -> list[AckableMessage]:
    messages = broker.listen()
    taken = [await asyncio.wait_for(anext(messages), 5) for _ in range(n)]
    await messages.aclose()
    return taken


def _order_of(broker: FairBroker, message: AckableMessage) -> QueuedOrder:
    decoded = broker.formatter.loads(message.data)
    assert decoded.task_name == EXECUTE_ORDER
    return QueuedOrder(uuid.UUID(decoded.args[0]), decoded.labels["user"])


async def test_a_flooding_user_and_a_single_order_are_taken_in_turn(broker: FairBroker) -> None:
    flood, single = _orders("flood", 20), _orders("single", 1)
    await TaskiqOrderQueue(broker).enqueue(flood)
    await TaskiqOrderQueue(broker).enqueue(single)
    taken = [_order_of(broker, m) for m in await _take(broker, 4)]
    assert taken == [flood[0], single[0], flood[1], flood[2]]


async def test_what_was_taken_ahead_goes_back_first_and_acks_are_counted(
    broker: FairBroker,
) -> None:
    orders = _orders("alice", 5)
    await TaskiqOrderQueue(broker).enqueue(orders)
    (first,) = await _take(broker, 1)
    assert broker.taken == 1
    first.ack()
    assert broker.taken == 0
    assert await broker.hand_back() == 4  # the rest of the read-ahead
    assert await broker.hand_back() == 0
    assert [_order_of(broker, m) for m in await _take(broker, 4)] == orders[1:]


@pytest.mark.redis
async def test_an_unreachable_redis_is_reported_as_unavailable(redis_prefix: str) -> None:
    client = aioredis.from_url("redis://127.0.0.1:1/0")
    try:
        broker = build_broker(RedisLanes(client, redis_prefix))
        with pytest.raises(QueueUnavailableError):
            await TaskiqOrderQueue(broker).enqueue(_orders("alice", 1))
    finally:
        await client.aclose()


class ClosedDoor:
    """An admission whose door stays shut until opened."""

    def __init__(self) -> None:
        self.open = False

    def try_admit(self, running: int) -> bool:
        return self.open or running == 0

    async def next_tick(self) -> None:
        await asyncio.sleep(0.005)


@pytest.mark.parametrize("lanes_kind", ["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def test_a_closed_door_holds_back_busy_users_not_a_user_with_nothing_running(
    lanes_kind: str, redis_prefix: str
) -> None:
    client = aioredis.from_url(REDIS_URL)
    lanes = MemoryLanes() if lanes_kind == "memory" else RedisLanes(client, redis_prefix)
    door = ClosedDoor()
    broker = build_broker(lanes, admission=door)
    await broker.startup()
    try:
        flood = _orders("flood", 30)
        await TaskiqOrderQueue(broker).enqueue(flood)
        messages = broker.listen()
        first = await asyncio.wait_for(anext(messages), 5)  # nothing runs: the door lets it in
        assert _order_of(broker, first) == flood[0]
        # The flooder has an order running: the next waits for the door...
        waiting = asyncio.ensure_future(anext(messages))
        await asyncio.sleep(0.1)
        assert not waiting.done()
        # ...but a user with nothing running, queued meanwhile, is found and goes at once.
        single = _orders("single", 2)
        await TaskiqOrderQueue(broker).enqueue(single)
        taken = await asyncio.wait_for(waiting, 5)
        assert _order_of(broker, taken) == single[0]
        # Its second order waits too, now that it has one running; acked, the next one goes.
        second = asyncio.ensure_future(anext(messages))
        await asyncio.sleep(0.1)
        assert not second.done()
        taken.ack()
        assert _order_of(broker, await asyncio.wait_for(second, 5)) == single[1]
        door.open = True
        third = await asyncio.wait_for(anext(messages), 5)
        assert _order_of(broker, third) == flood[1]
        await messages.aclose()
    finally:
        await broker.shutdown()
        await client.aclose()

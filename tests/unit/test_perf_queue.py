"""The batched enqueue: the same stream entries ``kiq`` writes, one round trip per batch."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis
from taskiq import AsyncBroker, InMemoryBroker
from taskiq_redis import RedisStreamBroker

from eterna.config import Settings
from tasks.broker import EXECUTE_ORDER, build_broker, set_engine
from tasks.queue import QueueUnavailableError, TaskiqOrderQueue
from tests.conftest import REDIS_URL

pytestmark = pytest.mark.anyio


@pytest.fixture
async def stream_broker(redis_prefix: str) -> AsyncIterator[RedisStreamBroker]:
    settings = Settings(
        redis_url=REDIS_URL, database_url="postgres://unused/db", redis_prefix=redis_prefix
    )
    broker = build_broker(settings)
    assert isinstance(broker, RedisStreamBroker)
    await broker.startup()
    try:
        yield broker
    finally:
        await broker.shutdown()


async def _entries(broker: RedisStreamBroker) -> list[dict[bytes, bytes]]:
    client = aioredis.from_url(REDIS_URL)
    try:
        rows: Any = await client.xrange(broker.queue_name)
    finally:
        await client.aclose()
    return [fields for _, fields in rows]


def _decoded(broker: AsyncBroker, fields: dict[bytes, bytes]) -> dict[str, Any]:
    message = broker.formatter.loads(fields[b"data"]).model_dump()
    message.pop("task_id")
    return message


@pytest.mark.redis
async def test_a_batch_writes_what_kiq_writes(stream_broker: RedisStreamBroker) -> None:
    ids = [uuid.uuid4() for _ in range(3)]
    task = stream_broker.find_task(EXECUTE_ORDER)
    assert task is not None
    await task.kiq(str(ids[0]))
    await TaskiqOrderQueue(stream_broker).enqueue(ids)
    entries = await _entries(stream_broker)
    assert [set(e) for e in entries] == [{b"data"}] * 4
    by_kiq, *batched = (_decoded(stream_broker, e) for e in entries)
    assert batched[0] == by_kiq
    assert [m["args"] for m in batched] == [[str(i)] for i in ids]
    assert all({**m, "args": None} == {**by_kiq, "args": None} for m in batched)
    task_ids = {stream_broker.formatter.loads(e[b"data"]).task_id for e in entries}
    assert len(task_ids) == 4


@pytest.mark.redis
async def test_an_unreachable_redis_is_reported_as_unavailable(redis_prefix: str) -> None:
    settings = Settings(
        redis_url="redis://127.0.0.1:1/0",
        database_url="postgres://unused/db",
        redis_prefix=redis_prefix,
    )
    broker = build_broker(settings)
    with pytest.raises(QueueUnavailableError):
        await TaskiqOrderQueue(broker).enqueue([uuid.uuid4()])


class _Engine:
    def __init__(self) -> None:
        self.ran: list[uuid.UUID] = []

    async def execute(self, order_id: uuid.UUID) -> None:
        self.ran.append(order_id)


async def test_the_in_memory_broker_still_runs_each_order() -> None:
    broker = build_broker(Settings())
    assert isinstance(broker, InMemoryBroker)
    engine = _Engine()
    set_engine(broker, engine)  # type: ignore[arg-type]
    await broker.startup()
    try:
        ids = [uuid.uuid4() for _ in range(3)]
        await TaskiqOrderQueue(broker).enqueue(ids)
        await broker.wait_all()
    finally:
        await broker.shutdown()
    assert sorted(engine.ran) == sorted(ids)

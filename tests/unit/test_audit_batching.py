"""Audit entries recorded while a write runs are stored together, each caller still waiting
for its own."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from eterna.application.audit import PLACED, AuditEntry, BatchingAuditLog, Caller, MemoryAuditLog

pytestmark = pytest.mark.anyio

T0 = datetime(2030, 1, 1, tzinfo=UTC)


def _entry(n: int) -> AuditEntry:
    return AuditEntry.of(Caller(f"user-{n}"), PLACED, f"order-{n}", T0)


class _SlowLog(MemoryAuditLog):
    """The memory log, each write taking a moment and remembered as one batch."""

    def __init__(self, fail: bool = False) -> None:
        super().__init__()
        self.writes: list[list[str]] = []
        self.fail = fail
        self.gate = asyncio.Event()

    async def record(self, entries: Sequence[AuditEntry]) -> None:
        self.writes.append([e.subject for e in entries])
        await self.gate.wait()
        if self.fail:
            raise ConnectionError("the database went away")
        await super().record(entries)


async def test_entries_recorded_during_a_write_go_together_in_the_next() -> None:
    inner = _SlowLog()
    log = BatchingAuditLog(inner)
    first = asyncio.create_task(log.record([_entry(0)]))
    await asyncio.sleep(0)  # the first write is running
    later = [asyncio.create_task(log.record([_entry(n)])) for n in range(1, 6)]
    await asyncio.sleep(0)
    assert inner.writes == [["order-0"]]
    assert not any(t.done() for t in [first, *later])  # nobody returns before its write
    inner.gate.set()
    await asyncio.gather(first, *later)
    assert inner.writes == [["order-0"], [f"order-{n}" for n in range(1, 6)]]
    recent = await log.recent(limit=10)
    assert [e.subject for e in recent] == [f"order-{n}" for n in reversed(range(6))]
    await log.record([_entry(9)])  # alone again: a write of its own
    assert inner.writes[-1] == ["order-9"]


async def test_a_failed_write_fails_every_caller_in_it_and_not_the_next() -> None:
    inner = _SlowLog(fail=True)
    log = BatchingAuditLog(inner)
    first = asyncio.create_task(log.record([_entry(0)]))
    await asyncio.sleep(0)
    joined = [asyncio.create_task(log.record([_entry(n)])) for n in (1, 2)]
    await asyncio.sleep(0)
    inner.gate.set()
    results = await asyncio.gather(first, *joined, return_exceptions=True)
    assert all(isinstance(r, ConnectionError) for r in results), results
    inner.fail = False
    await log.record([_entry(3)])
    assert [e.subject for e in inner.entries] == ["order-3"]


async def test_nothing_to_record_writes_nothing() -> None:
    inner = _SlowLog()
    await BatchingAuditLog(inner).record([])
    assert inner.writes == []

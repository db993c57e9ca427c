"""Background tasks are kept until done, and settle waits for late ones too."""

from __future__ import annotations

import asyncio
import gc

import pytest

from eterna.core.background import Background

pytestmark = pytest.mark.anyio


async def test_a_spawned_task_is_kept_until_it_is_done() -> None:
    background = Background()
    done = asyncio.Event()

    async def work() -> None:
        await asyncio.sleep(0.05)
        done.set()

    background.spawn(work())
    gc.collect()
    assert len(background) == 1
    await asyncio.wait_for(done.wait(), 5)
    await asyncio.sleep(0)
    assert len(background) == 0


async def test_settle_waits_for_tasks_started_while_it_waits() -> None:
    background = Background()
    finished: list[str] = []

    async def second() -> None:
        await asyncio.sleep(0.05)
        finished.append("second")

    async def first() -> None:
        await asyncio.sleep(0.05)
        background.spawn(second())
        finished.append("first")

    background.spawn(first())
    assert await background.settle(5)
    assert finished == ["first", "second"]


async def test_settle_says_when_time_ran_out() -> None:
    background = Background()
    gate = asyncio.Event()

    async def held() -> None:
        await gate.wait()

    background.spawn(held())
    assert not await background.settle(0.05)
    gate.set()
    assert await background.settle(5)

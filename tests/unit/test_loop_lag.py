"""Admission by event-loop lag: new work waits while the loop runs late, never below the floor."""

from __future__ import annotations

import asyncio
import time

import pytest

from eterna.core.loop_lag import LoopLag


def _block(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


pytestmark = pytest.mark.anyio


async def test_a_quiet_loop_admits_at_once() -> None:
    lag = LoopLag(0.010)
    lag.start()
    try:
        await asyncio.sleep(0.05)
        await asyncio.wait_for(lag.admit(running=50), timeout=0.1)
    finally:
        await lag.stop()


async def test_a_late_loop_holds_new_work_until_it_catches_up() -> None:
    lag = LoopLag(0.010)
    lag.start()
    try:
        await asyncio.sleep(0.02)
        for _ in range(5):  # a run of late turns
            _block(0.05)
            await asyncio.sleep(0)
        admitted = asyncio.create_task(lag.admit(running=50))
        await asyncio.sleep(0)
        assert lag.lag > 0.010
        assert not admitted.done()
        await asyncio.wait_for(admitted, timeout=2)  # the quiet turns that follow open it
        assert lag.lag <= 0.010
    finally:
        await lag.stop()


async def test_below_the_floor_work_starts_however_late_the_loop() -> None:
    lag = LoopLag(0.010, floor=4)
    lag.start()
    try:
        await asyncio.sleep(0.02)
        for _ in range(5):
            _block(0.05)
            await asyncio.sleep(0)
        await asyncio.wait_for(lag.admit(running=3), timeout=0.01)
    finally:
        await lag.stop()


async def test_one_measurement_admits_a_few_pieces_not_a_backlog() -> None:
    lag = LoopLag(1.0, per_tick=2, interval=0.2)
    lag.start()
    try:
        admitted = [asyncio.create_task(lag.admit(running=50)) for _ in range(6)]
        await asyncio.sleep(0.01)
        assert sum(t.done() for t in admitted) <= 2
        await asyncio.wait_for(asyncio.gather(*admitted), timeout=3)
    finally:
        await lag.stop()


async def test_stopping_releases_whatever_waits() -> None:
    lag = LoopLag(0.001, interval=0.05)
    lag.start()
    await asyncio.sleep(0.06)
    lag.lag = 1.0
    lag._record(1.0)
    waiting = asyncio.create_task(lag.admit(running=50))
    await asyncio.sleep(0)
    await lag.stop()
    await asyncio.wait_for(waiting, timeout=1)


async def test_max_lag_zero_turns_admission_off() -> None:
    lag = LoopLag(0.0)
    lag.start()
    _block(0.05)
    await asyncio.wait_for(lag.admit(running=10_000), timeout=0.01)
    await lag.stop()

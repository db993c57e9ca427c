"""The per-caller gate: at most ``limit`` requests of a caller run, the rest wait in line."""

from __future__ import annotations

import asyncio

import pytest

from eterna.adapters.web.request_gate import GateFullError, RequestGate

pytestmark = pytest.mark.anyio


async def test_a_caller_runs_at_most_limit_requests_and_the_next_wait_in_order() -> None:
    gate = RequestGate(2, max_waiting=10)
    await gate.enter("a")
    await gate.enter("a")
    order: list[int] = []

    async def third(n: int) -> None:
        await gate.enter("a")
        order.append(n)

    waiting = [asyncio.create_task(third(n)) for n in (3, 4)]
    await asyncio.sleep(0)
    assert order == []
    gate.leave("a")
    await asyncio.sleep(0)
    assert order == [3]
    gate.leave("a")
    await asyncio.gather(*waiting)
    assert order == [3, 4]


async def test_another_caller_does_not_wait_for_a_busy_one() -> None:
    gate = RequestGate(1, max_waiting=10)
    await gate.enter("flooder")
    blocked = asyncio.create_task(gate.enter("flooder"))
    await asyncio.wait_for(gate.enter("other"), timeout=1)
    assert not blocked.done()
    blocked.cancel()


async def test_beyond_max_waiting_a_request_is_refused_at_once() -> None:
    gate = RequestGate(1, max_waiting=1)
    await gate.enter("a")
    waiting = asyncio.create_task(gate.enter("a"))
    await asyncio.sleep(0)
    with pytest.raises(GateFullError):
        await gate.enter("a")
    waiting.cancel()


async def test_a_request_that_gives_up_waiting_leaves_the_line_and_frees_its_turn() -> None:
    gate = RequestGate(1, max_waiting=5)
    await gate.enter("a")
    gives_up = asyncio.create_task(gate.enter("a"))
    stays = asyncio.create_task(gate.enter("a"))
    await asyncio.sleep(0)
    gives_up.cancel()
    await asyncio.sleep(0)
    gate.leave("a")
    await asyncio.wait_for(stays, timeout=1)
    gate.leave("a")
    assert gate.callers() == 0


async def test_a_turn_handed_over_while_cancelled_passes_to_the_next() -> None:
    gate = RequestGate(1, max_waiting=5)
    await gate.enter("a")
    first = asyncio.create_task(gate.enter("a"))
    second = asyncio.create_task(gate.enter("a"))
    await asyncio.sleep(0)
    gate.leave("a")  # hands the place to first...
    first.cancel()  # ...which gives up before it runs
    await asyncio.wait_for(second, timeout=1)
    with pytest.raises(asyncio.CancelledError):
        await first
    gate.leave("a")
    assert gate.callers() == 0


async def test_limit_zero_lets_everything_through() -> None:
    gate = RequestGate(0)
    for _ in range(1000):
        await gate.enter("a")
    assert gate.callers() == 0

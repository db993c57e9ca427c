"""The fair gate: a bound on holders, and freed slots handed to waiting users in turn."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from eterna.core.fair_gate import CALLER, FairGate

pytestmark = pytest.mark.anyio


async def test_it_never_lets_more_than_capacity_hold_a_slot() -> None:
    gate, holding, most = FairGate(3), 0, 0

    async def one(i: int) -> None:
        nonlocal holding, most
        async with gate.slot(f"user-{i % 4}"):
            holding += 1
            most = max(most, holding)
            await asyncio.sleep(0.001 * (i % 3))
            holding -= 1

    await asyncio.gather(*(one(i) for i in range(60)))
    assert most == 3
    assert gate.in_use == 0
    assert gate.waiting == 0


async def test_a_freed_slot_goes_to_the_next_user_in_turn_not_the_longest_waiting_call() -> None:
    gate, order = FairGate(1), []
    release = asyncio.Event()

    async def hold() -> None:
        async with gate.slot("flooder"):
            await release.wait()

    async def call(user: str, i: int) -> None:
        async with gate.slot(user):
            order.append((user, i))

    holder = asyncio.create_task(hold())
    await asyncio.sleep(0)
    flood = [asyncio.create_task(call("flooder", i)) for i in range(10)]
    await asyncio.sleep(0)
    quiet = asyncio.create_task(call("quiet", 0))
    await asyncio.sleep(0)
    release.set()
    await asyncio.gather(holder, *flood, quiet)
    # The quiet user's call went second: after one of the flooder's, not after all ten.
    assert order.index(("quiet", 0)) == 1
    assert [i for u, i in order if u == "flooder"] == list(range(10))


async def test_the_caller_comes_from_the_context_variable() -> None:
    gate, order = FairGate(1), []
    release = asyncio.Event()

    async def hold() -> None:
        async with gate.slot():
            await release.wait()

    async def call(user: str, i: int) -> None:
        CALLER.set(user)
        async with gate.slot():
            order.append(user)

    holder = asyncio.create_task(hold())
    await asyncio.sleep(0)
    calls = [asyncio.create_task(call("a", i)) for i in range(3)]
    await asyncio.sleep(0)
    calls.append(asyncio.create_task(call("b", 0)))
    await asyncio.sleep(0)
    release.set()
    await asyncio.gather(holder, *calls)
    assert order == ["a", "b", "a", "a"]


async def test_a_cancelled_waiter_loses_nothing_and_its_slot_passes_on() -> None:
    gate = FairGate(1)
    release = asyncio.Event()
    done: list[str] = []

    async def hold() -> None:
        async with gate.slot("x"):
            await release.wait()

    async def call(user: str) -> None:
        async with gate.slot(user):
            done.append(user)

    holder = asyncio.create_task(hold())
    await asyncio.sleep(0)
    gone = asyncio.create_task(call("gone"))
    kept = asyncio.create_task(call("kept"))
    await asyncio.sleep(0)
    gone.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await gone
    release.set()
    await asyncio.gather(holder, kept)
    assert done == ["kept"]
    assert gate.in_use == 0
    # Cancelled right when the slot was handed over: the slot is passed on, not lost.
    async with gate.slot("x"):
        handed = asyncio.create_task(call("handed"))
        after = asyncio.create_task(call("after"))
        await asyncio.sleep(0)
    handed.cancel()  # its future is already granted; the slot moves on to "after"
    await asyncio.gather(handed, after, return_exceptions=True)
    assert "after" in done
    assert gate.in_use == 0


def test_a_gate_needs_a_slot() -> None:
    with pytest.raises(ValueError, match="at least one slot"):
        FairGate(0)

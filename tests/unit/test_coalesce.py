"""The coalescer: calls made while a run is in flight join the next run, each keeps its outcome."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from eterna.core.coalesce import Coalescer

pytestmark = pytest.mark.anyio


class Doubler:
    """Double each number; a negative number fails alone, a 13 fails the whole run."""

    def __init__(self) -> None:
        self.runs: list[list[int]] = []
        self.gate = asyncio.Event()
        self.gate.set()

    async def __call__(self, items: Sequence[int]) -> list[int | BaseException]:
        self.runs.append(list(items))
        await self.gate.wait()
        if 13 in items:
            raise OSError("the whole run failed")
        return [ValueError(f"negative: {i}") if i < 0 else 2 * i for i in items]


async def test_a_lone_call_runs_at_once() -> None:
    run = Doubler()
    coalescer = Coalescer(run)
    assert await coalescer.submit(4) == 8
    assert await coalescer.submit(5) == 10
    assert run.runs == [[4], [5]]


async def test_calls_made_while_a_run_is_in_flight_join_the_next_run_in_order() -> None:
    run = Doubler()
    coalescer = Coalescer(run)
    run.gate.clear()
    first = asyncio.ensure_future(coalescer.submit(1))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert run.runs == [[1]]
    rest = [asyncio.ensure_future(coalescer.submit(i)) for i in (2, 3, 4)]
    await asyncio.sleep(0)
    run.gate.set()
    assert await asyncio.gather(first, *rest) == [2, 4, 6, 8]
    assert run.runs == [[1], [2, 3, 4]]


async def test_each_caller_gets_its_own_items_outcome() -> None:
    run = Doubler()
    coalescer = Coalescer(run)
    outcomes = await asyncio.gather(
        *(coalescer.submit(i) for i in (1, -2, 3)), return_exceptions=True
    )
    assert run.runs == [[1, -2, 3]]
    assert outcomes[0] == 2
    assert isinstance(outcomes[1], ValueError)
    assert outcomes[2] == 6


async def test_a_failed_run_fails_its_callers_only() -> None:
    run = Doubler()
    coalescer = Coalescer(run)
    outcomes = await asyncio.gather(*(coalescer.submit(i) for i in (1, 13)), return_exceptions=True)
    assert all(isinstance(o, OSError) for o in outcomes)
    assert await coalescer.submit(7) == 14  # the next run is not affected


async def test_a_cancelled_caller_leaves_the_others_run_alone() -> None:
    run = Doubler()
    coalescer = Coalescer(run)
    run.gate.clear()
    calls = [asyncio.ensure_future(coalescer.submit(i)) for i in (1, 2, 3)]
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    calls[0].cancel()
    await asyncio.sleep(0)
    run.gate.set()
    assert list(await asyncio.gather(calls[1], calls[2])) == [4, 6]
    assert calls[0].cancelled()
    assert run.runs == [[1, 2, 3]]


async def test_a_run_with_the_wrong_number_of_outcomes_fails_its_callers() -> None:
    async def short(items: Sequence[int]) -> list[int | BaseException]:
        return [1]

    coalescer: Coalescer[int, int] = Coalescer(short)
    outcomes = await asyncio.gather(*(coalescer.submit(i) for i in (1, 2)), return_exceptions=True)
    assert all(isinstance(o, RuntimeError) for o in outcomes)


async def test_cancelling_the_runner_cancels_the_callers_waiting_on_it() -> None:
    run = Doubler()
    coalescer = Coalescer(run, name="doubler")
    run.gate.clear()
    calls = [asyncio.ensure_future(coalescer.submit(i)) for i in (1, 2)]
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    (runner,) = [t for t in asyncio.all_tasks() if t.get_name() == "doubler"]
    runner.cancel()
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    assert all(isinstance(o, asyncio.CancelledError) for o in outcomes)
    run.gate.set()
    assert await coalescer.submit(3) == 6  # a new run starts for the next call


async def test_a_lingering_run_takes_calls_made_in_the_next_turns_of_the_loop() -> None:
    run = Doubler()
    eager, patient = Coalescer(run), Coalescer(Doubler(), linger=3)

    async def later(coalescer: Coalescer[int, int], item: int, turns: int) -> int:
        for _ in range(turns):
            await asyncio.sleep(0)
        return await coalescer.submit(item)

    assert await asyncio.gather(*(later(eager, i, i) for i in range(3))) == [0, 2, 4]
    assert len(run.runs) > 1  # each call arrived after the run before it had started
    lingering = patient._run
    assert isinstance(lingering, Doubler)
    assert await asyncio.gather(*(later(patient, i, i) for i in range(3))) == [0, 2, 4]
    assert lingering.runs == [[0, 1, 2]]


def test_a_run_left_behind_by_a_closed_loop_does_not_block_the_next_loop() -> None:
    runs: list[list[int]] = []

    async def first_run_never_ends(items: Sequence[int]) -> list[int | BaseException]:
        runs.append(list(items))
        if len(runs) == 1:
            await asyncio.Event().wait()
        return [2 * i for i in items]

    coalescer: Coalescer[int, int] = Coalescer(first_run_never_ends)
    first = asyncio.new_event_loop()
    try:
        stuck = first.create_task(coalescer.submit(1))
        first.run_until_complete(asyncio.sleep(0.01))
        assert not stuck.done()
    finally:
        first.close()  # closed mid-run: its runner never finishes
    assert asyncio.run(coalescer.submit(2)) == 4
    assert runs == [[1], [2]]


async def test_cancelled_calls_are_left_out_or_their_outcome_handed_back() -> None:
    run = Doubler()
    handed_back: list[tuple[int, int]] = []
    coalescer = Coalescer(run, abandoned=lambda item, result: handed_back.append((item, result)))
    run.gate.clear()
    during = asyncio.ensure_future(coalescer.submit(1))
    await asyncio.sleep(0)
    await asyncio.sleep(0)  # the run of [1] is in flight
    before = asyncio.ensure_future(coalescer.submit(2))
    kept = asyncio.ensure_future(coalescer.submit(3))
    await asyncio.sleep(0)
    during.cancel()
    before.cancel()
    await asyncio.sleep(0)
    run.gate.set()
    assert await kept == 6
    assert run.runs == [[1], [3]]  # 2 was cancelled before its run took it
    assert handed_back == [(1, 2)]  # 1 was done for a caller that had gone


async def test_a_coalescer_that_keeps_cancelled_calls_still_runs_their_items() -> None:
    run = Doubler()
    coalescer = Coalescer(run, keep_cancelled=True)
    run.gate.clear()
    first = asyncio.ensure_future(coalescer.submit(1))
    await asyncio.sleep(0)
    await asyncio.sleep(0)  # the run of [1] is in flight
    doomed = asyncio.ensure_future(coalescer.submit(2))
    kept = asyncio.ensure_future(coalescer.submit(3))
    await asyncio.sleep(0)
    doomed.cancel()
    await asyncio.sleep(0)
    run.gate.set()
    assert list(await asyncio.gather(first, kept)) == [2, 6]
    assert doomed.cancelled()
    assert run.runs == [[1], [2, 3]]  # 2 went out although its caller had gone


async def test_the_cancelled_items_kept_run_even_when_no_caller_is_left() -> None:
    run = Doubler()
    coalescer = Coalescer(run, keep_cancelled=True)
    run.gate.clear()
    first = asyncio.ensure_future(coalescer.submit(1))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    doomed = asyncio.ensure_future(coalescer.submit(2))
    await asyncio.sleep(0)
    doomed.cancel()
    first.cancel()
    await asyncio.sleep(0)
    run.gate.set()
    for _ in range(5):
        await asyncio.sleep(0)
    assert run.runs == [[1], [2]]

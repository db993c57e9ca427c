"""The TWAP scheduler: places each TWAP's slices on time, exactly once, and reports progress.

It runs beside the trigger watcher, in the one process holding the watcher's lock (the
embedded process always does; decision 0028). Nothing it needs is in its memory: every
``tick_seconds`` it reads the working TWAPs (PENDING or WAITING) and their children from the
store and asks the domain (:func:`eterna.domain.twap.next_move`) what each needs next:

- a new TWAP starts (PENDING -> WAITING);
- the slice the parent names next (``twap_next_slice``) is due (``twap_next_at``): the child
  order and the parent's PROGRESS step, which advances the next slice and its due time, are
  stored **in one transaction**, guarded by the parent's ``last_seq``
  (:meth:`~eterna.application.ports.TwapStore.place_child`). Either both are stored or
  neither: a crash before the commit leaves the slice due, and the next tick (here or in
  the process that takes the lock over) places it; a crash after it leaves it placed, and
  nobody places it again. The child's id is derived from (parent, index), so even two
  schedulers overlapping during a failover cannot store one slice twice;
- slices finished since the parent's last event: a PROGRESS step that says so;
- every slice finished: the parent ends CONFIRMED (some filled) or FAILED (none did).

A cancel of the parent is a step guarded by the same ``last_seq``: it lands before a
slice's transaction (which then stores nothing: no further slice is placed) or after it
(that slice was placed before the cancel and runs; none after it).

After its commit a slice is published and queued for the workers. A queue message lost in a
crash is made good when a scheduler starts (it queues again every PENDING slice of a working
TWAP that has not started; a duplicate message finds the order leased or moved on and does
nothing) and, in any case, by the reconciler.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from eterna.application.ports import EventPublisher, OrderQueue, QueuedOrder, TwapStore, take_step
from eterna.core.logs import about
from eterna.domain.errors import EternaError, LeaseLostError
from eterna.domain.failures import FailureKind
from eterna.domain.orders import Order, OrderStatus
from eterna.domain.twap import Place, TwapProgress, next_move

log = logging.getLogger(__name__)

# The moves one TWAP may take in one tick: start, place a slice, report (then wait a tick).
_MOVES_PER_TICK = 3


@dataclass(frozen=True, slots=True)
class TwapConfig:
    """Settings of the TWAP scheduler."""

    tick_seconds: float = 0.25


class TwapScheduler:
    """Drive every working TWAP from the store's state (see the module docstring)."""

    def __init__(
        self,
        repo: TwapStore,
        *,
        publisher: EventPublisher,
        queue: OrderQueue,
        clock: Callable[[], datetime],
        config: TwapConfig | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._repo = repo
        self._publisher = publisher
        self._queue = queue
        self._clock = clock
        self._config = config or TwapConfig()
        self._sleep = sleep

    async def run(self) -> None:
        """Schedule until cancelled; a failed tick is logged and the next one tries again."""
        try:
            await self.requeue_placed()
        except EternaError as exc:
            log.warning("could not queue the TWAP slices placed before (%s)", exc)
        while True:
            try:
                await self.tick()
            except Exception:  # the store or the queue is away: the next tick retries
                log.exception("TWAP tick failed; retrying")
            await self._sleep(self._config.tick_seconds)

    async def requeue_placed(self) -> int:
        """Queue again the slices of working TWAPs that were placed but never started."""
        parents = await self._repo.active_twaps()
        children = await self._repo.children_of([p.id for p in parents])
        waiting = [
            QueuedOrder(c.id, c.user_id)
            for kids in children.values()
            for c in kids
            if c.status is OrderStatus.PENDING and c.last_seq == 1
        ]
        if waiting:
            await self._queue.enqueue(waiting)
        return len(waiting)

    async def tick(self) -> int:
        """Take every working TWAP one step or a few further; return the steps written."""
        parents = await self._repo.active_twaps()
        if not parents:
            return 0
        children = await self._repo.children_of([p.id for p in parents])
        written = 0
        for parent in parents:
            written += await self._advance(parent, children.get(parent.id, []))
        return written

    async def _advance(self, parent: Order, children: list[Order]) -> int:
        written = 0
        for _ in range(_MOVES_PER_TICK):
            now = self._clock()
            move = next_move(parent, children, now, await self._failures(parent, children))
            if move is None:
                break
            try:
                if isinstance(move, Place):
                    parent, child = await self._place(parent, move, now)
                    children = [*children, child]
                else:
                    parent, event = await take_step(
                        self._repo, parent, move, owner=None, now=now, lease_until=now
                    )
                    await self._publisher.publish([event])
                    _log(parent, event.seq, move.message)
            except LeaseLostError:
                break  # cancelled meanwhile, or another scheduler moved it: read it again
            written += 1
        return written

    async def _place(self, parent: Order, move: Place, now: datetime) -> tuple[Order, Order]:
        after, event = parent.apply(move.step, now)
        child, child_event = move.child.open(move.child_id, now)
        await self._repo.place_child(parent, after, event, child, child_event)
        _log(after, event.seq, move.step.message)
        try:
            await self._publisher.publish([event, child_event])
            await self._queue.enqueue([QueuedOrder(child.id, child.user_id)])
        except EternaError as exc:  # stored: the reconciler (or the next scheduler) queues it
            log.warning("slice %s stored but not queued (%s)", child.id, exc, extra=about(child.id))
        return after, child

    async def _failures(self, parent: Order, children: Sequence[Order]) -> list[FailureKind]:
        """Return what the failed slices failed on, once every slice failed (else nothing)."""
        plan = parent.twap
        if plan is None or parent.twap_next_slice < plan.slices:
            return []
        progress = TwapProgress.of(plan.slices, children)
        if progress.done < plan.slices or progress.filled:
            return []
        events = await self._repo.events_of_orders([c.id for c in children])
        return [e[-1].failure for e in events.values() if e and e[-1].failure is not None]


def _log(order: Order, seq: int, message: str) -> None:
    log.info("order %s seq=%d: %s", order.id, seq, message, extra=about(order.id))

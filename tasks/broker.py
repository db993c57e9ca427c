"""The broker: taskiq messages in per-user lanes, taken round-robin by every worker.

Each execute-order message is labelled with its order's user and queued in that user's
lane (:mod:`tasks.lanes`): in Redis in the distributed mode, in memory in the embedded one.
A worker takes messages one user at a time in turn, so however many orders one user has
queued, another user's order waits for at most one order of each user with work queued, not
for the backlog (``DESIGN.md``: workers share their capacity fairly between users).

taskiq's receiver asks :meth:`FairBroker.listen` for a message only when it has a free slot;
a take brings up to ``read_ahead`` messages in one round trip, still one per user in turn.
A free slot is not enough while the worker's event loop is falling behind: with an
``admission`` (:class:`eterna.core.loop_lag.LoopLag`) the next message is taken only once the
loop keeps up, so the orders already running - and the next user's order, when it comes -
go through their steps at the pace of a loop that is not overloaded; what is not taken stays
in the lanes for a less busy worker. The door holds back more work of users who have work
running here, not a user with nothing running: such a user's message is handed out at once,
ahead of the held messages of users the door is holding (at most one order per user, so the
bypass is bounded by the number of users). While the door is closed, the broker looks in the
lanes again every ``LOOK_AGAIN_SECONDS`` for such a message queued meanwhile (a take, and
what it took of busy users put back at the head of their lanes).
What a worker took and has not started goes back to the head of its lanes when it stops
(:meth:`FairBroker.hand_back`); after a crash, the reconciler queues the orders again.
Delivery is at least once overall; the engine's lease and ``last_seq`` guards make
execution effectively once.

The broker uses taskiq's public broker interface (``kick`` and ``listen``) only.
"""

from __future__ import annotations

import asyncio
import functools
import time
import uuid
from collections import Counter, deque
from collections.abc import AsyncGenerator, Sequence
from typing import Annotated, Any, Protocol

from opentelemetry import propagate, trace
from taskiq import AckableMessage, AsyncBroker, Context, TaskiqDepends
from taskiq.message import BrokerMessage

from eterna.application import spans
from eterna.application.engine import ExecutionEngine
from eterna.core.coalesce import Coalescer
from tasks.lanes import Lanes

EXECUTE_ORDER = "orders.execute"
# The label that names the lane (the order's user).
USER_LABEL = "user"
# An execution is cut off well before its lease could matter; it resumes from its last
# persisted step when it is queued again.
TASK_TIMEOUT_SECONDS = 120
# Messages one take from Redis brings (a round trip each). What is taken ahead waits for a
# free slot, and goes back to its lane if the worker stops first. Lanes in memory cost no
# round trip: they are taken one message at a time, the fairest.
READ_AHEAD = 8
# The longest a consumer blocks on the wake list before it looks again.
WAIT_SECONDS = 1.0
# While the door is closed: how often the lanes are looked at again for a user with nothing
# running here.
LOOK_AGAIN_SECONDS = 0.02
_tracer = trace.get_tracer("eterna.tasks")


class Admission(Protocol):
    """When new work may start (:class:`eterna.core.loop_lag.LoopLag`)."""

    def try_admit(self, running: int) -> bool:
        """Tell whether new work may start now (and count it if so)."""
        ...

    async def next_tick(self) -> None:
        """Return when the answer may have changed."""
        ...


class FairBroker(AsyncBroker):
    """A taskiq broker over per-user lanes."""

    def __init__(
        self, lanes: Lanes, *, read_ahead: int = READ_AHEAD, admission: Admission | None = None
    ) -> None:
        super().__init__()
        self.lanes = lanes
        self._read_ahead = read_ahead
        self._admission = admission
        # Taken but not handed to the receiver yet: (user, message).
        self._held: deque[tuple[str, bytes]] = deque()
        # Handed to the receiver and not acknowledged yet (running, or waiting for a slot).
        self.taken = 0
        self._running: Counter[str] = Counter()  # the same, per user
        # Concurrent kicks (a batch of orders, each kiq on its own) go out in one push.
        self._pushes: Coalescer[tuple[str, bytes], None] = Coalescer(self._push, name="kicks")

    async def kick(self, message: BrokerMessage) -> None:
        """Queue the message in its user's lane (unlabelled messages share one lane)."""
        user = str(message.labels.get(USER_LABEL, ""))
        await self._pushes.submit((user, message.message))

    async def _push(self, items: Sequence[tuple[str, bytes]]) -> list[None]:
        await self.lanes.push(items)
        return [None] * len(items)

    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        """Yield messages, one user at a time in turn; wait for pushes when all lanes are empty."""
        while True:
            if not self._held:
                taken = await self.lanes.pop(self._read_ahead)
                if not taken:
                    await self.lanes.wait(WAIT_SECONDS)
                    continue
                self._held.extend(taken)
            index = await self._admit()
            user, data = self._held[index]
            del self._held[index]
            self.taken += 1
            self._running[user] += 1
            yield AckableMessage(data=data, ack=functools.partial(self._acknowledge, user))

    async def _admit(self) -> int:
        """Wait until a held message may start; return its index in the held ones.

        A user with nothing running here goes at once; anyone else when the door opens.
        """
        if self._admission is None:
            return 0
        looked = time.monotonic()
        while True:
            idle = next(
                (i for i, (user, _) in enumerate(self._held) if not self._running[user]), None
            )
            if idle is not None:
                return idle
            if self._admission.try_admit(self.taken):
                return 0
            now = time.monotonic()
            if now - looked >= LOOK_AGAIN_SECONDS:
                looked = now
                if await self._look_for_idle_users():
                    continue
            await self._admission.next_tick()

    async def _look_for_idle_users(self) -> bool:
        """Take from the lanes what users with nothing running queued; put the rest back."""
        taken = await self.lanes.pop(self._read_ahead)
        idle = [(u, m) for u, m in taken if not self._running[u]]
        busy = [(u, m) for u, m in taken if self._running[u]]
        if busy:
            await self.lanes.push_front(busy)
        self._held.extend(idle)
        return bool(idle)

    def _acknowledge(self, user: str) -> None:
        self.taken -= 1
        self._running[user] -= 1
        if not self._running[user]:
            del self._running[user]

    async def hand_back(self) -> int:
        """Put what was taken and not handed to the receiver back at the head of its lanes."""
        held, self._held = list(self._held), deque()
        if held:
            await self.lanes.push_front(held)
        return len(held)


async def execute_order(order_id: str, context: Annotated[Context, TaskiqDepends()]) -> None:
    """Execute one order (a redelivered or duplicate message finds it leased or done)."""
    engine: ExecutionEngine = context.state.engine
    labels = context.message.labels
    user = str(labels.get(USER_LABEL, ""))
    if not spans.enabled:
        await engine.execute(uuid.UUID(order_id), user)
        return
    # The span continues the placement's trace when the message carries its context.
    parent = propagate.extract({k: str(v) for k, v in labels.items()})
    with _tracer.start_as_current_span(
        EXECUTE_ORDER, context=parent, kind=trace.SpanKind.CONSUMER
    ) as span:
        span.set_attribute("eterna.order_id", order_id)
        await engine.execute(uuid.UUID(order_id), user)


def build_broker(
    lanes: Lanes, *, read_ahead: int = READ_AHEAD, admission: Admission | None = None
) -> FairBroker:
    """Return the broker over the lanes, with the execute-order task registered."""
    broker = FairBroker(lanes, read_ahead=read_ahead, admission=admission)
    broker.register_task(execute_order, task_name=EXECUTE_ORDER, timeout=TASK_TIMEOUT_SECONDS)
    return broker


def set_engine(broker: AsyncBroker, engine: ExecutionEngine) -> None:
    """Make the engine available to the tasks of this process."""
    state: Any = broker.state
    state.engine = engine


async def stop_receiver(receiver: asyncio.Task[None]) -> None:
    """Cancel a receiver task and wait for it to end."""
    receiver.cancel()
    try:
        await receiver
    except asyncio.CancelledError:
        if (task := asyncio.current_task()) is not None and task.cancelling():
            raise

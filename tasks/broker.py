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
in the lanes for a less busy worker.
What a worker took and has not started goes back to the head of its lanes when it stops
(:meth:`FairBroker.hand_back`); after a crash, the reconciler queues the orders again.
Delivery is at least once overall; the engine's lease and ``last_seq`` guards make
execution effectively once.

The broker uses taskiq's public broker interface (``kick`` and ``listen``) only.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import deque
from collections.abc import AsyncGenerator, Sequence
from typing import Annotated, Any

from opentelemetry import propagate, trace
from taskiq import AckableMessage, AsyncBroker, Context, TaskiqDepends
from taskiq.message import BrokerMessage

from eterna.application import spans
from eterna.application.engine import ExecutionEngine
from eterna.core.coalesce import Coalescer
from eterna.core.loop_lag import LoopLag
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
_tracer = trace.get_tracer("eterna.tasks")


class FairBroker(AsyncBroker):
    """A taskiq broker over per-user lanes."""

    def __init__(
        self, lanes: Lanes, *, read_ahead: int = READ_AHEAD, admission: LoopLag | None = None
    ) -> None:
        super().__init__()
        self.lanes = lanes
        self._read_ahead = read_ahead
        self._admission = admission
        # Taken but not handed to the receiver yet: (user, message).
        self._held: deque[tuple[str, bytes]] = deque()
        # Handed to the receiver and not acknowledged yet (running, or waiting for a slot).
        self.taken = 0
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
            if self._admission is not None:
                await self._admission.admit(self.taken)
            if not self._held:
                taken = await self.lanes.pop(self._read_ahead)
                if not taken:
                    await self.lanes.wait(WAIT_SECONDS)
                    continue
                self._held.extend(taken)
            _, data = self._held.popleft()
            self.taken += 1
            yield AckableMessage(data=data, ack=self._acknowledge)

    def _acknowledge(self) -> None:
        self.taken -= 1

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
    lanes: Lanes, *, read_ahead: int = READ_AHEAD, admission: LoopLag | None = None
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

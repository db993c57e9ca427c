"""How deep the order queue is: what waits in the users' lanes, and what this process took."""

from __future__ import annotations

from eterna.adapters.metrics import QueueDepth
from tasks.broker import FairBroker


async def queue_depth(broker: FairBroker) -> QueueDepth:
    """Return the messages no worker has taken yet, and those this process took and runs.

    ``lag`` counts every lane (in Redis: all workers' queue); ``pending`` counts what this
    process's broker handed to its receiver and was not acknowledged yet.
    """
    return QueueDepth(lag=await broker.lanes.depth(), pending=broker.taken)

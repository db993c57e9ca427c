"""The local node behind JSON-RPC: one dispatcher and one subscription id space.

Shared by the ``eterna chain`` server and the in-process :class:`LocalRpc`, so both answer
through the same method table, faults and sessions.
"""

from __future__ import annotations

from collections.abc import Iterator

from eterna.adapters.localchain.node import LocalNode
from eterna.adapters.localchain.rpc_dispatch import Dispatcher
from eterna.adapters.localchain.rpc_methods import method_table
from eterna.adapters.localchain.rpc_pubsub import (
    DEFAULT_OUTBOX_SIZE,
    PubsubSession,
    subscription_ids,
)


class ChainRpc:
    """The node's JSON-RPC: the dispatcher of requests and the sessions of subscriptions."""

    def __init__(self, node: LocalNode, *, outbox_size: int = DEFAULT_OUTBOX_SIZE) -> None:
        self.node = node
        self._outbox_size = outbox_size
        self.dispatcher = Dispatcher(method_table(node), node.faults)
        self._ids: Iterator[int] = subscription_ids()

    def session(self) -> PubsubSession:
        """Return a new subscription session (one per websocket)."""
        return PubsubSession(self.node, self._ids, outbox_size=self._outbox_size)

"""SolanaRpc over the in-process local node, answering exactly as HttpRpc does over HTTP.

The embedded mode's client. A call builds the same JSON-RPC request HttpRpc posts, passes
it through the ``eterna chain`` server's own dispatcher (method table, params checks,
injected faults) and decodes the answer with HttpRpc's decoder; subscriptions go through
the server's own pubsub sessions. Requests and answers cross as JSON bytes, as they would
over a socket, so nothing but JSON-serializable answers can pass and both clients see
identical values and errors - an injected fault answered with HTTP 503 included.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import orjson

from eterna.adapters.localchain.node import LocalNode
from eterna.adapters.localchain.rpc_dispatch import UnavailableFault
from eterna.adapters.localchain.rpc_pubsub import PubsubSession, SessionClosedError
from eterna.adapters.localchain.rpc_service import ChainRpc
from eterna.adapters.solana.rpc_batch import CallBatcher
from eterna.adapters.solana.rpc_channel import ChannelSubscriptions
from eterna.adapters.solana.rpc_client import RpcClient, SubscribeRequest
from eterna.adapters.solana.rpc_errors import InvalidResponseError, RpcUnavailableError

_OK = 200


def _over_the_wire(message: Any) -> Any:
    """Return message as the other side of a socket would read it."""
    return orjson.loads(orjson.dumps(message))


class LocalRpc(RpcClient):
    """SolanaRpc over a node in this process; see the module docstring."""

    def __init__(
        self, chain: ChainRpc | LocalNode, *, timeout_seconds: float = 10.0, batch: int = 32
    ) -> None:
        self.chain = chain if isinstance(chain, ChainRpc) else ChainRpc(chain)
        self._timeout = timeout_seconds
        self._calls = CallBatcher(self._exchange, most=batch)

    async def call(self, method: str, params: list[Any]) -> Any:
        """Answer one request through the server's dispatcher; errors are typed as HttpRpc's.

        Calls made in the same loop turn go through it as one batch, as HttpRpc posts them.
        """
        return await self._calls.call(method, params)

    async def _exchange(self, body: Any) -> tuple[int, Any]:
        try:
            async with asyncio.timeout(self._timeout):
                answer = await self.chain.dispatcher.answer(_over_the_wire(body))
        except TimeoutError as exc:
            raise RpcUnavailableError(f"no answer in {self._timeout} s") from exc
        except UnavailableFault as fault:
            return fault.status, None
        return _OK, _over_the_wire(answer)

    def subscribe(self, requests: Sequence[SubscribeRequest]) -> LocalSubscriptions:
        """Open the subscriptions on a session of the node's pubsub."""
        return LocalSubscriptions(self.chain, requests, timeout_seconds=self._timeout)


class LocalSubscriptions(ChannelSubscriptions):
    """Subscriptions on a pubsub session of their own (the in-process websocket)."""

    def __init__(
        self, chain: ChainRpc, requests: Sequence[SubscribeRequest], *, timeout_seconds: float
    ) -> None:
        super().__init__(requests, timeout_seconds=timeout_seconds)
        self._chain = chain
        self._session: PubsubSession | None = None

    async def open_channel(self) -> None:
        """Open a session."""
        self._session = self._chain.session()

    def _live(self) -> PubsubSession:
        if self._session is None or self._session.closed:
            raise RpcUnavailableError("subscription session closed")
        return self._session

    async def send(self, message: dict[str, Any]) -> None:
        """Hand one message to the session."""
        await self._live().handle(_over_the_wire(message))

    async def receive(self) -> dict[str, Any]:
        """Return the session's next message."""
        if self._session is None:
            raise RpcUnavailableError("subscription session not open")
        try:
            message = _over_the_wire(await self._session.next_message())
        except SessionClosedError as exc:
            raise RpcUnavailableError(f"subscription session closed: {exc}") from exc
        if not isinstance(message, dict):
            raise InvalidResponseError(f"subscription session: {message!r:.200}")
        return message

    async def close_channel(self) -> None:
        """Close the session."""
        if self._session is not None:
            await self._session.close()

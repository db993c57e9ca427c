"""Subscriptions over a channel of JSON-RPC messages: the pubsub protocol, written once.

A channel carries JSON messages both ways (a websocket for :class:`HttpRpc`, a node's
session in process for ``LocalRpc``). :class:`ChannelSubscriptions` sends every subscribe
request, waits for each answer (keeping notifications that arrive first), yields
notifications until the context ends, and unsubscribes on the way out.
"""

from __future__ import annotations

import abc
import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Sequence
from types import TracebackType
from typing import Any

from eterna.adapters.solana.rpc_client import Notifications, SubscribeRequest
from eterna.adapters.solana.rpc_codec import decode_error
from eterna.adapters.solana.rpc_errors import InvalidResponseError, RpcUnavailableError

log = logging.getLogger(__name__)


class ChannelSubscriptions(abc.ABC):
    """Subscriptions on one channel: confirmed on entry, unsubscribed on exit."""

    def __init__(self, requests: Sequence[SubscribeRequest], *, timeout_seconds: float) -> None:
        self._requests = list(requests)
        self._timeout = timeout_seconds
        self._ids: tuple[int, ...] = ()
        self._early: deque[tuple[int, Any]] = deque()
        self._open = False
        self._closing = False

    @abc.abstractmethod
    async def open_channel(self) -> None:
        """Open the channel.

        :raises RpcUnavailableError: when it cannot be opened.
        """

    @abc.abstractmethod
    async def send(self, message: dict[str, Any]) -> None:
        """Send one message.

        :raises RpcUnavailableError: when the channel is gone.
        """

    @abc.abstractmethod
    async def receive(self) -> dict[str, Any]:
        """Return the next message.

        :raises RpcUnavailableError: when the channel is gone.
        :raises InvalidResponseError: when a message is not a JSON object.
        """

    @abc.abstractmethod
    async def close_channel(self) -> None:
        """Close the channel (never raises)."""

    @property
    def ids(self) -> tuple[int, ...]:
        """Return the subscription ids the node gave, in request order."""
        return self._ids

    async def __aenter__(self) -> Notifications:
        await self.open_channel()
        try:
            async with asyncio.timeout(self._timeout):
                self._ids = await self._confirm()
        except TimeoutError as exc:
            await self.close_channel()
            raise RpcUnavailableError(f"no subscription answer in {self._timeout} s") from exc
        except BaseException:
            await self.close_channel()
            raise
        self._open = True
        return self

    async def _confirm(self) -> tuple[int, ...]:
        for index, request in enumerate(self._requests):
            head = {"jsonrpc": "2.0", "id": index, "method": request.method}
            await self.send({**head, "params": request.params})
        answers: dict[int, int] = {}
        while len(answers) < len(self._requests):
            message = await self.receive()
            if "method" in message:
                self._early.append(notification(message))
                continue
            if message.get("error") is not None:
                raise decode_error(message["error"])
            try:
                answers[int(message["id"])] = int(message["result"])
            except (KeyError, TypeError, ValueError) as exc:
                raise InvalidResponseError(
                    f"a malformed subscribe answer {message!r:.200}"
                ) from exc
        return tuple(answers[i] for i in range(len(self._requests)))

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closing = True
        try:
            # A polite client unsubscribes before it goes; the answers are not awaited, as
            # closing the channel ends the subscriptions anyway.
            first = len(self._requests)
            for n, (request, sub) in enumerate(zip(self._requests, self._ids, strict=True)):
                head = {"jsonrpc": "2.0", "id": first + n, "method": request.unsubscribe}
                await self.send({**head, "params": [sub]})
        except RpcUnavailableError:
            log.debug("subscription channel gone before unsubscribing")
        finally:
            await self.close_channel()

    async def __aiter__(self) -> AsyncIterator[tuple[int, Any]]:
        """Yield each notification's subscription id and result until the context ends."""
        if not self._open:
            raise RuntimeError("enter the subscriptions before iterating them")
        while self._early:
            yield self._early.popleft()
        while True:
            try:
                message = await self.receive()
            except RpcUnavailableError:
                if self._closing:
                    return
                raise
            if "method" in message:
                yield notification(message)


def notification(message: dict[str, Any]) -> tuple[int, Any]:
    """Return a notification's subscription id and result."""
    try:
        params = message["params"]
        return int(params["subscription"]), params["result"]
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidResponseError(f"a malformed notification {message!r:.200}") from exc

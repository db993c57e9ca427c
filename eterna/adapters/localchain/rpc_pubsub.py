"""Websocket subscriptions over the local node: one session per connection.

A :class:`PubsubSession` takes the requests a client sends (accountSubscribe,
programSubscribe with its filters, slotSubscribe, and their unsubscribes) and queues the
answers and notifications to send back, in the shapes a Solana node uses. The server pumps
a websocket through it; the in-process ``LocalRpc`` talks to a session directly, so both
see the same messages.

A session that falls more than ``outbox_size`` messages behind, or whose node feed cut it
off, is closed (:class:`SessionClosedError`), as a node closes a websocket that cannot keep
up; the client subscribes again and re-reads the state.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Callable, Iterator
from typing import Any

from solders.account import Account

from eterna.adapters.localchain import rpc_params as p
from eterna.adapters.localchain.feed import (
    AccountChange,
    SlotChange,
    Subscription,
    SubscriptionLaggedError,
)
from eterna.adapters.localchain.node import LocalNode
from eterna.adapters.localchain.rpc_dispatch import error_body
from eterna.adapters.localchain.rpc_params import RpcFault
from eterna.adapters.localchain.rpc_wire import account_json
from eterna.adapters.solana.ids import SYSTEM_PROGRAM
from eterna.adapters.solana.rpc_errors import INVALID_REQUEST, METHOD_NOT_FOUND

log = logging.getLogger(__name__)

DEFAULT_OUTBOX_SIZE = 10_000
MAX_FILTERS = 4
_SUBSCRIBE_CONFIG = frozenset({"encoding", "commitment"})
_PROGRAM_CONFIG = _SUBSCRIBE_CONFIG | {"filters", "withContext"}
_CLOSED = object()
# What a closed account looks like in a notification: no lamports, no data, the system's.
_GONE = Account(0, b"", SYSTEM_PROGRAM)

Filter = Callable[[Account], bool]


class SessionClosedError(Exception):
    """The session ended: its client fell behind, or the node stopped."""


class PubsubSession:
    """One connection's subscriptions; see the module docstring."""

    def __init__(
        self, node: LocalNode, ids: Iterator[int], *, outbox_size: int = DEFAULT_OUTBOX_SIZE
    ) -> None:
        self._node = node
        self._ids = ids
        self._outbox: asyncio.Queue[object] = asyncio.Queue()
        self._limit = outbox_size
        self._pumps: dict[int, asyncio.Task[None]] = {}
        self._kinds: dict[int, str] = {}
        self._feeds: dict[int, Subscription[Any]] = {}
        self.closed = False
        self.reason = ""

    async def handle(self, message: Any) -> None:
        """Take one request and queue its answer."""
        if (
            not isinstance(message, dict)
            or message.get("jsonrpc") != "2.0"
            or not isinstance(message.get("method"), str)
        ):
            request_id = message.get("id") if isinstance(message, dict) else None
            self._put(error_body(RpcFault(INVALID_REQUEST, "Invalid request"), request_id))
            return
        try:
            result = self._dispatch(message["method"], message.get("params"))
        except RpcFault as fault:
            self._put(error_body(fault, message.get("id")))
            return
        self._put({"jsonrpc": "2.0", "result": result, "id": message.get("id")})

    def _dispatch(self, method: str, params: Any) -> Any:
        if method == "accountSubscribe":
            return self._account_subscribe(params)
        if method == "programSubscribe":
            return self._program_subscribe(params)
        if method == "slotSubscribe":
            return self._slot_subscribe(params)
        if method in ("accountUnsubscribe", "programUnsubscribe", "slotUnsubscribe"):
            return self._unsubscribe(method.removesuffix("Unsubscribe"), params)
        raise RpcFault(METHOD_NOT_FOUND, "Method not found")

    def _account_subscribe(self, params: Any) -> int:
        raw, config = p.positional(params, 1, 2)
        address = p.pubkey(raw)
        _subscribe_config(config, _SUBSCRIBE_CONFIG)

        def encode(change: AccountChange) -> Any:
            return _with_context(change.slot, account_json(change.account or _GONE))

        feed = self._node.subscribe_accounts([address])
        return self._start("account", feed, "accountNotification", encode)

    def _program_subscribe(self, params: Any) -> int:
        raw, config_raw = p.positional(params, 1, 2)
        program = p.pubkey(raw)
        config = _subscribe_config(config_raw, _PROGRAM_CONFIG)
        keep = program_filter(config.get("filters"))

        def encode(change: AccountChange) -> Any:
            if change.account is None or not keep(change.account):
                return None
            value = {"pubkey": str(change.address), "account": account_json(change.account)}
            return _with_context(change.slot, value)

        feed = self._node.subscribe_accounts(owner=program)
        return self._start("program", feed, "programNotification", encode)

    def _slot_subscribe(self, params: Any) -> int:
        p.positional(params, 0, 0)

        def encode(change: SlotChange) -> Any:
            return {"parent": change.parent, "root": change.root, "slot": change.slot}

        return self._start("slot", self._node.subscribe_slots(), "slotNotification", encode)

    def _unsubscribe(self, kind: str, params: Any) -> bool:
        (raw,) = p.positional(params, 1, 1)
        if not isinstance(raw, int) or self._kinds.get(raw) != kind:
            raise p.invalid("Invalid subscription id.")
        del self._kinds[raw]
        self._feeds.pop(raw).close()
        self._pumps.pop(raw).cancel()
        return True

    def _start(
        self, kind: str, feed: Subscription[Any], method: str, encode: Callable[[Any], Any]
    ) -> int:
        # The node's feed exists before the request is answered, so a client that reads the
        # state once its subscription is confirmed misses no change.
        sub = next(self._ids)
        self._kinds[sub] = kind
        self._feeds[sub] = feed
        self._pumps[sub] = asyncio.create_task(self._pump(sub, feed, method, encode))
        return sub

    async def _pump(
        self, sub: int, feed: Subscription[Any], method: str, encode: Callable[[Any], Any]
    ) -> None:
        try:
            async for change in feed:
                result = encode(change)
                if result is not None:
                    params = {"result": result, "subscription": sub}
                    self._put({"jsonrpc": "2.0", "method": method, "params": params})
        except SubscriptionLaggedError:
            await self.close("the node cut off a subscriber that fell behind")
            return
        if sub in self._kinds:  # the node's feed ended: the node stopped
            await self.close("the node stopped")

    def _put(self, message: dict[str, Any]) -> None:
        if self.closed:
            return
        if self._outbox.qsize() >= self._limit:
            self._end("the client fell behind its notifications")
            return
        self._outbox.put_nowait(message)

    async def next_message(self) -> dict[str, Any]:
        """Return the next answer or notification to send.

        :raises SessionClosedError: once the session has ended.
        """
        message = await self._outbox.get()
        if message is _CLOSED:
            self._outbox.put_nowait(_CLOSED)  # every later call ends too
            raise SessionClosedError(self.reason)
        return message  # type: ignore[return-value]  # only messages and the marker are queued

    def _end(self, reason: str) -> None:
        if self.closed:
            return
        self.closed, self.reason = True, reason
        for feed in self._feeds.values():
            feed.close()
        for task in self._pumps.values():
            task.cancel()
        self._outbox.put_nowait(_CLOSED)

    async def close(self, reason: str = "closed") -> None:
        """End every subscription of the session."""
        pumps = list(self._pumps.values())
        self._kinds.clear()
        self._end(reason)
        current = asyncio.current_task()
        for task in pumps:
            if task is not current:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._pumps.clear()
        self._feeds.clear()


def subscription_ids() -> Iterator[int]:
    """Return the id sequence of a server's subscriptions (unique across its sessions)."""
    return itertools.count(1)


def _with_context(slot: int, value: Any) -> dict[str, Any]:
    return {"context": {"slot": slot}, "value": value}


def _subscribe_config(raw: Any, allowed: frozenset[str]) -> dict[str, Any]:
    config = p.options(raw, allowed)
    p.commitment(config)
    p.encoding(config, default="base58")
    return config


def program_filter(raw: Any) -> Filter:
    """Return the test a programSubscribe's filters make (dataSize and memcmp, all must pass)."""
    if raw is None:
        return lambda _: True
    if not isinstance(raw, list) or len(raw) > MAX_FILTERS:
        raise p.invalid(f"Invalid params: filters must be a list of at most {MAX_FILTERS}")
    tests = [_one_filter(item) for item in raw]
    return lambda account: all(test(account.data) for test in tests)


def _one_filter(item: Any) -> Callable[[bytes], bool]:
    if isinstance(item, dict) and isinstance(item.get("dataSize"), int):
        size = item["dataSize"]
        return lambda data: len(data) == size
    memcmp = item.get("memcmp") if isinstance(item, dict) else None
    if isinstance(memcmp, dict) and isinstance(memcmp.get("offset"), int):
        offset, wanted = memcmp["offset"], p.memcmp_bytes(memcmp)
        return lambda data: data[offset : offset + len(wanted)] == wanted
    raise p.invalid("Invalid params: a filter is {dataSize: n} or {memcmp: {offset, bytes}}")

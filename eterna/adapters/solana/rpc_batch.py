"""JSON-RPC calls made together travel together: one request for a burst of calls.

A busy worker makes its calls in bursts: the orders one answer or one pool change woke each
read, simulate, send and check at nearly the same moment. As a request of its own, each call
costs both sides a request's framing, headers, parsing and socket writes, more than most
calls cost the node. JSON-RPC 2.0 lets one request carry an array of calls, and Solana nodes
and the hosted providers take them, so :class:`CallBatcher` sends the calls made in the same
turn of the event loop in one request, up to ``most`` of them. A call made alone is sent
alone, in the plain form, and waits for nothing; ``most`` = 1 sends every call alone.

Each call keeps its own outcome: its result or error object is found by its id. What fails
the request as a whole (a timeout, a refused connection, HTTP 429 or 5xx, an answer that is
not JSON, an error object for the whole batch) fails every call in it alike, as each would
have failed sent alone. A caller cancelled before its request leaves is left out of it; one
cancelled later has its call carried to the end (a ``sendTransaction`` may land), and its
answer is dropped.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from eterna.adapters.solana.rpc_client import unwrap_response
from eterna.adapters.solana.rpc_errors import RpcUnavailableError

# Sends a request body (one request object or an array of them) and returns the HTTP status
# and the parsed answer (None when the status says the node did not answer).
# Raises RpcUnavailableError (or its InvalidResponseError) when the request fails as a whole.
Exchange = Callable[[Any], Awaitable[tuple[int, Any]]]


@dataclass(slots=True)
class _Call:
    method: str
    request: dict[str, Any]
    future: asyncio.Future[Any]
    answered: Callable[[], None] | None = None

    def done(self) -> None:
        """Tell whoever waits for the call to be over (once): answered, failed or dropped."""
        answered, self.answered = self.answered, None
        if answered is not None:
            answered()


class CallBatcher:
    """Send the calls of one loop turn in one JSON-RPC request; see the module docstring."""

    def __init__(self, exchange: Exchange, *, most: int = 32) -> None:
        if most < 1:
            raise ValueError("a request carries at least one call")
        self._exchange = exchange
        self._most = most
        self._ids = itertools.count(1)
        self._queue: list[_Call] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._scheduled = False
        self._sending: set[asyncio.Task[None]] = set()

    async def call(
        self, method: str, params: list[Any], *, answered: Callable[[], None] | None = None
    ) -> Any:
        """Send one call (with whatever else this loop turn calls) and return its result.

        ``answered`` is called once the call is over for the node: when its answer or its
        failure arrives, or when it is dropped unsent because its caller was cancelled. That
        can be well before the caller runs again on a busy loop.

        :raises RpcError: (a subclass) for the node's error object.
        :raises RpcUnavailableError: when the node does not answer.
        """
        request = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            # A loop closed with calls still queued (tests run one loop each) left them behind.
            self._loop, self._queue, self._scheduled = loop, [], False
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.append(_Call(method, request, future, answered))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        self._scheduled = False
        calls = []
        for call in self._queue:
            if call.future.done():  # its caller was cancelled: it is not sent
                call.done()
            else:
                calls.append(call)
        self._queue = []
        for start in range(0, len(calls), self._most):
            task = asyncio.create_task(
                self._send(calls[start : start + self._most]), name="solana-rpc-request"
            )
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    async def _send(self, calls: Sequence[_Call]) -> None:
        body: Any = calls[0].request if len(calls) == 1 else [c.request for c in calls]
        try:
            status, payload = await self._exchange(body)
        except RpcUnavailableError as exc:
            for call in calls:
                _settle(call, error=_named(call.method, exc))
            return
        except Exception as exc:  # a fault of ours: every caller learns of it
            for call in calls:
                _settle(call, error=exc)
            return
        if len(calls) == 1 or not isinstance(payload, list):
            # One call's answer, or one answer for the whole batch: an error object is every
            # call's error; anything else answers none of them.
            whole = payload if len(calls) == 1 or _is_error(payload) else None
            for call in calls:
                _answer(call, status, whole)
            return
        by_id = {a.get("id"): a for a in payload if isinstance(a, dict)}
        for call in calls:
            _answer(call, status, by_id.get(call.request["id"]))


def _named(method: str, exc: RpcUnavailableError) -> RpcUnavailableError:
    """Return the request's failure as one call's, naming the method; its cause is kept."""
    named = type(exc)(f"{method}: {exc}")
    named.__cause__ = exc.__cause__
    return named


def _is_error(payload: Any) -> bool:
    return isinstance(payload, dict) and payload.get("error") is not None


def _answer(call: _Call, status: int, payload: Any) -> None:
    call.done()
    try:
        result = unwrap_response(call.method, status, payload)
    except Exception as exc:  # the typed error of this call
        _settle(call, error=exc)
    else:
        if not call.future.done():
            call.future.set_result(result)


def _settle(call: _Call, *, error: BaseException) -> None:
    call.done()
    if not call.future.done():
        call.future.set_exception(error)

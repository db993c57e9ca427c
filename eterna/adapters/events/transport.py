"""Publishing committed events: straight into the local hub, or through one Redis Stream.

In the distributed mode every worker appends events to one stream (``XADD`` with an
approximate ``MAXLEN``; history lives in Postgres). Each API process runs one
:class:`RedisStreamDispatcher` that reads the stream from its tail and hands events to its
hub, so one Redis connection serves every subscription of the process.

An entry carries the event as JSON in ``e``, and its order id, user id and status in ``o``,
``u`` and ``s``: a dispatcher decodes only the events some listener of its process wants
(entries without ``o`` and ``u``, from an older publisher, are always decoded; without ``s``
every listener of all events wants them).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import orjson
import redis.asyncio as aioredis
from redis.exceptions import RedisError
from redis.typing import EncodableT

from eterna.adapters.events.codec import event_from_json, event_to_json
from eterna.application.events.hub import EventHub
from eterna.domain.orders import OrderEvent, OrderStatus

log = logging.getLogger(__name__)

_STATUSES = {s.value: s for s in OrderStatus}
# A dispatcher's pause after a read that found events (see RedisStreamDispatcher).
DISPATCH_LINGER_SECONDS = 0.002
# Entries one read takes at most.
DISPATCH_COUNT = 500


class LocalPublisher:
    """Publish to the hub of this very process (the embedded mode)."""

    def __init__(self, hub: EventHub) -> None:
        self._hub = hub

    async def publish(self, events: Sequence[OrderEvent]) -> None:
        """Dispatch the events at once."""
        for event in events:
            self._hub.dispatch(event)


class RedisStreamPublisher:
    """Append events to the shared Redis Stream after their commit: one script call per call.

    A call returns once its events are in the stream. Coalescing the calls of a busy worker
    into shared appends is :class:`~eterna.adapters.events.batching.BatchingPublisher`'s
    business, wired around this one in the composition root.
    """

    def __init__(
        self,
        redis: aioredis.Redis,
        stream: str,
        maxlen: int = 100_000,
        *,
        side: tuple[str, Callable[[OrderEvent], bool]] | None = None,
    ) -> None:
        """Append to ``stream``; with ``side``, also append the events it selects to its stream.

        A side stream spares a reader that wants a few kinds of event (the trigger watcher)
        from reading, and Redis from sending it, every event of every order.
        """
        self._redis = redis
        self._stream = stream
        self._maxlen = maxlen
        self._side = side
        self._script = redis.register_script(_APPEND_LUA)

    async def publish(self, events: Sequence[OrderEvent]) -> None:
        """Append the events in order; a failure is logged, since subscribers re-read Postgres."""
        if not events:
            return
        side, selects = self._side if self._side is not None else (self._stream, None)
        args: list[EncodableT] = [self._maxlen]
        try:
            for event in events:
                args += _fields(event)
                args.append(1 if selects is not None and selects(event) else 0)
            # One command for every event: a pipeline of XADDs cost about four times as much.
            await self._script(keys=[self._stream, side], args=args)
        except (RedisError, TypeError, ValueError) as exc:
            # The events are committed; subscribers fill the gap from the database. (A value
            # the encoder refuses fails its whole call the same way.)
            log.warning("could not publish %d events: %s", len(events), exc)


# KEYS: the stream, the side stream. ARGV: MAXLEN, then per event its four field values
# (e, o, u, s) and 1 when it also goes to the side stream. Entries keep the events' order.
_APPEND_LUA = """
local maxlen = ARGV[1]
for i = 2, #ARGV, 5 do
  local e, o, u, s = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', maxlen, '*', 'e', e, 'o', o, 'u', u, 's', s)
  if ARGV[i + 4] == '1' then
    redis.call('XADD', KEYS[2], 'MAXLEN', '~', maxlen, '*', 'e', e, 'o', o, 'u', u, 's', s)
  end
end
return #ARGV
"""


def _fields(event: OrderEvent) -> tuple[bytes, str, str, str]:
    """Return the values of an event's stream fields e, o, u and s."""
    return (
        orjson.dumps(event_to_json(event)),
        str(event.order_id),
        event.user_id,
        event.status.value,
    )


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        return value.decode()
    return value if isinstance(value, str) else None


class RedisStreamDispatcher:
    """Read the event stream from its tail and hand every event to the local hub.

    A read that found events is followed by a pause of ``linger_seconds`` before the next:
    the steps of an order come a fraction of a millisecond apart, and one read per event
    cost the API a round trip each. The first event after a quiet spell is read the moment
    it arrives; those right behind it wait at most the pause, and come in one read.
    """

    # redis-py 8 gives every socket a 5 s read timeout: block well below it.
    def __init__(
        self,
        redis: aioredis.Redis,
        stream: str,
        hub: EventHub,
        block_ms: int = 2000,
        linger_seconds: float = DISPATCH_LINGER_SECONDS,
    ) -> None:
        self._redis = redis
        self._stream = stream
        self._hub = hub
        self._block_ms = block_ms
        self._linger = linger_seconds
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def start(self) -> None:
        """Start reading in the background; return once the read position is fixed."""
        self._task = asyncio.create_task(self._run(), name="event-dispatcher")
        await self._ready.wait()

    async def stop(self) -> None:
        """Stop reading."""
        if self._task is None:
            return
        # redis-py may swallow a cancellation during a blocked XREAD, or turn it into its own
        # TimeoutError (and the reader loop would then carry on): cancel until it is done.
        task = self._task
        while not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=0.5)
        with contextlib.suppress(asyncio.CancelledError, RedisError):
            await task
        self._task = None

    async def _tail_id(self) -> str:
        try:
            info = await self._redis.xinfo_stream(self._stream)
        except RedisError:
            return "0-0"  # no stream yet: everything that arrives is new
        last = info.get("last-generated-id", "0-0")
        return last.decode() if isinstance(last, bytes) else str(last)

    async def _run(self) -> None:
        last_id = "$"
        while True:
            try:
                if last_id == "$":
                    last_id = await self._tail_id()
                    self._ready.set()
                reply: Any = await self._redis.xread(
                    {self._stream: last_id}, block=self._block_ms, count=DISPATCH_COUNT
                )
            except (RedisError, OSError) as exc:
                self._ready.set()
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    # redis-py reports a cancelled blocking read as its own error: stop.
                    raise asyncio.CancelledError from exc
                log.warning("event stream read failed (%s); retrying in 1 s", exc)
                await asyncio.sleep(1)
                continue
            # RESP2 answers a list of (stream, entries); RESP3 a mapping.
            streams = reply.items() if isinstance(reply, dict) else (reply or [])
            read = 0
            for _stream, entries in streams:
                read += len(entries)
                for entry_id, fields in entries:
                    last_id = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
                    if not self._wanted(fields):
                        continue
                    raw = fields.get(b"e") or fields.get("e") or b""
                    try:
                        self._hub.dispatch(event_from_json(orjson.loads(raw)))
                    except (ValueError, KeyError, TypeError):
                        log.exception("dropping malformed event %s", last_id)
            if 0 < read < DISPATCH_COUNT and self._linger > 0:  # a full read: more is waiting
                await asyncio.sleep(self._linger)

    def _wanted(self, fields: dict[Any, Any]) -> bool:
        """Tell whether a listener here wants the entry (True when it does not say whose)."""
        order_id = _text(fields.get(b"o", fields.get("o")))
        user_id = _text(fields.get(b"u", fields.get("u")))
        if order_id is None or user_id is None:
            return True
        status = _STATUSES.get(_text(fields.get(b"s", fields.get("s"))) or "")
        try:
            return self._hub.wants(uuid.UUID(order_id), user_id, status)
        except ValueError:
            return True  # let the decoder report what is wrong with it

"""A websocket connection's own faults: an operation that fails, a handler that fails."""

from __future__ import annotations

import asyncio
import json
from typing import Any, cast

import pytest

from schema.context import Context
from schema.ws_connection import Limits
from schema.ws_transport import TransportConnection

pytestmark = pytest.mark.anyio


class FakeSocket:
    """The three calls a connection makes, fed from a queue of client messages."""

    def __init__(self) -> None:
        self.incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.sent: list[dict[str, Any]] = []
        self.closed: tuple[int, str] | None = None

    def say(self, message: object) -> None:
        self.incoming.put_nowait({"type": "websocket.receive", "text": json.dumps(message)})

    def leave(self) -> None:
        self.incoming.put_nowait({"type": "websocket.disconnect", "code": 1000})

    async def receive(self) -> dict[str, Any]:
        return await self.incoming.get()

    async def send_text(self, text: str) -> None:
        self.sent.append(json.loads(text))

    async def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)
        self.leave()


class FailingSchema:
    """A schema whose every operation fails before it yields anything."""

    async def stream(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")


class Host:
    def __init__(self) -> None:
        self.schema = FailingSchema()

    async def on_ws_connect(self, context: Context) -> None:
        return None


def _connection(ws: FakeSocket) -> TransportConnection:
    context = Context(request=cast("Any", None), response=None, service=cast("Any", None))
    return TransportConnection(cast("Any", ws), cast("Any", Host()), context, Limits())


async def test_a_failing_operation_is_completed_and_frees_its_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ws = FakeSocket()
    serving = asyncio.create_task(_connection(ws).run())
    subscribe = {"id": "x", "type": "subscribe", "payload": {"query": "subscription { a }"}}
    ws.say({"type": "connection_init", "payload": {}})
    ws.say(subscribe)
    await asyncio.sleep(0.05)
    ws.say(subscribe)  # the same id again: free, so no 4409
    await asyncio.sleep(0.05)
    ws.leave()
    await asyncio.wait_for(serving, 5)
    assert ws.sent == [
        {"type": "connection_ack"},
        {"type": "complete", "id": "x"},
        {"type": "complete", "id": "x"},
    ]
    assert ws.closed is None
    assert "websocket operation x failed" in caplog.text


async def test_a_fault_in_the_handler_closes_1011(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(self: TransportConnection, message: Any) -> None:
        raise KeyError("a bug")

    monkeypatch.setattr(TransportConnection, "handle", broken)
    ws = FakeSocket()
    ws.say({"type": "connection_init"})
    await asyncio.wait_for(_connection(ws).run(), 5)
    assert ws.closed == (1011, "Internal error")
    assert "websocket connection failed" in caplog.text

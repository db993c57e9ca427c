"""A lean websocket client for connection floods: a handshake and RFC 6455 frames by hand.

The ``websockets`` client keeps a reader task, buffers and keepalive state per connection,
which is more than a two-core machine can spare for 20,000 connections next to the server
it measures. This client keeps a stream pair per connection, answers pings, sends text
frames (masked, as a client must), and reports the server's close frame and when it came.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import struct
import time
from dataclasses import dataclass
from typing import Any

OP_TEXT, OP_CLOSE, OP_PING, OP_PONG = 0x1, 0x8, 0x9, 0xA


@dataclass
class Closed:
    """How the server ended a connection: its close code and reason (None: no close frame)."""

    code: int | None
    reason: str
    at: float  # time.monotonic() when the close frame (or the end of the stream) arrived


class RawWebSocket:
    """One client websocket on a stream pair."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self.opened_at = time.monotonic()

    @classmethod
    async def connect(
        cls,
        host: str,
        port: int,
        *,
        path: str = "/graphql",
        subprotocol: str = "graphql-transport-ws",
        headers: dict[str, str] | None = None,
        timeout: float = 30.0,  # noqa: ASYNC109
    ) -> RawWebSocket:
        """Open a TCP connection and complete the websocket handshake.

        :raises ConnectionError: when the server does not answer 101.
        """
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(host, port)
            key = base64.b64encode(os.urandom(16)).decode()
            extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
            writer.write(
                (
                    f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                    f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                    f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {subprotocol}\r\n"
                    f"{extra}\r\n"
                ).encode()
            )
            head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 101"):
            writer.close()
            raise ConnectionError(head.split(b"\r\n", 1)[0].decode(errors="replace"))
        return cls(reader, writer)

    def send_text(self, data: str) -> None:
        """Send a text frame."""
        self._send(OP_TEXT, data.encode())

    def send_json(self, message: dict[str, Any]) -> None:
        """Send a JSON message as a text frame."""
        self.send_text(json.dumps(message))

    def _send(self, opcode: int, payload: bytes) -> None:
        mask = os.urandom(4)
        size = len(payload)
        if size < 126:
            head = struct.pack("!BB", 0x80 | opcode, 0x80 | size)
        elif size < 1 << 16:
            head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, size)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, size)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self._writer.write(head + mask + masked)

    async def _frame(self) -> tuple[int, bytes]:
        first, second = await self._reader.readexactly(2)
        size = second & 0x7F
        if size == 126:
            (size,) = struct.unpack("!H", await self._reader.readexactly(2))
        elif size == 127:
            (size,) = struct.unpack("!Q", await self._reader.readexactly(8))
        return first & 0x0F, await self._reader.readexactly(size)

    async def receive_text(self) -> str | Closed:
        """Return the next text message, or how the connection closed; pings are answered."""
        while True:
            try:
                opcode, payload = await self._frame()
            except (asyncio.IncompleteReadError, ConnectionError):
                return Closed(None, "", time.monotonic())
            if opcode == OP_TEXT:
                return payload.decode()
            if opcode == OP_PING:
                self._send(OP_PONG, payload)
            elif opcode == OP_CLOSE:
                at = time.monotonic()
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                with contextlib.suppress(ConnectionError):
                    self._send(OP_CLOSE, payload[:2])  # echo, completing the closing handshake
                return Closed(code, payload[2:].decode(errors="replace"), at)

    async def wait_closed(self) -> Closed:
        """Read (answering pings) until the server closes; skip any text message."""
        while True:
            got = await self.receive_text()
            if isinstance(got, Closed):
                return got

    async def close(self) -> None:
        """Drop the TCP connection."""
        self._writer.close()
        with contextlib.suppress(Exception):
            await self._writer.wait_closed()

"""The legacy graphql-ws protocol (Apollo's subscriptions-transport-ws), over one connection.

The protocol defines no wait for connection_init; this one closes a connection without one
in time as graphql-transport-ws does (4408), so neither protocol lets an idle socket hold
the process's memory. A refused connection_init gets ``connection_error`` and a 1011 close
whose reason says why; a malformed message a 4400 close; a text frame that is not JSON is
ignored, a binary one closes 1002. Only subscriptions run here.
"""

from __future__ import annotations

import asyncio
from contextlib import aclosing
from typing import Any

from strawberry.types.execution import PreExecutionError

from schema.ws_connection import Connection, InitRefusedError, is_malformed, result_payload

PROTOCOL = "graphql-ws"


class LegacyConnection(Connection):
    """A connection speaking graphql-ws."""

    async def on_binary(self) -> None:
        """Close: the protocol is text only."""
        await self.close(1002, "WebSocket message type must be text")

    async def on_not_json(self) -> None:
        """Ignore it, as the protocol's servers do."""

    async def handle(self, message: Any) -> None:
        """Handle one message; close on a malformed one, ignore one of an unknown type."""
        if is_malformed(message, start="start", stop="stop"):
            await self.close(4400, "Invalid message")
            return
        kind = message["type"]
        if kind == "connection_init":
            await self._init(message.get("payload"))
        elif kind == "connection_terminate":
            await self.close(1000, "")
        elif kind == "start":
            await self._start(message["id"], message["payload"])
        elif kind == "stop":
            await self.stop(message["id"])

    async def _init(self, payload: object) -> None:
        self.init_received = True
        if payload is not None and not isinstance(payload, dict):
            await self.send({"type": "connection_error"})
            await self.close(1000, "")
            return
        try:
            ack = await self.authenticate(payload)
        except InitRefusedError as exc:
            await self.send({"type": "connection_error", "payload": {"message": exc.reason}})
            await self.close(1011, "")
            return
        await self.acknowledge(ack)

    async def _start(self, op_id: str, payload: dict[str, Any]) -> None:
        if not self.acknowledged:
            await self.close(4401, "Unauthorized")
            return
        await self.stop(op_id)  # an id used again replaces its operation
        if len(self.operations) >= self.limits.max_operations:
            message = {"message": "Subscription limit reached"}
            await self.send({"type": "error", "id": op_id, "payload": message})
            return
        self.start(op_id, self._run(op_id, payload))

    async def _run(self, op_id: str, payload: dict[str, Any]) -> None:
        try:
            results = await self.host.schema.subscribe(
                payload["query"],
                variable_values=payload.get("variables"),
                context_value=self.context,
                operation_name=payload.get("operationName"),
            )
            async with aclosing(results):
                first = True
                async for result in results:
                    if first and isinstance(result, PreExecutionError):
                        error = result.errors[0].formatted if result.errors else {}
                        self.forget(op_id)
                        await self.send({"type": "error", "id": op_id, "payload": error})
                        return
                    first = False
                    await self.send(
                        {"type": "data", "id": op_id, "payload": result_payload(result)}
                    )
        except asyncio.CancelledError:
            # Stopped by the client (or the connection ended): the protocol still says so.
            await self.send({"type": "complete", "id": op_id})
            raise
        self.forget(op_id)
        await self.send({"type": "complete", "id": op_id})

"""The graphql-transport-ws protocol (the graphql-ws library's), over one connection.

Close codes: 4400 a malformed message (or a document that does not parse), 4401 subscribe
before the connection is acknowledged, 4403 connection_init refused (the reason says why),
4408 no connection_init in time, 4409 an id already in use, 4429 connection_init twice.
An operation over the connection's limit gets an ``error`` frame and is not run. Queries
and mutations may run here too: one ``next``, then ``complete``.
"""

from __future__ import annotations

import logging
from contextlib import aclosing
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError

from schema.ws_connection import (
    Connection,
    InitRefusedError,
    errors_payload,
    is_malformed,
    result_payload,
)

log = logging.getLogger("eterna.api")

PROTOCOL = "graphql-transport-ws"


class TransportConnection(Connection):
    """A connection speaking graphql-transport-ws."""

    async def on_binary(self) -> None:
        """Close: the protocol is text only."""
        await self.close(4400, "WebSocket message type must be text")

    async def on_not_json(self) -> None:
        """Close: every message is JSON."""
        await self.close(4400, "WebSocket message must be valid JSON")

    async def handle(self, message: Any) -> None:
        """Handle one message; close on a malformed or unknown one."""
        if is_malformed(message, start="subscribe", stop="complete"):
            await self.close(4400, "Invalid message")
            return
        kind = message["type"]
        if kind == "connection_init":
            await self._init(message.get("payload", {}))
        elif kind == "ping":
            await self.send({"type": "pong"})
        elif kind == "pong":
            pass
        elif kind == "subscribe":
            await self._subscribe(message["id"], message["payload"])
        elif kind == "complete":
            await self.stop(message["id"])
        else:
            await self.close(4400, f"Unknown message type: {kind}")

    async def _init(self, payload: object) -> None:
        if not isinstance(payload, dict):
            await self.close(4400, "Invalid connection init payload")
            return
        if self.init_received:
            await self.close(4429, "Too many initialisation requests")
            return
        self.init_received = True
        try:
            ack = await self.authenticate(payload)
        except InitRefusedError:
            await self.close(4403, "Forbidden")
            return
        await self.acknowledge(ack)

    async def _subscribe(self, op_id: str, payload: dict[str, Any]) -> None:
        if not self.acknowledged:
            await self.close(4401, "Unauthorized")
            return
        if op_id in self.operations:
            await self.close(4409, f"Subscriber for {op_id} already exists")
            return
        if len(self.operations) >= self.limits.max_operations:
            error = GraphQLError("Subscription limit reached")
            await self.send({"id": op_id, "type": "error", "payload": errors_payload([error])})
            return
        self.start(op_id, self._run(op_id, payload))

    async def _run(self, op_id: str, payload: dict[str, Any]) -> None:
        results = await self.host.schema.stream(
            payload["query"],
            variable_values=payload.get("variables"),
            context_value=self.context,
            operation_name=payload.get("operationName"),
        )
        async with aclosing(results):
            first = True
            async for result in results:
                if first and isinstance(result, PreExecutionError):
                    await self._refused(op_id, result.errors or [])
                    return
                if not isinstance(result, ExecutionResult):  # @defer/@stream: not enabled
                    await self._refused(op_id, [GraphQLError("Incremental delivery is off")])
                    return
                first = False
                await self.send({"id": op_id, "type": "next", "payload": result_payload(result)})
        self.forget(op_id)
        await self.send({"id": op_id, "type": "complete"})

    async def _refused(self, op_id: str, errors: list[GraphQLError]) -> None:
        """Answer an operation refused before it ran: close on a syntax error, else ``error``."""
        self.forget(op_id)
        if errors and isinstance(errors[0], GraphQLSyntaxError):
            await self.close(4400, errors[0].message)
            return
        await self.send({"id": op_id, "type": "error", "payload": errors_payload(errors)})

"""Caps on open websockets: per client address (here, at the handshake) and per user.

A websocket costs the API process memory and a file descriptor for as long as it is open,
so the caps count what one process holds (``ETERNA_MAX_CONNECTIONS_PER_ADDRESS``,
``ETERNA_MAX_CONNECTIONS_PER_USER``); several API processes each apply them. The address
is known at the handshake, the user only at ``connection_init``, so the per-user cap is
checked by the GraphQL view and refused there with the protocol's own 4403.

A connection over the address cap is accepted and closed at once with 1013 ("try again
later", RFC 6455) and a reason: a refusal before the handshake would reach a browser as a
bare 1006 with no reason, and clients such as graphql-ws retry a 1013 with backoff.
"""

from __future__ import annotations

import logging
import time

from eterna.adapters.web.client_address import (
    ASGIApp,
    Receive,
    Scope,
    Send,
    budget_key,
    client_host,
)

log = logging.getLogger(__name__)

TRY_AGAIN_LATER = 1013
# A flood is refused connection by connection; the log says so at most this often.
WARN_EVERY_SECONDS = 60.0
# The subprotocols the GraphQL endpoint speaks; a refusal accepts with the client's choice,
# since a handshake that drops the requested subprotocol fails before the close is read.
SUBPROTOCOLS = ("graphql-transport-ws", "graphql-ws")


class OpenConnections:
    """Count open connections per key, up to ``cap`` each (0: no cap)."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.total = 0  # open connections of every key
        self._open: dict[str, int] = {}

    def try_open(self, key: str) -> bool:
        """Count one more connection for the key; False (and nothing counted) at the cap."""
        count = self._open.get(key, 0)
        if self.cap and count >= self.cap:
            return False
        self._open[key] = count + 1
        self.total += 1
        return True

    def close(self, key: str) -> None:
        """Count one connection of the key less."""
        count = self._open.get(key, 0) - 1
        if count >= 0:
            self.total -= 1
        if count > 0:
            self._open[key] = count
        else:
            # Gone at zero, so the table holds only keys with open connections.
            self._open.pop(key, None)

    def count(self, key: str) -> int:
        """Return the open connections of the key."""
        return self._open.get(key, 0)

    def __len__(self) -> int:
        """Return the number of keys with open connections."""
        return len(self._open)


class ConnectionCap:
    """ASGI middleware: refuse websockets over the cap of open ones per client address."""

    def __init__(self, app: ASGIApp, *, per_address: OpenConnections) -> None:
        self._app = app
        self._open = per_address
        self._refused = 0
        self._warned_at = -WARN_EVERY_SECONDS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve a websocket within the cap of its address; refuse it over the cap."""
        if scope["type"] != "websocket":
            await self._app(scope, receive, send)
            return
        key = budget_key(client_host(scope))
        if not self._open.try_open(key):
            self._warn(key)
            await self._refuse(scope, receive, send)
            return
        try:
            await self._app(scope, receive, send)
        finally:
            self._open.close(key)

    def _warn(self, key: str) -> None:
        self._refused += 1
        now = time.monotonic()
        if now - self._warned_at >= WARN_EVERY_SECONDS:
            log.warning(
                "refused %d websocket(s) over the per-address cap of %d (the last from %s)",
                self._refused,
                self._open.cap,
                key,
            )
            self._warned_at = now
            self._refused = 0

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        if message["type"] != "websocket.connect":
            return  # gone before the handshake
        offered = scope.get("subprotocols") or ()
        chosen = next((p for p in offered if p in SUBPROTOCOLS), None)
        await send({"type": "websocket.accept", "subprotocol": chosen})
        await send(
            {
                "type": "websocket.close",
                "code": TRY_AGAIN_LATER,
                "reason": f"too many open connections from this address (at most {self._open.cap})",
            }
        )

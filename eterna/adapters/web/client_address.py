"""The client's address, computed once per request or websocket for everyone who needs it.

Behind a reverse proxy the peer of every connection is the proxy, and the client's address
arrives in ``X-Forwarded-For``, a header anyone can also send on their own. The rule:

- the peer's address, unless the peer is a trusted proxy (``ETERNA_TRUSTED_PROXIES``,
  addresses or CIDRs);
- then the right-most address of ``X-Forwarded-For`` that is not a trusted proxy: each
  proxy appends the peer it saw, so that entry was written by a proxy we trust, and
  everything left of it may have been written by the client;
- an entry that is not an IP address ends the walk at the proxy that passed it on (all
  clients of a misconfigured proxy then share its address: visible, and never spoofable).

:class:`ClientAddress` writes the result to ``scope["client"]``, ASGI's own place for it,
which Starlette's ``request.client``, uvicorn's access log and Eterna's limits all read.
uvicorn's own proxy-header handling is switched off (``eterna serve``), so no header is
believed unless this module believed it.

Budgets and caps count IPv6 clients by their /64 network (:func:`budget_key`): one host is
usually handed a whole /64, and counting single addresses would give it 2^64 budgets.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable, MutableMapping, Sequence
from typing import Any

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

UNKNOWN = "unknown"  # no peer address at all (a unix socket): one shared budget
IPV6_BUDGET_PREFIX = 64
# Entries read from X-Forwarded-For: a real chain has a few; the rest is a client's padding.
MAX_FORWARDED_ENTRIES = 32
_V4_MAPPED = bytes(10) + b"\xff\xff"


def parse_address(text: str) -> bytes | None:
    """Return the packed IP address (4 or 16 bytes) in an address or header entry, or None.

    Accepts a bare address, ``1.2.3.4:port`` and ``[v6]:port``; an IPv4-mapped IPv6
    address is read as the IPv4 address it carries. ``inet_pton`` rather than
    :mod:`ipaddress`: this runs for every request and connection, several times behind a
    proxy, and the pure-Python parser was a seventh of the API's CPU during a flood of
    handshakes.
    """
    text = text.strip()
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        return socket.inet_pton(socket.AF_INET, text)
    except OSError:
        pass
    try:
        packed = socket.inet_pton(socket.AF_INET6, text)
    except OSError:
        return None
    return packed[12:] if packed.startswith(_V4_MAPPED) else packed


def address_text(packed: bytes) -> str:
    """Return the canonical text of a packed address."""
    return socket.inet_ntop(socket.AF_INET if len(packed) == 4 else socket.AF_INET6, packed)


def budget_key(host: str | None) -> str:
    """Return the key a client address is counted under: IPv4 itself, IPv6 its /64."""
    packed = parse_address(host) if host else None
    if packed is None:
        return host or UNKNOWN
    if len(packed) == 16:
        prefix = packed[: IPV6_BUDGET_PREFIX // 8] + bytes(16 - IPV6_BUDGET_PREFIX // 8)
        return f"{address_text(prefix)}/{IPV6_BUDGET_PREFIX}"
    return address_text(packed)


class TrustedProxies:
    """The reverse proxies whose ``X-Forwarded-For`` is believed."""

    def __init__(self, entries: Iterable[str]) -> None:
        """Parse addresses and CIDRs.

        :raises ValueError: for an entry that is neither.
        """
        networks = [ipaddress.ip_network(e.strip(), strict=False) for e in entries]
        # (length of the packed address, network as an integer, mask as an integer)
        self._networks = tuple(
            (n.max_prefixlen // 8, int(n.network_address), int(n.netmask)) for n in networks
        )

    def __bool__(self) -> bool:
        return bool(self._networks)

    def trusts(self, packed: bytes) -> bool:
        """Tell whether the packed address is one of the trusted proxies."""
        value = int.from_bytes(packed, "big")
        return any(
            size == len(packed) and value & mask == network
            for size, network, mask in self._networks
        )

    def client_of(self, peer: str, forwarded_for: Sequence[str]) -> str:
        """Return the client's address from the peer and the ``X-Forwarded-For`` values."""
        address = parse_address(peer)
        if address is None:
            return peer
        if not self.trusts(address):
            return address_text(address)
        entries = [e for value in forwarded_for for e in value.split(",")]
        for entry in reversed(entries[-MAX_FORWARDED_ENTRIES:]):
            hop = parse_address(entry)
            if hop is None:
                break  # garbage: the proxy that passed it on is all we know
            address = hop
            if not self.trusts(hop):
                break
        return address_text(address)


class ClientAddress:
    """ASGI middleware: put the client's address (see the module) in ``scope["client"]``."""

    def __init__(self, app: ASGIApp, *, proxies: TrustedProxies) -> None:
        self._app = app
        self._proxies = proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Resolve the address of an HTTP request or a websocket, then serve it."""
        if self._proxies and scope["type"] in ("http", "websocket"):
            peer = scope.get("client")
            if peer:
                forwarded = [
                    value.decode("latin-1")
                    for name, value in scope.get("headers", ())
                    if name == b"x-forwarded-for"
                ]
                client = self._proxies.client_of(peer[0], forwarded)
                # The peer's port is the proxy's; the client's is not known.
                scope["client"] = (client, peer[1] if client == peer[0] else 0)
        await self._app(scope, receive, send)


def client_host(scope: Scope) -> str | None:
    """Return the client's address of a scope that went through :class:`ClientAddress`."""
    client = scope.get("client")
    return str(client[0]) if client else None

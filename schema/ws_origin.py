"""Which pages may open a websocket: the Origin check of the handshake.

Browsers apply no CORS to websocket handshakes and send the user's cookies along, so a page
on any site could open one (cross-site websocket hijacking). The handshake's ``Origin``
header says which page asks: a handshake without one (not a browser) or from the API's own
origin is let in, and a cross-origin one only from an origin listed in ``allowed_origins``
(``"*"`` lets every origin in).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def _parts(url: str) -> tuple[str, str, int | None] | None:
    """Return the scheme, host and explicit port of a URL, or None if it has no host."""
    try:
        split = urlsplit(url.strip())
        port = split.port
    except ValueError:
        return None
    if not split.scheme or not split.hostname:
        return None
    return split.scheme.lower(), split.hostname.lower(), port


def normal_origin(origin: str) -> str | None:
    """Return the origin as browsers send it (lowercase, no default port), None if not one."""
    parts = _parts(origin)
    if parts is None:
        return None
    scheme, host, port = parts
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        return f"{scheme}://{host}:{port}"
    return f"{scheme}://{host}"


class OriginPolicy:
    """Let a websocket handshake in from no origin, the API's own, or a listed one."""

    def __init__(self, allowed: Iterable[str]) -> None:
        """Take the listed origins (``"*"`` for all).

        :raises ValueError: for an entry that is not an origin (scheme, host, port only).
        """
        if isinstance(allowed, str):
            raise ValueError(f"allowed origins must be a list of origins, not {allowed!r}")
        normal: set[str] = set()
        for origin in allowed:
            if origin == "*":
                normal.add(origin)
                continue
            found = normal_origin(origin)
            split = urlsplit(origin.strip())
            if found is None or split.path not in ("", "/") or split.query or split.username:
                raise ValueError(f"not an origin (scheme://host[:port]): {origin!r}")
            normal.add(found)
        self._allowed = frozenset(normal)

    def allows(self, headers: Mapping[str, str]) -> bool:
        """Tell whether the handshake with these headers may open a websocket."""
        origin = headers.get("origin")
        if origin is None or headers.get("sec-fetch-site") == "same-origin":
            return True
        if _same_origin(origin, headers.get("host")) or "*" in self._allowed:
            return True
        return normal_origin(origin) in self._allowed


def _same_origin(origin: str, host: str | None) -> bool:
    """Tell whether the origin names the host (and port) the handshake was sent to.

    The scheme is not compared: TLS ended at a proxy makes an https page reach the API over
    plain http, and that is still its own origin.
    """
    parts = _parts(origin)
    if parts is None or not host:
        return False
    scheme, hostname, port = parts
    try:
        target = urlsplit(f"//{host.strip()}")
        target_port = target.port
    except ValueError:
        return False
    default = _DEFAULT_PORTS.get(scheme)
    return hostname == target.hostname and (port or default) == (target_port or default)

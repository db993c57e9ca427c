"""A command that fails says so in one line, with the fix; the traceback is for --debug.

``eterna serve`` printed one line where ``eterna worker`` and ``eterna migrate`` printed 40
to 75 lines of traceback for the same causes (no JWT_SECRET, Redis down, no database).
:func:`explain` names the cause and its fix; :func:`check_port` finds a port in use before
anything starts.
"""

from __future__ import annotations

import errno
import socket

import asyncpg
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from tortoise.exceptions import DBConnectionError

from eterna.entrypoints.config import Settings


def _redacted(url: str | None) -> str:
    """Return a URL without its password, for a message."""
    if not url:
        return "(unset)"
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at:
        return url
    user = credentials.partition(":")[0]
    return f"{scheme}{sep}{user}@{host}"


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    """Tell whether the error or one of its causes is of a kind (libraries wrap drivers')."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def explain(exc: BaseException, settings: Settings | None) -> str:
    """Return one line: what failed and what to do about it."""
    database = _redacted(settings.effective_database_url if settings else None)
    redis = _redacted(settings.redis_url if settings else None)
    if _caused_by(exc, asyncpg.InvalidCatalogNameError):
        return (
            f"the database of DATABASE_URL ({database}) does not exist: create it "
            "(e.g. `createdb NAME`), then run `eterna migrate`"
        )
    if _caused_by(exc, RedisConnectionError) or _caused_by(exc, RedisTimeoutError):
        return f"cannot reach Redis at {redis} ({exc}): is it running? (REDIS_URL)"
    if _caused_by(exc, DBConnectionError) or _caused_by(exc, OSError):
        return f"cannot reach the database at {database} ({exc}): is it running? (DATABASE_URL)"
    if isinstance(exc, ValueError):  # settings and secrets say what is wrong themselves
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def check_port(host: str, port: int) -> str | None:
    """Return why the API could not listen on host:port, or None when it can.

    Bound and closed at once, with SO_REUSEADDR as the server binds: a port left in
    TIME_WAIT by a stopped server is free.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return (
                    f"port {port} on {host} is in use (another `eterna serve`?): stop it, or "
                    f"choose another port with --port, e.g. --port {port + 1}"
                )
            return f"cannot listen on {host}:{port}: {exc.strerror or exc}"
    return None

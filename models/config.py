"""Tortoise configuration for a database URL."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tortoise.backends.base.config_generator import expand_db_url

MODELS_MODULE = "models.orders"
AUDIT_MODULE = "models.audit"
MIGRATIONS_MODULE = "migrations"


async def keep_session(connection: Any) -> None:
    """Hand a connection back to asyncpg's pool without a reset query.

    asyncpg's default reset sends ``SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
    RESET ALL`` on every release, and Tortoise takes a connection from the pool for every
    query: one more round trip per statement. Eterna leaves no session state behind (no
    ``SET``, ``LISTEN``, advisory lock or cursor outside a transaction), and asyncpg still
    rolls back a transaction left open before it calls this, so there is nothing to reset.
    """


def tortoise_config(database_url: str, *, pool_size: int = 20) -> dict[str, Any]:
    """Return the Tortoise config for the URL (Postgres gets a pool of pool_size)."""
    connection: str | dict[str, Any] = database_url
    if database_url.startswith(("postgres://", "postgresql://", "asyncpg://")):
        parts = urlsplit(database_url)
        query = dict(parse_qsl(parts.query))
        query.setdefault("maxsize", str(pool_size))
        query.setdefault("minsize", "1")
        expanded = expand_db_url(urlunsplit(parts._replace(query=urlencode(query))))
        connection = {**expanded, "credentials": {**expanded["credentials"], "reset": keep_session}}
    return {
        "connections": {"default": connection},
        "apps": {
            "models": {
                "models": [MODELS_MODULE, AUDIT_MODULE],
                "default_connection": "default",
                "migrations": MIGRATIONS_MODULE,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }

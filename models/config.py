"""Tortoise configuration for a database URL."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tortoise.context import require_context

MODELS_MODULE = "models.orders"
AUDIT_MODULE = "models.audit"
MIGRATIONS_MODULE = "migrations"


def is_postgres_url(database_url: str) -> bool:
    """Tell whether the URL names a Postgres database (else SQLite)."""
    return database_url.startswith(("postgres://", "postgresql://", "asyncpg://"))


def connection_name(database_url: str) -> str:
    """Return the name of Tortoise's connection to the URL's database: its dialect.

    Tortoise caches the SQL it builds for a model under the connection's name: a process that
    opens SQLite, then Postgres (the tests do) must not reuse SQLite's placeholders.
    """
    return "postgres" if is_postgres_url(database_url) else "sqlite"


async def ping() -> None:
    """Ask the database Tortoise is connected to for one answer (health, start-up)."""
    await require_context().db().execute_query("SELECT 1")


def tortoise_config(database_url: str, *, pool_size: int = 20) -> dict[str, Any]:
    """Return the Tortoise config for the URL (Postgres gets a pool of pool_size)."""
    connection = database_url
    if is_postgres_url(database_url):
        parts = urlsplit(database_url)
        query = dict(parse_qsl(parts.query))
        query.setdefault("maxsize", str(pool_size))
        query.setdefault("minsize", "1")
        connection = urlunsplit(parts._replace(query=urlencode(query)))
    name = connection_name(database_url)
    return {
        "connections": {name: connection},
        "apps": {
            "models": {
                "models": [MODELS_MODULE, AUDIT_MODULE],
                "default_connection": name,
                "migrations": MIGRATIONS_MODULE,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }

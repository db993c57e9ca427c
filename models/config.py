"""Tortoise configuration for a database URL."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MODELS_MODULE = "models.orders"
MIGRATIONS_MODULE = "migrations"


def is_postgres_url(database_url: str) -> bool:
    """Tell whether the URL names a Postgres database (else SQLite)."""
    return database_url.startswith(("postgres://", "postgresql://", "asyncpg://"))


def tortoise_config(database_url: str, *, pool_size: int = 20) -> dict[str, Any]:
    """Return the Tortoise config for the URL (Postgres gets a pool of pool_size)."""
    connection = database_url
    if is_postgres_url(database_url):
        parts = urlsplit(database_url)
        query = dict(parse_qsl(parts.query))
        query.setdefault("maxsize", str(pool_size))
        query.setdefault("minsize", "1")
        connection = urlunsplit(parts._replace(query=urlencode(query)))
    return {
        "connections": {"default": connection},
        "apps": {
            "models": {
                "models": [MODELS_MODULE],
                "default_connection": "default",
                "migrations": MIGRATIONS_MODULE,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }

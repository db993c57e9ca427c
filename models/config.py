"""Tortoise configuration for a database URL."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MODELS_MODULE = "models.orders"
MIGRATIONS_MODULE = "migrations"


def tortoise_config(database_url: str, *, pool_size: int = 20) -> dict[str, Any]:
    """Return the Tortoise config for the URL (Postgres gets a pool of pool_size)."""
    url = database_url
    if url.startswith(("postgres://", "postgresql://", "asyncpg://")):
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query))
        query.setdefault("maxsize", str(pool_size))
        query.setdefault("minsize", "1")
        url = urlunsplit(parts._replace(query=urlencode(query)))
    return {
        "connections": {"default": url},
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


def cli_config() -> dict[str, Any]:
    """Return the config the ``tortoise`` command line uses (DATABASE_URL or the SQLite file)."""
    from eterna.config import Settings  # noqa: PLC0415 - only the CLI reads the environment

    return tortoise_config(Settings().effective_database_url)


def __getattr__(name: str) -> Any:  # the CLI reads TORTOISE_ORM lazily
    if name == "TORTOISE_ORM_CLI":
        return cli_config()
    raise AttributeError(name)

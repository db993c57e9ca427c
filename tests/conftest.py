"""Shared fixtures: real SQLite files, a throwaway Postgres database, a Redis prefix."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
import redis

PG_ADMIN_URL = os.environ.get(
    "ETERNA_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("ETERNA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


def _pg_url(name: str) -> str:
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    return f"{base}/{name}"


@contextlib.asynccontextmanager
async def fresh_pg_database() -> AsyncIterator[str]:
    """Create a uniquely named Postgres database; drop it on exit."""
    name = f"eterna_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield _pg_url(name)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
async def pg_database() -> AsyncIterator[str]:
    """A fresh Postgres database for one test, dropped afterwards."""
    async with fresh_pg_database() as url:
        yield url


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A unique key prefix in the real Redis, deleted afterwards."""
    prefix = f"eterna-test-{uuid.uuid4().hex[:10]}"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(f"{prefix}*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"

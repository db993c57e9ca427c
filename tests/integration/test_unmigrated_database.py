"""A Postgres database that was never migrated is said plainly, not taken for an outage."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from eterna.core.clock import utcnow
from eterna.entrypoints.app import create_app
from eterna.entrypoints.bootstrap import Runtime
from eterna.entrypoints.config import Settings
from tests.conftest import REDIS_URL

pytestmark = pytest.mark.anyio

PLACE = """mutation { placeOrder(input: {type: MARKET, tokenIn: "SOL", tokenOut: "USDC",
  amountIn: "1"}) { __typename ... on OrderRejected { code message } } }"""
FIX = "database not migrated: run `eterna migrate`"


@contextlib.asynccontextmanager
async def api(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://eterna.test") as client:
            yield client, app.state.runtime


async def test_an_unmigrated_database_is_reported_refused_and_logged_once(
    pg_database: str, redis_prefix: str, data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(
        data_dir=data_dir,
        database_url=pg_database,
        redis_url=REDIS_URL,
        redis_prefix=redis_prefix,
        jwt_secret="integration-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz",
    )
    caplog.set_level(logging.INFO)
    async with api(settings) as (client, runtime):
        token = runtime.auth.issue("alice", now=utcnow(), ttl=timedelta(hours=1))
        health = await client.get("/health")
        assert health.status_code == 503
        assert health.json()["database"] == FIX
        for _ in range(2):
            response = await client.post(
                "/graphql", json={"query": PLACE}, headers={"Authorization": f"Bearer {token}"}
            )
            refused = response.json()["data"]["placeOrder"]
            assert refused["code"] == "UNAVAILABLE"
            assert "not migrated" in refused["message"]
            assert "`eterna migrate`" in refused["message"]
        assert (await client.get("/health")).json()["database"] == FIX
        said = [r for r in caplog.records if r.getMessage().startswith(FIX)]
        assert len(said) == 1, [r.getMessage() for r in said]

        # The operator runs the fix; the running server sees it without a restart.
        env = {**os.environ, "DATABASE_URL": pg_database}
        migrate = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "eterna", "migrate", env=env, stderr=asyncio.subprocess.PIPE
        )
        _, stderr = await migrate.communicate()
        assert migrate.returncode == 0, stderr.decode()
        health = await client.get("/health")
        assert (health.status_code, health.json()["database"]) == (200, "ok")

"""An API in the embedded mode, driven in-process over HTTP and websockets."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from httpx_ws.transport import ASGIWebSocketTransport

from eterna.core.clock import utcnow
from eterna.entrypoints.app import create_app
from eterna.entrypoints.bootstrap import Runtime
from eterna.entrypoints.config import Settings


@dataclass
class Api:
    """A running app, its runtime and a client."""

    client: httpx.AsyncClient
    runtime: Runtime

    def token(self, user: str) -> str:
        return self.runtime.auth.issue(user, now=utcnow(), ttl=timedelta(hours=1))

    async def gql(
        self, query: str, variables: dict[str, Any] | None = None, *, user: str | None = "alice"
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token(user)}"} if user else {}
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
async def api(data_dir: Path) -> AsyncIterator[Api]:
    settings = Settings(data_dir=data_dir, chain_slot_ms=0, idle_recheck_seconds=0.5)
    async with _running(settings) as running:
        yield running


@pytest.fixture
async def pg_api(data_dir: Path, pg_database: str) -> AsyncIterator[Api]:
    settings = Settings(
        data_dir=data_dir, database_url=pg_database, chain_slot_ms=0, idle_recheck_seconds=0.5
    )
    async with _running(settings) as running:
        yield running


@contextlib.asynccontextmanager
async def _running(settings: Settings) -> AsyncIterator[Api]:
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = ASGIWebSocketTransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://eterna.test") as client:
            yield Api(client=client, runtime=app.state.runtime)

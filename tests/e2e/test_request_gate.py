"""Requests in progress per caller, over HTTP: a caller's extra requests wait their turn or are
refused with 429, and other callers are not held up."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from httpx_ws.transport import ASGIWebSocketTransport

from eterna.core.clock import utcnow
from eterna.entrypoints.app import create_app
from eterna.entrypoints.config import Settings
from schema.view import EternaGraphQL

pytestmark = pytest.mark.anyio

TOKENS = {"query": "{ tokens { symbol } }"}


async def test_a_busy_caller_waits_or_is_refused_while_others_go_through(data_dir: Path) -> None:
    settings = Settings(
        data_dir=data_dir,
        chain_slot_ms=0,
        max_requests_in_progress=1,
        max_requests_waiting=1,
    )
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        graphql: EternaGraphQL = app.state.graphql
        auth = app.state.runtime.auth

        def headers(user: str) -> dict[str, str]:
            token = auth.issue(user, now=utcnow(), ttl=timedelta(hours=1))
            return {"Authorization": f"Bearer {token}"}

        transport = ASGIWebSocketTransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://eterna.test") as client:
            # Alice has a request in progress (as a slow one would hold its place).
            await graphql.requests.enter("user:alice")
            waiting = asyncio.create_task(
                client.post("/graphql", json=TOKENS, headers=headers("alice"))
            )
            for _ in range(100):
                await asyncio.sleep(0.01)
                if graphql.requests.callers() and not waiting.done():
                    break
            refused = await client.post("/graphql", json=TOKENS, headers=headers("alice"))
            other = await client.post("/graphql", json=TOKENS, headers=headers("bob"))
            assert not waiting.done()
            graphql.requests.leave("user:alice")
            served = await asyncio.wait_for(waiting, timeout=10)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "1"
    error = refused.json()["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert "too many requests in progress" in error["message"]
    assert other.status_code == 200
    assert other.json()["data"]["tokens"]
    assert served.status_code == 200
    assert served.json()["data"]["tokens"]
    assert graphql.requests.callers() == 0


async def test_callers_without_a_token_are_told_apart_by_address(data_dir: Path) -> None:
    settings = Settings(
        data_dir=data_dir, chain_slot_ms=0, max_requests_in_progress=1, max_requests_waiting=1
    )
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        graphql: EternaGraphQL = app.state.graphql
        transport = ASGIWebSocketTransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://eterna.test") as client:
            address = "address:127.0.0.1"
            await graphql.requests.enter(address)
            in_line = asyncio.create_task(graphql.requests.enter(address))
            await asyncio.sleep(0)
            refused = await client.post("/graphql", json=TOKENS)
            anonymous_elsewhere = await client.post(
                "/graphql", json=TOKENS, headers={"Authorization": "Bearer not-a-token"}
            )
            graphql.requests.leave(address)
            await in_line
            graphql.requests.leave(address)
            served = await client.post("/graphql", json=TOKENS)
    assert refused.status_code == 429
    assert anonymous_elsewhere.status_code == 429  # a bad token is still that address
    assert served.status_code == 200

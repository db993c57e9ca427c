"""Websocket connections: the connection_init deadline, caps per address and per user.

Every test drives the real app in-process; the caps count per API process.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from httpx_ws import AsyncWebSocketSession, aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport

from eterna.adapters.web.connection_limits import OpenConnections
from eterna.entrypoints.app import create_app
from eterna.entrypoints.config import Settings
from schema.context import Context
from tests import graphql_ws
from tests.e2e.conftest import Api
from tests.e2e.ws_session import Ended, init, session

pytestmark = pytest.mark.anyio

PROTOCOLS = ["graphql-transport-ws", "graphql-ws"]
NO_SUCH_ORDER = "subscription($id: ID!) { orderEvents(orderId: $id) { seq } }"


@dataclass
class Served(Api):
    """The app in-process, and the open websockets it counts per address and per user."""

    per_address: OpenConnections = field(default_factory=lambda: OpenConnections(0))
    per_user: OpenConnections = field(default_factory=lambda: OpenConnections(0))
    app: Any = None

    async def alone(self, messages: list[dict[str, Any]], **kwargs: Any) -> Ended:
        """Run a session on a client of its own (the websocket transport keeps one scope)."""
        transport = ASGIWebSocketTransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://eterna.test") as c:
            return await session(c, messages, **kwargs)


@contextlib.asynccontextmanager
async def running(data_dir: Path, **overrides: Any) -> AsyncIterator[Served]:
    settings = Settings(data_dir=data_dir, chain_slot_ms=0, **overrides)
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = ASGIWebSocketTransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://eterna.test") as client:
            state = app.state
            yield Served(
                client, state.runtime, state.open_per_address, state.open_per_user, manager.app
            )


@contextlib.asynccontextmanager
async def acked(
    api: Api, user: str, *, protocol: str = "graphql-transport-ws", **headers: str
) -> AsyncIterator[AsyncWebSocketSession]:
    """Hold a websocket whose connection_init the server acknowledged."""
    ws: AsyncWebSocketSession
    async with aconnect_ws("/graphql", api.client, subprotocols=[protocol], headers=headers) as ws:
        assert (await graphql_ws.init(ws, api.token(user)))["type"] == "connection_ack"
        yield ws


# -- connection_init deadline ----------------------------------------------------------------


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_websocket_without_connection_init_is_closed_4408(
    data_dir: Path, protocol: str
) -> None:
    async with running(data_dir, ws_init_timeout_seconds=0.2) as api:
        ended = await session(api.client, [], protocol=protocol)
        assert api.per_address.count("127.0.0.1") == 0
    assert (ended.code, ended.reason) == (4408, "Connection initialisation timeout")


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_websocket_initialised_in_time_outlives_the_deadline(
    data_dir: Path, protocol: str
) -> None:
    async with (
        running(data_dir, ws_init_timeout_seconds=0.2) as api,
        acked(api, "alice", protocol=protocol) as ws,
    ):
        await asyncio.sleep(0.5)  # past the deadline: the connection must still serve
        _, end = await graphql_ws.collect(
            ws, NO_SUCH_ORDER, {"id": str(uuid.uuid4())}, legacy=protocol == "graphql-ws"
        )
    assert end is not None
    assert "NOT_FOUND" in json.dumps(end)  # answered as the authenticated user


async def test_a_legacy_websocket_refused_at_init_is_not_closed_twice(data_dir: Path) -> None:
    async with running(data_dir, ws_init_timeout_seconds=0.2) as api:
        ended = await session(api.client, [init("not-a-token")], protocol="graphql-ws")
    assert (ended.code, ended.reason) == (1011, "Forbidden: invalid token: not a JWT")


# -- caps ------------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_websockets_over_the_cap_of_an_address_are_closed_1013_with_the_reason(
    data_dir: Path, protocol: str
) -> None:
    async with running(data_dir, max_connections_per_address=2) as api:
        async with acked(api, "alice", protocol=protocol), acked(api, "bob", protocol=protocol):
            refused = await session(api.client, [init(api.token("carol"))], protocol=protocol)
        after = await session(api.client, [init(api.token("carol"))], protocol=protocol, wait=0.5)
        per_address, per_user = api.per_address, api.per_user
    assert (refused.code, refused.reason) == (
        1013,
        "too many open connections from this address (at most 2)",
    )
    assert refused.received == []
    assert after.code is None  # served until the client left
    assert after.received[0]["type"] == "connection_ack"
    assert (len(per_address), len(per_user)) == (0, 0)


async def test_websockets_over_the_cap_of_a_user_are_refused_4403_with_the_reason(
    data_dir: Path,
) -> None:
    async with running(data_dir, max_connections_per_user=2) as api:
        async with acked(api, "alice"), acked(api, "alice", protocol="graphql-ws"):
            third = await session(api.client, [init(api.token("alice"))])
            legacy = await session(api.client, [init(api.token("alice"))], protocol="graphql-ws")
            others = await session(api.client, [init(api.token("bob"))], wait=0.5)
        again = await session(api.client, [init(api.token("alice"))], wait=0.5)
        per_address, per_user = api.per_address, api.per_user
    reason = "Forbidden: too many open connections for this user (at most 2)"
    assert (third.code, third.reason) == (4403, reason)
    assert (legacy.code, legacy.reason) == (1011, reason)
    assert legacy.received[0]["type"] == "connection_error"
    assert others.received[0]["type"] == again.received[0]["type"] == "connection_ack"
    assert (len(per_address), len(per_user)) == (0, 0)


async def test_a_repeated_legacy_connection_init_holds_one_place_under_the_user_cap(
    data_dir: Path,
) -> None:
    async with running(data_dir, max_connections_per_user=1) as api:
        messages = [init(api.token("alice")), init(api.token("bob")), init(api.token("alice"))]
        ended = await session(api.client, messages, protocol="graphql-ws", wait=0.5)
        assert api.per_user.count("alice") == 0  # released when the connection ended
    assert [m["type"] for m in ended.received] == ["connection_ack"] * 3


@pytest.mark.parametrize(
    ("trusted", "refused"),
    [
        ("", True),  # the peer is no proxy: its X-Forwarded-For is the client's own words
        ("127.0.0.1", False),  # a trusted proxy: each forwarded client has its own cap
    ],
)
async def test_the_address_cap_counts_forwarded_clients_only_behind_a_trusted_proxy(
    data_dir: Path, trusted: str, *, refused: bool
) -> None:
    async with running(data_dir, max_connections_per_address=1, trusted_proxies=trusted) as api:
        forwarded = {"X-Forwarded-For": "203.0.113.7"}
        async with acked(api, "alice", **forwarded):
            other = {"X-Forwarded-For": "198.51.100.9"}
            second = await session(api.client, [init(api.token("bob"))], headers=other, wait=0.5)
    assert (second.code == 1013) is refused


async def test_no_connection_objects_outlive_their_connections(data_dir: Path) -> None:
    """Idle, refused and served websockets leave nothing behind once closed.

    The cyclic GC is off meanwhile: what a connection held must go when it ends, not at the
    next full collection (a context in a reference cycle kept every object of its
    connection until then).
    """
    gc.collect()
    gc.disable()
    try:
        await _connect_and_leave(data_dir)
    finally:
        gc.enable()


async def _connect_and_leave(data_dir: Path) -> None:
    async with running(
        data_dir,
        ws_init_timeout_seconds=0.1,
        max_connections_per_address=2,
        trusted_proxies="127.0.0.1",
    ) as api:
        crowded = {"X-Forwarded-For": "198.51.100.1"}
        async with acked(api, "alice", **crowded), acked(api, "bob", **crowded):
            refused = await asyncio.gather(
                *(api.alone([], protocol=p, headers=crowded) for p in PROTOCOLS * 5)
            )
        idle = await asyncio.gather(
            *(
                api.alone([], protocol=p, headers={"X-Forwarded-For": f"10.0.0.{i}"})
                for i, p in enumerate(PROTOCOLS * 10)
            )
        )
        contexts = [o for o in gc.get_objects() if isinstance(o, Context)]
        per_address, per_user = api.per_address, api.per_user
    assert {e.code for e in refused} == {1013}
    assert {e.code for e in idle} == {4408}
    assert contexts == []
    assert (len(per_address), len(per_user)) == (0, 0)


async def test_refusals_are_logged_with_the_client_address(
    data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    overrides = {"max_connections_per_address": 1, "trusted_proxies": "127.0.0.1"}
    caplog.set_level(logging.INFO)
    async with running(data_dir, **overrides) as api:
        forwarded = {"X-Forwarded-For": "203.0.113.7"}
        async with acked(api, "alice", **forwarded):
            for _ in range(3):
                await session(api.client, [init(api.token("bob"))], headers=forwarded)
        await session(api.client, [init("not-a-token")], headers=forwarded)
    lines = [r.getMessage() for r in caplog.records]
    over_cap = [m for m in lines if "over the per-address cap" in m]
    assert over_cap == [
        "refused 1 websocket(s) over the per-address cap of 1 (the last from 203.0.113.7)"
    ]  # once: the next refusals wait for the next minute's line
    assert "rejected websocket credentials from 203.0.113.7: invalid token: not a JWT" in lines

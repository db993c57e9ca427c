"""/metrics per GraphQL operation, refusals by code, websockets open and the pools in use."""

from __future__ import annotations

import pytest
from httpx_ws import AsyncWebSocketSession, aconnect_ws

from eterna.adapters.metrics.operations import KNOWN_REASONS, MAX_OPERATION_NAMES, OTHER
from eterna.domain.errors import RejectionCode
from tests import graphql_ws
from tests.e2e.conftest import Api
from tests.e2e.test_market_orders import PLACE
from tests.e2e.test_metrics import scrape

pytestmark = pytest.mark.anyio

SAME_TOKEN = {"type": "MARKET", "tokenIn": "SOL", "tokenOut": "SOL", "amountIn": "1"}


async def test_failure_retry_and_refusal_series_exist_at_zero_before_any_order(api: Api) -> None:
    metrics = await scrape(api)
    for reason in KNOWN_REASONS:
        assert metrics.value("eterna_order_failures_total", reason=reason) == 0
        assert metrics.value("eterna_order_retries_total", reason=reason) == 0
    for code in RejectionCode:
        assert metrics.value("eterna_refusals_total", code=code.value) == 0
    assert metrics.value("eterna_websocket_connections") == 0


async def test_operations_count_by_name_and_type_with_errors_and_refusals(api: Api) -> None:
    for _ in range(3):
        assert "errors" not in await api.gql("query Tokens { tokens { symbol } }")
    refused = await api.gql(PLACE, {"input": SAME_TOKEN})
    assert refused["data"]["placeOrder"]["code"] == "SAME_TOKEN"
    broken = await api.gql("query Broken { tokens { symbol }")  # a parse error
    assert broken["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    anonymous = await api.gql("{ tokens { nope } }")
    assert anonymous["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"

    metrics = await scrape(api)
    tokens = {"operation": "Tokens", "type": "query"}
    assert metrics.value("eterna_graphql_operations_total", **tokens) == 3
    assert metrics.value("eterna_graphql_operation_duration_seconds_count", **tokens) == 3
    assert metrics.total("eterna_graphql_errors_total", **tokens) == 0
    place = {"operation": "Place", "type": "mutation"}
    assert metrics.value("eterna_graphql_operations_total", **place) == 1
    assert metrics.value("eterna_refusals_total", code="SAME_TOKEN") == 1
    # A document that does not parse has no name or type anyone can trust.
    parse_failed = {"operation": "anonymous", "type": "unknown", "code": "GRAPHQL_PARSE_FAILED"}
    assert metrics.value("eterna_graphql_errors_total", **parse_failed) == 1
    validation = {"operation": "anonymous", "type": "query", "code": "GRAPHQL_VALIDATION_FAILED"}
    assert metrics.value("eterna_graphql_errors_total", **validation) == 1


async def test_client_chosen_operation_names_cannot_grow_the_scrape_without_bound(
    api: Api,
) -> None:
    for i in range(MAX_OPERATION_NAMES + 5):
        assert "errors" not in await api.gql(f"query Q{i} {{ tokens {{ symbol }} }}")
    metrics = await scrape(api)
    named = metrics.matching("eterna_graphql_operations_total", type="query")
    assert len(named) <= MAX_OPERATION_NAMES + 1
    assert metrics.value("eterna_graphql_operations_total", operation=OTHER, type="query") >= 5


async def test_open_websockets_are_reported(api: Api) -> None:
    ws: AsyncWebSocketSession
    async with aconnect_ws("/graphql", api.client, subprotocols=["graphql-transport-ws"]) as ws:
        assert (await graphql_ws.init(ws, api.token("alice")))["type"] == "connection_ack"
        assert (await scrape(api)).value("eterna_websocket_connections") == 1
    for _ in range(50):
        if (await scrape(api)).value("eterna_websocket_connections") == 0:
            break
    assert (await scrape(api)).value("eterna_websocket_connections") == 0


@pytest.mark.postgres
async def test_database_pool_use_is_reported_on_postgres(pg_api: Api) -> None:
    # The store's pool connects on first use: read the caller's orders first.
    assert "errors" not in await pg_api.gql("{ orders(first: 1) { edges { node { id } } } }")
    metrics = await scrape(pg_api)
    assert metrics.value("eterna_pool_connections", pool="database") >= 1
    in_use = metrics.value("eterna_pool_connections_in_use", pool="database")
    assert 0 <= in_use <= metrics.value("eterna_pool_connections", pool="database")


@pytest.mark.parametrize("name", [True, 3, ["Q"], {"a": 1}])
async def test_an_operation_name_that_is_no_string_is_counted_as_invalid(
    api: Api, name: object
) -> None:
    # A document that does not parse reaches the operation hooks with the name as sent
    # (hypothesis found it); one that parses is refused by strawberry before them (400).
    broken = await api.client.post("/graphql", json={"query": "0", "operationName": name})
    assert broken.status_code < 500, broken.text
    assert "Unexpected error" not in broken.text
    parses = await api.client.post(
        "/graphql", json={"query": "{ tokens { symbol } }", "operationName": name}
    )
    assert parses.status_code == 400, parses.text
    metrics = await scrape(api)
    assert metrics.total("eterna_graphql_operations_total", operation="invalid") == 1
    assert metrics.total("eterna_graphql_errors_total", code="GRAPHQL_PARSE_FAILED") == 1

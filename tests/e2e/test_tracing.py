"""One trace follows an order: HTTP request -> GraphQL -> queue -> worker -> stages -> CONFIRMED.

The embedded mode on Postgres: the API, the queue (a real taskiq message, serialised, with
the trace context in its labels), the engine and the chain in one process, every span in
an in-memory exporter.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from eterna.adapters.tracing import start_tracing, tracing_active
from eterna.entrypoints.config import Settings
from tests.e2e.conftest import Api, _running
from tests.e2e.test_market_orders import place, wait_terminal

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]

MARKET = {"type": "MARKET", "tokenIn": "SOL", "tokenOut": "USDC", "amountIn": "1"}


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    tracing = start_tracing("eterna-test", exporter=exporter, batch=False)
    try:
        yield exporter
    finally:
        tracing.close()
    assert not tracing_active()


@pytest.fixture
async def traced_api(
    spans: InMemorySpanExporter, data_dir: Path, pg_database: str
) -> AsyncIterator[Api]:
    settings = Settings(
        data_dir=data_dir, database_url=pg_database, chain_slot_ms=0, idle_recheck_seconds=0.5
    )
    async with _running(settings) as running:
        yield running


def _one(spans: list[ReadableSpan], name: str, **attributes: object) -> ReadableSpan:
    found = [
        s
        for s in spans
        if s.name == name and all((s.attributes or {}).get(k) == v for k, v in attributes.items())
    ]
    assert len(found) == 1, (name, attributes, [s.name for s in spans])
    return found[0]


def _trace_id(span: ReadableSpan) -> int:
    assert span.context is not None
    trace_id: int = span.context.trace_id
    return trace_id


async def test_one_order_is_one_trace_from_request_to_confirmed(
    traced_api: Api, spans: InMemorySpanExporter
) -> None:
    placed = await place(traced_api, MARKET)
    order_id = placed["order"]["id"]
    order = await wait_terminal(traced_api, order_id)
    assert order["status"] == "CONFIRMED"

    finished = list(spans.get_finished_spans())
    operation = _one(finished, "mutation Place", **{"graphql.operation.type": "mutation"})
    assert operation.parent is not None
    request = next(
        s for s in finished if s.context and s.context.span_id == operation.parent.span_id
    )
    assert request.kind is SpanKind.SERVER  # the HTTP request's span, from the ASGI middleware
    trace_id = _trace_id(request)

    execute = _one(finished, "orders.execute", **{"eterna.order_id": order_id})
    assert execute.kind is SpanKind.CONSUMER
    assert _trace_id(execute) == trace_id
    stages = [
        s
        for s in finished
        if s.name.startswith("order ") and (s.attributes or {}).get("eterna.order_id") == order_id
    ]
    reached = [(s.attributes or {}).get("eterna.status") for s in stages]
    assert reached[-1] == "CONFIRMED", reached
    assert {"order pending", "order routing", "order building", "order submitted"} <= {
        s.name for s in stages
    }
    assert {_trace_id(s) for s in stages} == {trace_id}
    # The placement's database work is in the trace too (asyncpg's instrumentation).
    database = [s for s in finished if s.attributes and "db.system" in s.attributes]
    assert any(_trace_id(s) == trace_id for s in database)

    # The polling reads are traces of their own: the order's trace is not a catch-all.
    reads = [s for s in finished if s.name == "query Order"]
    assert reads
    assert all(_trace_id(s) != trace_id for s in reads)

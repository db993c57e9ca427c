"""What the schema relies on in strawberry and graphql-core, each checked so it fails loudly.

Eterna reaches strawberry and graphql-core through their public API; where it relies on
something they do not promise in so many words, a test here says what and fails first.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any, ClassVar

import pytest
import strawberry
from graphql import GraphQLInputObjectType, GraphQLSchema, parse, subscribe
from graphql import build_schema as build_sdl
from graphql.execution import Executor
from strawberry.types.base import get_object_definition

from schema import EternaExecutor, build_schema, graphql_schema
from schema.inputs import OrderGroupInput, OrderInput

pytestmark = pytest.mark.anyio


def test_strawberry_keeps_its_graphql_core_schema_where_the_gate_reads_it() -> None:
    built = build_schema()
    assert isinstance(graphql_schema(built), GraphQLSchema)
    assert graphql_schema(built).get_type("OrderEvent") is not None


def test_a_schema_without_its_graphql_core_schema_is_refused_at_build() -> None:
    with pytest.raises(TypeError, match="_schema"):
        graphql_schema(object())  # type: ignore[arg-type]


class _Recording(Executor[Any]):
    """graphql-core's executor, recording the documented hooks it is driven through."""

    calls: ClassVar[list[str]] = []

    def build_per_event_executor(self, payload: Any) -> Executor[Any]:
        self.calls.append("build_per_event_executor")
        return super().build_per_event_executor(payload)

    def execute_operation(self, serially: bool | None = None) -> Any:
        self.calls.append("execute_operation")
        return super().execute_operation(serially)


async def test_graphql_core_runs_each_subscription_event_through_the_per_event_hooks() -> None:
    """PlannedExecutor overrides exactly these two: if graphql-core stops calling them, fail."""
    sdl = build_sdl("type Query { ok: Int } type Subscription { n: Int }")

    async def numbers(*_: Any) -> AsyncIterator[dict[str, int]]:
        for n in (1, 2):
            yield {"n": n}

    _Recording.calls.clear()
    stream: Any = subscribe(
        sdl,
        parse("subscription { n }"),
        subscribe_field_resolver=lambda *_: numbers(),
        executor_class=_Recording,
    )
    _Recording.calls.clear()  # building the executor is not per event
    got = [r.data async for r in stream]
    assert got == [{"n": 1}, {"n": 2}]
    per_event = ["build_per_event_executor", "execute_operation"]
    assert _Recording.calls == per_event * 2


async def test_strawberry_executes_queries_and_subscriptions_with_our_executor() -> None:
    built: list[str] = []

    class Spy(EternaExecutor):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            built.append(self.operation.operation.value)

    @strawberry.type
    class Query:
        ok: int = 1

    @strawberry.type
    class Subscription:
        @strawberry.subscription
        async def n(self) -> AsyncIterator[int]:
            yield 1

    tiny = strawberry.Schema(query=Query, subscription=Subscription, execution_context_class=Spy)
    assert (await tiny.execute("{ ok }", root_value=Query())).data == {"ok": 1}
    stream: Any = await tiny.subscribe("subscription { n }")
    assert (await asyncio.wait_for(anext(stream), 5)).data == {"n": 1}
    await stream.aclose()
    # One executor per query; for a subscription, its own and one per event.
    assert built == ["query", "subscription", "subscription"]


def test_the_schema_has_no_input_that_needs_strawberrys_own_validation_rules() -> None:
    """The gate validates with graphql-core's rules; strawberry adds two for @oneOf and Maybe."""
    core = graphql_schema(build_schema())
    inputs = [t for t in core.type_map.values() if isinstance(t, GraphQLInputObjectType)]
    assert inputs
    assert not [t.name for t in inputs if t.is_one_of]
    source = "".join(
        repr(f.type) for t in inputs for f in get_object_definition(_origin(t), strict=True).fields
    )
    assert "Maybe" not in source


def _origin(input_type: GraphQLInputObjectType) -> type:
    return {"OrderInput": OrderInput, "OrderGroupInput": OrderGroupInput}[input_type.name]


async def test_strawberry_builds_order_inputs_through_their_from_input_hook() -> None:
    definition = get_object_definition(OrderInput, strict=True)
    hook = definition.from_input
    assert hook is not None
    calls: list[object] = []

    def counting(cls: type, value: Any, context: Any) -> Any:
        calls.append(value)
        return hook(cls, value, context)

    definition.from_input = counting
    try:
        result = await build_schema().execute(
            'mutation { placeOrder(input: {type: MARKET, tokenIn: "SOL", tokenOut: "USDC", '
            'amountIn: "1"}) { __typename } }'
        )
    finally:
        definition.from_input = hook
    assert len(calls) == 1  # strawberry called the hook (the resolver then needs a user)
    assert result.errors


async def test_strawberrys_refusals_are_shown_and_not_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Over a websocket, strawberry answers an unknown operation name with its own error."""
    built = build_schema()
    with caplog.at_level(logging.ERROR):
        stream: Any = await built.stream("query A { tokens { symbol } }", operation_name="B")
        unknown = await anext(stream)
        await stream.aclose()
    assert [e.message for e in unknown.errors] == ['Unknown operation named "B".']
    assert not caplog.records

"""Planned subscription events answer exactly what graphql-core's executor answers."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar, cast

import pytest
import strawberry
from graphql import is_leaf_type, is_non_null_type
from strawberry.types import get_object_definition

from eterna.adapters.auth import Principal
from eterna.domain.failures import FailureKind
from eterna.domain.orders import OrderEvent, OrderStatus
from eterna.domain.routes import Quote
from schema import build_schema, graphql_schema
from schema import events as events_module
from schema import types as graphql_types
from schema.context import Context
from schema.events import EventPlan, PlainType, PlannedExecutor
from schema.subscription import EVENT_DATA

pytestmark = pytest.mark.anyio

AT = datetime(2030, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
ORDER = uuid.UUID("6f1b2c3d-0000-4000-8000-000000000001")
QUOTE = Quote("raydium", "pool1", Decimal("1.5"), Decimal("224.1"), Decimal("0.00375"), 12)

EVENTS = [
    OrderEvent(ORDER, "alice", 1, OrderStatus.PENDING, AT, 0, "accepted"),
    OrderEvent(ORDER, "alice", 2, OrderStatus.ROUTING, AT, 1, "routed", quotes=(QUOTE,)),
    OrderEvent(ORDER, "alice", 3, OrderStatus.SUBMITTED, AT, 1, "sent", tx_signature="5xYz"),
    OrderEvent(
        ORDER,
        "alice",
        4,
        OrderStatus.CONFIRMED,
        AT,
        1,
        "confirmed",
        tx_signature="5xYz",
        amount_out=Decimal("224.100000"),
        executed_price=Decimal("149.552984720981556149"),
    ),
    OrderEvent(
        ORDER,
        "alice",
        5,
        OrderStatus.FAILED,
        AT,
        3,
        "failed: x",
        error="NoRoute: x",
        failure=FailureKind.NO_ROUTE,
    ),
    # Values the executor refuses: the plan must leave them to it, errors and all.
    OrderEvent(ORDER, "alice", 2**40, OrderStatus.ROUTING, AT, 1, "seq out of Int range"),
    OrderEvent(ORDER, "alice", 7, OrderStatus.ROUTING, AT, 1, cast("Any", None)),
    OrderEvent(ORDER, "alice", 8, cast("Any", "NOT_A_STATUS"), AT, 1, "unknown status"),
]

PLAIN = [
    "subscription { myOrderEvents { orderId seq status at } }",
    "subscription { myOrderEvents { __typename a: seq b: status message } }",
    "subscription S { x: myOrderEvents { orderId seq status at attempt message txSignature "
    "amountOut executedPrice error failure } }",
]
NOT_PLAIN = [
    "subscription { myOrderEvents { seq quotes { venue amountOut } } }",
    "subscription { myOrderEvents { ...F } } fragment F on OrderEvent { seq status }",
    "subscription { myOrderEvents { seq ... on OrderEvent { status } } }",
    "subscription { myOrderEvents { seq status @include(if: false) } }",
    "subscription { myOrderEvents { seq seq status } }",
]


class _Service:
    def __init__(self, events: list[OrderEvent]) -> None:
        self._events = events

    async def my_order_events(self, user_id: str) -> AsyncIterator[OrderEvent]:
        for event in self._events:
            await asyncio.sleep(0)
            yield event


def _context() -> Context:
    principal = Principal("alice", datetime.now(UTC) + timedelta(hours=1))
    return Context(
        request=cast("Any", None),
        response=None,
        service=cast("Any", _Service(EVENTS)),
        principal=principal,
    )


async def _results(query: str) -> list[tuple[Any, Any]]:
    stream: Any = await build_schema().subscribe(query, context_value=_context())
    try:
        results = [await asyncio.wait_for(anext(stream), 5) for _ in EVENTS]
    finally:
        await stream.aclose()
    return [
        (r.data, [(e.message, e.path) for e in r.errors] if r.errors else None) for r in results
    ]


@pytest.fixture
def completed(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Record, for each event a plan saw, whether the plan completed it."""
    seen: list[bool] = []
    complete = EventPlan.complete

    def spy(self: EventPlan, payload: Any) -> dict[str, Any] | None:
        data = complete(self, payload)
        seen.append(data is not None)
        return data

    monkeypatch.setattr(EventPlan, "complete", spy)
    return seen


async def _generic(query: str, monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, Any]]:
    with monkeypatch.context() as patch:
        patch.setattr(events_module, "event_plan", lambda _executor, _plain: None)
        return await _results(query)


@pytest.mark.parametrize("query", PLAIN)
async def test_a_plain_selection_is_planned_and_answers_as_the_executor(
    query: str, completed: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    planned = await _results(query)
    # The values the executor refuses went its way: a null message only where it is selected.
    null_message = "message" in query
    assert completed == [True] * 5 + [False, not null_message, False]
    completed.clear()
    generic = await _generic(query, monkeypatch)
    assert completed == []
    assert planned == generic
    assert all(errors is None for _, errors in planned[:5])
    assert [errors is not None for _, errors in planned[5:]] == [True, null_message, True]


@pytest.mark.parametrize("query", NOT_PLAIN)
async def test_anything_else_takes_the_executor(
    query: str, completed: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    planned = await _results(query)
    assert completed == []
    assert planned == await _generic(query, monkeypatch)


async def test_the_planned_values_are_the_wire_values() -> None:
    (data, errors), *_ = await _results(PLAIN[2])
    assert errors is None
    assert data == {
        "x": {
            "orderId": str(ORDER),
            "seq": 1,
            "status": "PENDING",
            "at": AT.isoformat(),
            "attempt": 0,
            "message": "accepted",
            "txSignature": None,
            "amountOut": None,
            "executedPrice": None,
            "error": None,
            "failure": None,
        }
    }


class _Deny(strawberry.BasePermission):
    message = "not yours"

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return False


@strawberry.type
class _Ev:
    seq: int
    msg: str
    secret: str = strawberry.field(permission_classes=[_Deny])


class _LeakError(Exception):
    """An exception of the application's own (graphql-core's String turns those into text)."""


@strawberry.type
class _Query:
    ok: bool = True


class _OddExecutor(PlannedExecutor):
    plain_types: ClassVar[Mapping[str, PlainType]] = {
        "Ev": PlainType(_Ev, {"seq": "seq", "msg": "msg"})
    }


def _odd_schema(events: list[_Ev]) -> strawberry.Schema:
    @strawberry.type
    class _Subscription:
        @strawberry.subscription
        async def ev(self) -> AsyncIterator[_Ev]:
            for event in events:
                yield event

    return strawberry.Schema(
        query=_Query, subscription=_Subscription, execution_context_class=_OddExecutor
    )


async def _odd_results(query: str, events: list[_Ev]) -> list[tuple[Any, Any]]:
    stream: Any = await _odd_schema(events).subscribe(query)
    try:
        results = [await asyncio.wait_for(anext(stream), 5) for _ in events]
    finally:
        await stream.aclose()
    return [(r.data, [e.message for e in r.errors] if r.errors else None) for r in results]


async def test_a_field_not_declared_plain_keeps_the_executor_and_its_permission_class(
    completed: list[bool],
) -> None:
    events = [_Ev(seq=1, msg="hi", secret="s")]
    planned = await _odd_results("subscription { ev { seq secret } }", events)
    assert completed == []
    assert planned == [(None, ["not yours"])]
    assert await _odd_results("subscription { ev { seq msg } }", events) == [
        ({"ev": {"seq": 1, "msg": "hi"}}, None)
    ]
    assert completed == [True]


async def test_a_returned_exception_is_the_fields_error_not_its_text(
    completed: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    events = [
        _Ev(seq=1, msg="hi", secret="s"),
        _Ev(seq=2, msg=cast("Any", _LeakError("secret internal detail")), secret="s"),
    ]
    query = "subscription { ev { seq msg } }"
    planned = await _odd_results(query, events)
    assert completed == [True, False]
    with monkeypatch.context() as patch:
        patch.setattr(events_module, "event_plan", lambda _executor, _plain: None)
        assert planned == await _odd_results(query, events)
    assert planned[0] == ({"ev": {"seq": 1, "msg": "hi"}}, None)
    data, errors = planned[1]
    assert errors == ["secret internal detail"]
    assert "secret internal detail" not in str(data)


def test_the_plain_fields_declared_are_the_leaves_strawberry_reads_as_attributes() -> None:
    """EVENT_DATA may only name fields a plan can read without running anything of strawberry.

    Each must be a leaf of OrderEvent backed by the attribute named, with no resolver,
    permission class or field extension (strawberry's field API beyond ``python_name`` is
    not promised stable: a change there fails here, loudly, rather than in production).
    """
    core = graphql_schema(build_schema()).type_map["OrderEvent"]
    definition = get_object_definition(graphql_types.OrderEvent, strict=True)
    fields = {f.python_name: f for f in definition.fields}
    leaves = set()
    for name, field in core.fields.items():  # type: ignore[attr-defined]
        plain_type = field.type.of_type if is_non_null_type(field.type) else field.type
        if is_leaf_type(plain_type):
            leaves.add(name)
    assert set(EVENT_DATA) == leaves
    for attribute in EVENT_DATA.values():
        field = fields[attribute]
        assert field.base_resolver is None
        assert not field.permission_classes
        assert not field.extensions

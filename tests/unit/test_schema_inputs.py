"""Inputs built by their own ``from_input`` hook are the values strawberry would build."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.types.base import get_object_definition

from schema import build_schema
from schema.inputs import OrderInput, plain_builder
from schema.types import OrderType


@strawberry.input
class Leg:
    """A nested input, converted by strawberry."""

    venue: str
    share_bps: int = 10_000


@strawberry.input
class Plan:
    """An input with nested inputs and plain fields side by side."""

    label: str
    legs: list[Leg]
    first: Leg | None = None
    note: str | None = None


get_object_definition(Plan, strict=True).from_input = plain_builder(Plan)


received: list[object] = []


@strawberry.type
class Query:
    """Keep the inputs as strawberry handed them to the resolver."""

    @strawberry.field
    def order(self, input: OrderInput) -> bool:  # noqa: A002
        received.append(input)
        return True

    @strawberry.field
    def plan(self, input: Plan) -> bool:  # noqa: A002
        received.append(input)
        return True


def _run(document: str, variables: dict[str, Any]) -> object:
    received.clear()
    result = strawberry.Schema(query=Query).execute_sync(document, variable_values=variables)
    assert result.errors is None, result.errors
    (value,) = received
    return value


def test_order_input_with_every_field_set_arrives_as_sent() -> None:
    value = _run(
        "query($i: OrderInput!) { order(input: $i) }",
        {
            "i": {
                "type": "LIMIT",
                "tokenIn": "SOL",
                "tokenOut": "USDC",
                "amountIn": "1.25",
                "slippageBps": 75,
                "limitPrice": "150.5",
                "minLiquidity": "10",
                "maxPriceImpactBps": 300,
                "expiresAt": "2030-01-02T03:04:05+00:00",
                "clientOrderId": "k-1",
            }
        },
    )
    expected = OrderInput(
        type=OrderType.LIMIT,
        token_in="SOL",
        token_out="USDC",
        amount_in=Decimal("1.25"),
        slippage_bps=75,
        limit_price=Decimal("150.5"),
        min_liquidity=Decimal("10"),
        max_price_impact_bps=300,
        expires_at=datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC),
        client_order_id="k-1",
    )
    assert value == expected


def test_order_input_omitted_and_null_fields_take_their_defaults() -> None:
    value = _run(
        'query { order(input: {type: MARKET, tokenIn: "SOL", tokenOut: "USDC", amountIn: "2",'
        " limitPrice: null}) }",
        {},
    )
    expected = OrderInput(
        type=OrderType.MARKET, token_in="SOL", token_out="USDC", amount_in=Decimal("2")
    )
    assert value == expected


def test_nested_inputs_are_still_converted_by_strawberry() -> None:
    value = _run(
        'query { plan(input: {label: "x", legs: [{venue: "a"}, {venue: "b", shareBps: 5}],'
        ' first: {venue: "c"}}) }',
        {},
    )
    expected = Plan(
        label="x", legs=[Leg(venue="a"), Leg(venue="b", share_bps=5)], first=Leg(venue="c")
    )
    assert value == expected


def test_the_project_schema_places_through_the_hook() -> None:
    assert get_object_definition(OrderInput, strict=True).from_input is not None
    assert "input OrderInput" in str(build_schema())

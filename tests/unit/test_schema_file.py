from pathlib import Path
from typing import Any

from graphql import Node, parse, print_ast

from schema import schema

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_exported_schema_is_current() -> None:
    exported = SCHEMA_FILE.read_text()
    assert exported == schema.as_str() + "\n", (
        "schema.graphql is stale: run `eterna schema > schema.graphql` and commit it"
    )


def _without_descriptions(sdl: str) -> str:
    """Print the schema again with every description dropped, so signatures fit on a line."""
    return print_ast(_stripped(parse(sdl)))


def _stripped(node: Node) -> Node:
    """Return a copy of a node and of every node under it without descriptions."""
    fields: dict[str, Any] = {}
    for key in node.keys:
        value = getattr(node, key, None)
        if key == "description":
            value = None
        elif isinstance(value, Node):
            value = _stripped(value)
        elif isinstance(value, tuple | list):
            value = tuple(_stripped(v) if isinstance(v, Node) else v for v in value)
        fields[key] = value
    return type(node)(**fields)


def test_schema_keeps_the_design_names() -> None:
    sdl = _without_descriptions(schema.as_str())
    for name in (
        "placeOrder(input: OrderInput!): PlaceOrderResult!",
        "placeOrders(inputs: [OrderInput!]!): [PlaceOrderResult!]!",
        "cancelOrder(id: ID!): CancelOrderResult!",
        "orderEvents(orderId: ID!, afterSeq: Int = 0): OrderEvent!",
        "myOrderEvents: OrderEvent!",
        "union PlaceOrderResult = OrderPlaced | OrderRejected",
        "union QuoteResult = RouteQuote | QuoteRejected",
        "scalar Decimal",
    ):
        assert name in sdl, name

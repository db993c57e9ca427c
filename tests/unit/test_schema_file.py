from pathlib import Path

from schema import schema

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_exported_schema_is_current() -> None:
    exported = SCHEMA_FILE.read_text()
    assert exported == schema.as_str() + "\n", (
        "schema.graphql is stale: run `eterna schema > schema.graphql` and commit it"
    )


def test_schema_keeps_the_design_names() -> None:
    sdl = schema.as_str()
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

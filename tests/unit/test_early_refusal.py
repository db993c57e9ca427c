"""Which requests a caller over the mutation rate limit has refused before they run."""

from __future__ import annotations

import orjson
import pytest

from schema import build_schema
from schema.document_cost import DocumentLimits
from schema.document_gate import DocumentGate
from schema.view import only_rate_limited_mutations

PLACE = "mutation P($i: OrderInput!) { placeOrder(input: $i) { __typename } }"
BOTH = (
    "mutation B($i: OrderInput!, $id: ID!) { a: placeOrder(input: $i) { __typename } "
    "cancelOrder(id: $id) { __typename } }"
)
READ = "query R { tokens { symbol } }"
MIXED = (
    "mutation M($i: OrderInput!) { placeOrder(input: $i) { __typename } "
    "... on Mutation { __typename } }"
)
SKIPPED = "mutation S($i: OrderInput!) { placeOrder(input: $i) @skip(if: true) { __typename } }"
TWO = PLACE + " " + READ


@pytest.fixture
def gate() -> DocumentGate:
    schema = build_schema(limits=DocumentLimits())
    assert schema.document_gate is not None
    for text in (PLACE, BOTH, READ, MIXED, SKIPPED, TWO):
        schema.document_gate.parse(text)
    return schema.document_gate


def body(query: str, **extra: object) -> bytes:
    return orjson.dumps({"query": query, "variables": {}} | extra)


@pytest.mark.parametrize(
    ("request_body", "refused"),
    [
        (body(PLACE), True),
        (body(BOTH), True),  # aliases of rate-limited mutations
        (body(TWO, operationName="P"), True),
        (body(TWO, operationName="R"), False),
        (body(TWO), False),  # two operations and no name: left to the normal path
        (body(READ), False),
        (body(MIXED), False),  # a fragment at the root
        (body(SKIPPED), False),  # a directive may drop the field
        (body("mutation Unseen { cancelOrder(id: 1) { __typename } }"), False),  # not parsed
        (orjson.dumps([{"query": PLACE}]), False),  # a batch
        (b"not json", False),
        (orjson.dumps({"query": 5}), False),
    ],
)
def test_only_known_documents_of_rate_limited_mutations_are_refused_early(
    gate: DocumentGate, request_body: bytes, refused: bool
) -> None:
    assert only_rate_limited_mutations(gate, request_body) is refused


def test_without_a_gate_nothing_is_refused_early() -> None:
    assert not only_rate_limited_mutations(None, body(PLACE))

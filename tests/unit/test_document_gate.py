"""The document gate: caches, graphql-core's parse limits, codes, and refusals on every path."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from graphql import DocumentNode, GraphQLSchema, GraphQLSyntaxError, specified_rules

from schema import build_schema, schema
from schema.document_cache import DocumentCache, Known, Rules
from schema.document_cost import DocumentLimits
from schema.document_gate import OFF_LOOP_CHARACTERS, OFF_LOOP_TOKENS, DocumentGate

pytestmark = pytest.mark.anyio

LIMITS = DocumentLimits(depth=10, aliases=15, selections=1_000, field_repeats=10)


def gate(max_tokens: int = 100, **options: Any) -> DocumentGate:
    return DocumentGate(LIMITS, max_tokens=max_tokens, **options)


def test_a_repeated_text_is_parsed_and_checked_once() -> None:
    gate_ = gate()
    first = gate_.parse("{ tokens { symbol } }")
    assert gate_.parse("{ tokens { symbol } }") is first
    errors = gate_.verdict(first, schema._schema, specified_rules)
    assert gate_.verdict(first, schema._schema, specified_rules) is errors  # not checked again
    assert errors == []


def test_new_whitespace_is_a_new_document_with_the_same_verdict() -> None:
    gate_ = gate()
    query = "{" + " tokens { symbol }" * 11 + " }"
    first, spaced = gate_.parse(query), gate_.parse(query + "  ")
    assert first.document is not None
    assert spaced.document is not None
    assert first.document is not spaced.document
    verdicts = [gate_.verdict(k, schema._schema, specified_rules) for k in (first, spaced)]
    assert [[e.message for e in v] for v in verdicts] == [
        ["Query too complex: tokens selected 11 times; at most 10 allowed."]
    ] * 2


def test_graphql_core_limits_are_refusals_and_remembered() -> None:
    gate_ = gate(max_tokens=1_000)
    long = "{" + " __typename" * 1_001 + " }"
    deep = "{ orders(first: " + "[" * 201 + "1" + "]" * 201 + ") { __typename } }"
    for query, limit in ((long, "tokens"), (deep, "nesting")):
        known = gate_.parse(query)
        assert known.document is None
        assert known.refusal is not None
        assert known.refusal.extensions == {"code": "QUERY_TOO_COMPLEX", "limit": limit}
        assert gate_.parse(query) is known
        assert gate_.verdict(known, schema._schema, specified_rules) == [known.refusal]


def test_the_cache_is_bounded_by_entries_and_by_tokens() -> None:
    by_count = gate(cache=DocumentCache(entries=2, tokens=1_000))
    texts = [f"{{ a{i}: tokens {{ symbol }} }}" for i in range(3)]
    known = [by_count.parse(t) for t in texts]
    assert by_count.cache.held == (2, 16)  # 8 tokens each
    assert by_count.parse(texts[0]) is not known[0]  # forgotten: parsed again
    by_size = gate(cache=DocumentCache(entries=100, tokens=20))
    for text in texts:
        by_size.parse(text)
    assert by_size.cache.held == (2, 16)
    big = "{" + " __typename" * 30 + " }"
    by_size.parse(big)
    assert by_size.cache.held == (2, 16)  # over the whole budget: never held


def test_the_served_cache_holds_256_texts_and_10_000_tokens() -> None:
    served = gate(max_tokens=5_000)
    for i in range(300):
        served.parse(f"{{ a{i}: tokens {{ symbol }} }}")
    assert served.cache.held == (256, 256 * 8)
    long = "{" + " __typename" * 3_000 + " }"  # 3,002 tokens each
    for i in range(4):
        served.parse(long + " " * i)
    assert served.cache.held == (3, 3 * 3_002)  # the short texts went first


def test_a_syntax_error_is_no_refusal_and_is_left_to_strawberry() -> None:
    with pytest.raises(GraphQLSyntaxError):
        gate().parse("{ tokens { symbol }")


def test_variables_are_counted_value_by_value() -> None:
    gate_ = gate(max_variable_values=11)
    orders = [{"type": "MARKET", "amountIn": "1"}] * 3  # 1 + 1 + 3 x (1 + 2) = 11 values
    assert gate_.check_variables({"inputs": orders}) is None
    refusal = gate_.check_variables({"inputs": [*orders, {}]})
    assert refusal is not None
    assert refusal.extensions == {"code": "QUERY_TOO_COMPLEX", "limit": "variable_values"}
    assert gate_.check_variables(None) is None


# -- through strawberry ----------------------------------------------------------------------

SERVED = build_schema(limits=LIMITS, max_tokens=100, max_variable_values=50)


async def errors_of(query: str, **options: Any) -> list[dict[str, Any]]:
    result = await SERVED.execute(query, **options)
    assert result.data is None
    assert result.errors
    return [dict(e.formatted) for e in result.errors]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("{ tokens { symbol }", "GRAPHQL_PARSE_FAILED"),
        ("{ tokens { price } }", "GRAPHQL_VALIDATION_FAILED"),
        ("{" + " tokens { symbol }" * 11 + " }", "QUERY_TOO_COMPLEX"),
        ("{" + " __typename" * 101 + " }", "QUERY_TOO_COMPLEX"),
    ],
)
async def test_errors_about_the_document_carry_a_code(query: str, code: str) -> None:
    for _ in range(2):  # the cached answer too
        errors = await errors_of(query)
        assert {e["extensions"]["code"] for e in errors} == {code}, errors


async def test_costly_variables_are_refused_before_they_are_coerced() -> None:
    query = "mutation($inputs: [OrderInput!]!) { placeOrders(inputs: $inputs) { __typename } }"
    inputs = [{"type": "MARKET", "tokenIn": "SOL", "tokenOut": "USDC", "amountIn": "1"}] * 10
    (error,) = await errors_of(query, variable_values={"inputs": inputs})
    assert error["extensions"] == {"code": "QUERY_TOO_COMPLEX", "limit": "variable_values"}


@pytest.mark.parametrize("operation_name", [None, "Named"])
async def test_a_subscription_over_the_token_limit_is_refused_with_its_code(
    operation_name: str | None,
) -> None:
    query = "subscription Named { myOrderEvents {" + " seq" * 100 + " } }"
    stream: Any = await SERVED.subscribe(query, operation_name=operation_name)
    results = [result async for result in stream]
    (result,) = results
    (error,) = result.errors
    assert error.extensions == {"code": "QUERY_TOO_COMPLEX", "limit": "tokens"}


def test_variable_rules_run_whenever_the_document_has_a_variable() -> None:
    gate_ = gate()
    for query, message in (
        ("{ orders(first: $n) { pageInfo { hasNextPage } } }", "Variable '$n' is not defined."),
        ("query Q($n: Int) { tokens { symbol } }", "Variable '$n' is never used in operation 'Q'."),
        (
            "query Q($n: String) { orders(first: $n) { pageInfo { hasNextPage } } }",
            "Variable '$n' of type 'String' used in position expecting type 'Int'.",
        ),
    ):
        errors = gate_.verdict(gate_.parse(query), schema._schema, specified_rules)
        assert [e.message for e in errors] == [message]


class ThreadNotingGate(DocumentGate):
    """A gate that notes which thread parsed and checked each document."""

    def __init__(self) -> None:
        super().__init__(LIMITS, max_tokens=3_500)
        self.threads: list[int] = []

    def parse_new(self, query: str) -> Known:
        self.threads.append(threading.get_ident())
        return super().parse_new(query)

    def check(self, schema: GraphQLSchema, document: DocumentNode, rules: Rules) -> list[Any]:
        self.threads.append(threading.get_ident())
        return super().check(schema, document, rules)


async def test_long_documents_are_parsed_and_checked_off_the_event_loop() -> None:
    loop_thread = threading.get_ident()
    short = "{ tokens { symbol } }"
    long = "{ " + " ".join(f"a{i}: tokens {{ symbol mint decimals }}" for i in range(15)) + " }"
    long += " " * (OFF_LOOP_CHARACTERS - len(long))
    assert tokens_of(long) < OFF_LOOP_TOKENS < tokens_of(long) * 10
    big = (
        "mutation { placeOrders(inputs: ["
        + ", ".join(
            '{type: MARKET, tokenIn: "SOL", tokenOut: "USDC", amountIn: "1"}' for _ in range(70)
        )
        + "]) { __typename } }"
    )
    expected = {
        short: [loop_thread, loop_thread],  # short text, few tokens: both on the loop
        long: ["other", loop_thread],  # long text, few tokens
        big: ["other", "other"],  # long text, many tokens
    }
    for query, where in expected.items():
        noting = ThreadNotingGate()
        known = await noting.parse_off_loop(query)
        await noting.verdict_off_loop(known, schema._schema, specified_rules)
        assert [t if t == loop_thread else "other" for t in noting.threads] == where, query
        assert noting.parse(query) is known  # remembered like any other


def tokens_of(query: str) -> int:
    known = gate(max_tokens=3_500).parse(query)
    return known.weight

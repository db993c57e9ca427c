"""The cost measure of GraphQL documents: linear work, every limit, legitimate documents pass."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

import pytest
from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    Node,
    OperationDefinitionNode,
    OperationType,
    get_introspection_query,
    parse,
    print_ast,
    specified_rules,
)
from graphql.language import ast

from eterna.entrypoints.app import document_limits
from eterna.entrypoints.config import Settings
from schema import schema
from schema.document_cost import DocumentLimits, measure
from schema.document_gate import DocumentGate
from schema.playground import EXAMPLE

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.graphql"))
SERVED = document_limits(Settings())
MAX_TOKENS = Settings().max_tokens


def fan_out(n: int) -> str:
    fragments = "".join(f"fragment F{i} on Token {{ ...F{i + 1} ...F{i + 1} }}\n" for i in range(n))
    return f"query {{ tokens {{ ...F0 }} }}\n{fragments}fragment F{n} on Token {{ symbol }}"


def refused(query: str, limits: DocumentLimits = SERVED) -> list[str]:
    return [r.limit for r in measure(parse(query), limits).refusals]


# -- linear work -----------------------------------------------------------------------------


def test_fan_out_is_measured_with_work_linear_in_its_fragments() -> None:
    # No limit on fragments here, so that every fragment is walked.
    limits = DocumentLimits(selections=1_000, field_repeats=10)
    found = {n: measure(parse(fan_out(n)), limits) for n in (25, 50, 100, 200, 400)}
    visited = {n: m.visited for n, m in found.items()}
    for n in (25, 50, 100, 200):
        assert 1.9 * visited[n] <= visited[2 * n] <= 2.1 * visited[n], visited  # linear
    assert all(n <= v <= 6 * n for n, v in visited.items()), visited  # not 2^n
    assert all([r.limit for r in m.refusals] == ["selections"] for m in found.values())


def test_the_fan_out_of_the_report_is_refused_after_a_few_hundred_visits() -> None:
    found = measure(parse(fan_out(25)), SERVED)
    assert [r.limit for r in found.refusals] == ["selections"]
    assert "100,663,296 selections once fragments are expanded" in found.refusals[0].message
    assert found.visited < 200


def test_repeats_are_counted_on_the_expanded_document_only_within_the_size_limit() -> None:
    # 2^8 = 256 repeats of tokens.symbol in 768 selections: the expansion is walked.
    within = measure(parse(fan_out(8)), SERVED)
    assert [r.limit for r in within.refusals] == ["field_repeats"]
    assert "tokens.symbol selected 256 times" in within.refusals[0].message
    assert within.visited < 2_000


def test_a_long_chain_of_fragments_is_measured_without_recursion() -> None:
    chain = "".join(f"fragment C{i} on Token {{ ...C{i + 1} }}\n" for i in range(3_000))
    query = "{ tokens { ...C0 } }\n" + chain + "fragment C3000 on Token { symbol }"
    assert refused(query, DocumentLimits()) == []


# -- each limit ------------------------------------------------------------------------------


def aliases(n: int) -> str:
    return "{ " + " ".join(f"a{i}: tokens {{ symbol }}" for i in range(n)) + " }"


def deep(n: int) -> str:
    return "{ " + "a { " * n + "b" + " }" * n + " }"


def directives(n: int) -> str:
    return "{ tokens " + "@include(if: true) " * n + "{ symbol } }"


def variables(n: int) -> str:
    declared = " ".join(f"$v{i}: Int" for i in range(n))
    return f"query Q({declared}) {{ tokens {{ symbol }} }}" if n else "{ tokens { symbol } }"


def operations(n: int) -> str:
    return " ".join(f"query Q{i} {{ tokens {{ symbol }} }}" for i in range(n))


def fragments(n: int) -> str:
    spreads = " ".join(f"...G{i}" for i in range(n))
    return f"{{ tokens {{ mint {spreads} }} }} " + " ".join(
        f"fragment G{i} on Token {{ a{i}: symbol }}" for i in range(n)
    )


def repeats(n: int) -> str:
    return "{" + " tokens { symbol }" * n + " }"


def selections(fields: int) -> str:
    """Return 3 + 2 x fields selections: tokens, two spreads, the fragment's fields twice."""
    inner = " ".join(f"f{i}: symbol" for i in range(fields))
    return f"{{ tokens {{ ...S ...S }} }} fragment S on Token {{ {inner} }}"


LIMITS: dict[str, tuple[Any, int]] = {
    "aliases": (aliases, 4),
    "depth": (deep, 5),
    "directives": (directives, 3),
    "variables": (variables, 3),
    "operations": (operations, 3),
    "fragments": (fragments, 3),
    "field_repeats": (repeats, 3),
}


@pytest.mark.parametrize("limit", sorted(LIMITS))
def test_each_limit_admits_its_value_and_refuses_one_more(limit: str) -> None:
    build, value = LIMITS[limit]
    # Repeats are counted on the expanded document, which needs its size bounded first.
    limits = DocumentLimits(**{limit: value, "selections": 1_000})
    assert refused(build(value), limits) == []
    assert refused(build(value + 1), limits) == [limit]


def test_selections_count_fragments_at_each_spread() -> None:
    limits = DocumentLimits(selections=101)
    assert refused(selections(49), limits) == []
    assert refused(selections(50), limits) == ["selections"]


def test_variable_references_count_as_selections_per_operation() -> None:
    usages = " ".join("$a" for _ in range(30))
    fragment = f"fragment V on Mutation {{ placeOrders(inputs: [{usages}]) {{ __typename }} }}"
    one = f"mutation Q0($a: OrderInput!) {{ ...V }} {fragment}"
    many = " ".join(f"mutation Q{i}($a: OrderInput!) {{ ...V }}" for i in range(4)) + fragment
    limits = DocumentLimits(selections=100)
    assert refused(one, limits) == []
    assert refused(many, limits) == ["selections"]  # 4 x (30 references + 4 selections)


def test_aliases_count_at_each_spread() -> None:
    query = "{ tokens { ...A ...A ...A } } fragment A on Token { s: symbol }"
    assert refused(query, DocumentLimits(aliases=3)) == []
    assert refused(query, DocumentLimits(aliases=2)) == ["aliases"]


def test_depth_adds_up_through_fragments_and_leaves_out_introspection() -> None:
    through = (
        "{ orders { edges { ...E } } } fragment E on OrderEdge { node { route { amountIn } } }"
    )
    assert refused(through, DocumentLimits(depth=4)) == []
    assert refused(through, DocumentLimits(depth=3)) == ["depth"]
    introspection = "{ __schema { types { fields { type { ofType { ofType { name } } } } } } }"
    assert refused(introspection, DocumentLimits(depth=1)) == []


def test_schema_introspection_is_counted_per_operation() -> None:
    once = "{ __schema { queryType { name } } }"
    twice = "{ a: __schema { queryType { name } } b: __schema { queryType { name } } }"
    assert refused(once, DocumentLimits(schema_fields=1)) == []
    assert refused(twice, DocumentLimits(schema_fields=1)) == ["schema_fields"]


@pytest.mark.parametrize(
    "query",
    [
        "{ tokens { ...A } } fragment A on Token { ...A }",
        "{ tokens { ...A } } fragment A on Token { ...B } fragment B on Token { ... { ...A } }",
    ],
)
def test_a_fragment_that_spreads_itself_is_refused(query: str) -> None:
    assert refused(query, DocumentLimits()) == ["fragment_cycle"]


def test_unused_and_shadowed_fragments_are_measured_too() -> None:
    body = " tokens { symbol }" * 5
    unused = f"{{ venues {{ name }} }} fragment U on Query {{{body} }}"
    shadowed = (
        f"{{ ...D }} fragment D on Query {{{body} }} fragment D on Query {{ venues {{ name }} }}"
    )
    for query in (unused, shadowed):
        assert refused(query, DocumentLimits(selections=100, field_repeats=4)) == ["field_repeats"]


def test_unknown_fragments_and_empty_selections_are_left_to_validation() -> None:
    assert refused("{ tokens { ...Missing } }") == []
    assert refused("{ tokens { } }") == []


# -- legitimate documents --------------------------------------------------------------------


def operation_documents(document: DocumentNode) -> dict[str, DocumentNode]:
    """Split a document into one per operation, with the fragments it spreads."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }

    def spread(node: Node, found: dict[str, FragmentDefinitionNode]) -> None:
        for value in vars(node).values():
            children = value if isinstance(value, tuple | list) else (value,)
            for child in children:
                if isinstance(child, FragmentSpreadNode) and child.name.value not in found:
                    found[child.name.value] = fragments[child.name.value]
                    spread(fragments[child.name.value], found)
                elif isinstance(child, Node):
                    spread(child, found)

    split: dict[str, DocumentNode] = {}
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and definition.name:
            used: dict[str, FragmentDefinitionNode] = {}
            spread(definition, used)
            split[definition.name.value] = DocumentNode(definitions=(definition, *used.values()))
    return split


def from_json(value: Any) -> Any:
    """Build graphql-core nodes from a document's JSON form (as typed-document-node writes it)."""
    if isinstance(value, list):
        return tuple(from_json(v) for v in value)
    if not isinstance(value, dict):
        return value
    node_class = getattr(ast, value["kind"] + "Node")
    fields = {
        re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower(): from_json(item)
        for key, item in value.items()
        if key not in {"kind", "loc"}
    }
    if node_class is OperationDefinitionNode:
        fields["operation"] = OperationType(fields["operation"])
    return node_class(**fields)


def python_client_documents() -> list[str]:
    client = (ROOT / "examples/python-client/eterna_client/client.py").read_text()
    return re.findall(r'gql\(\s*"""(.*?)"""', client, re.S)


def typescript_client_documents() -> list[DocumentNode]:
    generated = (ROOT / "examples/ts-client/src/generated/graphql.ts").read_text()
    found = re.findall(r"^export const \w+Document = (\{.*\}) as unknown as", generated, re.M)
    return [from_json(json.loads(text)) for text in found]


def order_page_documents() -> list[str]:
    script = (ROOT / "eterna/adapters/web/static/api.js").read_text()
    constants = dict(re.findall(r'^const (\w+) = "([^"]*)";', script, re.M))
    templates = re.findall(r"^export const (\w+) = `(.*?)`;", script, re.M | re.S)
    for name, text in templates:
        constants[name] = re.sub(r"\$\{(\w+)\}", lambda m: constants[m.group(1)], text)
    return [
        constants[name]
        for name, text in templates
        if text.lstrip().startswith(("query", "mutation", "subscription"))
    ]


def full_batch(n: int) -> str:
    order = (
        '{type: SNIPER, tokenIn: "SOL", tokenOut: "So11111111111111111111111111111111111111112", '
        'amountIn: "0.5", slippageBps: 50, limitPrice: "160", minLiquidity: "10", '
        'maxPriceImpactBps: 300, expiresAt: "2030-01-01T00:00:00Z", clientOrderId: "bot-%d"}'
    )
    orders = ", ".join(order % i for i in range(n))
    return f"mutation {{ placeOrders(inputs: [{orders}]) {{ __typename }} }}"


@functools.cache
def legitimate() -> dict[str, DocumentNode]:
    examples = parse("\n".join(p.read_text() for p in EXAMPLES))
    found = {f"examples {name}": doc for name, doc in operation_documents(examples).items()}
    found["examples, all at once"] = examples
    found["GraphiQL's example"] = parse(EXAMPLE)
    found["GraphiQL's introspection query"] = parse(get_introspection_query())
    # Within the token limit: parse() raises beyond it.
    found["a full batch written inline"] = parse(full_batch(100), max_tokens=MAX_TOKENS)
    for i, text in enumerate(order_page_documents()):
        found[f"order page {i}"] = parse(text)
    for i, text in enumerate(python_client_documents()):
        found[f"python client {i}"] = parse(text)
    for i, document in enumerate(typescript_client_documents()):
        found[f"typescript client {i}"] = parse(print_ast(document))
    return found


def test_the_legitimate_documents_are_all_found() -> None:
    names = legitimate()
    assert sum(n.startswith("order page") for n in names) >= 7
    assert sum(n.startswith("python client") for n in names) >= 10
    assert sum(n.startswith("typescript client") for n in names) >= 10


@pytest.mark.parametrize("name", sorted(legitimate()))
def test_legitimate_documents_pass_the_served_limits_and_validate(name: str) -> None:
    document = legitimate()[name]
    gate = DocumentGate(SERVED)
    errors = gate.check(schema._schema, document, specified_rules)
    assert not errors, [e.message for e in errors]

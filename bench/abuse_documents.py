"""Worst-case GraphQL documents within the published limits, and what the API must answer.

Shared by ``bench/abuse.py`` (sends them to a live server and times them) and
``tests/e2e/test_document_limits.py`` (checks each answer). Each generator builds the most
expensive document of its shape that the limits admit (or the first they refuse): fragment
fan-out, repeated fields, aliases, directives, nesting, variables, long lists, operations,
fragments, introspection, tokens. ``expect`` is the ``extensions.code`` of the refusal, or
``ANSWERED`` when the document must pass the gate (its fields may still fail on their own,
e.g. ``orders`` without a token, or a batch over the cap).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLSyntaxError, Lexer, Source, TokenKind, get_introspection_query

from eterna.entrypoints.config import Settings

ANSWERED = "ANSWERED"
TOO_COMPLEX = "QUERY_TOO_COMPLEX"
PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
INVALID = "GRAPHQL_VALIDATION_FAILED"

ORDER_FIELDS = """id clientOrderId type status amountIn slippageBps limitPrice expiresAt
  attempts amountOut executedPrice txSignature failureReason createdAt updatedAt
  tokenIn { mint symbol decimals } tokenOut { mint symbol decimals }
  route { amountIn amountOut minAmountOut priceImpactBps
    legs { venue pool amountIn amountOut fee tokenIn { mint symbol decimals } } }"""
# Every field of OrderInput; an unknown tokenOut makes each order a typed rejection, so a
# batch that passes stores nothing.
LIMIT_ORDER = (
    '{type: LIMIT, tokenIn: "SOL", tokenOut: "NOPE", amountIn: "0.5", slippageBps: 50, '
    'limitPrice: "160", expiresAt: "2030-01-01T00:00:00Z", maxPriceImpactBps: 300, '
    'minLiquidity: "10", clientOrderId: "abuse-%d"}'
)
PLACE_SELECTION = "{ __typename ... on OrderRejected { code field } }"


@dataclass(frozen=True)
class Limits:
    """The limits the documents are made for (the server's settings)."""

    tokens: int
    depth: int
    aliases: int
    selections: int
    field_repeats: int
    fragments: int
    operations: int
    directives: int
    variables: int
    max_batch: int
    body_bytes: int

    @classmethod
    def defaults(cls) -> Limits:
        """Return the defaults of Eterna's settings."""
        fields = Settings.model_fields

        def default(name: str) -> int:
            value = fields[name].default
            if not isinstance(value, int):
                raise TypeError(f"{name} is not a number")
            return value

        return cls(
            tokens=default("max_tokens"),
            depth=default("max_query_depth"),
            aliases=default("max_aliases"),
            selections=default("max_selections"),
            field_repeats=default("max_field_repeats"),
            fragments=default("max_fragments"),
            operations=default("max_operations"),
            directives=default("max_directives"),
            variables=default("max_variables"),
            max_batch=default("max_batch"),
            body_bytes=default("max_body_bytes"),
        )


@dataclass(frozen=True)
class Abuse:
    """One document, how to send it, and what the API must answer."""

    name: str
    query: str
    expect: str  # ANSWERED, or the extensions.code of the refusal
    variables: dict[str, Any] = field(default_factory=dict)
    operation: str | None = None

    def body(self, padding: int = 0) -> dict[str, Any]:
        """Return the request body; ``padding`` spaces make the text new to the caches."""
        body: dict[str, Any] = {"query": self.query + " " * padding, "variables": self.variables}
        if self.operation:
            body["operationName"] = self.operation
        return body

    def size(self) -> int:
        """Return the size of the request body in bytes."""
        return len(json.dumps(self.body()).encode())


def tokens(query: str) -> int | None:
    """Return the document's lexer tokens, comments included (None if it does not lex)."""
    lexer = Lexer(Source(query))
    count = 0
    try:
        token = lexer.advance()
        while True:
            previous = token.prev
            while previous is not None and previous.kind is TokenKind.COMMENT:
                count += 1
                previous = previous.prev
            if token.kind is TokenKind.EOF:
                return count
            count += 1
            token = lexer.advance()
    except GraphQLSyntaxError:
        return None


def largest(build: Callable[[int], str], budget: int, low: int = 1) -> int:
    """Return the largest n whose document ``build(n)`` has at most ``budget`` tokens."""
    high = low
    while (tokens(build(high * 2)) or 0) <= budget:
        high *= 2
    high *= 2
    while high - low > 1:
        middle = (low + high) // 2
        if (tokens(build(middle)) or 0) <= budget:
            low = middle
        else:
            high = middle
    return low


def fan_out(
    n: int, *, leaf: str = "symbol", root: str = "query { tokens", on: str = "Token"
) -> str:
    """Return ``query { tokens { ...F0 } }`` with each fragment spreading the next twice."""
    fragments = "".join(f"fragment F{i} on {on} {{ ...F{i + 1} ...F{i + 1} }}\n" for i in range(n))
    return f"{root} {{ ...F0 }} }}\n{fragments}fragment F{n} on {on} {{ {leaf} }}"


def repeated(field_text: str, n: int) -> str:
    """Return a query selecting the same field n times."""
    return "{" + f" {field_text}" * n + " }"


def nested_fields(depth: int) -> str:
    """Return a selection ``depth`` fields deep (unknown fields: refused before validation)."""
    return "{ " + "a { " * depth + "b" + " }" * depth + " }"


def introspection_fragments() -> str:
    """Return the fragments of GraphiQL's introspection query."""
    query = get_introspection_query()
    return query[query.index("fragment FullType") :]


def _fragment_fan_out(limits: Limits) -> list[Abuse]:
    widest = largest(fan_out, limits.tokens)
    within = max(n for n in range(1, 20) if 2**n <= limits.field_repeats)
    return [
        Abuse("fan-out of 25 fragments", fan_out(25), TOO_COMPLEX),
        Abuse(f"fan-out of {widest} fragments", fan_out(widest), TOO_COMPLEX),
        Abuse(f"fan-out of {within} fragments", fan_out(within), ANSWERED),
        Abuse("fan-out of aliases", fan_out(12, leaf="a: symbol"), TOO_COMPLEX),
        Abuse(
            "fragment cycle",
            "{ tokens { ...A } } fragment A on Token { ...B } fragment B on Token { ...A }",
            TOO_COMPLEX,
        ),
    ]


def _repeated_fields(limits: Limits) -> list[Abuse]:
    tokens_n = largest(lambda n: repeated("tokens { symbol }", n), limits.tokens)
    venues_n = largest(lambda n: repeated("venues { __typename }", n), limits.tokens)
    page = "orders(first: 100) { edges { cursor node { %s } } pageInfo { hasNextPage } }"
    page = page % ORDER_FIELDS
    widest = "{ " + " ".join(f"a{i}: {page}" for i in range(limits.aliases)) + " }"
    # Every field of a page selected as often as allowed: the overlap rule's worst case.
    pages = min(limits.field_repeats, limits.selections // 45)
    return [
        Abuse(
            f"tokens {{ symbol }} x{tokens_n}", repeated("tokens { symbol }", tokens_n), TOO_COMPLEX
        ),
        Abuse(
            f"venues {{ __typename }} x{venues_n}",
            repeated("venues { __typename }", venues_n),
            TOO_COMPLEX,
        ),
        Abuse(
            f"tokens {{ symbol }} x{limits.field_repeats}",
            repeated("tokens { symbol }", limits.field_repeats),
            ANSWERED,
        ),
        Abuse(
            f"tokens {{ symbol }} x{limits.field_repeats + 1}",
            repeated("tokens { symbol }", limits.field_repeats + 1),
            TOO_COMPLEX,
        ),
        Abuse(f"{limits.aliases} aliased order pages", widest, ANSWERED),
        Abuse(f"an order page x{pages}", repeated(page, pages), ANSWERED),
    ]


def _aliases(limits: Limits) -> list[Abuse]:
    def aliased(n: int) -> str:
        return "{ " + " ".join(f"v{i}: venues {{ name kind poolCount }}" for i in range(n)) + " }"

    return [
        Abuse(f"{limits.aliases} aliases", aliased(limits.aliases), ANSWERED),
        Abuse(f"{limits.aliases + 1} aliases", aliased(limits.aliases + 1), TOO_COMPLEX),
    ]


def _directives(limits: Limits) -> list[Abuse]:
    def on_one_field(n: int) -> str:
        return "{ tokens " + "@include(if: true) " * n + "{ symbol } }"

    every = "@include(if: true) @skip(if: false)"
    leaves = " ".join(f"{name} {every}" for name in ("mint", "symbol", "decimals"))
    everywhere = (
        "{ "
        + " ".join(f"t{i}: tokens {every} {{ {leaves} }}" for i in range(limits.aliases))
        + " }"
    )
    return [
        Abuse(
            f"{limits.directives} directives on a field", on_one_field(limits.directives), INVALID
        ),  # @include is not repeatable
        Abuse(
            f"{limits.directives + 1} directives on a field",
            on_one_field(limits.directives + 1),
            TOO_COMPLEX,
        ),
        Abuse("directives on every field", everywhere, ANSWERED),
    ]


def _nesting(limits: Limits) -> list[Abuse]:
    deepest = "{ orders { edges { node { route { legs { tokenIn { mint } } } } } } }"

    def listed(depth: int) -> str:
        return (
            "{ orders(first: "
            + "[" * depth
            + "1"
            + "]" * depth
            + ") { pageInfo { hasNextPage } } }"
        )

    return [
        Abuse("the schema's deepest path", deepest, ANSWERED),
        Abuse(f"fields {limits.depth + 1} deep", nested_fields(limits.depth + 1), TOO_COMPLEX),
        Abuse("selections 201 deep", nested_fields(201), TOO_COMPLEX),
        Abuse("a list value 199 deep", listed(199), INVALID),
        Abuse("a list value 201 deep", listed(201), TOO_COMPLEX),
    ]


def _variables(limits: Limits) -> list[Abuse]:
    def declared(n: int) -> str:
        names = [f"$v{i}" for i in range(n)]
        definitions = " ".join(f"{name}: OrderInput!" for name in names)
        return (
            f"mutation Many({definitions}) {{ placeOrders(inputs: [{' '.join(names)}]) "
            f"{PLACE_SELECTION} }}"
        )

    at_limit = {f"v{i}": _order_json(i) for i in range(limits.variables)}
    # As many orders as the body limit lets through, for a list variable.
    listed = (limits.body_bytes - 1024) // (len(json.dumps(_order_json(99999))) + 2)
    bomb = (
        "mutation Bomb($inputs: [OrderInput!]!) { placeOrders(inputs: $inputs) "
        f"{PLACE_SELECTION} }}"
    )

    def shared(operations: int) -> str:
        usages = " ".join("$a" for _ in range(limits.selections))
        fragment = f"fragment V on Mutation {{ placeOrders(inputs: [{usages}]) {{ __typename }} }}"
        ops = "".join(f"mutation Q{i}($a: OrderInput!) {{ ...V }}\n" for i in range(operations))
        return ops + fragment

    return [
        Abuse(
            f"{limits.variables} variables",
            declared(limits.variables),
            ANSWERED,
            variables=at_limit,
        ),
        Abuse(f"{limits.variables + 1} variables", declared(limits.variables + 1), TOO_COMPLEX),
        Abuse(
            f"a list variable of {limits.max_batch} orders",
            bomb,
            ANSWERED,
            variables={"inputs": [_order_json(i) for i in range(limits.max_batch)]},
        ),
        Abuse(
            f"a list variable of {listed:,} orders",
            bomb,
            TOO_COMPLEX,
            variables={"inputs": [_order_json(i) for i in range(listed)]},
        ),
        Abuse(
            "variables of a fragment shared by operations", shared(4), TOO_COMPLEX, operation="Q0"
        ),
    ]


def _order_json(i: int) -> dict[str, Any]:
    return {
        "type": "LIMIT",
        "tokenIn": "SOL",
        "tokenOut": "NOPE",
        "amountIn": "0.5",
        "slippageBps": 50,
        "limitPrice": "160",
        "expiresAt": "2030-01-01T00:00:00Z",
        "maxPriceImpactBps": 300,
        "minLiquidity": "10",
        "clientOrderId": f"abuse-{i}",
    }


def _long_lists(limits: Limits) -> list[Abuse]:
    def batch(n: int) -> str:
        orders = ", ".join(LIMIT_ORDER % i for i in range(n))
        return f"mutation {{ placeOrders(inputs: [{orders}]) {PLACE_SELECTION} }}"

    longest = largest(batch, limits.tokens)

    def scalars(n: int) -> str:
        return "mutation { placeOrders(inputs: [" + ", ".join("1" * n) + "]) { __typename } }"

    return [
        Abuse(
            f"a batch of {limits.max_batch} orders written inline",
            batch(limits.max_batch),
            ANSWERED,
        ),
        Abuse(f"a batch of {longest} orders written inline", batch(longest), ANSWERED),
        Abuse(
            "a list of numbers for a list of orders",
            scalars(largest(scalars, limits.tokens)),
            INVALID,
        ),
    ]


def _operations(limits: Limits) -> list[Abuse]:
    def many(n: int) -> str:
        return "\n".join(f"query Q{i} {{ tokens {{ symbol }} }}" for i in range(n))

    def fragments(n: int) -> str:
        spreads = " ".join(f"...G{i}" for i in range(n))
        names = ("mint", "symbol", "decimals", "__typename")
        defined = "\n".join(
            f"fragment G{i} on Token {{ {names[i % len(names)]} }}" for i in range(n)
        )
        return f"{{ tokens {{ {spreads} }} }}\n{defined}"

    last = f"Q{limits.operations - 1}"
    # Each field appears in a quarter of the fragments: within the repeat limit up to 4x it.
    within = min(limits.fragments, 4 * limits.field_repeats)
    return [
        Abuse(f"{limits.operations} operations", many(limits.operations), ANSWERED, operation=last),
        Abuse(
            f"{limits.operations + 1} operations",
            many(limits.operations + 1),
            TOO_COMPLEX,
            operation="Q0",
        ),
        Abuse(f"{within} fragments in one selection", fragments(within), ANSWERED),
        Abuse(f"{limits.fragments + 1} fragments", fragments(limits.fragments + 1), TOO_COMPLEX),
    ]


def _introspection(limits: Limits) -> list[Abuse]:
    fragments = introspection_fragments()

    def types(n: int) -> str:
        names = ["Order", "OrderEvent", "Route", "Query", "Mutation"] * n
        spread = " ".join(
            f'a{i}: __type(name: "{name}") {{ ...FullType }}' for i, name in enumerate(names[:n])
        )
        return f"{{ {spread} }}\n{fragments}"

    # FullType expands to about 180 selections.
    within = min(limits.aliases, limits.selections // 200)
    nested = "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }"
    return [
        Abuse("GraphiQL's introspection query", get_introspection_query(), ANSWERED),
        Abuse(
            "__schema twice",
            "{ a: __schema { types { ...FullType } } "
            f"b: __schema {{ types {{ ...FullType }} }} }}\n{fragments}",
            TOO_COMPLEX,
        ),
        Abuse(f"__type x{within}", types(within), ANSWERED),
        Abuse(f"__type x{limits.aliases}", types(limits.aliases), TOO_COMPLEX),
        Abuse("nested introspection lists", nested, INVALID),
    ]


def _tokens(limits: Limits) -> list[Abuse]:
    over = repeated("__typename", limits.tokens + 1)
    # "#\n" is three bytes of JSON: as many comments as the body limit lets through.
    comments = "{ tokens { symbol } }\n" + "#\n" * ((limits.body_bytes - 1024) // 3)
    return [
        Abuse(f"{limits.tokens + 1} tokens", over, TOO_COMPLEX),
        Abuse("a body of comments", comments, TOO_COMPLEX),
        Abuse("a syntax error", "{ tokens { symbol }", PARSE_FAILED),
        Abuse("an unknown field", "{ tokens { price } }", INVALID),
    ]


def documents(limits: Limits | None = None) -> list[Abuse]:
    """Return every worst case for the limits (the settings' defaults when not given)."""
    limits = limits or Limits.defaults()
    groups = (
        _fragment_fan_out,
        _repeated_fields,
        _aliases,
        _directives,
        _nesting,
        _variables,
        _long_lists,
        _operations,
        _introspection,
        _tokens,
    )
    return [abuse for group in groups for abuse in group(limits)]

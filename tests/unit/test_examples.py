"""The example operations (examples/*.graphql) against the schema, and GraphiQL's example."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from graphql import (
    DocumentNode,
    ExecutableDefinitionNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    parse,
    print_ast,
    specified_rules,
)
from graphql.execution.values import get_variable_values

from eterna.entrypoints.app import document_limits
from eterna.entrypoints.config import Settings
from schema import schema
from schema.document_gate import DocumentGate
from schema.playground import EXAMPLE, EXAMPLE_VARIABLES, playground_html

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
WEB_GRAPHIQL = Path(__file__).resolve().parents[2] / "eterna" / "adapters" / "web" / "graphiql"
FILES = sorted(EXAMPLES.glob("*.graphql"))
DEFAULTS = Settings.model_fields


def examples_document() -> DocumentNode:
    return parse("\n".join(f.read_text() for f in FILES))


def validate_as_served(document: DocumentNode) -> list[GraphQLError]:
    """Validate as a default server does: its cost limits first, then graphql-core's rules."""
    gate = DocumentGate(document_limits(Settings()))
    return gate.check(schema._schema, document, specified_rules)


def root_fields(document: DocumentNode) -> dict[OperationType, set[str]]:
    """Return the root fields each kind of operation in the document selects."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }

    def fields(selection_set: SelectionSetNode) -> set[str]:
        names: set[str] = set()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                names.add(selection.name.value)
            elif isinstance(selection, FragmentSpreadNode):
                names |= fields(fragments[selection.name.value].selection_set)
            elif isinstance(selection, InlineFragmentNode):
                names |= fields(selection.selection_set)
        return names

    found: dict[OperationType, set[str]] = {kind: set() for kind in OperationType}
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            found[definition.operation] |= fields(definition.selection_set)
    return found


def definitions_by_name(document: DocumentNode) -> dict[str, ExecutableDefinitionNode]:
    named: dict[str, ExecutableDefinitionNode] = {}
    for d in document.definitions:
        assert isinstance(d, OperationDefinitionNode | FragmentDefinitionNode), d
        assert d.name is not None, "every example operation has a name"
        named[d.name.value] = d
    return named


def test_there_are_example_files() -> None:
    assert len(FILES) >= 10, FILES


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_each_example_file_parses_and_names_its_operations(path: Path) -> None:
    document = parse(path.read_text())
    assert document.definitions, f"{path.name} is empty"
    for definition in document.definitions:
        assert isinstance(definition, OperationDefinitionNode | FragmentDefinitionNode)
        assert definition.name is not None, f"{path.name}: an anonymous operation"


def test_examples_validate_against_the_schema_within_the_served_limits() -> None:
    errors = validate_as_served(examples_document())
    assert not errors, "\n".join(e.message for e in errors)


def test_examples_fit_the_served_token_limit() -> None:
    # All of them at once fit, so does any one operation with the fragments it sends.
    source = "\n".join(f.read_text() for f in FILES)
    parse(source, max_tokens=DEFAULTS["max_tokens"].default)  # raises GraphQLError beyond it


def test_every_root_field_has_an_example() -> None:
    covered = root_fields(examples_document())
    served = {
        OperationType.QUERY: schema._schema.query_type,
        OperationType.MUTATION: schema._schema.mutation_type,
        OperationType.SUBSCRIPTION: schema._schema.subscription_type,
    }
    for kind, root in served.items():
        assert root is not None
        missing = set(root.fields) - covered[kind]
        assert not missing, f"no example in examples/*.graphql for {kind.value} {sorted(missing)}"


def test_root_field_coverage_notices_a_missing_example() -> None:
    document = parse("query Tokens { tokens { mint } }")
    assert root_fields(document)[OperationType.QUERY] == {"tokens"}
    assert root_fields(document)[OperationType.MUTATION] == set()


def test_playground_example_is_made_of_the_example_files() -> None:
    examples = definitions_by_name(examples_document())
    playground = definitions_by_name(parse(EXAMPLE))
    assert any(isinstance(d, OperationDefinitionNode) for d in playground.values())
    for name, definition in playground.items():
        assert name in examples, f"GraphiQL's {name} is not in examples/*.graphql"
        assert print_ast(definition) == print_ast(examples[name]), (
            f"GraphiQL's {name} (schema/playground.py) differs from examples/*.graphql"
        )


def test_playground_example_validates_on_its_own() -> None:
    errors = validate_as_served(parse(EXAMPLE))
    assert not errors, "\n".join(e.message for e in errors)


def test_playground_variables_fit_every_playground_operation() -> None:
    for definition in parse(EXAMPLE).definitions:
        if isinstance(definition, OperationDefinitionNode):
            variables = definition.variable_definitions or ()
            declared = {v.variable.name.value for v in variables}
            given = {k: v for k, v in EXAMPLE_VARIABLES.items() if k in declared}
            coerced = get_variable_values(schema._schema, variables, given)
            assert not isinstance(coerced, list), coerced  # a list holds the errors


def test_playground_page_opens_on_the_example_with_its_variables() -> None:
    page = playground_html()
    block = re.search(
        r'<script type="application/json" id="eterna-example">(.*?)</script>', page, re.S
    )
    assert block, page
    assert json.loads(block.group(1)) == {
        "query": EXAMPLE,
        "variables": json.dumps(EXAMPLE_VARIABLES, indent=2),
        "styleNonce": "",
    }
    # The only other scripts are files of this server: nothing inline, nothing from elsewhere.
    sources = re.findall(r"<script([^>]*)>", page)
    assert all('src="/graphiql/' in s or 'type="application/json"' in s for s in sources), sources
    script = (WEB_GRAPHIQL / "graphiql-page.js").read_text()
    assert "React.useState(example.query)" in script
    assert "React.useState(example.variables)" in script
    # Subscriptions authenticate with the Headers tab: it goes to connection_init.
    assert "wsConnectionParams: (opts && opts.headers) || {}" in script

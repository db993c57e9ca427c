"""The gate every GraphQL document passes: parse and validation caches, cost limits, codes.

A document not seen before is parsed (graphql-core stops at the token limit and at 200 levels
of nesting), measured against the cost limits (:mod:`schema.document_cost`, linear) and only
then validated by graphql-core's rules, which are quadratic in the worst case and run
together in one visitor: the measure is what keeps their input small. A document seen before
costs two dictionary lookups: its text finds the parsed document, and that document's
identity finds the result of checking it. (Nodes hash and compare by value, walking the whole
tree each time, which is what a cache keyed by the document itself would pay per request.)

Errors about the document carry ``extensions.code`` (:class:`schema.errors.DocumentCode`).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    GraphQLSyntaxError,
    NameNode,
    OperationDefinitionNode,
    SelectionSetNode,
    parse,
)
from graphql import OperationType as AstOperationType
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType

from schema.document_cost import DocumentLimits, measure
from schema.errors import DocumentCode, with_code

K = TypeVar("K")
V = TypeVar("V")

# graphql-core refuses a document over its token limit or nested deeper than 200 levels with
# the same error class as a syntax error; these are its messages for the two (tests pin them).
_TOO_DEEP = "Syntax Error: Document is nested too deeply. Parsing aborted."


class _Lru(Generic[K, V]):
    """The ``size`` entries used last."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._entries[key] = value
        self._entries.move_to_end(key)
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)


def too_complex(message: str, limit: str) -> GraphQLError:
    """Return the error of a document refused for its cost."""
    return with_code(
        GraphQLError(f"Query too complex: {message}", extensions={"limit": limit}),
        DocumentCode.QUERY_TOO_COMPLEX,
    )


class DocumentGate:
    """Parse and check documents within the limits, remembering the latest results.

    One gate serves every request of a schema; :meth:`extension` makes the per-request
    strawberry extension that consults it.
    """

    def __init__(
        self,
        limits: DocumentLimits,
        *,
        max_tokens: int | None = None,
        max_variable_values: int | None = None,
        rules: tuple[type[ASTValidationRule], ...] = (),
        cache_size: int = 256,
    ) -> None:
        self.limits = limits
        self.max_tokens = max_tokens
        self.max_variable_values = max_variable_values
        self._rules = rules
        self._parsed: _Lru[str, DocumentNode | GraphQLError] = _Lru(cache_size)
        self._checked: _Lru[
            tuple[int, tuple[type[ASTValidationRule], ...]], tuple[DocumentNode, list[GraphQLError]]
        ] = _Lru(cache_size)

    def extension(self) -> Callable[[], SchemaExtension]:
        """Return the factory of the per-request extension."""
        return lambda: _GateExtension(self)

    def parse(self, query: str) -> DocumentNode | GraphQLError:
        """Parse within the limits: the document, or the refusal of one over the limits.

        :raises GraphQLSyntaxError: on a syntax error (not remembered: strawberry reports it).
        """
        known = self._parsed.get(query)
        if known is None:
            try:
                known = parse(query, max_tokens=self.max_tokens)
            except GraphQLSyntaxError as error:
                known = self._refusal(error)
                if known is None:
                    raise
            self._parsed.put(query, known)
        return known

    def _refusal(self, error: GraphQLSyntaxError) -> GraphQLError | None:
        """Return the refusal a parse error stands for, if it is a limit and not a mistake."""
        if self.max_tokens is not None and error.message == (
            f"Syntax Error: Document contains more than {self.max_tokens} tokens. Parsing aborted."
        ):
            return too_complex(f"more than {self.max_tokens:,} tokens.", "tokens")
        if error.message == _TOO_DEEP:
            return too_complex("nested more than 200 levels deep.", "nesting")
        return None

    def check_variables(self, variables: object) -> GraphQLError | None:
        """Refuse variables holding more values than graphql-core should coerce.

        Coercing a value costs about as much as validating a literal (a list of 1,000 orders
        passed as a variable took 90 ms), so variables are bounded like the document.
        """
        limit = self.max_variable_values
        if limit is None or _values(variables, limit) <= limit:
            return None
        return too_complex(f"the variables hold more than {limit:,} values.", "variable_values")

    def check(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        rules: tuple[type[ASTValidationRule], ...],
    ) -> list[GraphQLError]:
        """Return the document's errors: its cost first, then graphql-core's rules."""
        rules = (*rules, *self._rules)
        key = (id(document), rules)
        known = self._checked.get(key)
        if known is not None and known[0] is document:
            return known[1]
        found = measure(document, self.limits)
        if found.refusals:
            errors = [too_complex(r.message, r.limit) for r in found.refusals]
        else:
            errors = [
                with_code(error, DocumentCode.GRAPHQL_VALIDATION_FAILED)
                for error in validate_document(schema, document, rules)
            ]
        self._checked.put(key, (document, errors))
        return errors


def _values(variables: object, limit: int) -> int:
    """Count the values in decoded JSON (each list item, object entry, scalar), up to limit+1."""
    count = 0
    stack = [variables]
    while stack and count <= limit:
        value = stack.pop()
        count += 1
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return count


def _stand_in(context: ExecutionContext) -> DocumentNode:
    """Return a one-field document of an operation the request allows, under its name.

    strawberry needs a parsed document before it validates, and answers a parse error over
    graphql-transport-ws by closing the socket. A document refused at parse (over the token
    or nesting limit) is refused at validation instead, like every other costly document:
    this stand-in takes its place there and is never validated nor run.
    """
    allowed = set(context.allowed_operations)
    kind = OperationType.QUERY if OperationType.QUERY in allowed else allowed.pop()
    name = context.operation_name
    operation = OperationDefinitionNode(
        operation=AstOperationType(kind.value),
        name=NameNode(value=name) if name else None,
        selection_set=SelectionSetNode(selections=(FieldNode(name=NameNode(value="__typename")),)),
    )
    return DocumentNode(definitions=(operation,))


class _GateExtension(SchemaExtension):
    """The gate in one request's parse and validation steps."""

    def __init__(self, gate: DocumentGate) -> None:
        self._gate = gate
        self._refused: GraphQLError | None = None

    def on_parse(self) -> Iterator[None]:
        """Parse through the cache; leave a syntax error to strawberry, which reports it.

        Raising here would escape strawberry's handling on the websocket paths; a document
        left unparsed is parsed again inside it (with the same token limit) instead.
        """
        context = self.execution_context
        if self._gate.max_tokens is not None:
            context.parse_options["max_tokens"] = self._gate.max_tokens
        try:
            parsed = self._gate.parse(context.query or "")
        except GraphQLSyntaxError:
            context.graphql_document = None
        else:
            if isinstance(parsed, GraphQLError):
                self._refused = parsed
                context.graphql_document = _stand_in(context)
            else:
                context.graphql_document = parsed
        yield
        for failure in context.pre_execution_errors or ():
            if isinstance(failure, GraphQLSyntaxError):
                with_code(failure, DocumentCode.GRAPHQL_PARSE_FAILED)

    def on_validate(self) -> Iterator[None]:
        """Refuse a costly document before graphql-core's rules see it; else validate it."""
        context = self.execution_context
        refused = self._refused or self._gate.check_variables(context.variables)
        document = context.graphql_document
        if refused is not None:
            context.pre_execution_errors = [refused]
        elif document is not None:  # strawberry validates only what it could parse
            # strawberry keeps the graphql-core schema in `_schema` (its own caches read it).
            context.pre_execution_errors = self._gate.check(
                context.schema._schema, document, tuple(context.validation_rules)
            )
        yield

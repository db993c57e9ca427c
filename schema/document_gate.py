"""The gate every GraphQL document passes: the cost limits, a cache, and error codes.

A document not seen before is parsed (graphql-core stops at the token limit and at 200 levels
of nesting), measured against the cost limits (:mod:`schema.document_cost`, linear) and only
then validated by graphql-core's rules, which are quadratic in the worst case and run
together in one visitor: the measure is what keeps their input small. A text seen before
costs a dictionary lookup (:mod:`schema.document_cache`): the entry holds both the parsed
document and its verdict. (Keying the verdict by the document itself, as strawberry's
validation cache did, hashes the whole tree on every request: nodes hash by value.)

Errors about the document carry ``extensions.code`` (:class:`schema.errors.DocumentCode`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    GraphQLSyntaxError,
    NameNode,
    NoUndefinedVariablesRule,
    NoUnusedVariablesRule,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariablesInAllowedPositionRule,
    parse,
    validate,
)
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from schema.document_cache import DocumentCache, Known, Rules
from schema.document_cost import DocumentLimits, measure
from schema.errors import DocumentCode, with_code

# A text this long new to the cache is parsed, and a document of this many tokens is checked,
# in a worker thread: the interpreter lets the event loop (every other request, websocket and
# subscription of the process) run every few milliseconds meanwhile, where a 3,500-token
# document would hold it for 50 ms. Shorter ones cost less than the hand-off (~0.1 ms).
OFF_LOOP_CHARACTERS = 4_000
OFF_LOOP_TOKENS = 500

# Rules that only report on variables: silent for a document without any.
_VARIABLE_RULES = frozenset(
    {NoUndefinedVariablesRule, NoUnusedVariablesRule, VariablesInAllowedPositionRule}
)

# graphql-core refuses a document over its token limit or nested deeper than 200 levels with
# the same error class as a syntax error; these are its messages for the two (tests pin them).
_TOO_DEEP = "Syntax Error: Document is nested too deeply. Parsing aborted."


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
        rules: Rules = (),
        cache: DocumentCache | None = None,
    ) -> None:
        self.limits = limits
        self.max_tokens = max_tokens
        self.max_variable_values = max_variable_values
        self._rules = rules
        self.cache = cache or DocumentCache()
        self._schema: GraphQLSchema | None = None

    def bind(self, schema: GraphQLSchema) -> None:
        """Validate the documents of requests against this schema (the one executing them)."""
        self._schema = schema

    @property
    def schema(self) -> GraphQLSchema:
        """Return the schema bound to the gate.

        :raises RuntimeError: before :meth:`bind`.
        """
        if self._schema is None:
            raise RuntimeError("the document gate is not bound to a schema")
        return self._schema

    def extension(self) -> Callable[[], SchemaExtension]:
        """Return the factory of the per-request extension."""
        return lambda: _GateExtension(self)

    def parse(self, query: str) -> Known:
        """Parse within the limits: the document, or the refusal of one over the limits.

        :raises GraphQLSyntaxError: on a syntax error (not remembered: strawberry reports it).
        """
        known = self.cache.get(query)
        if known is None:
            known = self.parse_new(query)
            self.cache.put(query, known)
        return known

    async def parse_off_loop(self, query: str) -> Known:
        """Parse as :meth:`parse` does, a long text new to the cache in a worker thread."""
        known = self.cache.get(query)
        if known is None:
            if len(query) < OFF_LOOP_CHARACTERS:
                known = self.parse_new(query)
            else:
                known = await asyncio.to_thread(self.parse_new, query)
            self.cache.put(query, known)
        return known

    def parse_new(self, query: str) -> Known:
        """Parse a text the cache does not know (any thread)."""
        try:
            document = parse(query, max_tokens=self.max_tokens)
        except GraphQLSyntaxError as error:
            refusal = self._refusal(error)
            if refusal is None:
                raise
            return Known(None, refusal, weight=1)
        # graphql-core notes the count on the document it returns.
        return Known(document, None, weight=int(getattr(document, "token_count", 1)))

    def _refusal(self, error: GraphQLSyntaxError) -> GraphQLError | None:
        """Return the refusal a parse error stands for, if it is a limit and not a mistake."""
        if self.max_tokens is not None and error.message == (
            f"Syntax Error: Document contains more than {self.max_tokens} tokens. Parsing aborted."
        ):
            return too_complex(f"more than {self.max_tokens:,} tokens.", "tokens")
        if error.message == _TOO_DEEP:
            return too_complex("nested more than 200 levels deep.", "nesting")
        return None

    def verdict(self, known: Known, schema: GraphQLSchema, rules: Rules) -> list[GraphQLError]:
        """Return the errors of a parsed text, checking it the first time only."""
        if known.document is None:
            return [known.refusal] if known.refusal else []
        errors = known.verdicts.get(rules)
        if errors is None:
            errors = known.verdicts[rules] = self.check(schema, known.document, rules)
        return errors

    async def verdict_off_loop(
        self, known: Known, schema: GraphQLSchema, rules: Rules
    ) -> list[GraphQLError]:
        """Return :meth:`verdict`, checking a long document in a worker thread."""
        document = known.document
        if document is None or rules in known.verdicts or known.weight < OFF_LOOP_TOKENS:
            return self.verdict(known, schema, rules)
        errors = await asyncio.to_thread(self.check, schema, document, rules)
        known.verdicts[rules] = errors
        return errors

    def check(
        self, schema: GraphQLSchema, document: DocumentNode, rules: Rules
    ) -> list[GraphQLError]:
        """Return the document's errors: its cost first, then graphql-core's rules (any thread).

        Without a variable in the document, the rules about variables have nothing to report;
        they are left out, since collecting the usages walks the whole operation once more
        (40 % of validating a batch of orders written inline). The rules are graphql-core's;
        strawberry adds two of its own for ``Maybe`` arguments and ``@oneOf`` inputs, which
        this schema has none of (``tests/unit/test_schema_internals.py`` checks).
        """
        found = measure(document, self.limits)
        if found.refusals:
            return [too_complex(r.message, r.limit) for r in found.refusals]
        rules = (*rules, *self._rules)
        if not found.variables:
            rules = tuple(r for r in rules if r not in _VARIABLE_RULES)
        return [
            with_code(error, DocumentCode.GRAPHQL_VALIDATION_FAILED)
            for error in validate(schema, document, rules)
        ]

    def check_variables(self, variables: object) -> GraphQLError | None:
        """Refuse variables holding more values than graphql-core should coerce.

        Coercing a value costs about as much as validating a literal (a list of 1,000 orders
        passed as a variable took 90 ms), so variables are bounded like the document.
        """
        limit = self.max_variable_values
        if limit is None or _values(variables, limit) <= limit:
            return None
        return too_complex(f"the variables hold more than {limit:,} values.", "variable_values")


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
    # strawberry's operation types carry graphql-core's names as their values.
    allowed = {OperationType(kind.value) for kind in context.allowed_operations}
    kind = OperationType.QUERY if OperationType.QUERY in allowed else allowed.pop()
    name = context.operation_name
    operation = OperationDefinitionNode(
        operation=kind,
        name=NameNode(value=name) if name else None,
        selection_set=SelectionSetNode(selections=(FieldNode(name=NameNode(value="__typename")),)),
    )
    return DocumentNode(definitions=(operation,))


class _GateExtension(SchemaExtension):
    """The gate in one request's parse and validation steps."""

    def __init__(self, gate: DocumentGate) -> None:
        self._gate = gate
        self._known: Known | None = None

    async def on_parse(self) -> AsyncIterator[None]:
        """Parse through the cache; leave a syntax error to strawberry, which reports it.

        Raising here would escape strawberry's handling on the websocket paths; a document
        left unparsed is parsed again inside it (with the same token limit) instead.
        """
        context = self.execution_context
        if self._gate.max_tokens is not None:
            context.parse_options["max_tokens"] = self._gate.max_tokens
        try:
            self._known = await self._gate.parse_off_loop(context.query or "")
        except GraphQLSyntaxError:
            context.graphql_document = None
        else:
            context.graphql_document = self._known.document or _stand_in(context)
        yield
        for failure in context.pre_execution_errors or ():
            if isinstance(failure, GraphQLSyntaxError):
                with_code(failure, DocumentCode.GRAPHQL_PARSE_FAILED)

    async def on_validate(self) -> AsyncIterator[None]:
        """Refuse a costly document before graphql-core's rules see it; else validate it."""
        context = self.execution_context
        if self._known is not None:  # else strawberry failed to parse it, as we did
            errors = await self._gate.verdict_off_loop(
                self._known, self._gate.schema, tuple(context.validation_rules)
            )
            refused = None if errors else self._gate.check_variables(context.variables)
            context.pre_execution_errors = [refused] if refused else errors
        yield

"""The GraphQL schema of Eterna: types, queries, mutations, subscriptions."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import ClassVar

import strawberry
from graphql import ASTValidationRule, GraphQLError, GraphQLSchema, NoSchemaIntrospectionCustomRule
from starlette.requests import Request
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from schema.admin import AdminMutation, AuditQuery
from schema.document_cost import DocumentLimits
from schema.document_gate import DocumentGate
from schema.errors import is_expected, log, should_mask
from schema.events import PlainType, PlannedExecutor
from schema.masking import MaskUnexpected
from schema.mutation import Mutation
from schema.query import Query
from schema.scalars import DecimalScalar
from schema.subscription import EVENT_DATA, Subscription
from schema.types import OrderEvent


class EternaSchema(strawberry.Schema):
    """The schema, logging only the errors clients do not see as they are."""

    # The gate parsing and checking its documents (set by build_schema), whose cache the
    # endpoint reads to tell what a request is before running it.
    document_gate: DocumentGate | None = None

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log unexpected errors in full; expected ones are the client's business."""
        for error in errors:
            if not is_expected(error):
                log.error(
                    "unexpected error in %s: %s",
                    ".".join(str(p) for p in error.path or ()) or "operation",
                    error.message,
                    exc_info=error.original_error,
                )


class _NoSubscriptionsOverHttp(SchemaExtension):
    """Refuse a subscription sent over HTTP before anything runs: it is for websockets.

    strawberry allows subscriptions over HTTP for its multipart transport, which is not
    enabled here (a stream per request would escape the per-connection limits); without it
    the operation ran as a query and failed inside graphql-core. Leaving subscriptions out
    of the operations an HTTP request may run makes strawberry answer 400 (e.g.
    "subscriptions are not allowed when using POST") before anything runs.
    """

    def on_operation(self) -> Iterator[None]:
        """Take subscriptions out of what an HTTP request may run."""
        context = self.execution_context
        if isinstance(getattr(context.context, "request", None), Request):
            allowed = context.allowed_operations
            context.allowed_operations = [t for t in allowed if t.value != "subscription"]
        yield


class EternaExecutor(PlannedExecutor):
    """graphql-core's executor, completing plain selections of order events by plan."""

    plain_types: ClassVar[Mapping[str, PlainType]] = {
        "OrderEvent": PlainType(OrderEvent, EVENT_DATA)
    }


def build_schema(
    *,
    limits: DocumentLimits | None = None,
    max_tokens: int | None = None,
    max_variable_values: int | None = None,
    introspection: bool = True,
    field_suggestions: bool = True,
    extra_extensions: tuple[Callable[[], SchemaExtension], ...] = (),
) -> EternaSchema:
    """Build the schema with its cost limits, caches and error masking.

    Extensions are passed as factories (one fresh extension per request); the document gate
    behind the first one is shared, so its parse and validation caches serve every request.
    """
    rules: tuple[type[ASTValidationRule], ...] = ()
    if not introspection:
        rules = (NoSchemaIntrospectionCustomRule,)
    gate = DocumentGate(
        limits or DocumentLimits(),
        max_tokens=max_tokens,
        max_variable_values=max_variable_values,
        rules=rules,
    )
    extensions: list[Callable[[], SchemaExtension]] = [
        _NoSubscriptionsOverHttp,
        gate.extension(),
        *extra_extensions,
        lambda: MaskUnexpected(should_mask),
    ]
    built = EternaSchema(
        query=_described(merge_types("Query", (Query, AuditQuery)), Query),
        mutation=_described(merge_types("Mutation", (Mutation, AdminMutation)), Mutation),
        subscription=Subscription,
        config=StrawberryConfig(
            scalar_map={Decimal: DecimalScalar},
            disable_field_suggestions=not field_suggestions,
        ),
        extensions=extensions,
        execution_context_class=EternaExecutor,
    )
    gate.bind(graphql_schema(built))
    built.document_gate = gate
    return built


def _described(merged: type, first: type) -> type:
    """Give a merged root type the description of its first part (merge_types drops it).

    Administrators' fields live in :mod:`schema.admin`; their descriptions say "Admin only".
    """
    definition = getattr(merged, "__strawberry_definition__", None)
    source = getattr(first, "__strawberry_definition__", None)
    if definition is not None and source is not None:
        definition.description = source.description
    return merged


def graphql_schema(built: strawberry.Schema) -> GraphQLSchema:
    """Return the graphql-core schema strawberry built and executes against.

    strawberry has no public accessor for it; ``_schema`` has held it since strawberry's
    first releases and its own integrations read it there. This is the one place we do,
    and ``tests/unit/test_schema_internals.py`` fails loudly if it moves.
    """
    core = getattr(built, "_schema", None)
    if not isinstance(core, GraphQLSchema):
        raise TypeError("strawberry no longer keeps its graphql-core schema in `_schema`")
    return core


schema = build_schema()

"""The GraphQL schema of Eterna: types, queries, mutations, subscriptions."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any

import strawberry
from graphql import (
    ASTValidationRule,
    GraphQLError,
    NoSchemaIntrospectionCustomRule,
    ValidationContext,
)
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from schema.errors import is_expected, log, should_mask
from schema.events import EventPlan, event_plan
from schema.mutation import Mutation
from schema.query import Query
from schema.scalars import DecimalScalar
from schema.subscription import Subscription


class EternaSchema(strawberry.Schema):
    """The schema, logging only the errors clients do not see as they are."""

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

    async def execute(  # noqa: PLR0917 - strawberry's signature
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        """Execute a query or a mutation; subscriptions are served on websockets only.

        strawberry allows subscriptions over HTTP for its multipart transport, which is not
        enabled here (a stream per request would escape the per-connection limits); without
        it the operation ran as a query and failed inside graphql-core. Leaving subscriptions
        out of the allowed types makes strawberry answer 400 before anything runs.
        """
        allowed = (
            {OperationType.QUERY, OperationType.MUTATION}
            if allowed_operation_types is None
            else set(allowed_operation_types) - {OperationType.SUBSCRIPTION}
        )
        return await super().execute(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            allowed,
            operation_extensions,
        )


_UNPLANNED: Any = object()


class _PerEventExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """strawberry's execution context, with a subfield memo and a plan for subscription events.

    Events of plain selections are completed by their plan (:mod:`schema.events`).
    graphql-core 3.3 runs each event of a subscription on a shallow copy of the
    subscription's executor, so every copy shares one memo of collected subfields, keyed
    by the identity of a list made anew for each event and kept alive by the memo: a
    long-lived subscription grew by a few objects per event, without bound, and the GC
    walked them all. A memo per event keeps what it is for (lists of values within one
    execution) and goes away with the event.
    """

    _event_plan: EventPlan | None = _UNPLANNED

    def build_per_event_executor(self, payload: Any) -> Any:
        """Return the event's executor, with a memo of its own and the subscription's plan."""
        if self._event_plan is _UNPLANNED:
            self._event_plan = event_plan(self)
        executor = super().build_per_event_executor(payload)
        if hasattr(executor, "_relevant_sub_fields"):
            executor._relevant_sub_fields = {}
        return executor

    def execute_operation(self, serially: bool | None = None) -> Any:
        """Complete a subscription event by its plan when it has one; else as graphql-core."""
        plan = self._event_plan
        if plan is not None and plan is not _UNPLANNED:
            signal = self.abort_signal
            if signal is None or not signal.aborted:
                data = plan.complete(self.root_value)
                if data is not None:
                    return self.finish(self.build_response(data))
        return super().execute_operation(serially)


class _MaskErrors(MaskErrors):
    """strawberry's MaskErrors, without a runtime Protocol check on every result.

    ``MaskErrors`` asks ``isinstance(result, <runtime_checkable Protocol>)`` of each result,
    which on Python 3.11 walks the protocol's attributes every time: about a tenth of the
    CPU of delivering one subscription event. Reading ``errors`` is the same test.
    """

    def _process_result(self, result: object) -> None:
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = self._process_errors(errors)  # type: ignore[attr-defined]


class _ParserCache(ParserCache):
    """strawberry's ParserCache, leaving a document that does not parse to strawberry.

    The cache parses in its hook, outside the ``try`` in which strawberry turns a syntax
    error into an error result. A request over HTTP is caught a level up; a subscription
    over the legacy graphql-ws protocol was not, and the error escaped its handler's task.
    Left unparsed, the document is parsed again inside that ``try`` (with the same options,
    the token limit too) and gets the error every other path gives.
    """

    def on_parse(self) -> Iterator[None]:
        """Parse through the cache; on a syntax error leave the document to strawberry."""
        context = self.execution_context
        try:
            context.graphql_document = self.cached_parse_document(
                context.query, **context.parse_options
            )
        except GraphQLError:
            context.graphql_document = None
        yield


def _measurable(rule: type[ASTValidationRule]) -> type[ASTValidationRule]:
    """Wrap strawberry's depth rule, which raises on documents it cannot measure.

    graphql-core accepts empty selection sets (``{}``) and reports unknown fragments itself;
    the depth rule calls ``max()`` on the former and looks the latter up, and its exception
    would surface as an unexpected server error. Refusing the document is the safe answer:
    passing it would let an unmeasured document through the depth limit.
    """

    class MeasurableDepthRule(rule):  # type: ignore[valid-type,misc]
        def __init__(self, context: ValidationContext) -> None:
            try:
                super().__init__(context)
            except (ValueError, KeyError):
                ASTValidationRule.__init__(self, context)
                context.report_error(
                    GraphQLError(
                        "The document's depth cannot be measured: "
                        "it has an empty selection set or an unknown fragment."
                    )
                )

    return MeasurableDepthRule


def build_schema(
    *,
    max_depth: int | None = None,
    max_aliases: int | None = None,
    max_tokens: int | None = None,
    introspection: bool = True,
    field_suggestions: bool = True,
    extra_extensions: tuple[Callable[[], SchemaExtension], ...] = (),
) -> EternaSchema:
    """Build the schema with its cost limits, caches and error masking.

    Extensions are passed as factories (one fresh extension per request). The depth and alias
    rules are built once here and shared, so the validation cache, keyed by the rules, hits.
    """
    extensions: list[Callable[[], SchemaExtension]] = []
    if max_tokens is not None:
        # Before the parser cache: the token limit is a parse option.
        extensions.append(lambda: MaxTokensLimiter(max_token_count=max_tokens))
    extensions += [lambda: _ParserCache(maxsize=256)]
    rules: list[type[ASTValidationRule]] = []
    if max_depth is not None:
        rules += [_measurable(r) for r in QueryDepthLimiter(max_depth=max_depth).validation_rules]
    if max_aliases is not None:
        rules += MaxAliasesLimiter(max_alias_count=max_aliases).validation_rules
    if not introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    if rules:
        extensions.append(lambda: AddValidationRules(rules))
    extensions += [
        lambda: ValidationCache(maxsize=256),
        *extra_extensions,
        lambda: _MaskErrors(should_mask_error=should_mask),
    ]
    return EternaSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        config=StrawberryConfig(
            scalar_map={Decimal: DecimalScalar},
            disable_field_suggestions=not field_suggestions,
        ),
        extensions=extensions,
        execution_context_class=_PerEventExecutionContext,
    )


schema = build_schema()

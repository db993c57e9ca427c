"""The GraphQL schema of Eterna: types, queries, mutations, subscriptions."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

import strawberry
from graphql import ASTValidationRule, GraphQLError, NoSchemaIntrospectionCustomRule
from strawberry.extensions import MaskErrors, SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from schema.document_cost import DocumentLimits
from schema.document_gate import DocumentGate
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
        gate.extension(),
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

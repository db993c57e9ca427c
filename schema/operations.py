"""Every GraphQL operation as a span and a record: its name, type, time, errors and refusals.

One span per operation (OpenTelemetry's GraphQL conventions: ``{type} {name}``, with
``graphql.operation.*`` attributes), never one per field: a span per resolved field would
cost more than most operations do. The document and the variables stay out of the span:
they may carry what a trace store should not keep.

The record goes to an :class:`OperationRecorder` (the metrics adapter), told apart from
transport: errors by their ``extensions.code`` (``UNEXPECTED`` for a masked one), refusals
by the code of each ``OrderRejected`` or ``CancelRejected`` result.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

from opentelemetry import trace
from strawberry.extensions import SchemaExtension

from eterna.application import spans

UNEXPECTED = "UNEXPECTED"
ANONYMOUS = "anonymous"
INVALID = "invalid"
_tracer = trace.get_tracer("eterna.graphql")


class OperationRecorder(Protocol):
    """Where the figures of each operation go."""

    def operation(
        self,
        name: str,
        kind: str,
        seconds: float,
        errors: Sequence[str],
        refusals: Sequence[str],
    ) -> None:
        """Record one finished operation."""


class ObservedOperation(SchemaExtension):
    """Open a span around the operation and record it when it ends."""

    def __init__(self, recorder: OperationRecorder) -> None:
        self._recorder = recorder

    def on_operation(self) -> Iterator[None]:
        """Time and trace the operation; record its outcome."""
        started = time.perf_counter()
        if spans.enabled:
            with _tracer.start_as_current_span("graphql", kind=trace.SpanKind.INTERNAL) as span:
                yield
                name, kind, errors = self._outcome()
                span.update_name(f"{kind} {name}")
                span.set_attribute("graphql.operation.name", name)
                span.set_attribute("graphql.operation.type", kind)
                if errors:
                    span.set_attribute("eterna.graphql.error_codes", errors)
        else:
            yield
            name, kind, errors = self._outcome()
        refusals = list(getattr(self.execution_context.context, "refusals", ()))
        self._recorder.operation(name, kind, time.perf_counter() - started, errors, refusals)

    def _outcome(self) -> tuple[str, str, list[str]]:
        """Return the operation's name, type and error codes, once it ran."""
        context = self.execution_context
        raw: object = context.operation_name
        # operationName comes from the request body: a client may send any JSON value.
        name = raw if isinstance(raw, str) and raw else ANONYMOUS if raw is None else INVALID
        errors = [_code(e) for e in getattr(context.result, "errors", None) or ()]
        return name, _kind(context), errors


def observed(recorder: OperationRecorder) -> Callable[[], SchemaExtension]:
    """Return the extension factory for ``build_schema(extra_extensions=...)``."""
    return lambda: ObservedOperation(recorder)


def _kind(context: object) -> str:
    """Return the operation's type, ``unknown`` when the document never parsed."""
    try:
        operation_type = context.operation_type  # type: ignore[attr-defined]
    except Exception:  # strawberry raises when there is no parsed document
        return "unknown"
    return str(operation_type.value)


def _code(error: object) -> str:
    extensions = getattr(error, "extensions", None) or {}
    code = extensions.get("code")
    return code if isinstance(code, str) else UNEXPECTED

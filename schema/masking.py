"""Masking what clients must not see: every unexpected error becomes "Unexpected error.".

strawberry's ``MaskErrors`` does the same through a runtime-checkable Protocol, which on
Python 3.11 walks the protocol's attributes on every result: about a tenth of the CPU of
delivering one subscription event. This extension is ours, on strawberry's documented
hooks: ``on_operation`` for a request's result, ``on_stream_result`` for every result a
subscription yields. The error that replaces a masked one keeps its place (path,
locations) and drops its original error; operators read that in the log
(``EternaSchema.process_errors``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types import StreamExecutionResult

from schema.errors import MASKED_MESSAGE


def masked(error: GraphQLError) -> GraphQLError:
    """Return the error a client sees in place of an unexpected one."""
    return GraphQLError(
        MASKED_MESSAGE,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
    )


class MaskUnexpected(SchemaExtension):
    """Replace the errors ``should_mask`` picks, in results and in streamed results."""

    def __init__(self, should_mask: Callable[[GraphQLError], bool]) -> None:
        self._should_mask = should_mask
        self._streamed = False

    def on_operation(self) -> Iterator[None]:
        """Mask the operation's result (a stream's results are masked one by one)."""
        self._streamed = False
        yield
        if not self._streamed:
            self._mask(self.execution_context.result)

    def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
        """Mask a result before the transport sends it."""
        self._streamed = True
        self._mask(result)
        yield

    def _mask(self, result: object) -> None:
        errors = getattr(result, "errors", None)
        if errors:
            should_mask = self._should_mask
            result.errors = [masked(e) if should_mask(e) else e for e in errors]  # type: ignore[attr-defined]

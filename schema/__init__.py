"""The GraphQL schema of Eterna: types, queries, mutations, subscriptions."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors, ParserCache, SchemaExtension, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from schema.errors import is_expected, log, should_mask
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


def build_schema(
    *, extra_extensions: tuple[Callable[[], SchemaExtension], ...] = ()
) -> EternaSchema:
    """Build the schema with its caches and error masking."""
    return EternaSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        config=StrawberryConfig(scalar_map={Decimal: DecimalScalar}),
        extensions=[
            lambda: ParserCache(maxsize=256),
            lambda: ValidationCache(maxsize=256),
            *extra_extensions,
            lambda: MaskErrors(should_mask_error=should_mask),
        ],
    )


schema = build_schema()

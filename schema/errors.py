"""Errors the API shows to clients, and the masking of everything else."""

from __future__ import annotations

import enum
import logging
import math

from graphql import GraphQLError

from eterna.application.ratelimit import RateLimitedError
from eterna.domain.errors import RejectedError, RejectionCode

log = logging.getLogger("eterna.api")

MASKED_MESSAGE = "Unexpected error."


class DocumentCode(enum.Enum):
    """``extensions.code`` of an error about the document itself, before anything runs."""

    # Over a cost limit (docs/security.md): tokens, nesting, depth, selections ...
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    # Not GraphQL (Apollo's names for these two).
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"


def with_code(error: GraphQLError, code: DocumentCode) -> GraphQLError:
    """Give an error about the document its code, keeping any other extensions."""
    error.extensions = {**(error.extensions or {}), "code": code.value}
    return error


def retry_after(exc: RejectedError) -> float | None:
    """Return the seconds a RATE_LIMITED caller should wait, None for other refusals."""
    if isinstance(exc, RateLimitedError):
        # Rounded up, so a client that waits exactly this long is let through.
        return math.ceil(exc.retry_after_seconds * 1000) / 1000
    return None


class ApiError(GraphQLError):
    """An expected failure outside a result union, with a code in its extensions."""

    def __init__(
        self,
        code: RejectionCode,
        message: str,
        field: str | None = None,
        *,
        retry_after_seconds: float | None = None,
    ) -> None:
        extensions: dict[str, object] = {"code": code.value}
        if field:
            extensions["field"] = field
        if retry_after_seconds is not None:
            extensions["retryAfterSeconds"] = retry_after_seconds
        super().__init__(message, extensions=extensions)
        self.code = code

    @classmethod
    def from_rejection(cls, exc: RejectedError) -> ApiError:
        """Wrap a service rejection (RATE_LIMITED with ``retryAfterSeconds``)."""
        return cls(exc.code, exc.message, exc.field, retry_after_seconds=retry_after(exc))


def _refused_by_strawberry(error: GraphQLError) -> bool:
    """Tell whether strawberry itself refused the request, before anything of ours ran.

    Its refusals (no query, no such operation, an operation type the request may not run)
    are exceptions of its own package, raised before execution: they name no field.
    """
    module = type(error.original_error).__module__
    return error.path is None and module.partition(".")[0] == "strawberry"


def is_expected(error: GraphQLError) -> bool:
    """Tell whether a client may see the error as it is.

    Shown: errors raised on purpose (ApiError), errors graphql-core raised itself (syntax,
    validation, cost limits: no original error), errors about the client's own document
    (variable and literal coercion, which point at a node of it, outside any field), and
    strawberry's refusals of the request. Everything else, in a resolver or in a
    subscription's stream, is an exception from our code and is masked.
    """
    original = error.original_error
    if original is None or isinstance(original, ApiError) or _refused_by_strawberry(error):
        return True
    return error.path is None and bool(error.nodes)


def should_mask(error: GraphQLError) -> bool:
    """Mask every error that is not expected; its details are logged for operators."""
    return not is_expected(error)

"""Errors the API shows to clients, and the masking of everything else."""

from __future__ import annotations

import logging

from graphql import GraphQLError

from eterna.errors import RejectedError, RejectionCode

log = logging.getLogger("eterna.api")

MASKED_MESSAGE = "Unexpected error."


class ApiError(GraphQLError):
    """An expected failure outside a result union, with a code in its extensions."""

    def __init__(self, code: RejectionCode, message: str, field: str | None = None) -> None:
        extensions: dict[str, object] = {"code": code.value}
        if field:
            extensions["field"] = field
        super().__init__(message, extensions=extensions)
        self.code = code

    @classmethod
    def from_rejection(cls, exc: RejectedError) -> ApiError:
        """Wrap a service rejection."""
        return cls(exc.code, exc.message, exc.field)


def is_expected(error: GraphQLError) -> bool:
    """Tell whether a client may see the error as it is.

    Errors without a path arise before execution (syntax, validation, variable coercion) and
    speak only of the client's own document; during execution only ApiError is shown.
    """
    if error.path is None:
        return True
    original = error.original_error
    return original is None or isinstance(original, ApiError)


def should_mask(error: GraphQLError) -> bool:
    """Mask every error that is not expected; its details are logged for operators."""
    return not is_expected(error)

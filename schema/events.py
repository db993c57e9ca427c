"""Subscription events of plain selections, completed without the generic executor.

graphql-core executes every event of a subscription as a whole operation: it collects the
fields of the selection again, builds a resolve info and a path for each field, and completes
each value through several layers. For ``myOrderEvents { orderId seq status at }`` that was
most of the API's CPU per event delivered. An :class:`EventPlan` does the same work for the
selections that need nothing else: one root field, and under it only leaf fields (scalars,
enums, ``__typename``) without arguments, directives or fragments, each resolved by its
plain attribute and coerced by its own GraphQL type, exactly as the executor does.

Whatever the plan does not cover takes the generic path: a selection with anything else
gets no plan, and an event the plan cannot complete cleanly (a null where the type forbids
it, a value its type does not serialise, anything raising) is executed by graphql-core as
before, which reports the error as it always did. Middleware (a schema extension that wraps
resolvers) also means no plan.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from graphql import (
    FieldNode,
    GraphQLField,
    GraphQLLeafType,
    GraphQLObjectType,
    OperationType,
    Undefined,
    is_leaf_type,
    is_non_null_type,
)
from graphql.execution import Executor
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField


class _Leaf(NamedTuple):
    key: str
    resolve: Callable[..., Any] | None  # None: __typename
    type: GraphQLLeafType | None
    non_null: bool


class EventPlan:
    """Complete one event of a plain subscription selection, or say it cannot."""

    def __init__(
        self,
        root_key: str,
        root_resolve: Callable[..., Any],
        root_type: GraphQLObjectType,
        leaves: list[_Leaf],
        is_awaitable: Callable[[Any], bool],
    ) -> None:
        self._root_key = root_key
        self._root_resolve = root_resolve
        self._type = root_type
        self._leaves = leaves
        self._is_awaitable = is_awaitable

    def complete(self, payload: Any) -> dict[str, Any] | None:
        """Return the event's data, or None to leave the event to the generic executor."""
        try:
            return self._complete(payload)
        except Exception:  # the executor reports it properly
            return None

    def _complete(self, payload: Any) -> dict[str, Any] | None:
        source = self._root_resolve(payload, None)
        if source is None or isinstance(source, Exception) or self._is_awaitable(source):
            return None
        is_type_of: Any = self._type.is_type_of
        if is_type_of is not None:
            fits = is_type_of(source, None)
            if self._is_awaitable(fits) or not fits:
                return None
        out: dict[str, Any] = {}
        for key, resolve, leaf_type, non_null in self._leaves:
            if resolve is None:
                out[key] = self._type.name
                continue
            value = resolve(source, None)
            if value is None:
                if non_null:
                    return None
                out[key] = None
                continue
            if isinstance(value, Exception) or self._is_awaitable(value) or leaf_type is None:
                return None  # the executor turns a returned exception into the field's error
            serialized = leaf_type.coerce_output_value(value)
            if serialized is None or serialized is Undefined:
                return None
            out[key] = serialized
        return {self._root_key: out}


def event_plan(executor: Executor[Any]) -> EventPlan | None:
    """Return a plan for the events of the executor's subscription, or None if it has none."""
    root = _root(executor)
    if root is None:
        return None
    node, field, resolve = root
    object_type = field.type.of_type if is_non_null_type(field.type) else field.type
    if not isinstance(object_type, GraphQLObjectType) or node.selection_set is None:
        return None
    leaves = _leaves(object_type, node.selection_set.selections)
    if leaves is None:
        return None
    return EventPlan(
        (node.alias or node.name).value, resolve, object_type, leaves, executor.is_awaitable
    )


def _root(
    executor: Executor[Any],
) -> tuple[FieldNode, GraphQLField, Callable[..., Any]] | None:
    """Return the subscription's one root field and its resolver, when nothing wraps it."""
    middleware = executor.middleware_manager
    subscription = executor.schema.subscription_type
    operation = executor.operation
    if (middleware is not None and middleware.middlewares) or subscription is None:
        return None
    roots = operation.selection_set.selections
    if operation.operation is not OperationType.SUBSCRIPTION or len(roots) != 1:
        return None
    node = roots[0]
    if not isinstance(node, FieldNode) or node.directives:
        return None
    field = subscription.fields.get(node.name.value)
    # strawberry resolves a subscription field's events with the identity.
    if field is None or field.resolve is None or field.subscribe is None:
        return None
    return node, field, field.resolve


def _basic(field: GraphQLField) -> bool:
    """Tell whether strawberry resolves the field by a plain attribute read.

    That is its "basic field" path: no resolver, no field extension, no permission class,
    no exception handler (its resolver is then ``_get_basic_result``, which needs no info).
    A field with any of those keeps the executor, which runs them.
    """
    definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    resolve = field.resolve
    return (
        isinstance(definition, StrawberryField)
        and definition.is_basic_field
        and getattr(resolve, "__name__", "") == "_get_basic_result"
        and getattr(resolve, "_is_default", False)
    )


def _leaves(object_type: GraphQLObjectType, selections: Any) -> list[_Leaf] | None:
    leaves: list[_Leaf] = []
    keys: set[str] = set()
    for selection in selections:
        if not isinstance(selection, FieldNode):
            return None  # fragments: the generic path
        if selection.directives or selection.arguments or selection.selection_set:
            return None
        name = selection.name.value
        key = (selection.alias or selection.name).value
        if key in keys:
            return None  # merged fields: the generic path
        keys.add(key)
        if name == "__typename":
            leaves.append(_Leaf(key, None, None, non_null=True))
            continue
        field: GraphQLField | None = object_type.fields.get(name)
        if field is None or not _basic(field):
            return None
        field_type: Any = field.type
        non_null = is_non_null_type(field_type)
        leaf_type = field_type.of_type if non_null else field_type
        if not is_leaf_type(leaf_type):
            return None
        leaves.append(_Leaf(key, field.resolve, leaf_type, non_null))
    return leaves

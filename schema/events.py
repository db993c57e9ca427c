"""Subscription events of plain selections, completed without the generic executor.

graphql-core executes every event of a subscription as a whole operation: it collects the
fields of the selection again, builds a resolve info and a path for each field, and completes
each value through several layers. For ``myOrderEvents { orderId seq status at }`` that was
most of the API's CPU per event delivered. An :class:`EventPlan` does the same work for the
selections that need nothing else: one root field whose events are objects of a type the
schema declares plain (:class:`PlainType`), and under it only fields it declares plain data
(leaves: scalars and enums, read as attributes) and ``__typename``, without arguments,
directives or fragments, each value coerced by its own GraphQL type as the executor does.

Whatever the plan does not cover takes the generic path: a selection with anything else
gets no plan, and an event the plan cannot complete cleanly (a null where the type forbids
it, a value its type does not serialise, an object of another class, anything raising) is
executed by graphql-core as before, which reports the error as it always did. Middleware
(a schema extension that wraps resolvers) and execution hooks also mean no plan.

Only graphql-core's public API is used: :class:`PlannedExecutor` is an ``executor_class``
(``execute``'s and ``subscribe``'s documented parameter, which strawberry's
``execution_context_class`` passes on) overriding the documented
``Executor.build_per_event_executor`` and ``Executor.execute_operation``. Which fields are
plain is our declaration, not read out of strawberry's field definitions;
``tests/unit/test_subscription_events.py`` checks it against the types and the executor.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, NamedTuple

from graphql import (
    ExecutionResult,
    FieldNode,
    GraphQLLeafType,
    GraphQLObjectType,
    OperationType,
    Undefined,
    is_leaf_type,
    is_non_null_type,
)
from graphql.execution import Executor


class PlainType(NamedTuple):
    """A GraphQL object type whose events a plan may complete: its class and its plain fields."""

    cls: type
    fields: Mapping[str, str]  # GraphQL field name -> attribute, each a leaf read as it is


class _Leaf(NamedTuple):
    key: str
    attribute: str | None  # None: __typename
    type: GraphQLLeafType | None
    non_null: bool


class EventPlan:
    """Complete one event of a plain subscription selection, or say it cannot."""

    def __init__(
        self,
        root_key: str,
        cls: type,
        type_name: str,
        leaves: list[_Leaf],
        is_awaitable: Callable[[Any], bool],
    ) -> None:
        self._root_key = root_key
        self._cls = cls
        self._type_name = type_name
        self._leaves = leaves
        self._is_awaitable = is_awaitable

    def complete(self, payload: Any) -> dict[str, Any] | None:
        """Return the event's data, or None to leave the event to the generic executor."""
        try:
            return self._complete(payload)
        except Exception:  # the executor reports it properly
            return None

    def _complete(self, source: Any) -> dict[str, Any] | None:
        # The event is the root field's value (a subscription field resolves each event to
        # itself); anything but an object of the declared class is the executor's business.
        if type(source) is not self._cls:
            return None
        out: dict[str, Any] = {}
        for key, attribute, leaf_type, non_null in self._leaves:
            if attribute is None:
                out[key] = self._type_name
                continue
            value = getattr(source, attribute)
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


_UNPLANNED: Any = object()


class PlannedExecutor(Executor[Any]):
    """graphql-core's executor, completing the events of plain subscription selections by plan.

    Subclasses name the plain types in :attr:`plain_types`. Each event also gets an executor
    built anew rather than copied: a copy shared the subscription's memo of collected
    subfields, keyed by lists made anew for each event, so a long-lived subscription grew by
    a few objects per event without bound.
    """

    plain_types: ClassVar[Mapping[str, PlainType]] = {}

    def __init__(self, *args: Any, operation_extensions: Any = None, **kwargs: Any) -> None:
        """Build as graphql-core does; keep the request's ``extensions`` strawberry passes."""
        super().__init__(*args, **kwargs)
        self.operation_extensions = operation_extensions
        self.event_plan: EventPlan | None = _UNPLANNED

    def build_per_event_executor(self, payload: Any) -> Executor[Any]:
        """Return a fresh executor for one event, carrying the subscription's plan."""
        if self.event_plan is _UNPLANNED:
            self.event_plan = event_plan(self, self.plain_types)
        executor = type(self)(
            self.schema,
            self.fragment_definitions,
            self.fragments,
            payload,
            self.context_value,
            self.operation,
            self.variable_values,
            self.field_resolver,
            self.type_resolver,
            self.subscribe_field_resolver,
            enable_early_execution=self.enable_early_execution,
            middleware_manager=self.middleware_manager,
            is_awaitable=self.is_awaitable,
            is_async_iterable=self.is_async_iterable,
            hide_suggestions=self.hide_suggestions,
            abort_signal=self.abort_signal,
            hooks=self.hooks,
            operation_extensions=self.operation_extensions,
        )
        executor.event_plan = self.event_plan
        return executor

    def execute_operation(self, serially: bool | None = None) -> Any:
        """Complete a subscription event by its plan when it has one; else as graphql-core."""
        plan = self.event_plan
        if plan is not None and plan is not _UNPLANNED:
            signal = self.abort_signal
            if signal is None or not signal.aborted:
                data = plan.complete(self.root_value)
                if data is not None:
                    return ExecutionResult(data, None)
        return super().execute_operation(serially)


def event_plan(executor: Executor[Any], plain_types: Mapping[str, PlainType]) -> EventPlan | None:
    """Return a plan for the events of the executor's subscription, or None if it has none."""
    root = _root(executor)
    if root is None:
        return None
    node, object_type = root
    plain = plain_types.get(object_type.name)
    if plain is None or node.selection_set is None:
        return None
    leaves = _leaves(object_type, plain, node.selection_set.selections)
    if leaves is None:
        return None
    key = (node.alias or node.name).value
    return EventPlan(key, plain.cls, object_type.name, leaves, executor.is_awaitable)


def _root(executor: Executor[Any]) -> tuple[FieldNode, GraphQLObjectType] | None:
    """Return the subscription's one root field and its object type, when nothing wraps it."""
    middleware = executor.middleware_manager
    subscription = executor.schema.subscription_type
    operation = executor.operation
    if (middleware is not None and middleware.middlewares) or executor.hooks is not None:
        return None
    roots = operation.selection_set.selections
    if subscription is None or operation.operation is not OperationType.SUBSCRIPTION:
        return None
    if len(roots) != 1 or not isinstance(roots[0], FieldNode) or roots[0].directives:
        return None
    node = roots[0]
    field = subscription.fields.get(node.name.value)
    if field is None:
        return None
    field_type: Any = field.type
    object_type = field_type.of_type if is_non_null_type(field_type) else field_type
    if not isinstance(object_type, GraphQLObjectType):
        return None
    return node, object_type


def _leaves(
    object_type: GraphQLObjectType, plain: PlainType, selections: Any
) -> list[_Leaf] | None:
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
        attribute = plain.fields.get(name)
        field = object_type.fields.get(name)
        if attribute is None or field is None:
            return None
        field_type: Any = field.type
        non_null = is_non_null_type(field_type)
        leaf_type = field_type.of_type if non_null else field_type
        if not is_leaf_type(leaf_type):
            return None
        leaves.append(_Leaf(key, attribute, leaf_type, non_null))
    return leaves

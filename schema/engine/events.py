"""A subscription's events answered by one compiled reader each, without an executor per
event, on the fast path.

graphql-core answers each event by copying the executor and executing the operation
again with the event as its root value: the root fields collected, the root field's
arguments coerced anew, its resolver called (Strawberry's hands the event on as it is:
the arguments and the permission were the source's, asked once), a path and a resolve
info made, and the event's plans looked up again. For an event whose selection is one
compiled reader that was most of its time. When the operation's root field hands the
event on as it is, and the event's selection compiles to one reader (``plan``), each
event is answered by that reader, and noted as the general path notes it (its type's
``@discloses``, then each object below through the reader). An event the reader cannot
answer exactly (``Fallback``, an error: told to the observer) is declined, and takes
graphql-core's own path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from graphql import ExecutionResult, GraphQLError, GraphQLNonNull, GraphQLObjectType
from graphql.execution.collect_fields import collect_fields

from schema.engine.observer import reader_failed
from schema.engine.plan import is_type

if TYPE_CHECKING:
    from schema.engine.execution import PlainFieldsExecutionContext

# An event answered, or None: declined, for graphql-core's path.
EventReader = Callable[[Any], ExecutionResult | None]


def _hands_on_the_event(resolve: Any) -> bool:
    """Whether the root field's per-event resolver returns the event it is given."""
    if resolve is None:
        return False
    probe = object()
    try:
        return resolve(probe, None) is probe
    except Exception:
        return False


def event_reader(executor: PlainFieldsExecutionContext) -> EventReader | None:
    """How to answer each event of the executor's subscription, or None if only
    graphql-core's per-event execution can."""
    schema, operation = executor.schema, executor.operation
    root_type = schema.subscription_type
    if root_type is None:
        return None
    try:
        grouped, deferred, _ = collect_fields(
            schema, executor.fragments, executor.variable_values, root_type, operation
        )
    except (GraphQLError, RecursionError):  # the per-event path reports it, as it would
        return None
    if len(grouped) != 1 or deferred:
        return None
    ((key, details),) = grouped.items()
    field_def = schema.get_field(root_type, details[0].node.name.value)
    if field_def is None or not _hands_on_the_event(field_def.resolve):
        return None
    event_type = field_def.type
    event_type = event_type.of_type if isinstance(event_type, GraphQLNonNull) else event_type
    if not isinstance(event_type, GraphQLObjectType):
        return None
    selection = executor.collect_subfields(event_type, details)[0]
    reader = executor._plan(event_type, selection).reader
    if reader is None:
        return None
    return _reading(executor, key, event_type, reader)


def _reading(
    executor: PlainFieldsExecutionContext, key: str, event_type: GraphQLObjectType, reader: Any
) -> EventReader:
    context, observer = executor.context_value, executor._observer
    note = executor._notes.get(event_type.name)
    access = executor._access

    def read(event: Any) -> ExecutionResult | None:
        if event is None or not is_type(event_type, event):
            return None
        try:
            data = reader(event, context)
        except Exception as error:  # the general path answers it exactly
            reader_failed(observer, event_type.name, error)
            return None
        if note is not None and access is not None:
            note(access, event)
        return ExecutionResult({key: data}, None)

    return read

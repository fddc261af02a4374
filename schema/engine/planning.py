"""Which plan answers a selection, for the fast path's execution (``schema.engine.execution``).

A plan (``schema.engine.plan``) says, field by field, how a grouped field set is read,
and holds the compiled reader of a selection that is plain all the way down. It is made
once per request and grouped field set; for a cached document whose selections do not
depend on the request, once per set of permission answers (in practice, per tier), and
then shared by later requests of callers whom every permission answers alike.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from graphql import GraphQLObjectType

from schema.engine.disclosure import Note
from schema.engine.plan import PlainField, SelectionReader, compile_reader, plan_field
from schema.engine.stock import NotingExecutionContext

SHARED_PLANS = 4096


class _Plan(NamedTuple):
    pinned: Any  # what the plan's key is made of, kept alive so no id in it is reused
    fields: list[PlainField]
    reader: SelectionReader | None


# Plans shared between requests, by the selection's field nodes in a cached document
# and what the caller is granted: the same query text is planned once per set of
# permission answers (in practice, per tier), not once per request.
_shared: dict[tuple[Any, ...], _Plan] = {}


class PlanningExecutionContext(NotingExecutionContext):
    """Strawberry's execution context, noting (``schema.engine.stock``), with the plans
    of the selections it executes."""

    def __init__(
        self,
        *args: Any,
        shared_plans: bool = False,
        gates: tuple[Any, ...] | None = None,
        **kwargs: Any,
    ) -> None:
        """``shared_plans``: the document is cached and its selections do not depend on
        the request (``schema.selection.varies_by_request``), so plans may serve later
        requests of callers whom each of the schema's ``gates`` (``plan.gates``) answers
        alike; without ``gates`` no plan is shared."""
        super().__init__(*args, **kwargs)
        self._plans: dict[int, _Plan] = {}  # by grouped field set, memoized per selection
        self._shared_plans = shared_plans and gates is not None
        viewer = getattr(self.context_value, "viewer", None)
        self._viewer = viewer
        # What plans depend on of the caller: every permission's answer (a tier, roles).
        self._grants: tuple[bool, ...] | None = None
        if self._shared_plans and viewer is not None:
            self._grants = tuple([gate.allows(viewer) for gate in gates or ()])

    def _plan(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> _Plan:
        plan = self._plans.get(id(grouped_field_set))
        if plan is not None:
            return plan
        if not self._shared_plans:
            plan = self._new_plan(parent_type, grouped_field_set, grouped_field_set)
        else:
            nodes = tuple(item.node for group in grouped_field_set.values() for item in group)
            key = (parent_type.name, self._grants, *map(id, nodes))
            plan = _shared.get(key) or self._new_plan(parent_type, grouped_field_set, nodes)
            if key not in _shared:
                if len(_shared) >= SHARED_PLANS:
                    del _shared[next(iter(_shared))]
                _shared[key] = plan
        self._plans[id(grouped_field_set)] = _Plan(grouped_field_set, plan.fields, plan.reader)
        return plan

    def _new_plan(self, parent_type: GraphQLObjectType, grouped_field_set: Any, pin: Any) -> _Plan:
        fields = [
            plan_field(self.schema, parent_type, key, details, self._viewer)
            for key, details in grouped_field_set.items()
        ]
        return _Plan(pin, fields, compile_reader(fields, self._sub_reader))

    def _sub_reader(self, field: PlainField) -> SelectionReader | None:
        assert field.object_type is not None
        grouped_field_set = self.collect_subfields(field.object_type, field.details)[0]
        reader = self._plan(field.object_type, grouped_field_set).reader
        note = self._notes.get(field.object_type.name)
        if reader is None or note is None:
            return reader
        return _noting(reader, note)


def _noting(reader: SelectionReader, note: Note) -> SelectionReader:
    """A compiled reader that notes its object in the request's access record first."""

    def read(source: Any, context: Any) -> dict[str, Any]:
        note(context.access, source)
        return reader(source, context)

    return read

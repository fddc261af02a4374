"""graphql-core's own execution, as Strawberry runs it, with the access log's noting.

The stock engine (``VASTFOLKET_ENGINE=stock``) is the reference the fast path is held
to, and an operator's switch should the fast path ever be in doubt. It changes nothing
of graphql-core's execution but this: every object completed whose type declares a
disclosure (``schema.engine.disclosure``) is noted in the request's access record, as
the fast path notes it: the audit does not depend on the engine.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLObjectType
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from resolvers.audit.access_log import AccessRecord
from schema.engine.disclosure import Notes


class NotingExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context, noting each disclosing object it completes.

    ``notes``: the table ``schema.engine.disclosure.notes`` made of the schema (required:
    an execution that could not note what it shows must not run).
    """

    def __init__(self, *args: Any, notes: Notes, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._notes = notes
        self._access: AccessRecord | None = getattr(self.context_value, "access", None)

    def note(self, parent_type: GraphQLObjectType, source_value: Any) -> None:
        """Note the object in the access record if its type declares a disclosure."""
        note = self._notes.get(parent_type.name)
        if note is not None and self._access is not None:
            note(self._access, source_value)

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        # Every object graphql-core completes has its fields executed here.
        self.note(parent_type, source_value)
        return super().execute_fields(
            parent_type, source_value, path, grouped_field_set, position_context
        )


class StockExecutionContext(NotingExecutionContext):
    """The stock engine's context: graphql-core's execution, noted, nothing else."""

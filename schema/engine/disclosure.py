"""What an object type discloses, declared on the type and noted by both engines.

A Strawberry type whose objects show a person (a record, or only their number) says so
where it is declared, with how one object is noted in the request's access record::

    @discloses(AccessRecord.saw)
    @strawberry.type(description=...)
    class Person: ...

and a type that shows a number without disclosing anyone says why, with
``@discloses_nothing("...")``. ``notes(schema)`` reads these declarations once, when an
engine is built for the schema; the execution contexts note every object they complete
through that table. A type with a ``personnummer`` field that declares neither is
refused there: a new type that shows a number cannot go unaudited by omission.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from graphql import GraphQLObjectType, GraphQLSchema

from resolvers.audit.access_log import AccessRecord

# How one completed object of a type is noted: note(record, the object's value).
Note = Callable[[AccessRecord, Any], None]
Notes = Mapping[str, Note]  # by GraphQL type name, derived from the declarations

DECLARED = "__vastfolket_discloses__"  # the class attribute the decorators set
STRAWBERRY_DEFINITION = "strawberry-definition"  # how a GraphQL type names its declaration
# A field of this name shows a person's number: its type must declare what it discloses.
NUMBER_FIELD = "personnummer"

T = TypeVar("T", bound=type)


class UndeclaredDisclosure(TypeError):
    """A type shows a personnummer but does not declare what it discloses."""


def discloses(note: Note) -> Callable[[T], T]:
    """Every object of the decorated type that an answer holds is noted with ``note``."""

    def declare(cls: T) -> T:
        setattr(cls, DECLARED, note)
        return cls

    return declare


def discloses_nothing(reason: str) -> Callable[[T], T]:
    """The decorated type shows a number but no one's data (``reason`` says why)."""

    def declare(cls: T) -> T:
        setattr(cls, DECLARED, None)
        return cls

    return declare


def notes(schema: GraphQLSchema) -> dict[str, Note]:
    """The note of every object type that declares one, by type name.

    Raises:
        UndeclaredDisclosure: a type has a ``personnummer`` field and no declaration.
    """
    table: dict[str, Note] = {}
    for name, graphql_type in schema.type_map.items():
        if not isinstance(graphql_type, GraphQLObjectType) or name.startswith("__"):
            continue
        origin = getattr(graphql_type.extensions.get(STRAWBERRY_DEFINITION), "origin", None)
        if not hasattr(origin, DECLARED):
            if NUMBER_FIELD in graphql_type.fields:
                raise UndeclaredDisclosure(
                    f"{name} shows a {NUMBER_FIELD} but declares neither @discloses(...) "
                    "nor @discloses_nothing(...): say how the access log notes it"
                )
            continue
        note = getattr(origin, DECLARED)
        if note is not None:
            table[name] = note
    return table

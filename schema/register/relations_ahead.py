"""Relations read ahead: which fields of a person show relations, and loading them for a
whole lookup or page in one statement before the fields resolve.

Which fields show relations is read from the ``Person`` type itself (the fields that
answer from relations read ahead), so a relation field added there is loaded ahead too.
"""

from __future__ import annotations

from strawberry.schema.name_converter import NameConverter
from strawberry.types import Info, get_object_definition

from resolvers.register.relations import person_with_relations, relations_of
from resolvers.register.rows import PersonRow
from schema.engine.plan import READ_AHEAD
from schema.register.person import Person
from schema.selection import selected_below

RELATION_FIELDS = frozenset(
    NameConverter().from_field(field)
    for field in get_object_definition(Person, strict=True).fields
    if READ_AHEAD in field.metadata
)

# Person fields that do not read the person's addresses. Any other field asked of a
# related person (an address, or a field added later) makes its addresses load.
PERSON_FIELDS_WITHOUT_ADDRESSES = RELATION_FIELDS | {
    "__typename", "personnummer", "formerPersonnummer", "isCoordinationNumber", "gender",
    "birthDate", "firstNames", "givenName", "givenNameCode", "middleName", "lastName", "status",
    "source", "fetchedAt", "personnummer10", "personnummer11", "personnummer13",
    "movedInDate", "keyCode", "civilStatus", "deregistration",
}  # fmt: skip


def selects_relations(info: Info, *path: str) -> bool:
    return not RELATION_FIELDS.isdisjoint(selected_below(info, *path))


def related_persons_need_addresses(info: Info, *path: str) -> bool:
    """Whether the query asks for an address (or anything but plain fields) of a person
    related to the one(s) at ``path``: if not, their addresses need not be read."""
    return any(
        not selected_below(info, *path, relation, "person") <= PERSON_FIELDS_WITHOUT_ADDRESSES
        for relation in RELATION_FIELDS
    )


async def load_with_relations(info: Info, personnummer: str) -> PersonRow | None:
    """A person and their relations in one statement, when the query asks for both."""
    context = info.context
    row, relations = await person_with_relations(
        context.database.read,
        context.viewer.tier,
        personnummer,
        related_addresses=related_persons_need_addresses(info),
    )
    if row is not None:
        context.relations_ahead[row.id] = relations  # the relation fields read them at once
    return row


async def load_relations_ahead(info: Info, persons: list[PersonRow], *path: str) -> None:
    """Load the relations of a whole list of persons (at ``path`` below the field) in one
    statement, so that each person's relation fields answer without awaiting."""
    context = info.context
    loaded = await relations_of(
        context.database.read,
        context.viewer.tier,
        [person.id for person in persons],
        related_addresses=related_persons_need_addresses(info, *path),
    )
    context.relations_ahead.update(loaded)

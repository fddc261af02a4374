"""Reading relations (spouse, partner, children, parents, guardians, wards)."""

from __future__ import annotations

import asyncpg
from aiodataloader import DataLoader

from resolvers.access import Tier
from resolvers.records import ADDRESS_JOINS, person_columns, person_from_record
from resolvers.rows import PersonRow, RelationRow

# Current relations with the related person (and their addresses) when they are in the
# register; visible_relation has already left out protected and coordination numbers.
RELATIONS_BY_PERSON_ID = {
    tier: f"""
SELECT
    r.person_id,
    r.kind,
    r.related_personnummer,
    r.valid_from,
    r.valid_to,
    {person_columns(tier)}
FROM visible_relation AS r
LEFT JOIN visible_person AS p ON p.personnummer = r.related_personnummer
{ADDRESS_JOINS}
WHERE r.person_id = ANY($1::bigint[])
  AND (r.valid_to IS NULL OR r.valid_to > current_date)
ORDER BY r.person_id, r.kind, r.related_personnummer
"""
    for tier in Tier
}


class RelationsByPersonIdLoader(DataLoader):
    """Relations of persons, each carrying the related person it points at."""

    def __init__(self, pool: asyncpg.Pool, tier: Tier, persons: DataLoader) -> None:
        super().__init__()
        self.pool = pool
        self.tier = tier
        self.persons = persons

    async def batch_load_fn(self, keys: list[int]) -> list[list[RelationRow]]:
        found: dict[int, list[RelationRow]] = {key: [] for key in keys}
        for record in await self.pool.fetch(RELATIONS_BY_PERSON_ID[self.tier], keys):
            person = person_from_record(record, self.tier, 5)
            if person is not None:
                self._remember(person)
            relation = RelationRow(*record[1:5], person=person)  # type: ignore[misc]
            found[record["person_id"]].append(relation)
        return [found[key] for key in keys]

    def _remember(self, person: PersonRow) -> None:
        """Later lookups of the same person by number need no statement."""
        self.persons.prime(person.personnummer, person)

"""Reading relations (spouse, partner, children, parents, guardians, wards)."""

from __future__ import annotations

import asyncpg
from aiodataloader import DataLoader

from resolvers.access import Tier
from resolvers.records import (
    PERSON_RECORD_WIDTH,
    address_joins,
    person_columns,
    person_from_record,
)
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
    {person_columns(tier, "rp")}
FROM visible_relation AS r
LEFT JOIN visible_person AS rp ON rp.personnummer = r.related_personnummer
{address_joins("rp")}
WHERE r.person_id = ANY($1::bigint[])
  AND (r.valid_to IS NULL OR r.valid_to > current_date)
ORDER BY r.person_id, r.kind, r.related_personnummer
"""
    for tier in Tier
}

# One person by number with their current relations: a lookup in one statement. One
# row per relation (or one row with NULL relation columns when there is none).
PERSON_WITH_RELATIONS = {
    tier: f"""
SELECT
    {person_columns(tier, "p")},
    r.kind,
    r.related_personnummer,
    r.valid_from,
    r.valid_to,
    {person_columns(tier, "rp")}
FROM visible_person AS p
{address_joins("p")}
LEFT JOIN visible_relation AS r
  ON r.person_id = p.id AND (r.valid_to IS NULL OR r.valid_to > current_date)
LEFT JOIN visible_person AS rp ON rp.personnummer = r.related_personnummer
{address_joins("rp")}
WHERE p.personnummer = $1
ORDER BY r.kind, r.related_personnummer
"""
    for tier in Tier
}


def _relation(record: asyncpg.Record, tier: Tier, start: int) -> RelationRow:
    person = person_from_record(record, tier, start + 4)
    return RelationRow(*record[start : start + 4], person=person)  # type: ignore[misc]


async def person_with_relations(
    pool: asyncpg.Pool, tier: Tier, personnummer: str
) -> tuple[PersonRow | None, list[RelationRow]]:
    """A visible person and their current relations, or (None, []) if not visible."""
    records = await pool.fetch(PERSON_WITH_RELATIONS[tier], personnummer)
    if not records:
        return None, []
    start = PERSON_RECORD_WIDTH[tier]
    relations = [_relation(record, tier, start) for record in records if record[start]]
    return person_from_record(records[0], tier), relations


class RelationsByPersonIdLoader(DataLoader):
    """Relations of persons, each carrying the related person it points at."""

    def __init__(self, pool: asyncpg.Pool, tier: Tier) -> None:
        super().__init__()
        self.pool = pool
        self.tier = tier

    async def batch_load_fn(self, keys: list[int]) -> list[list[RelationRow]]:
        found: dict[int, list[RelationRow]] = {key: [] for key in keys}
        for record in await self.pool.fetch(RELATIONS_BY_PERSON_ID[self.tier], keys):
            found[record["person_id"]].append(_relation(record, self.tier, 1))
        return [found[key] for key in keys]

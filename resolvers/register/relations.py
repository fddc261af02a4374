"""Reading relations (spouse, partner, children, parents, guardians, wards)."""

from __future__ import annotations

import asyncpg
from aiodataloader import DataLoader

from resolvers.domain.access import Tier
from resolvers.register.records import (
    PERSON_RECORD_WIDTH,
    RELATION_WIDTH,
    address_joins,
    person_columns,
    person_from_record,
    relation_outputs,
    select_list,
)
from resolvers.register.rows import PersonRow, RelationRow

_RELATION_COLUMNS = select_list(relation_outputs("rp"))

# Current relations with the related person (and, when asked for, their addresses) when
# they are in the register: visible_relation_person has already left out protected
# relatives and samordningsnummer, and joined each relation to its relative's record (one
# lookup). By (tier, whether the related persons' addresses are selected).
RELATIONS_BY_PERSON_ID = {
    (tier, addresses): f"""
SELECT
    rp.person_id,
    {_RELATION_COLUMNS},
    {person_columns(tier, "rp", addresses=addresses)}
FROM visible_relation_person AS rp
{address_joins("rp") if addresses else ""}
WHERE rp.person_id = ANY($1::bigint[])
  AND (rp.valid_to IS NULL OR rp.valid_to > current_date)
ORDER BY rp.person_id, rp.kind, rp.related_personnummer
"""
    for tier in Tier
    for addresses in (True, False)
}

# One person by number with their current relations: a lookup in one statement. One
# row per relation (or one row with NULL relation columns when there is none).
PERSON_WITH_RELATIONS = {
    (tier, addresses): f"""
SELECT
    {person_columns(tier, "p")},
    {_RELATION_COLUMNS},
    {person_columns(tier, "rp", addresses=addresses)}
FROM visible_person AS p
{address_joins("p")}
LEFT JOIN visible_relation_person AS rp
  ON rp.person_id = p.id AND (rp.valid_to IS NULL OR rp.valid_to > current_date)
{address_joins("rp") if addresses else ""}
WHERE p.personnummer = $1
ORDER BY rp.kind, rp.related_personnummer
"""
    for tier in Tier
    for addresses in (True, False)
}


def _relation(record: asyncpg.Record, tier: Tier, start: int, addresses: bool) -> RelationRow:
    end = start + RELATION_WIDTH
    person = person_from_record(record, tier, end, addresses=addresses)
    return RelationRow(*record[start:end], person=person)  # type: ignore[misc]


async def person_with_relations(
    pool: asyncpg.Pool, tier: Tier, personnummer: str, *, related_addresses: bool = True
) -> tuple[PersonRow | None, list[RelationRow]]:
    """A visible person and their current relations, or (None, []) if not visible.

    ``related_addresses=False`` when the query asks for no address of a related person:
    their three address joins are then left out.
    """
    sql = PERSON_WITH_RELATIONS[tier, related_addresses]
    records = await pool.fetch(sql, personnummer)
    if not records:
        return None, []
    start = PERSON_RECORD_WIDTH[tier]
    relations = [
        _relation(record, tier, start, related_addresses) for record in records if record[start]
    ]
    return person_from_record(records[0], tier), relations


async def relations_of(
    pool: asyncpg.Pool, tier: Tier, person_ids: list[int], *, related_addresses: bool = True
) -> dict[int, list[RelationRow]]:
    """The current relations of each person, in one statement."""
    found: dict[int, list[RelationRow]] = {key: [] for key in person_ids}
    for record in await pool.fetch(RELATIONS_BY_PERSON_ID[tier, related_addresses], person_ids):
        found[record["person_id"]].append(_relation(record, tier, 1, related_addresses))
    return found


class RelationsByPersonIdLoader(DataLoader):
    """Relations of persons, each carrying the related person it points at."""

    def __init__(self, pool: asyncpg.Pool, tier: Tier) -> None:
        super().__init__()
        self.pool = pool
        self.tier = tier

    async def batch_load_fn(self, keys: list[int]) -> list[list[RelationRow]]:
        found = await relations_of(self.pool, self.tier, keys)
        return [found[key] for key in keys]

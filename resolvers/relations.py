"""Reading relations (spouse, partner, children, parents, guardians, wards)."""

from __future__ import annotations

import asyncpg
from aiodataloader import DataLoader

from resolvers.rows import RelationRow

# Current relations only; the view leaves out those whose other end is protected.
RELATIONS_BY_PERSON_ID = """
SELECT
    person_id,
    kind,
    related_personnummer,
    valid_from,
    valid_to
FROM visible_relation
WHERE person_id = ANY($1::bigint[])
  AND (valid_to IS NULL OR valid_to > current_date)
ORDER BY person_id, kind, related_personnummer
"""


class RelationsByPersonIdLoader(DataLoader):
    def __init__(self, pool: asyncpg.Pool) -> None:
        super().__init__()
        self.pool = pool

    async def batch_load_fn(self, keys: list[int]) -> list[list[RelationRow]]:
        found: dict[int, list[RelationRow]] = {key: [] for key in keys}
        for record in await self.pool.fetch(RELATIONS_BY_PERSON_ID, keys):
            found[record["person_id"]].append(RelationRow(*tuple(record)[1:]))
        return [found[key] for key in keys]

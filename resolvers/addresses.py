"""Reading the three address kinds of persons."""

from __future__ import annotations

import asyncpg
from aiodataloader import DataLoader

from resolvers.rows import NO_ADDRESSES, AddressRow, PersonAddresses

ADDRESSES_BY_PERSON_ID = """
SELECT
    person_id,
    kind,
    care_of,
    line1,
    line2,
    line3,
    postal_code,
    postal_town,
    county_code,
    municipality_code,
    country
FROM address
WHERE person_id = ANY($1::bigint[])
"""

_SLOT = {"F": "registered", "S": "special", "U": "foreign"}


class AddressesByPersonIdLoader(DataLoader):
    """The addresses of visible persons (ids come only from visible-person rows)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        super().__init__()
        self.pool = pool

    async def batch_load_fn(self, keys: list[int]) -> list[PersonAddresses]:
        found: dict[int, dict[str, AddressRow]] = {}
        for record in await self.pool.fetch(ADDRESSES_BY_PERSON_ID, keys):
            slots = found.setdefault(record["person_id"], {})
            slots[_SLOT[record["kind"]]] = AddressRow(*tuple(record)[1:])
        return [PersonAddresses(**found[key]) if key in found else NO_ADDRESSES for key in keys]

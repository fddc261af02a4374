"""Reading persons: by number, by interval and by name.

Every query that returns person data reads the ``visible_person`` view, which leaves
protected persons and samordningsnummer out; the only read of the ``person`` table
itself is a direct lookup's, of a number no visible person has
(``resolvers.register.former_numbers``).
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
from aiodataloader import DataLoader

from resolvers.domain.access import Tier
from resolvers.register.records import ADDRESS_JOINS, person_columns, person_from_record
from resolvers.register.rows import Page, PersonRow


def _per_tier(template: str) -> dict[Tier, str]:
    return {
        tier: template.format(columns=person_columns(tier), address_joins=ADDRESS_JOINS)
        for tier in Tier
    }


PERSONS_BY_PERSONNUMMER = _per_tier(
    """
SELECT {columns}
FROM visible_person AS p
{address_joins}
WHERE p.personnummer = ANY($1::text[])
"""
)

PERSONS_IN_RANGE = _per_tier(
    """
SELECT {columns}
FROM visible_person AS p
{address_joins}
WHERE p.personnummer BETWEEN $1 AND $2
  AND p.personnummer > $3
ORDER BY p.personnummer
LIMIT $4
"""
)

# $1 last name, $2 first name, $3/$4 birth years, $5 postal town, $6 how many matches
# make a search too broad, $7 offset, $8 page size. Text is folded (lower case, no
# diacritics) as the indexed columns are. Returns one row even for an empty page,
# carrying the number of matches (at most $6). The criteria are folded once
# (MATERIALIZED): inlined, a generic plan would fold them again for every candidate row.
#
# A match is a person whose last name is trigram-similar to the one asked for (`%`) or
# equal to it, and, with a first name, whose first names hold one similar to it (`<%`).
# Equal implies similar (similarity 1) unless the name has no trigrams at all, so the
# equality is asked only then. A first name is asked of the trigram index together with
# the last name, and the rarer of the two leads: a common last name does not mean
# reading and rechecking every person with a similar one. One-time filters pick the
# branch, so one generic plan serves every search. At most $6 matches are taken, unranked:
# a search that finds more is refused, and one that finds fewer has them all to rank.
#
# Ranked (docs/queries.md): the exact last name first; then first names that begin with
# the first name asked for (2), have it as another of the first names (1), or neither
# (0); then similarity. strpos, not LIKE: the caller's text is never a pattern.
PERSONS_BY_NAME = _per_tier(
    """
WITH criteria AS MATERIALIZED (
    SELECT
        search_fold($1::text) AS last_name,
        search_fold($2::text) AS first_name,
        search_fold($5::text) AS postal_town,
        show_trgm(search_fold($1::text)) <> '{{}}' AS has_trigrams
),
candidates AS (
    SELECT p.id, p.personnummer, p.birth_date, p.search_last_name, p.search_first_names
    FROM criteria AS c
    JOIN visible_person AS p
      ON p.search_last_name % c.last_name
     AND c.first_name <% p.search_first_names
    WHERE $2::text IS NOT NULL
      AND c.has_trigrams
    UNION ALL
    SELECT p.id, p.personnummer, p.birth_date, p.search_last_name, p.search_first_names
    FROM criteria AS c
    JOIN visible_person AS p ON p.search_last_name % c.last_name
    WHERE $2::text IS NULL
      AND c.has_trigrams
    UNION ALL
    SELECT p.id, p.personnummer, p.birth_date, p.search_last_name, p.search_first_names
    FROM criteria AS c
    JOIN visible_person AS p ON p.search_last_name = c.last_name
    WHERE NOT c.has_trigrams
      AND (c.first_name IS NULL OR c.first_name <% p.search_first_names)
),
matches AS MATERIALIZED (
    SELECT m.id, m.personnummer, m.search_last_name, m.search_first_names
    FROM criteria AS c
    JOIN candidates AS m ON true
    WHERE ($3::int IS NULL OR m.birth_date >= make_date($3, 1, 1))
      AND ($4::int IS NULL OR m.birth_date < make_date($4 + 1, 1, 1))
      AND (c.postal_town IS NULL OR EXISTS (
          SELECT 1
          FROM address AS a
          WHERE a.person_id = m.id
            AND a.kind = 'F'
            AND search_fold(a.postal_town) = c.postal_town
      ))
    LIMIT $6
),
total AS MATERIALIZED (
    SELECT count(*) AS total
    FROM matches
),
ranked AS (
    SELECT
        m.id,
        m.personnummer,
        m.search_last_name = c.last_name AS exact_last_name,
        CASE
            WHEN strpos(m.search_first_names || ' ', c.first_name || ' ') = 1 THEN 2
            WHEN strpos(' ' || m.search_first_names || ' ', ' ' || c.first_name || ' ') > 0
            THEN 1
            ELSE 0
        END AS exact_first_name,
        similarity(m.search_last_name, c.last_name)
            + coalesce(word_similarity(c.first_name, m.search_first_names), 0) AS score
    FROM criteria AS c
    JOIN matches AS m ON true
    WHERE (SELECT total FROM total) < $6
    ORDER BY exact_last_name DESC, exact_first_name DESC, score DESC, m.personnummer
    OFFSET $7
    LIMIT $8
)
SELECT (SELECT total FROM total) AS total, page.*
FROM (SELECT 1) AS one
LEFT JOIN LATERAL (
    SELECT {columns}
    FROM ranked AS r
    JOIN visible_person AS p ON p.id = r.id
    {address_joins}
    ORDER BY r.exact_last_name DESC, r.exact_first_name DESC, r.score DESC, p.personnummer
) AS page ON true
"""
)


class PersonByPersonnummerLoader(DataLoader):
    """Visible persons by canonical personnummer; None for unknown or protected."""

    def __init__(self, pool: asyncpg.Pool, tier: Tier) -> None:
        super().__init__()
        self.pool = pool
        self.tier = tier

    async def batch_load_fn(self, keys: list[str]) -> list[PersonRow | None]:
        records = await self.pool.fetch(PERSONS_BY_PERSONNUMMER[self.tier], keys)
        rows = [person_from_record(record, self.tier) for record in records]
        by_number = {row.personnummer: row for row in rows if row is not None}
        return [by_number.get(key) for key in keys]


async def persons_in_range(
    pool: asyncpg.Pool, tier: Tier, low: str, high: str, first: int, after: str
) -> Page:
    """Visible persons with ``low <= personnummer <= high`` after ``after``, in order."""
    records = await pool.fetch(PERSONS_IN_RANGE[tier], low, high, after, first + 1)
    rows = [_person(record, tier) for record in records[:first]]
    return Page(rows, [row.personnummer for row in rows], len(records) > first)


def _person(record: asyncpg.Record, tier: Tier, start: int = 0) -> PersonRow:
    row = person_from_record(record, tier, start)
    assert row is not None
    return row


@dataclass(frozen=True, slots=True)
class NameSearch:
    """Name search criteria as the caller typed them."""

    last_name: str
    first_name: str | None = None
    birth_year_from: int | None = None
    birth_year_to: int | None = None
    postal_town: str | None = None


@dataclass(frozen=True, slots=True)
class NameSearchResult:
    matches: int
    page: Page


async def search_by_name(
    pool: asyncpg.Pool, tier: Tier, search: NameSearch, max_matches: int, offset: int, first: int
) -> NameSearchResult:
    """Rank visible persons by name similarity; count up to ``max_matches + 1`` matches."""
    records = await pool.fetch(
        PERSONS_BY_NAME[tier],
        search.last_name,
        search.first_name,
        search.birth_year_from,
        search.birth_year_to,
        search.postal_town,
        max_matches + 1,
        offset,
        first + 1,
    )
    found = [_person(record, tier, 1) for record in records if record["p_id"] is not None]
    rows = found[:first]
    cursors = [str(offset + index + 1) for index in range(len(rows))]
    return NameSearchResult(records[0]["total"], Page(rows, cursors, len(found) > first))

"""``python -m tests.bench.search_before <uvicorn arguments>``: the API with the name
search statement it sent before migration 0008, for the benchmark's ``--peer
search-before`` only.

Everything else is the product as it runs; only ``search_by_name`` sends the previous
statement (kept here as it was), so the difference between the two servers is the
search's design. Both read the same database, with 0008's indexes: the previous
statement's last-name condition reads the first column of the names' trigram index
just as it read the index of its own (docs/performance.md has both measured).
"""

from __future__ import annotations

import asyncpg
from uvicorn.main import main

from resolvers.domain.access import Tier
from resolvers.register import persons
from resolvers.register.persons import NameSearch, NameSearchResult, _per_tier, _person
from resolvers.register.rows import Page

# Migration 0001's index on last names, as it was.
OWN_INDEX = """
CREATE INDEX IF NOT EXISTS person_search_last_name_trgm ON person
USING gin (search_last_name gin_trgm_ops)
"""
DROP_OWN_INDEX = "DROP INDEX IF EXISTS person_search_last_name_trgm"

# resolvers/register/persons.py PERSONS_BY_NAME as of commit a8b045a.
PERSONS_BY_NAME_BEFORE = _per_tier(
    """
WITH criteria AS MATERIALIZED (
    SELECT
        search_fold($1::text) AS last_name,
        search_fold($2::text) AS first_name,
        search_fold($5::text) AS postal_town
),
matches AS (
    SELECT
        p.id,
        p.search_last_name = c.last_name AS exact_last_name,
        CASE
            WHEN strpos(p.search_first_names || ' ', c.first_name || ' ') = 1 THEN 2
            WHEN strpos(' ' || p.search_first_names || ' ', ' ' || c.first_name || ' ') > 0
            THEN 1
            ELSE 0
        END AS exact_first_name,
        similarity(p.search_last_name, c.last_name)
            + coalesce(word_similarity(c.first_name, p.search_first_names), 0) AS score
    FROM criteria AS c
    JOIN visible_person AS p
      ON p.search_last_name % c.last_name OR p.search_last_name = c.last_name
    WHERE (c.first_name IS NULL OR c.first_name <% p.search_first_names)
      AND ($3::int IS NULL OR p.birth_date >= make_date($3, 1, 1))
      AND ($4::int IS NULL OR p.birth_date < make_date($4 + 1, 1, 1))
      AND (c.postal_town IS NULL OR EXISTS (
          SELECT 1
          FROM address AS a
          WHERE a.person_id = p.id
            AND a.kind = 'F'
            AND search_fold(a.postal_town) = c.postal_town
      ))
    ORDER BY exact_last_name DESC, exact_first_name DESC, score DESC, p.personnummer
    LIMIT $6
)
SELECT (SELECT count(*) FROM matches) AS total, page.*
FROM (SELECT 1) AS one
LEFT JOIN LATERAL (
    SELECT {columns}
    FROM matches AS m
    JOIN visible_person AS p ON p.id = m.id
    {address_joins}
    ORDER BY m.exact_last_name DESC, m.exact_first_name DESC, m.score DESC, p.personnummer
    OFFSET $7
    LIMIT $8
) AS page ON true
"""
)


async def search_by_name_before(
    pool: asyncpg.Pool,
    tier: Tier,
    search: NameSearch,
    max_matches: int,
    offset: int,
    first: int,
) -> NameSearchResult:
    """``persons.search_by_name`` as it was, sending the previous statement."""
    records = await pool.fetch(
        PERSONS_BY_NAME_BEFORE[tier],
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


if __name__ == "__main__":
    persons.search_by_name = search_by_name_before
    main()

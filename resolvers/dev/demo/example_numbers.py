"""``examples``: personnummer of each interesting kind, read from a loaded register."""

from __future__ import annotations

import asyncpg

EXAMPLES_PER_KIND = 3

ORDINARY_ADULT_NUMBERS = """
SELECT p.personnummer
FROM visible_person AS p
JOIN address AS a ON a.person_id = p.id AND a.kind = 'F'
WHERE p.deregistration_code IS NULL
  AND p.birth_date <= current_date - interval '18 years'
  AND p.birth_date > current_date - interval '100 years'  -- "+" numbers are not ordinary
  AND NOT EXISTS (SELECT 1 FROM address AS s WHERE s.person_id = p.id AND s.kind = 'S')
ORDER BY p.personnummer
LIMIT $1
"""
CHILD_WITH_TWO_GUARDIANS_NUMBERS = """
SELECT p.personnummer
FROM visible_person AS p
JOIN relation AS r ON r.person_id = p.id AND r.kind = 'V' AND r.valid_to IS NULL
JOIN visible_person AS g ON g.personnummer = r.related_personnummer
WHERE p.deregistration_code IS NULL
  AND p.birth_date > current_date - interval '18 years'
GROUP BY p.personnummer
HAVING count(*) = 2
ORDER BY p.personnummer
LIMIT $1
"""
SPECIAL_POSTAL_ADDRESS_NUMBERS = """
SELECT p.personnummer
FROM visible_person AS p
JOIN address AS a ON a.person_id = p.id AND a.kind = 'S'
WHERE p.deregistration_code IS NULL
ORDER BY p.personnummer
LIMIT $1
"""
DEREGISTERED_NUMBERS = """
SELECT p.personnummer
FROM visible_person AS p
WHERE p.deregistration_code = $2
ORDER BY p.personnummer
LIMIT $1
"""
# Protected persons are not in visible_person: this one reads the table on purpose.
PROTECTED_NUMBERS = """
SELECT p.personnummer
FROM person AS p
WHERE p.protection IS NOT NULL
ORDER BY p.personnummer
LIMIT $1
"""
EXAMPLE_QUERIES: dict[str, tuple[str, tuple[str, ...]]] = {  # kind: (SQL, arguments after $1)
    "ordinary_adult": (ORDINARY_ADULT_NUMBERS, ()),
    "child_with_two_guardians": (CHILD_WITH_TWO_GUARDIANS_NUMBERS, ()),
    "special_postal_address": (SPECIAL_POSTAL_ADDRESS_NUMBERS, ()),
    "emigrated": (DEREGISTERED_NUMBERS, ("UV",)),
    "deceased": (DEREGISTERED_NUMBERS, ("AV",)),
    "protected": (PROTECTED_NUMBERS, ()),
}


async def examples(connection: asyncpg.Connection) -> dict[str, list[str]]:
    """Up to ``EXAMPLES_PER_KIND`` personnummer of each kind, read from the loaded register."""
    found: dict[str, list[str]] = {}
    for kind, (sql, arguments) in EXAMPLE_QUERIES.items():
        rows = await connection.fetch(sql, EXAMPLES_PER_KIND, *arguments)
        found[kind] = [row["personnummer"] for row in rows]
    return found

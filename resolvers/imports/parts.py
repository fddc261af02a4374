"""A round's addresses and relations as the records leave them, and whether they changed.

``import_address`` and ``import_relation`` hold the lists each changing record brings
(a total record, or one that carries the part); a part changed when the stored rows and
the new ones differ as sets (EXCEPT compares NULLs as equal, as the register means them).
"""

from __future__ import annotations

from resolvers.imports.staging import ADDRESS_FIELDS, ADDRESS_KINDS

ADDRESS_COLUMNS = ", ".join(("kind", *ADDRESS_FIELDS))
RELATION_COLUMNS = "kind, related_personnummer, valid_from, valid_to"

# A person's registered municipality, four digits: the county and municipality code of
# their folkbokföringsadress (``a``, kind F), as the change feed's municipality filter
# reads it; NULL without one. An event that takes a person out of it names it
# (``change_event.municipality_before``).
MUNICIPALITY = "a.county_code || a.municipality_code"
# The same of the person whose id is ``{person_id}``.
_REGISTERED_IN = f"""(
    SELECT {MUNICIPALITY}
    FROM address AS a
    WHERE a.person_id = {{person_id}}
      AND a.kind = 'F'
)"""


def registered_in(person_id: str) -> str:
    """A subquery: the registered municipality of the person ``person_id`` names."""
    return _REGISTERED_IN.format(person_id=person_id)


def _address_values(record: str) -> str:
    """The record's three addresses as rows of (kind, fields…): one per kind."""
    rows = (
        "('{kind}', {fields})".format(
            kind=kind,
            fields=", ".join(f"{record}.{kind.lower()}_{name}" for name in ADDRESS_FIELDS),
        )
        for kind in ADDRESS_KINDS
    )
    return ",\n        ".join(rows)


# The addresses of records whose part is new (kinds not delivered are not rows). Also
# what the fast path writes: ``ADDRESS_VALUES`` is the lateral list for a staged row r.
ADDRESS_VALUES = f"""CROSS JOIN LATERAL (
    VALUES
        {_address_values("r")}
) AS a ({ADDRESS_COLUMNS})"""

NEW_ADDRESSES = f"""
CREATE TEMP TABLE import_address ON COMMIT DROP AS
SELECT n.post_id, a.*
FROM import_next AS n
JOIN import_record AS r ON r.post_id = n.post_id
{ADDRESS_VALUES}
WHERE n.new_addresses
  AND a.kind = ANY (r.address_kinds)
"""


def _columns(alias: str, columns: str) -> str:
    return ", ".join(f"{alias}.{column.strip()}" for column in columns.split(","))


def _differ(table: str, staged: str, columns: str, part: str) -> str:
    """``differ``: the rows of the round's updates whose ``part`` (addresses, relations)
    differs from what ``table`` stores, the stored rows and the ``staged`` ones compared
    as sets."""
    return f"""
WITH stored AS (
    SELECT n.post_id, {_columns("s", columns)}
    FROM import_next AS n
    JOIN {table} AS s ON s.person_id = n.person_id
    WHERE n.new_{part} AND n.action = 'UPDATE'
), wanted AS (
    SELECT w.*
    FROM {staged} AS w
    JOIN import_next AS n ON n.post_id = w.post_id
    WHERE n.action = 'UPDATE'
), differ AS (
    (SELECT * FROM stored EXCEPT ALL SELECT * FROM wanted)
    UNION ALL
    (SELECT * FROM wanted EXCEPT ALL SELECT * FROM stored)
)"""


def part_changed(table: str, staged: str, columns: str, part: str) -> str:
    """Marks the round's updates whose ``part`` differs from what ``table`` stores."""
    return f"""{_differ(table, staged, columns, part)}
UPDATE import_next
SET {part}_changed = true
WHERE post_id IN (SELECT post_id FROM differ)
"""


def part_replaced(table: str, staged: str, columns: str, part: str) -> tuple[str, str]:
    """The statements that replace ``part`` of the round's persons who get it anew: the
    stored rows of a changed part go, the staged ones of a new or changed person come."""
    delete = f"""
DELETE FROM {table} AS s
USING import_next AS n
WHERE s.person_id = n.person_id
  AND n.{part}_changed
"""
    insert = f"""
INSERT INTO {table} (person_id, {columns})
SELECT n.person_id, {_columns("w", columns)}
FROM {staged} AS w
JOIN import_next AS n ON n.post_id = w.post_id
WHERE n.action <> 'UPDATE' OR n.{part}_changed
"""
    return delete, insert


ADDRESSES_CHANGED = part_changed("address", "import_address", ADDRESS_COLUMNS, "addresses")

# A relation whose relative is protected is never stored (their relatives' rows pointing
# at them are purged too); of two relations of one kind to one relative (married twice
# to the same person) the register keeps one: the open one, else the latest.
RELATION_OF_ONE_KIND = """
    AND NOT EXISTS (
        SELECT 1
        FROM person AS q
        WHERE q.personnummer = u.related_personnummer
          AND q.protection IS NOT NULL
    )"""
# A record's relations, each to the number its relative uses now: a number replaced by
# another (former_personnummer) is stored as the one that replaced it, as the rows that
# named it were moved when it was replaced.
RELATIONS_UNNESTED = """CROSS JOIN LATERAL unnest(
    r.relation_kinds, r.relation_numbers, r.relation_from, r.relation_to
) AS d (kind, delivered_personnummer, valid_from, valid_to)
LEFT JOIN former_personnummer AS f ON f.personnummer = d.delivered_personnummer
CROSS JOIN LATERAL (
    SELECT
        d.kind, coalesce(f.current_personnummer, d.delivered_personnummer),
        d.valid_from, d.valid_to
) AS u (kind, related_personnummer, valid_from, valid_to)"""
PREFERRED_RELATION = (
    "u.kind, u.related_personnummer, u.valid_to DESC NULLS FIRST, u.valid_from DESC"
)

NEW_RELATIONS = f"""
CREATE TEMP TABLE import_relation ON COMMIT DROP AS
SELECT DISTINCT ON (n.post_id, u.kind, u.related_personnummer)
    n.post_id, u.kind, u.related_personnummer, u.valid_from, u.valid_to
FROM import_next AS n
JOIN import_record AS r ON r.post_id = n.post_id
{RELATIONS_UNNESTED}
WHERE n.new_relations
{RELATION_OF_ONE_KIND}
ORDER BY n.post_id, {PREFERRED_RELATION}
"""

# As part_changed, keeping the relatives whose rows differ: the feed lists RELATIONS only
# while one of them can be seen (migration 0015), so that a relation to someone protected
# later in the file, or in a later one, tells nothing of them.
RELATIONS_CHANGED = f"""{_differ("relation", "import_relation", RELATION_COLUMNS, "relations")}
, changed AS (
    SELECT post_id, array_agg(DISTINCT related_personnummer) AS relatives
    FROM differ
    GROUP BY post_id
)
UPDATE import_next AS n
SET relations_changed = true,
    relatives = c.relatives
FROM changed AS c
WHERE n.post_id = c.post_id
"""

ANALYZE_PARTS = "ANALYZE import_address, import_relation"

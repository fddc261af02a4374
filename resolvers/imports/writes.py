"""The statements that write a round's plan into the register and its change events.

Each reads ``import_plan`` / ``import_next`` (``resolvers.imports.plan``) and the parts
(``resolvers.imports.parts``); ``$1`` is, where it appears, the full delivery carrying
the records (NULL for a change notice) or the ledger row of the file, and ``$2`` the
file's order (BestallningsId), stored beside the PostId.
"""

from __future__ import annotations

from resolvers.imports import registered
from resolvers.imports.parts import (
    ADDRESS_COLUMNS,
    RELATION_COLUMNS,
    part_replaced,
    registered_in,
)

# What a person holds beside the number, the birth date it tells, the mark and the
# importer's bookkeeping: what a protection purges, with their registered address's
# criteria (the address goes too).
_PERSON_FIELDS = (
    "first_names", "given_name_code", "middle_name", "last_name", "moved_in_date",
    "key_code", "property_designation", "civil_status", "civil_status_date",
    "deregistration_code", "deregistration_date",
)  # fmt: skip
_PURGED = ",\n    ".join([*(f"{name} = NULL" for name in _PERSON_FIELDS), registered.PURGED])
# What a round writes of a person: the fields, and the registered address's criteria as
# the record leaves them (``import_next``, beside the addresses written after).
_WRITTEN_FIELDS = (*_PERSON_FIELDS, *registered.COLUMNS)

# Leaving the region: the person goes, with their addresses and relations (cascade).
LEAVE = """
DELETE FROM person AS p
USING import_plan AS pl
WHERE p.id = pl.person_id
  AND pl.action = 'LEAVE'
"""

# A protected person keeps the number, the birth date it tells and the mark; nothing else.
# A stale record's protection applies too (fail safe), but the newer PostId stays, and a
# mark stored by a newer record.
PROTECT = f"""
UPDATE person AS p
SET {_PURGED},
    protection = CASE WHEN pl.stale THEN coalesce(p.protection, r.protection)
        ELSE coalesce(r.protection, p.protection) END,
    post_id = CASE WHEN pl.stale THEN p.post_id ELSE r.post_id END,
    post_order = CASE WHEN pl.stale THEN p.post_order ELSE $2::text END,
    changed_at = NULL,
    full_extract = coalesce($1::bigint, p.full_extract),
    updated_at = now()
FROM import_plan AS pl
JOIN import_record AS r ON r.post_id = pl.post_id
WHERE p.id = pl.person_id
  AND pl.action IN ('PROTECT', 'KEEP_PROTECTED')
"""

PROTECT_NEW = """
INSERT INTO person (personnummer, birth_date, protection, post_id, post_order, full_extract)
SELECT
    r.personnummer, personnummer_birth_date(r.personnummer), r.protection, r.post_id,
    $2::text, $1::bigint
FROM import_plan AS pl
JOIN import_record AS r ON r.post_id = pl.post_id
WHERE pl.action = 'PROTECT_NEW'
"""

# One person protected by a number change's record: $1 the person, $2 the mark.
PROTECT_ONE = f"""
UPDATE person
SET {_PURGED}, protection = $2, changed_at = NULL, updated_at = now()
WHERE id = $1
"""
PURGE_ONES_ADDRESSES = "DELETE FROM address WHERE person_id = $1"
PURGE_ONES_RELATIONS = "DELETE FROM relation WHERE person_id = $1"

PURGE_ADDRESSES = """
DELETE FROM address AS a
USING import_plan AS pl
WHERE a.person_id = pl.person_id
  AND pl.action = 'PROTECT'
"""
PURGE_RELATIONS = """
DELETE FROM relation AS rel
USING import_plan AS pl
WHERE rel.person_id = pl.person_id
  AND pl.action = 'PROTECT'
"""
# Other persons' relations pointing at the protected, by their number or a number they
# had: no row anywhere names them.
PURGE_RELATIONS_TO = """
WITH protected AS (
    SELECT personnummer FROM import_plan
    WHERE action IN ('PROTECT', 'PROTECT_NEW', 'KEEP_PROTECTED')
)
DELETE FROM relation
WHERE related_personnummer IN (
    SELECT personnummer FROM protected
    UNION ALL
    SELECT f.personnummer
    FROM former_personnummer AS f
    JOIN protected AS p ON p.personnummer = f.current_personnummer
)
"""

_SET_FIELDS = ",\n    ".join(f"{name} = n.{name}" for name in _WRITTEN_FIELDS)

UPDATE_PERSONS = f"""
UPDATE person AS p
SET {_SET_FIELDS},
    protection = NULL,
    post_id = n.post_id,
    post_order = $2::text,
    changed_at = n.changed_at,
    full_extract = coalesce($1::bigint, p.full_extract),
    updated_at = now()
FROM import_next AS n
WHERE p.id = n.person_id
  AND n.action IN ('UPDATE', 'LIFT')
"""

CREATE_PERSONS = f"""
INSERT INTO person (
    personnummer, birth_date, {", ".join(_WRITTEN_FIELDS)}, post_id, post_order, changed_at,
    full_extract
)
SELECT
    n.personnummer, personnummer_birth_date(n.personnummer),
    {", ".join(f"n.{name}" for name in _WRITTEN_FIELDS)}, n.post_id, $2::text, n.changed_at,
    $1::bigint
FROM import_next AS n
WHERE n.action = 'CREATE'
ORDER BY n.personnummer
"""
CREATED_IDS = """
UPDATE import_next AS n
SET person_id = p.id
FROM person AS p
WHERE n.action = 'CREATE'
  AND p.personnummer = n.personnummer
"""

DELETE_ADDRESSES, INSERT_ADDRESSES = part_replaced(
    "address", "import_address", ADDRESS_COLUMNS, "addresses"
)
DELETE_RELATIONS, INSERT_RELATIONS = part_replaced(
    "relation", "import_relation", RELATION_COLUMNS, "relations"
)

# Every event of the round in PostId order. $1: the ledger row of the file; $2 the largest
# person id when the file began. A PROTECTED event tells receivers to purge what they
# hold: only a person in the register before the file, whom they could hold, gets one (a
# protected person new to the register gets none: it would list them). An event
# names the registered municipality it took the person out of: the one they left, or
# had before a protection purged it, or before their addresses changed to another or
# to none (``parts.MUNICIPALITY``; import_plan read it before the round wrote). A
# CHANGED naming RELATIONS keeps the relatives whose rows changed: the feed lists the
# part while one of them can be seen (migration 0015).
ROUND_EVENTS = f"""
INSERT INTO change_event (
    personnummer, kind, parts, relatives, recorded_at, post_id, import_file_id,
    municipality_before
)
SELECT e.personnummer, e.kind, e.parts, e.relatives, e.recorded_at, e.post_id, $1,
    e.municipality_before
FROM (
    SELECT pl.post_id AS turn, pl.personnummer, 'PROTECTED' AS kind, NULL::text[] AS parts,
        NULL::text[] AS relatives, NULL::timestamp AS recorded_at, NULL::bigint AS post_id,
        pl.municipality_before
    FROM import_plan AS pl
    WHERE pl.action = 'PROTECT'
      AND pl.person_id <= $2
    UNION ALL
    SELECT pl.post_id, pl.personnummer, 'LEFT', NULL, NULL, r.changed_at, r.post_id,
        pl.municipality_before
    FROM import_plan AS pl
    JOIN import_record AS r ON r.post_id = pl.post_id
    WHERE pl.action = 'LEAVE'
      AND pl.stored_protection IS NULL
    UNION ALL
    SELECT n.post_id, n.personnummer, n.event, CASE WHEN n.event = 'CHANGED' THEN n.parts END,
        CASE WHEN n.event = 'CHANGED' THEN n.relatives END, n.changed_at, n.post_id,
        CASE WHEN n.addresses_changed
            THEN nullif(n.municipality_before, {registered_in("n.person_id")}) END
    FROM import_next AS n
    WHERE n.event IS NOT NULL
) AS e
ORDER BY e.turn
"""

# Lifting a protection restores the relatives' rows pointing back at the person, as the
# person's own record implies them (docs/imports.md), with a CHANGED event for each
# relative who got one, naming the person as the relative it is about (protected again
# later, the feed lists nothing of it). $1: the ledger row of the file.
LIFTED_RELATIONS = f"""
WITH restored AS (
    INSERT INTO relation (person_id, {RELATION_COLUMNS})
    SELECT
        q.id,
        CASE w.kind
            WHEN 'B' THEN 'F'
            WHEN 'MO' THEN 'B'
            WHEN 'FA' THEN 'B'
            WHEN 'F' THEN 'B'
            WHEN 'V' THEN 'VF'
            WHEN 'VF' THEN 'V'
            ELSE w.kind
        END,
        n.personnummer, w.valid_from, w.valid_to
    FROM import_relation AS w
    JOIN import_next AS n ON n.post_id = w.post_id
    JOIN person AS q ON q.personnummer = w.related_personnummer
    WHERE n.action = 'LIFT'
      AND q.protection IS NULL
    ORDER BY n.post_id
    ON CONFLICT DO NOTHING
    RETURNING person_id, related_personnummer
)
INSERT INTO change_event (personnummer, kind, parts, relatives, import_file_id)
SELECT q.personnummer, 'CHANGED', ARRAY['RELATIONS'], r.relatives, $1
FROM (
    SELECT person_id, array_agg(DISTINCT related_personnummer) AS relatives
    FROM restored
    GROUP BY person_id
) AS r
JOIN person AS q ON q.id = r.person_id
ORDER BY q.personnummer
"""

# A full extract carries its persons even where their record was older than the stored.
CARRIED_STALE = """
UPDATE person AS p
SET full_extract = $1
FROM import_plan AS pl
WHERE p.id = pl.person_id
  AND pl.action = 'STALE'
  AND p.full_extract IS DISTINCT FROM $1
"""

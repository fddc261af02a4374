"""Full extracts: the fast path into an empty register, and who leaves when one is complete.

Into an empty register every record creates its person, so nothing needs comparing: each
chunk of the file is written as it arrives (``resolvers.imports.pipeline``), with the
register's secondary indexes and foreign keys set aside (``resolvers.imports.bulk``).
Should a person have several records in the file, the latest decides: those persons are
written again from it at the end, and the file's events, one per person not protected
(CREATED), again in the PostId order of the deciding records.
Records for persons an earlier file of the delivery wrote are left to the rounds.

A full delivery is complete when all its files (AntalFiler) are applied. Then every
person it did not carry leaves the register (LEFT), except those an import changed since
the delivery's first file was applied: they were carried by a later change notice.
"""

from __future__ import annotations

from resolvers.imports import registered
from resolvers.imports.parts import (
    ADDRESS_COLUMNS,
    ADDRESS_VALUES,
    PREFERRED_RELATION,
    RELATION_COLUMNS,
    RELATIONS_UNNESTED,
    registered_in,
)

REGISTER_IS_EMPTY = "SELECT NOT EXISTS (SELECT 1 FROM person)"
# The register holds only what earlier files of this same full delivery wrote (a large
# extract comes in several files): the file's persons are new too, nothing to compare.
ONLY_THIS_DELIVERY = """
SELECT NOT EXISTS (SELECT 1 FROM person WHERE full_extract IS DISTINCT FROM $1)
   AND NOT EXISTS (SELECT 1 FROM change_event WHERE kind <> 'CREATED' AND kind <> 'PROTECTED')
"""

# What the chunk statements need to know (they are sent without parameters).
CREATE_CONTEXT = """
CREATE TEMP TABLE import_context (
    region text, full_extract bigint, file_id bigint, post_order text, known bigint
) ON COMMIT DROP;
CREATE TEMP TABLE import_written (id bigint, post_id bigint) ON COMMIT DROP;
CREATE TEMP TABLE import_carried (records bigint) ON COMMIT DROP
"""
SET_CONTEXT = """
INSERT INTO import_context (region, full_extract, file_id, post_order, known)
VALUES ($1, $2, $3, $4, $5)
"""

_PROTECTED_KEEP_NOTHING = ", ".join(
    f"CASE WHEN r.protection IS NULL THEN {value} END"
    for value in (
        "r.first_names", "r.given_name_code", "r.middle_name", "r.last_name",
        "r.registered_on", "k.key_code", "r.property_designation", "r.civil_status",
        "r.civil_status_date", "r.deregistration_code", "r.deregistration_date",
    )
)  # fmt: skip

# The chunk's persons (a protected person's record gives only the number and the mark,
# wherever it registers them; another person registered outside the region is not
# written; a person written already, by an earlier record, is left for the end) with
# the events of those not protected — CREATED; a protected person new to the register
# gets none, as in a round —, then the addresses and relations of those. Each person's
# row holds what their registered address says (``registered.WRITTEN``: from the same
# staged columns as the address below).
WRITE_CHUNK = f"""
WITH written AS (
    INSERT INTO person (
        personnummer, birth_date, first_names, given_name_code, middle_name, last_name,
        moved_in_date, key_code, property_designation, civil_status, civil_status_date,
        deregistration_code, deregistration_date, protection, post_id, post_order,
        changed_at, full_extract, {", ".join(registered.COLUMNS)}
    )
    SELECT
        r.personnummer, personnummer_birth_date(r.personnummer), {_PROTECTED_KEEP_NOTHING},
        r.protection, r.post_id, c.post_order,
        CASE WHEN r.protection IS NULL THEN r.changed_at END, c.full_extract,
        {", ".join(registered.WRITTEN)}
    FROM import_chunk AS r
    CROSS JOIN import_context AS c
    LEFT JOIN key_code_area AS k
        ON k.county_code = r.county_code
        AND k.municipality_code = r.municipality_code
        AND k.property_designation = r.property_designation
    WHERE r.new_personnummer IS NULL
      AND (r.protection IS NOT NULL OR r.county_code IS NULL OR r.county_code = c.region)
      AND (r.first_names IS NOT NULL OR r.protection IS NOT NULL)
    ON CONFLICT (personnummer) DO NOTHING
    RETURNING id, post_id, personnummer, protection, changed_at
), told AS (
    INSERT INTO change_event (personnummer, kind, recorded_at, post_id, import_file_id)
    SELECT w.personnummer, 'CREATED', w.changed_at, w.post_id, c.file_id
    FROM written AS w
    CROSS JOIN import_context AS c
    WHERE w.protection IS NULL
    ORDER BY w.post_id
)
INSERT INTO import_written (id, post_id)
SELECT id, post_id
FROM written
WHERE protection IS NULL;

INSERT INTO address (person_id, {ADDRESS_COLUMNS})
SELECT w.id, a.*
FROM import_written AS w
JOIN import_chunk AS r ON r.post_id = w.post_id
{ADDRESS_VALUES}
WHERE a.kind = ANY (r.address_kinds);

INSERT INTO relation (person_id, {RELATION_COLUMNS})
SELECT DISTINCT ON (w.id, u.kind, u.related_personnummer)
    w.id, u.kind, u.related_personnummer, u.valid_from, u.valid_to
FROM import_written AS w
JOIN import_chunk AS r ON r.post_id = w.post_id
{RELATIONS_UNNESTED}
ORDER BY w.id, {PREFERRED_RELATION};

TRUNCATE import_chunk, import_written
"""
# Each chunk is kept in the staging table too: its PostIds checked unique there, its
# number changes applied from there at the end. Its records for persons an earlier file
# of the delivery wrote (ids up to ``known``) are counted meanwhile, while the next
# chunk is parsed, rather than looked up one by one at the end.
FILL_CHUNK = f"""
INSERT INTO import_record SELECT * FROM import_chunk;
INSERT INTO import_carried (records)
SELECT count(*)
FROM import_chunk AS r
CROSS JOIN import_context AS c
WHERE c.known > 0
  AND r.new_personnummer IS NULL
  AND EXISTS (SELECT 1 FROM person AS p WHERE p.personnummer = r.personnummer AND p.id <= c.known);
{WRITE_CHUNK}"""

# Records for persons in the register before the file ($1: up to which id), whom an
# earlier file of the delivery wrote: the chunks left them, to be applied in rounds.
_CARRIED_BEFORE = """EXISTS (
    SELECT 1 FROM person AS p WHERE p.personnummer = r.personnummer AND p.id <= $1
)"""
CARRIED_BEFORE = "SELECT coalesce(sum(records), 0)::bigint FROM import_carried"
# Whether any record moves a person to a new number (Hänvisning).
NUMBERS_CHANGE = "SELECT EXISTS (SELECT 1 FROM import_record WHERE new_personnummer IS NOT NULL)"
# What is left for the rounds: those records, and the number changes.
LEAVE_FOR_ROUNDS = f"""
DELETE FROM import_record AS r WHERE r.new_personnummer IS NULL AND NOT {_CARRIED_BEFORE}
"""

# Persons with several records in the file (and new to the register: $1 as above):
# written again, from their latest record. Only the few with several are looked up.
DOUBLED = f"""
CREATE TEMP TABLE import_doubled ON COMMIT DROP AS
SELECT personnummer, count(*) - 1 AS superseded
FROM import_record AS r
WHERE new_personnummer IS NULL
GROUP BY personnummer
HAVING count(*) > 1
   AND NOT {_CARRIED_BEFORE}
"""
SUPERSEDED = "SELECT coalesce(sum(superseded), 0) FROM import_doubled"
# The foreign keys are set aside: nothing cascades. Their events, written in this same
# transaction, have been read by no one.
UNWRITE_DOUBLED = """
DELETE FROM change_event WHERE personnummer IN (SELECT personnummer FROM import_doubled)
  AND import_file_id = (SELECT file_id FROM import_context);
DELETE FROM address WHERE person_id IN (
    SELECT p.id FROM person AS p JOIN import_doubled AS d USING (personnummer)
);
DELETE FROM relation WHERE person_id IN (
    SELECT p.id FROM person AS p JOIN import_doubled AS d USING (personnummer)
);
DELETE FROM person WHERE personnummer IN (SELECT personnummer FROM import_doubled);
INSERT INTO import_chunk
SELECT DISTINCT ON (r.personnummer) r.*
FROM import_record AS r
JOIN import_doubled AS d USING (personnummer)
WHERE r.new_personnummer IS NULL
ORDER BY r.personnummer, r.post_id DESC
"""

# Once persons with several records are written again, from their latest: the file's
# events again, in the PostId order of the records that decided them (events of this
# transaction are the file's; no reader has seen them).
RETELL_IN_ORDER = """
WITH told AS (
    DELETE FROM change_event
    WHERE xid = pg_current_xact_id()
    RETURNING personnummer, kind, recorded_at, post_id, import_file_id
)
INSERT INTO change_event (personnummer, kind, recorded_at, post_id, import_file_id)
SELECT t.personnummer, t.kind, t.recorded_at, t.post_id, t.import_file_id
FROM told AS t
JOIN person AS p ON p.personnummer = t.personnummer
ORDER BY p.post_id
"""

# A relative found protected only in a later chunk: no row anywhere names them.
PURGE_RELATIONS_TO_PROTECTED = """
DELETE FROM relation
WHERE related_personnummer IN (SELECT personnummer FROM person WHERE protection IS NOT NULL)
"""

# Persons written by the file (ids above $1), protected persons written, and the
# records for persons.
WRITTEN_COUNTS = """
SELECT
    count(*) FILTER (WHERE protection IS NULL),
    count(*) FILTER (WHERE protection IS NOT NULL),
    (SELECT count(*) FROM import_record WHERE new_personnummer IS NULL)
FROM person
WHERE id > $1
"""

# $1 the full delivery, $2 when its first file began, $3 the ledger row of this file.
# Returns how many left and how many of them were not protected (who get an event,
# naming the municipality they were registered in: the statement's snapshot still shows
# the addresses the deletion cascades to).
LEAVE_UNCARRIED = f"""
WITH gone AS (
    DELETE FROM person
    WHERE full_extract IS DISTINCT FROM $1
      AND updated_at < $2
    RETURNING id, personnummer, protection
), told AS (
    INSERT INTO change_event (personnummer, kind, import_file_id, municipality_before)
    SELECT p.personnummer, 'LEFT', $3, {registered_in("p.id")}
    FROM gone AS p
    WHERE p.protection IS NULL
    ORDER BY p.personnummer
    RETURNING 1
)
SELECT (SELECT count(*) FROM gone) AS left_register, (SELECT count(*) FROM told) AS told
"""

ANALYZE_REGISTER = "ANALYZE person, address, relation"

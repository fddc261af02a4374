"""What each staged record does to the register, decided set-based for one round.

A round is every record that is its person's ``n``-th in the file, by PostId (records
that carry a new number count as the new number's): round 1 holds nearly all of them,
so one statement per step serves the whole file. ``import_plan`` names each record's
action; ``import_next`` holds the person as the record leaves them, with the parts that
changed (docs/imports.md "How a delivery changes the register").
"""

from __future__ import annotations

from typing import NamedTuple

from resolvers.imports import registered
from resolvers.imports.parts import MUNICIPALITY


class Target(NamedTuple):
    """What the statements applying one file need to know of it."""

    region: str  # the region's county code
    full_extract: int | None  # the full delivery carrying the records; None: a notice
    file_id: int  # the file's ledger row
    order_id: str | None  # its BestallningsId; None: a file without Filinformation
    known_persons: int  # the largest person id when the file began


# Records that are not their person's first in the file, with their rank.
LATER_RECORDS = """
CREATE TEMP TABLE import_later ON COMMIT DROP AS
SELECT post_id, rank
FROM (
    SELECT
        post_id,
        rank() OVER (PARTITION BY coalesce(new_personnummer, personnummer) ORDER BY post_id)
            AS rank
    FROM import_record
    WHERE coalesce(new_personnummer, personnummer) IN (
        SELECT coalesce(new_personnummer, personnummer)
        FROM import_record
        GROUP BY 1
        HAVING count(*) > 1
    )
) AS ranked
WHERE rank > 1
"""
# The fast path applies its number changes in one round, in PostId order.
NO_LATER_RECORDS = "CREATE TEMP TABLE import_later (post_id bigint, rank int) ON COMMIT DROP"
LAST_ROUND = "SELECT coalesce(max(rank), 1) FROM import_later"

# Which records belong to round $1.
IN_ROUND = """(
    ($1 = 1 AND r.post_id NOT IN (SELECT l.post_id FROM import_later AS l))
    OR r.post_id IN (SELECT l.post_id FROM import_later AS l WHERE l.rank = $1)
)"""

# A record older than the stored person: PostIds count within an order, so only a
# PostId the record's own order ($3) stored is compared.
STALE = "coalesce(p.post_id >= r.post_id AND p.post_order IS NOT DISTINCT FROM $3::text, false)"

# $1 round, $2 the region's county code, $3 the file's order. The first action that
# applies wins: a protection before anything else, whatever its PostId or county. The
# person's registered municipality before the round is what an event taking them out of
# it names.
PLAN_ROUND = f"""
CREATE TEMP TABLE import_plan ON COMMIT DROP AS
SELECT
    r.post_id,
    r.personnummer,
    p.id AS person_id,
    p.protection AS stored_protection,
    {MUNICIPALITY} AS municipality_before,
    {STALE} AS stale,
    CASE
        WHEN r.protection IS NOT NULL THEN
            CASE
                WHEN p.id IS NULL THEN 'PROTECT_NEW'
                WHEN p.protection IS NULL THEN 'PROTECT'
                ELSE 'KEEP_PROTECTED'
            END
        WHEN {STALE} THEN 'STALE'
        WHEN p.protection IS NOT NULL AND NOT r.total THEN 'KEEP_PROTECTED'
        WHEN r.county_code <> $2 THEN CASE WHEN p.id IS NULL THEN 'SKIP' ELSE 'LEAVE' END
        WHEN p.protection IS NOT NULL THEN 'LIFT'
        WHEN p.id IS NOT NULL THEN 'UPDATE'
        WHEN r.first_names IS NOT NULL THEN 'CREATE'
        ELSE 'SKIP'
    END AS action
FROM import_record AS r
LEFT JOIN person AS p ON p.personnummer = r.personnummer
LEFT JOIN address AS a ON a.person_id = p.id AND a.kind = 'F'
WHERE r.new_personnummer IS NULL
  AND {IN_ROUND}
"""
PLAN_INDEX = "CREATE UNIQUE INDEX import_plan_post_id ON import_plan (post_id)"
ANALYZE_PLAN = "ANALYZE import_plan"
DROP_ROUND = "DROP TABLE IF EXISTS import_plan, import_next, import_address, import_relation"


def _part(carried: str, column: str, stored: str | None = None) -> str:
    """The column as the record leaves it: replaced when the record is total or carries
    the part, else as stored."""
    return f"CASE WHEN r.total OR {carried} THEN r.{column} ELSE p.{stored or column} END"


_NAMES, _REGISTRATION = "r.first_names IS NOT NULL", "r.has_registration"
_CIVIL, _DEREGISTRATION = "r.civil_status IS NOT NULL", "r.deregistration_code IS NOT NULL"
_ADDRESSES = "r.total OR r.address_kinds IS NOT NULL"  # they replace the stored ones

# The person after each creating, changing or lifting record, beside the person before;
# with what their registered address will say once the round's addresses are written.
NEXT_PERSONS = f"""
CREATE TEMP TABLE import_next ON COMMIT DROP AS
SELECT
    n.*,
    (n.first_names, n.given_name_code, n.middle_name, n.last_name)
        IS DISTINCT FROM (p.first_names, p.given_name_code, p.middle_name, p.last_name)
        AS names_changed,
    (n.moved_in_date, n.property_designation)
        IS DISTINCT FROM (p.moved_in_date, p.property_designation) AS registration_changed,
    n.key_code IS DISTINCT FROM p.key_code AS key_code_changed,
    (n.civil_status, n.civil_status_date)
        IS DISTINCT FROM (p.civil_status, p.civil_status_date) AS civil_status_changed,
    (n.deregistration_code, n.deregistration_date)
        IS DISTINCT FROM (p.deregistration_code, p.deregistration_date) AS status_changed,
    n.deregistration_code IS NOT NULL
        AND n.deregistration_code IS DISTINCT FROM p.deregistration_code AS deregistered,
    false AS addresses_changed,
    false AS relations_changed,
    NULL::text[] AS relatives,
    NULL::text AS event,
    NULL::text[] AS parts
FROM (
    SELECT
        pl.post_id,
        pl.personnummer,
        pl.person_id,
        pl.action,
        pl.municipality_before,
        r.changed_at,
        {_part(_NAMES, "first_names")} AS first_names,
        {_part(_NAMES, "given_name_code")} AS given_name_code,
        {_part(_NAMES, "middle_name")} AS middle_name,
        {_part(_NAMES, "last_name")} AS last_name,
        {_part(_REGISTRATION, "registered_on", "moved_in_date")} AS moved_in_date,
        {_part(_REGISTRATION, "property_designation")} AS property_designation,
        CASE WHEN r.total OR r.has_registration THEN k.key_code ELSE p.key_code END AS key_code,
        {_part(_CIVIL, "civil_status")} AS civil_status,
        {_part(_CIVIL, "civil_status_date")} AS civil_status_date,
        {_part(_DEREGISTRATION, "deregistration_code")} AS deregistration_code,
        {_part(_DEREGISTRATION, "deregistration_date")} AS deregistration_date,
        {registered.left_by_record(_ADDRESSES)},
        {_ADDRESSES} AS new_addresses,
        r.total OR r.relation_kinds IS NOT NULL AS new_relations
    FROM import_plan AS pl
    JOIN import_record AS r ON r.post_id = pl.post_id
    LEFT JOIN person AS p ON p.id = pl.person_id
    LEFT JOIN key_code_area AS k
        ON k.county_code = r.county_code
        AND k.municipality_code = r.municipality_code
        AND k.property_designation = r.property_designation
    WHERE pl.action IN ('CREATE', 'UPDATE', 'LIFT')
) AS n
LEFT JOIN person AS p ON p.id = n.person_id
"""
NEXT_INDEX = "CREATE UNIQUE INDEX import_next_post_id ON import_next (post_id)"
ANALYZE_NEXT = "ANALYZE import_next"

# What each changing record names as changed, and the event it writes: CREATED for a
# person new to the register (or back from protection), DEREGISTERED when a
# deregistration is new or another, else CHANGED when any part changed.
NEXT_EVENTS = """
UPDATE import_next
SET parts = array_remove(ARRAY[
        CASE WHEN names_changed THEN 'NAMES' END,
        CASE WHEN addresses_changed THEN 'ADDRESSES' END,
        CASE WHEN registration_changed THEN 'REGISTRATION' END,
        CASE WHEN civil_status_changed THEN 'CIVIL_STATUS' END,
        CASE WHEN relations_changed THEN 'RELATIONS' END,
        CASE WHEN status_changed THEN 'STATUS' END,
        CASE WHEN key_code_changed THEN 'KEY_CODE' END
    ], NULL),
    event = CASE
        WHEN action <> 'UPDATE' THEN 'CREATED'
        WHEN deregistered THEN 'DEREGISTERED'
        WHEN names_changed OR addresses_changed OR registration_changed
            OR civil_status_changed OR relations_changed OR status_changed
            OR key_code_changed THEN 'CHANGED'
    END
"""

# The counts of the round: each record's action and, for the changing ones, its event.
ROUND_COUNTS = """
SELECT pl.action, n.event, count(*) AS records
FROM import_plan AS pl
LEFT JOIN import_next AS n ON n.post_id = pl.post_id
GROUP BY pl.action, n.event
"""

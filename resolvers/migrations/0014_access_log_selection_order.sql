-- A selection's file releases many persons at once: its export writes one request row
-- holding them all, and so does each download of it. The row now names the order whose
-- file it was, so that an auditor who finds a person's entry sees which order included
-- them ("which orders included this person?") and reads that order (selectionAudit).
-- NULL for every other request. No check reads the rows already written: the column
-- is new, so they hold NULL.
ALTER TABLE access_request ADD COLUMN selection_order bigint;

-- The view keeps its columns and adds the new one last (and so keeps its grants).
CREATE OR REPLACE VIEW access_log AS
SELECT
    r.id AS request,
    seen.entry AS id,
    r.logged_at,
    'SEEN' AS kind,
    r.subject,
    r.organisation,
    r.client,
    r.tier,
    r.operation_name,
    r.root_fields,
    seen.personnummer::text AS personnummer,
    'LOCAL' AS source,
    r.request_id,
    r.case_reference,
    NULL::jsonb AS criteria,
    NULL::text AS asked_personnummer,
    r.selection_order
FROM access_request AS r
CROSS JOIN LATERAL unnest(r.seen) WITH ORDINALITY AS seen (personnummer, entry)
UNION ALL
SELECT
    p.request,
    coalesce(p.entry, p.id),
    r.logged_at,
    p.kind,
    r.subject,
    r.organisation,
    r.client,
    r.tier,
    r.operation_name,
    r.root_fields,
    p.personnummer,
    p.source,
    r.request_id,
    r.case_reference,
    p.criteria,
    p.asked_personnummer,
    r.selection_order
FROM access_person AS p
JOIN access_request AS r ON r.id = p.request;

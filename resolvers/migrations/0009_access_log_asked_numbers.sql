-- A lookup of a number Skatteverket has replaced (former_personnummer) shows the person
-- under their current number. Its entry names the person seen (personnummer, as for any
-- lookup) and the number the caller asked for (asked_personnummer), so that an auditor
-- sees both and finds the entry by either. NULL in every other entry: the number asked,
-- if any, is the one logged. A protected person found that way is logged as an attempt
-- on the number asked only: the log never ties a protected person's numbers together.
-- The checks need not read the rows already written, which have none (NOT VALID).
ALTER TABLE access_person ADD COLUMN asked_personnummer text;
ALTER TABLE access_person ADD CONSTRAINT access_person_asked_number CHECK (
    asked_personnummer IS NULL OR (asked_personnummer ~ '^[0-9]{12}$' AND kind = 'SEEN')
) NOT VALID;

CREATE INDEX access_person_asked_personnummer ON access_person (asked_personnummer, request)
    WHERE asked_personnummer IS NOT NULL;

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
    NULL::text AS asked_personnummer
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
    p.asked_personnummer
FROM access_person AS p
JOIN access_request AS r ON r.id = p.request;

-- The bulk of the access log is persons shown from the register: a page shows hundreds
-- (its persons and their relatives). A row and two B-tree entries for each cost the
-- database more than answering the page did, and made the log three times the size.
-- From here on a request keeps the numbers it showed from the register in one array,
-- in the order shown, found by "who saw this person" through a GIN index; access_person
-- keeps everything else (protected hits, Skatteverket's answers, searches of the log).
-- Rows written before this change stay as they are: the log is append-only.

-- Each number is a 12-digit personnummer; an array never holds NULL. Rows already
-- written hold the empty default, so the checks need not read them (NOT VALID): a
-- large log is not scanned while the migration holds its lock.
ALTER TABLE access_request ADD COLUMN seen bigint[] NOT NULL DEFAULT '{}';
ALTER TABLE access_request ADD CONSTRAINT access_request_seen_numbers CHECK (
    array_position(seen, NULL) IS NULL
    AND 100000000000 <= ALL (seen)
    AND 999999999999 >= ALL (seen)
) NOT VALID;

-- Each write adds its entries to the index at once (fastupdate off): with a pending list
-- the write that finds it full merges it, and its answer waits a tenth of a second.
CREATE INDEX access_request_seen ON access_request USING gin (seen) WITH (fastupdate = off);

-- An entry's place within its request: the array's positions 1..n first, then the
-- request's access_person rows n+1, n+2, … (rows written before this change are
-- numbered by their id, and their requests have no array).
ALTER TABLE access_person ADD COLUMN entry integer;
ALTER TABLE access_person ADD CONSTRAINT access_person_entry_positive CHECK (entry > 0) NOT VALID;

-- The view keeps its columns (and so the grants on it); its id is now the entry's place
-- within its request, and (request, id) still orders the log.
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
    NULL::jsonb AS criteria
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
    p.criteria
FROM access_person AS p
JOIN access_request AS r ON r.id = p.request;

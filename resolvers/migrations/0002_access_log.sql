-- The access log (loggning av åtkomst): who saw which person, when, and why. One row per
-- request that showed a person (access_request) and one narrow row per person it showed,
-- looked for or searched the log for (access_person); the view access_log joins them,
-- one row per person. Rows are written before the answer leaves; the tables only grow.

CREATE TABLE access_request (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    logged_at timestamptz NOT NULL DEFAULT now(),
    subject text NOT NULL,
    organisation text,
    client text,
    tier text NOT NULL CHECK (tier IN ('BASIC', 'EXTENDED', 'RELATIONS')),
    operation_name text,
    -- The query's root fields, e.g. 'person' or 'personsInRange'.
    root_fields text NOT NULL,
    request_id text NOT NULL,
    case_reference text
);

CREATE INDEX access_request_subject ON access_request (subject, id);
CREATE INDEX access_request_organisation ON access_request (organisation, id);
CREATE INDEX access_request_logged_at ON access_request USING brin (logged_at);

-- Written together with its request row by one statement, never alone: no foreign key,
-- whose check would cost an index probe for each of the hundreds of rows of a page.
CREATE TABLE access_person (
    id bigint GENERATED ALWAYS AS IDENTITY,
    request bigint NOT NULL,
    -- SEEN: a person record was returned; PROTECTED: a lookup hit a protected person
    -- (an attempt, no data released); NOT_FOUND: a lookup at Skatteverket found no one;
    -- AUDIT_SEARCH: an auditor searched this log (for this person, if one was named).
    kind text NOT NULL CHECK (kind IN ('SEEN', 'PROTECTED', 'NOT_FOUND', 'AUDIT_SEARCH')),
    personnummer text CHECK (personnummer ~ '^[0-9]{12}$'),
    -- Where the answer came from: LOCAL or SKATTEVERKET (every lookup made there).
    source text CHECK (source IN ('LOCAL', 'SKATTEVERKET')),
    -- An auditor's search criteria.
    criteria jsonb,
    CHECK (kind = 'AUDIT_SEARCH' OR personnummer IS NOT NULL),
    CHECK ((kind = 'AUDIT_SEARCH') = (criteria IS NOT NULL))
);

-- "Who saw this person", and everything newest first (joined to the requests in order:
-- ids only grow, so this index is appended to, cheaply, at its right edge).
CREATE INDEX access_person_personnummer ON access_person (personnummer, request);
CREATE INDEX access_person_request ON access_person (request, id);

CREATE VIEW access_log AS
SELECT
    p.request,
    p.id,
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

-- Append-only in the database itself, whoever connects: no row is changed or removed.
CREATE FUNCTION access_log_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the access log is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER access_request_no_update_or_delete
BEFORE UPDATE OR DELETE ON access_request
FOR EACH ROW EXECUTE FUNCTION access_log_refuse_change();

CREATE TRIGGER access_request_no_truncate
BEFORE TRUNCATE ON access_request
FOR EACH STATEMENT EXECUTE FUNCTION access_log_refuse_change();

CREATE TRIGGER access_person_no_update_or_delete
BEFORE UPDATE OR DELETE ON access_person
FOR EACH ROW EXECUTE FUNCTION access_log_refuse_change();

CREATE TRIGGER access_person_no_truncate
BEFORE TRUNCATE ON access_person
FOR EACH STATEMENT EXECUTE FUNCTION access_log_refuse_change();

REVOKE UPDATE, DELETE, TRUNCATE ON access_request, access_person FROM PUBLIC;

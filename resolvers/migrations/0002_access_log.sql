-- The access log (loggning av åtkomst): one row per person record an official saw, per
-- attempt on a protected person, and per auditor's search of this log. Rows are written
-- before the answer leaves; the table only ever grows.

CREATE TABLE access_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    logged_at timestamptz NOT NULL DEFAULT now(),
    -- SEEN: a person record was returned; PROTECTED: a lookup hit a protected person
    -- (an attempt, no data released); NOT_FOUND: a lookup at Skatteverket found no one;
    -- AUDIT_SEARCH: an auditor searched this log.
    kind text NOT NULL CHECK (kind IN ('SEEN', 'PROTECTED', 'NOT_FOUND', 'AUDIT_SEARCH')),
    subject text NOT NULL,
    organisation text,
    client text,
    tier text NOT NULL CHECK (tier IN ('BASIC', 'EXTENDED', 'RELATIONS')),
    operation_name text,
    -- The query's root fields, e.g. 'person' or 'personsInRange'.
    root_fields text NOT NULL,
    personnummer text CHECK (personnummer ~ '^[0-9]{12}$'),
    -- Where the answer came from: LOCAL or SKATTEVERKET (every lookup made there).
    source text,
    request_id text NOT NULL,
    case_reference text,
    -- An auditor's search criteria.
    criteria jsonb,
    CHECK (kind = 'AUDIT_SEARCH' OR personnummer IS NOT NULL),
    CHECK ((kind = 'AUDIT_SEARCH') = (criteria IS NOT NULL))
);

-- Auditors ask "who looked at this person" and "what did this official look at",
-- newest first; the identity follows time, so these serve time windows too.
CREATE INDEX access_log_personnummer ON access_log (personnummer, id);
CREATE INDEX access_log_subject ON access_log (subject, id);
CREATE INDEX access_log_logged_at ON access_log USING brin (logged_at);

-- Append-only in the database itself, whoever connects: no row is changed or removed.
CREATE FUNCTION access_log_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'access_log is append-only: % is refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER access_log_no_update_or_delete
BEFORE UPDATE OR DELETE ON access_log
FOR EACH ROW EXECUTE FUNCTION access_log_refuse_change();

CREATE TRIGGER access_log_no_truncate
BEFORE TRUNCATE ON access_log
FOR EACH STATEMENT EXECUTE FUNCTION access_log_refuse_change();

REVOKE UPDATE, DELETE, TRUNCATE ON access_log FROM PUBLIC;

-- Importing Skatteverket's deliveries (Navet): what the importer keeps on a person, the
-- numbers persons used to have, the change events integrated systems read, the ledger of
-- files applied, and the municipality's key codes per property. docs/imports.md has the
-- rules that write them.

-- A protected person keeps only the number and the mark (and the birth date the number
-- tells): their names go, and may be missing only then.
ALTER TABLE person
    ALTER COLUMN first_names DROP NOT NULL,
    ALTER COLUMN last_name DROP NOT NULL,
    ADD CONSTRAINT person_named_unless_protected
        CHECK (protection IS NOT NULL OR (first_names IS NOT NULL AND last_name IS NOT NULL));

-- AN is in Navet's schema (AvregistreringsorsakKod) beside the codes the register had.
ALTER TABLE person DROP CONSTRAINT person_deregistration_code_check;
ALTER TABLE person ADD CONSTRAINT person_deregistration_code_check
    CHECK (deregistration_code IN ('AV', 'UV', 'GN', 'AN', 'GS', 'AS', 'OB', 'TA', 'FI'));

ALTER TABLE person
    -- Fastighetsbeteckning of the registered property (e.g. 'LÅNGA 3'): with the
    -- municipality it finds the person's key code in key_code_area.
    ADD COLUMN property_designation text CHECK (length(property_designation) <= 80),
    -- PostId and ändringstidpunkt of the last record applied: an older record changes
    -- nothing.
    ADD COLUMN post_id bigint,
    ADD COLUMN changed_at timestamp,
    -- The full delivery that last carried the person (the id of its first file in
    -- import_file): whoever a complete full extract did not carry has left.
    ADD COLUMN full_extract bigint;

-- The birth date a number tells (a samordningsnummer's day is the day + 60): the rule of
-- resolvers/domain/personnummer.py:birth_date, for the rows the importer writes set-based.
CREATE FUNCTION personnummer_birth_date(personnummer text) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN make_date(
    substr(personnummer, 1, 4)::int,
    substr(personnummer, 5, 2)::int,
    substr(personnummer, 7, 2)::int % 60
);

-- A personnummer replaced by another (Hänvisning): a lookup of the old number finds the
-- person under the new one.
CREATE TABLE former_personnummer (
    personnummer text PRIMARY KEY CHECK (personnummer ~ '^[0-9]{12}$'),
    current_personnummer text NOT NULL CHECK (current_personnummer ~ '^[0-9]{12}$'),
    changed_at timestamp
);

CREATE INDEX former_personnummer_current ON former_personnummer (current_personnummer);

-- The ledger: one row per file applied (status applied, written in the file's own
-- transaction) or refused (failed, written after the refusal rolled back).
CREATE TABLE import_file (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id text,  -- BestallningsId
    job_id bigint,  -- JobbId
    file_no integer,  -- FilNr
    files_in_delivery integer,  -- AntalFiler
    file_name text NOT NULL,
    sha256 text CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    kind text CHECK (kind IN ('FULL', 'CHANGES')),
    records bigint,
    counts jsonb,
    status text NOT NULL CHECK (status IN ('applied', 'failed')),
    reason text,
    started_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    CHECK ((status = 'failed') = (reason IS NOT NULL))
);

-- A file of a delivery is applied once; a different file claiming its place is refused.
CREATE UNIQUE INDEX import_file_applied_place ON import_file (order_id, job_id, file_no)
    WHERE status = 'applied';
CREATE INDEX import_file_sha256 ON import_file (sha256) WHERE status = 'applied';

-- Change events, in the order a reader follows: (xid, position), reading only events of
-- transactions older than every one still running (resolvers/changes/events.py), so a
-- transaction committing late is read late, never skipped. A PROTECTED event carries the
-- number and nothing else.
CREATE TABLE change_event (
    position bigint GENERATED ALWAYS AS IDENTITY,
    xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    personnummer text NOT NULL CHECK (personnummer ~ '^[0-9]{12}$'),
    kind text NOT NULL
        CHECK (kind IN ('CREATED', 'CHANGED', 'DEREGISTERED', 'PROTECTED', 'LEFT', 'NUMBER_CHANGED')),
    -- What a CHANGED event changed.
    parts text[] CHECK (parts <@ ARRAY[
        'NAMES', 'ADDRESSES', 'REGISTRATION', 'CIVIL_STATUS', 'RELATIONS', 'STATUS', 'KEY_CODE'
    ]),
    previous_personnummer text CHECK (previous_personnummer ~ '^[0-9]{12}$'),
    recorded_at timestamp,  -- the record's ändringstidpunkt
    post_id bigint,
    applied_at timestamptz NOT NULL DEFAULT now(),
    import_file_id bigint,
    CHECK ((kind = 'CHANGED') = (parts IS NOT NULL)),
    CHECK ((kind = 'NUMBER_CHANGED') = (previous_personnummer IS NOT NULL)),
    CHECK (kind <> 'PROTECTED' OR (recorded_at IS NULL AND post_id IS NULL))
);

CREATE INDEX change_event_order ON change_event (xid, position);

-- Nyckelkod is not delivered by Skatteverket: the municipality keeps one per property.
-- The importer sets a person's key code from here when their registration changes.
CREATE TABLE key_code_area (
    county_code text NOT NULL CHECK (county_code ~ '^[0-9]{2}$'),
    municipality_code text NOT NULL CHECK (municipality_code ~ '^[0-9]{2}$'),
    property_designation text NOT NULL,
    key_code text NOT NULL CHECK (length(key_code) <= 6),
    PRIMARY KEY (county_code, municipality_code, property_designation)
);

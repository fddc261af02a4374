-- The local copy of the population register: persons, their addresses and relations.
-- Codes follow Skatteverket's distribution service (Navet).

CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS unaccent;

-- unaccent() is only STABLE (it reads a dictionary); pinning the dictionary makes the
-- result depend on the argument alone, so it may feed generated columns and indexes.
CREATE FUNCTION search_fold(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN lower(public.unaccent('public.unaccent'::regdictionary, value));

CREATE TABLE person (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Canonical 12 digits, YYYYMMDDNNNC.
    personnummer text NOT NULL UNIQUE CHECK (personnummer ~ '^[0-9]{12}$'),
    -- Samordningsnummer: day of month + 60.
    is_coordination_number boolean GENERATED ALWAYS AS
        (substr(personnummer, 7, 2)::int > 60) STORED,
    birth_date date NOT NULL,
    first_names text NOT NULL CHECK (length(first_names) <= 80),
    -- Position code of the tilltalsnamn among the first names ('20', '12', ...).
    given_name_code text CHECK (given_name_code ~ '^[0-9]{2}$'),
    middle_name text CHECK (length(middle_name) <= 40),
    last_name text NOT NULL CHECK (length(last_name) <= 60),
    moved_in_date date,
    key_code text CHECK (length(key_code) <= 6),
    civil_status text CHECK (civil_status IN ('OG', 'G', 'Ä', 'S', 'RP', 'SP', 'EP')),
    civil_status_date date,
    deregistration_code text
        CHECK (deregistration_code IN ('AV', 'UV', 'GN', 'GS', 'AS', 'OB', 'TA', 'FI')),
    deregistration_date date,
    -- Sekretessmarkering or skyddad folkbokföring: the person's data is never released.
    protection text CHECK (protection IN ('SEKRETESSMARKERING', 'SKYDDAD_FOLKBOKFORING')),
    search_last_name text GENERATED ALWAYS AS (search_fold(last_name)) STORED,
    search_first_names text GENERATED ALWAYS AS (search_fold(first_names)) STORED,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((deregistration_code IS NULL) = (deregistration_date IS NULL))
);

CREATE INDEX person_search_last_name_trgm ON person USING gin (search_last_name gin_trgm_ops);
CREATE INDEX person_birth_date ON person (birth_date);

CREATE TABLE address (
    person_id bigint NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    -- F: folkbokföringsadress, S: särskild postadress, U: utlandsadress.
    kind char(1) NOT NULL CHECK (kind IN ('F', 'S', 'U')),
    care_of text CHECK (length(care_of) <= 35),
    line1 text CHECK (length(line1) <= 35),
    line2 text CHECK (length(line2) <= 35),
    line3 text CHECK (length(line3) <= 35),
    postal_code text CHECK (postal_code ~ '^[0-9]{5}$'),
    postal_town text CHECK (length(postal_town) <= 27),
    county_code text CHECK (county_code ~ '^[0-9]{2}$'),
    municipality_code text CHECK (municipality_code ~ '^[0-9]{2}$'),
    country text,
    PRIMARY KEY (person_id, kind)
);

CREATE INDEX address_postal_town ON address (search_fold(postal_town)) WHERE kind = 'F';

CREATE TABLE relation (
    person_id bigint NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    -- B child, MO mother, FA father, F parent, V has guardian, VF is guardian of,
    -- M spouse, P registered partner.
    kind text NOT NULL CHECK (kind IN ('B', 'MO', 'FA', 'F', 'V', 'VF', 'M', 'P')),
    -- The related person's number; it need not be in the local register, and a person
    -- who never had one is written as the birth date followed by zeros.
    related_personnummer text NOT NULL CHECK (related_personnummer ~ '^[0-9]{12}$'),
    valid_from date,
    valid_to date,
    PRIMARY KEY (person_id, kind, related_personnummer)
);

CREATE INDEX relation_related_personnummer ON relation (related_personnummer);

-- Every query that can list or relate persons reads this view, never the table, so
-- no code path can forget to leave protected persons out.
CREATE VIEW visible_person AS
SELECT
    p.*,
    -- What every tier may know of a deregistration; the code itself is a detail.
    CASE
        WHEN p.deregistration_code IS NULL THEN 'REGISTERED'
        WHEN p.deregistration_code = 'AV' THEN 'DECEASED'
        WHEN p.deregistration_code = 'UV' THEN 'EMIGRATED'
        ELSE 'DEREGISTERED'
    END AS status
FROM person AS p
WHERE p.protection IS NULL;

-- Relations whose other end is a protected person, or is identified only by a
-- samordningsnummer, are never shown.
CREATE VIEW visible_relation AS
SELECT r.*
FROM relation AS r
WHERE substr(r.related_personnummer, 7, 2)::int <= 60
  AND NOT EXISTS (
      SELECT 1
      FROM person AS p
      WHERE p.personnummer = r.related_personnummer
        AND p.protection IS NOT NULL
  );

-- Samordningsnummer are never listed, never answered from the local copy and never shown
-- as a relative: a coordination number is shown only when it is looked up, and that
-- lookup goes to Skatteverket. The rule was restated in every query (and before the
-- lookup in the code); now it lives in the views, beside protection, so no query that
-- reads them can forget it. The register may still hold such persons, as delivered.
--
-- A relation whose relative has a samordningsnummer stays left out as a whole (as since
-- the first migration): showing it would show the number. The relations of a
-- samordningsnummer holder are never asked for, since they are read for persons of
-- visible_person only.

-- Day of month + 60: the same rule as the generated column person.is_coordination_number
-- and resolvers/domain/personnummer.py:is_coordination_number (tests/test_status.py holds all
-- three equal).
CREATE FUNCTION is_coordination_number(personnummer text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN substr(personnummer, 7, 2)::int > 60;

-- The views keep their columns (names, types and order); only their rows change.
CREATE OR REPLACE VIEW visible_person AS
SELECT
    p.*,
    person_status(p.is_coordination_number, p.deregistration_code) AS status
FROM person AS p
WHERE p.protection IS NULL
  AND NOT p.is_coordination_number;

CREATE OR REPLACE VIEW visible_relation AS
SELECT r.*
FROM relation AS r
WHERE NOT is_coordination_number(r.related_personnummer)
  AND NOT EXISTS (
      SELECT 1
      FROM person AS p
      WHERE p.personnummer = r.related_personnummer
        AND p.protection IS NOT NULL
  );

CREATE OR REPLACE VIEW visible_relation_person AS
SELECT
    r.person_id,
    r.kind,
    r.related_personnummer,
    r.valid_from,
    r.valid_to,
    rp.*,
    CASE
        WHEN rp.id IS NOT NULL
        THEN person_status(rp.is_coordination_number, rp.deregistration_code)
    END AS status
FROM relation AS r
LEFT JOIN person AS rp ON rp.personnummer = r.related_personnummer
WHERE NOT is_coordination_number(r.related_personnummer)
  AND rp.protection IS NULL;

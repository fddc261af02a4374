-- A samordningsnummer holder is not and never was folkbokförd, so REGISTERED ("folkbokförd")
-- was untrue of them. Status now also depends on the kind of number: deregistered
-- (deceased, emigrated, otherwise) first, then COORDINATION_NUMBER, then REGISTERED. The
-- same rule decides an answer from Skatteverket (resolvers/domain/codes.py:person_status);
-- tests/test_status.py holds the two equal.

CREATE FUNCTION person_status(is_coordination_number boolean, deregistration_code text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
SELECT CASE
    WHEN deregistration_code = 'AV' THEN 'DECEASED'
    WHEN deregistration_code = 'UV' THEN 'EMIGRATED'
    WHEN deregistration_code IS NOT NULL THEN 'DEREGISTERED'
    WHEN is_coordination_number THEN 'COORDINATION_NUMBER'
    ELSE 'REGISTERED'
END
$$;

-- The views keep their columns (names, types and order); only status is computed anew.
CREATE OR REPLACE VIEW visible_person AS
SELECT
    p.*,
    person_status(p.is_coordination_number, p.deregistration_code) AS status
FROM person AS p
WHERE p.protection IS NULL;

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
WHERE substr(r.related_personnummer, 7, 2)::int <= 60
  AND rp.protection IS NULL;

DROP FUNCTION person_status(text);

-- Reading a relation with its related person looked the relative up twice: once in
-- visible_relation (is the relative protected?) and once more to read their record from
-- visible_person. visible_relation_person does both with one lookup: each visible
-- relation with the related person's columns as visible_person has them, or NULLs when
-- the register does not hold the relative. The protection rule stays in the database.

-- A person's status, as every tier may know it; the code itself is a detail.
CREATE FUNCTION person_status(deregistration_code text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
SELECT CASE
    WHEN deregistration_code IS NULL THEN 'REGISTERED'
    WHEN deregistration_code = 'AV' THEN 'DECEASED'
    WHEN deregistration_code = 'UV' THEN 'EMIGRATED'
    ELSE 'DEREGISTERED'
END
$$;

CREATE OR REPLACE VIEW visible_person AS
SELECT
    p.*,
    person_status(p.deregistration_code) AS status
FROM person AS p
WHERE p.protection IS NULL;

-- Relations whose relative is neither a samordningsnummer holder nor protected (as
-- visible_relation), joined to the relative's record once. The relative's columns are
-- visible_person's, in its order, after the relation's own.
CREATE VIEW visible_relation_person AS
SELECT
    r.person_id,
    r.kind,
    r.related_personnummer,
    r.valid_from,
    r.valid_to,
    rp.*,
    CASE WHEN rp.id IS NOT NULL THEN person_status(rp.deregistration_code) END AS status
FROM relation AS r
LEFT JOIN person AS rp ON rp.personnummer = r.related_personnummer
WHERE substr(r.related_personnummer, 7, 2)::int <= 60
  AND rp.protection IS NULL;

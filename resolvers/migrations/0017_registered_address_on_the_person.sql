-- A selection's criteria of the registered address (folkbokföringsadress) kept on the
-- person's row, so that a preview counts by one scan of one table. Counting every
-- registered person of two million joined person to their addresses (two million rows
-- each, one parallel hash join): about a second, where the same count over person alone
-- takes a quarter of one. The address stays where it is (lookups and files read it); the
-- person's row says what of it a selection asks:
--
--   has_registered_address   the person has an address of kind F (whatever it holds)
--   registered_municipality  its county and municipality code, four digits
--                            (resolvers/imports/parts.py:MUNICIPALITY), NULL when either
--                            is missing
--   registered_postal_code   its postal code
--   registered_town_folded   its postal town folded as search_fold folds it, so that a
--                            town is compared without folding two million towns
--
-- The importer, the register's one writer, writes them with the address, from the same
-- record, in the same statement or transaction (resolvers/imports/registered.py); a
-- protection purges them with the address.
ALTER TABLE person
    ADD COLUMN has_registered_address boolean NOT NULL DEFAULT false,
    ADD COLUMN registered_municipality text,
    ADD COLUMN registered_postal_code text,
    ADD COLUMN registered_town_folded text,
    ADD CONSTRAINT person_registered_address_or_none CHECK (
        has_registered_address
        OR (registered_municipality IS NULL AND registered_postal_code IS NULL
            AND registered_town_folded IS NULL)
    );

-- Every person with an address gets a new row version: about 2.5 minutes at 2 000 000
-- persons on two cores, the register locked meanwhile (as by an import). The old versions
-- are left to vacuum, as after a full extract applied in rounds.
UPDATE person AS p
SET has_registered_address = true,
    registered_municipality = a.county_code || a.municipality_code,
    registered_postal_code = a.postal_code,
    registered_town_folded = search_fold(a.postal_town)
FROM address AS a
WHERE a.person_id = p.id
  AND a.kind = 'F';

-- The view's columns stay as they were, in their order (p.* was expanded when it was
-- made, in migration 0001); the new ones come after status.
CREATE OR REPLACE VIEW visible_person AS
SELECT
    p.id,
    p.personnummer,
    p.is_coordination_number,
    p.birth_date,
    p.first_names,
    p.given_name_code,
    p.middle_name,
    p.last_name,
    p.moved_in_date,
    p.key_code,
    p.civil_status,
    p.civil_status_date,
    p.deregistration_code,
    p.deregistration_date,
    p.protection,
    p.search_last_name,
    p.search_first_names,
    p.updated_at,
    person_status(p.is_coordination_number, p.deregistration_code) AS status,
    p.has_registered_address,
    p.registered_municipality,
    p.registered_postal_code,
    p.registered_town_folded
FROM person AS p
WHERE p.protection IS NULL
  AND NOT p.is_coordination_number;

-- The municipality is a column now, with the planner's statistics of any column; the
-- expression statistic on address (migration 0016) served the join no statement makes.
-- One statistic of its own tells the planner how the three go together: who has no
-- registered address is mostly deregistered (deceased, emigrated), so their shares
-- multiplied undercount a broad selection (at 2 000 000: everyone registered estimated
-- 1.89 million of 1.95 without it, 1.94 with it; Mölndal 228 000 of 243 000, 243 000).
DROP STATISTICS IF EXISTS address_municipality_expression;
CREATE STATISTICS IF NOT EXISTS person_registered_address_status (mcv)
    ON has_registered_address, registered_municipality,
       (person_status(is_coordination_number, deregistration_code))
    FROM person;

-- The selection's town criterion read this index; it reads person now, and nothing else
-- looks towns up across the register (a name search checks its few matches' towns by
-- their address's key). Without it the import folds each town once (about 1.5 µs), as
-- before, not twice.
DROP INDEX IF EXISTS address_postal_town;

ANALYZE person;

-- What the feed lists, by the rules of the register as it stands now (docs/changes.md).
-- An event stays in the table as it was written; the view decides what a reader sees:
--
-- - an event of a person protected now — under its number, or under the number that
--   replaced it (former_personnummer) — is not listed: what it told (a move, a name,
--   the tie from an old number to the new) is data on a protected person. Its
--   PROTECTED event stays, and a NUMBER_CHANGED to the protected person is listed as a
--   PROTECTED for the old number, where it stands (number only), as the importer does
--   within a file: a receiver still holding the old number purges it;
-- - a samordningsnummer is never listed: not as an event's number (as before), and not
--   as the number a NUMBER_CHANGED came from: such a change is listed as CREATED of
--   the new number (receivers never held the old one).
--
-- Every lookup is a correlated subquery, so a page's ordered scan of the (xid, position)
-- index stays ordered and stops at its LIMIT. The columns keep their names and order.
CREATE OR REPLACE VIEW visible_change_event AS
SELECT
    e.position,
    e.xid,
    shown.personnummer,
    shown.kind,
    CASE WHEN shown.kind = 'CHANGED' THEN e.parts END AS parts,
    CASE WHEN shown.kind = 'NUMBER_CHANGED' THEN e.previous_personnummer END
        AS previous_personnummer,
    CASE WHEN shown.kind <> 'PROTECTED' THEN e.recorded_at END AS recorded_at,
    CASE WHEN shown.kind <> 'PROTECTED' THEN e.post_id END AS post_id,
    e.applied_at,
    e.import_file_id,
    e.municipality_before
FROM change_event AS e
CROSS JOIN LATERAL (
    SELECT e.kind <> 'PROTECTED' AND EXISTS (
        SELECT 1
        FROM person AS p
        WHERE p.protection IS NOT NULL
          AND p.personnummer IN (
              e.personnummer,
              (SELECT f.current_personnummer
               FROM former_personnummer AS f
               WHERE f.personnummer = e.personnummer)
          )
    ) AS protected
    OFFSET 0  -- evaluated once per event, not once per column that reads it
) AS now
CROSS JOIN LATERAL (
    SELECT
        CASE
            WHEN NOT now.protected THEN e.personnummer
            WHEN e.kind = 'NUMBER_CHANGED' THEN e.previous_personnummer
        END,
        CASE
            WHEN NOT now.protected THEN
                CASE
                    WHEN e.kind = 'NUMBER_CHANGED'
                        AND is_coordination_number(e.previous_personnummer)
                        THEN 'CREATED'
                    ELSE e.kind
                END
            WHEN e.kind = 'NUMBER_CHANGED' THEN 'PROTECTED'
        END
) AS shown (personnummer, kind)
WHERE shown.kind IS NOT NULL
  AND NOT is_coordination_number(shown.personnummer);

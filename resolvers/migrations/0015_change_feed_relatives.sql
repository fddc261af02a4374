-- A relative's RELATIONS is listed only when the relation it tells of can be seen
-- (docs/changes.md "What an event says").
--
-- An event whose parts name RELATIONS keeps the numbers of the relatives whose rows
-- changed (`relatives`: the rows added, ended or gone, as the importer compared them).
-- The feed reads it as the register is now, as it reads everything else: when every one
-- of them is a person protected now — under that number or the one that replaced it
-- (former_personnummer) — or a samordningsnummer, the relation that changed is shown
-- nowhere (visible_relation leaves it out), so RELATIONS is not listed, and a CHANGED
-- left with no part is not listed at all. Else the part tells the reader to look at a
-- relation it can see. Listing it would tell a reader that a relative it cannot see
-- exists, and when: at a protection, the one whose PROTECTED stands beside it. Events
-- written before this column (NULL) list their parts as written.
ALTER TABLE change_event ADD COLUMN relatives text[];

-- As migration 0013, with the parts a reader may see.
CREATE OR REPLACE VIEW visible_change_event AS
SELECT
    e.position,
    e.xid,
    shown.personnummer,
    shown.kind,
    seen.parts,
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
CROSS JOIN LATERAL (
    SELECT CASE
        WHEN shown.kind IS DISTINCT FROM 'CHANGED' THEN NULL
        WHEN e.relatives IS NULL OR EXISTS (
            SELECT 1
            FROM unnest(e.relatives) AS r (personnummer)
            LEFT JOIN former_personnummer AS f ON f.personnummer = r.personnummer
            WHERE NOT is_coordination_number(coalesce(f.current_personnummer, r.personnummer))
              AND NOT EXISTS (
                  SELECT 1
                  FROM person AS p
                  WHERE p.protection IS NOT NULL
                    AND p.personnummer IN (r.personnummer, f.current_personnummer)
              )
        ) THEN e.parts
        ELSE array_remove(e.parts, 'RELATIONS')
    END
    OFFSET 0  -- once per event
) AS seen (parts)
WHERE shown.kind IS NOT NULL
  AND NOT is_coordination_number(shown.personnummer)
  AND seen.parts IS DISTINCT FROM '{}';

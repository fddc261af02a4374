-- The change feed (docs/changes.md): what its filters read, and how far its retention
-- has pruned.

-- The registered municipality (county and municipality code, four digits) the event took
-- the person out of: a move elsewhere, leaving the region, a protection (which purges the
-- address). A follower of that municipality is sent the event, so it learns to update or
-- purge; otherwise a municipality filter matches the person's registered municipality now.
-- NULL when the event took the person out of no municipality.
ALTER TABLE change_event
    ADD COLUMN municipality_before text CHECK (municipality_before ~ '^[0-9]{4}$');

-- Events are pruned a whole transaction at a time, oldest first, once older than the
-- retention. The last pruned event's (xid, position): a cursor before it has missed
-- events and is refused (CURSOR_EXPIRED); (0, 0) while nothing has been pruned.
CREATE TABLE change_event_horizon (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    xid xid8 NOT NULL,
    position bigint NOT NULL
);
INSERT INTO change_event_horizon (xid, position) VALUES ('0', 0);

-- What the feed may list: as the person views, never a samordningsnummer holder's event
-- (a number change from one to a personnummer is listed under the new number).
CREATE VIEW visible_change_event AS
SELECT e.*
FROM change_event AS e
WHERE NOT is_coordination_number(e.personnummer);

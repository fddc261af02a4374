-- Statistics for the selections' statement (resolvers/selections/criteria.py: SELECTED),
-- so the planner knows how many rows its two computed criteria keep. Without them it
-- guessed a few thousand of two million for `status = ANY(…)` (a function of two
-- columns) and for a municipality (county || municipality code), and counted Göteborg
-- by probing the other table's index once a row: 2–3 s at 2 000 000 persons, where one
-- hash join of the two tables takes about a second.
CREATE STATISTICS IF NOT EXISTS person_status_expression
    ON (person_status(is_coordination_number, deregistration_code))
    FROM person;
CREATE STATISTICS IF NOT EXISTS address_municipality_expression
    ON ((county_code || municipality_code))
    FROM address;

-- Gathered now, not at the next autoanalyze (a few seconds at 2 000 000 persons).
ANALYZE person;
ANALYZE address;

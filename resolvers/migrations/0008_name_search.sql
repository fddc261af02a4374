-- A name search with a first name read the trigram index on last names alone, then
-- fetched and rechecked every person whose last name shares a few trigrams with the one
-- asked for: for a name ending in -sson, about half the register. The first names were
-- only a filter on those rows, so each search cost time in proportion to the register.
--
-- One trigram index over both folded names answers the last name and the first name
-- together: GIN intersects the two within the index, the rarer of them leading, and the
-- rows it hands back are about as many as match. A search without a first name reads
-- the index's first column as it read the old index, which this one replaces.
--
-- Building it holds off writes to person (not reads) for as long as it takes: about
-- ten seconds for two million persons. A name may be NULL (a protected person's, in a
-- delivery that withholds it): no trigram condition matches NULL, and the views leave
-- such persons out in any case.

CREATE INDEX person_search_names_trgm ON person
USING gin (search_last_name gin_trgm_ops, search_first_names gin_trgm_ops);

-- IF EXISTS: a migration before this one that rebuilt the folded columns took it along.
DROP INDEX IF EXISTS person_search_last_name_trgm;

-- The schema PostGraphile serves in the benchmark, and nothing else uses: views over the
-- API's own views and tables, so that the peer answers with the same data as the API.
--   person              public.visible_person (protected persons are never there), with
--                       the tilltalsnamn worked out as resolvers/domain/codes.py:given_name does
--   *_address           public.address, one view per kind (F, S, U), one row per person
--   relation            public.visible_relation, current relations only, as the API reads
--   persons_in_range    the API's interval query (resolvers/register/persons.py, PERSONS_IN_RANGE)
--   search_persons      the API's name search (PERSONS_BY_NAME), ranked the same way
-- Smart tags give the views the keys and relations PostGraphile cannot see on a view, and
-- hide root fields the API does not offer. Applied on every run; it replaces itself.

DROP SCHEMA IF EXISTS peer CASCADE;
CREATE SCHEMA peer;

CREATE VIEW peer.person AS
SELECT
    p.id,
    p.personnummer,
    p.is_coordination_number,
    p.birth_date,
    p.first_names,
    -- Position code 'SE': names S to E (E = 0 means S alone); hyphenated names count twice.
    CASE
        WHEN p.given_name_code IS NULL OR left(p.given_name_code, 1) = '0' THEN NULL
        WHEN coalesce(nullif(right(p.given_name_code, 1), '0'), left(p.given_name_code, 1))::int
             NOT BETWEEN left(p.given_name_code, 1)::int
                 AND regexp_count(p.first_names, '[^\s-]+') THEN NULL
        ELSE substr(
            p.first_names,
            regexp_instr(p.first_names, '[^\s-]+', 1, left(p.given_name_code, 1)::int),
            regexp_instr(
                p.first_names, '[^\s-]+', 1,
                coalesce(nullif(right(p.given_name_code, 1), '0'), left(p.given_name_code, 1))::int,
                1
            ) - regexp_instr(p.first_names, '[^\s-]+', 1, left(p.given_name_code, 1)::int)
        )
    END AS given_name,
    p.given_name_code,
    p.middle_name,
    p.last_name,
    p.status
FROM public.visible_person AS p;

COMMENT ON VIEW peer.person IS E'@primaryKey id\n@unique personnummer\n@behavior -query:resource:list -query:resource:connection';

CREATE VIEW peer.address AS
SELECT
    person_id,
    kind,
    care_of,
    line1,
    line2,
    line3,
    postal_code,
    postal_town,
    country
FROM public.address;

-- A person's addresses come as a plain list, reached only from a (visible) person.
COMMENT ON VIEW peer.address IS E'@primaryKey person_id,kind\n@foreignKey (person_id) references peer.person (id)\n@behavior +list -connection -query:resource:list -query:resource:connection -query:resource:single';

CREATE VIEW peer.relation AS
SELECT
    r.person_id,
    CASE r.kind
        WHEN 'B' THEN 'CHILD'
        WHEN 'MO' THEN 'MOTHER'
        WHEN 'FA' THEN 'FATHER'
        WHEN 'F' THEN 'PARENT'
        WHEN 'V' THEN 'GUARDIAN'
        WHEN 'VF' THEN 'WARD'
        WHEN 'M' THEN 'SPOUSE'
        WHEN 'P' THEN 'REGISTERED_PARTNER'
    END AS kind,
    r.kind AS code,
    r.related_personnummer AS personnummer,
    r.valid_from,
    r.valid_to
FROM public.visible_relation AS r
WHERE r.valid_to IS NULL OR r.valid_to > current_date;

-- A person's relations come as a plain list, as the API gives them; the related person
-- is reached through the number (unique on peer.person).
COMMENT ON VIEW peer.relation IS E'@primaryKey person_id,code,personnummer\n@foreignKey (person_id) references peer.person (id)\n@foreignKey (personnummer) references peer.person (personnummer)\n@behavior +list -connection -query:resource:list -query:resource:connection -query:resource:single';

CREATE FUNCTION peer.persons_in_range(low text, high text)
RETURNS SETOF peer.person
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT p.*
    FROM peer.person AS p
    WHERE p.personnummer BETWEEN $1 AND $2
      AND NOT p.is_coordination_number
    ORDER BY p.personnummer
$$;

-- resolvers/register/persons.py PERSONS_BY_NAME without birth years, postal town and the count:
-- the benchmark's searches match at most as many persons as the API allows. The criteria
-- are folded once (MATERIALIZED), as the API does: under a generic plan of a prepared
-- statement they would otherwise be folded again for every candidate row. The branches
-- are the API's: the last and the first name asked of the trigram index together, the
-- last name alone, or (for a name without trigrams) the last name's equality.
CREATE FUNCTION peer.search_persons(last_name text, first_name text)
RETURNS SETOF peer.person
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    WITH criteria AS MATERIALIZED (
        SELECT
            public.search_fold($1) AS last_name,
            public.search_fold($2) AS first_name,
            public.show_trgm(public.search_fold($1)) <> '{}' AS has_trigrams
    ),
    matches AS (
        SELECT p.id, p.personnummer, p.search_last_name, p.search_first_names
        FROM criteria AS c
        JOIN public.visible_person AS p
          ON p.search_last_name OPERATOR(public.%) c.last_name
         AND c.first_name OPERATOR(public.<%) p.search_first_names
        WHERE $2 IS NOT NULL
          AND c.has_trigrams
        UNION ALL
        SELECT p.id, p.personnummer, p.search_last_name, p.search_first_names
        FROM criteria AS c
        JOIN public.visible_person AS p ON p.search_last_name OPERATOR(public.%) c.last_name
        WHERE $2 IS NULL
          AND c.has_trigrams
        UNION ALL
        SELECT p.id, p.personnummer, p.search_last_name, p.search_first_names
        FROM criteria AS c
        JOIN public.visible_person AS p ON p.search_last_name = c.last_name
        WHERE NOT c.has_trigrams
          AND (c.first_name IS NULL OR c.first_name OPERATOR(public.<%) p.search_first_names)
    )
    SELECT p.*
    FROM criteria AS c
    JOIN matches AS m ON true
    JOIN peer.person AS p ON p.id = m.id
    ORDER BY
        m.search_last_name = c.last_name DESC,
        CASE
            WHEN strpos(m.search_first_names || ' ', c.first_name || ' ') = 1 THEN 2
            WHEN strpos(' ' || m.search_first_names || ' ', ' ' || c.first_name || ' ') > 0
            THEN 1
            ELSE 0
        END DESC,
        public.similarity(m.search_last_name, c.last_name)
            + coalesce(public.word_similarity(c.first_name, m.search_first_names), 0) DESC,
        p.personnummer
$$;

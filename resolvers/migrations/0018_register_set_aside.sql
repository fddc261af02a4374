-- The register's secondary indexes and foreign keys while the first full delivery loads
-- (resolvers/imports/bulk.py). Its first file, into an empty register, drops them and
-- keeps their definitions here; its later files write without them; the file that
-- completes the delivery builds them again from here, once, over the whole register.
-- Any other import, or a migration, builds them first. Empty whenever the register is in
-- service.
CREATE TABLE register_set_aside (
    position int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('INDEX', 'FOREIGN KEY')),
    -- The table, and the name as an identifier (quoted where it must be).
    owner text NOT NULL,
    name text NOT NULL,
    -- CREATE INDEX …, or the constraint's definition (FOREIGN KEY … REFERENCES …).
    definition text NOT NULL
);

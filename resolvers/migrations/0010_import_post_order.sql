-- PostIds are numbered per order (BestallningsId): beside a person's post_id the order of
-- the file whose record set it, so that a record is stale only against what a record of
-- its own order stored (docs/imports.md "Order"). NULL: a file without Filinformation,
-- or a row written before this column was.
ALTER TABLE person ADD COLUMN post_order text CHECK (length(post_order) = 18);

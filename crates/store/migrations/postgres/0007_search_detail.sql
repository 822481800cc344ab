-- SQLite rebuilds its FTS5 index without positions here; PostgreSQL's GIN index over the
-- tsvector is unchanged. Kept so both backends carry the same migration versions.
SELECT 1;

-- SQLite renumbers its search documents here (their rowids encode the record); PostgreSQL
-- matches through the GIN index on search_docs and keeps its ids. Kept so both backends
-- carry the same migration versions.
SELECT 1;

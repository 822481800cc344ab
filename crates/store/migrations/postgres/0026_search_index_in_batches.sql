-- SQLite batches its full-text index writes here (a `search_pending` table); PostgreSQL's
-- GIN index already takes new entries into its own pending list, merged by the upkeep
-- (`Db::upkeep`). Kept so both backends carry the same migration versions.
SELECT 1;

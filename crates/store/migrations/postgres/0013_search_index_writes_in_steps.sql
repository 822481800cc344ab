-- SQLite stops FTS5's own segment merging here (the ticket writes merge in small steps);
-- PostgreSQL's GIN index is unchanged: turning its pending list off (fastupdate = off) was
-- measured and did not lower the create p99 (docs/BENCHMARKS.md, "Tail latency"). Kept so
-- both backends carry the same migration versions.
SELECT 1;

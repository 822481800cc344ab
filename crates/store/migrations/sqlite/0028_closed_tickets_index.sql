-- The newest-first list of closed tickets (a town's, a school's, a system's), read from an
-- index of the closed ones alone. Given only the primary key, PostgreSQL walked the
-- newest tickets backwards and visited the table for each to skip the open ones: it
-- prices that walk as if closed tickets were spread evenly, when the newest tickets are
-- the open ones — 13,000 of them in front cost 6–14 ms a list, and 16 lists at once
-- overran two cores (p99 110 ms; docs/BENCHMARKS.md, session 19). Closed is where almost
-- every ticket ends, so this index is nearly the table's size; a close adds one entry.
-- SQLite's planner already walked `tickets_status`; the index is here too so that both
-- databases keep the same schema, and either planner may take it.
CREATE INDEX tickets_closed ON tickets (id) WHERE status = 'closed';

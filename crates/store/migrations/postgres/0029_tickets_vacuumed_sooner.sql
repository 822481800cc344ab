-- Keep the tickets table's visibility map set, so the lists' capped counts read their
-- index alone. A new ticket lands in the free space vacuum recorded in old pages, and each
-- such insert, like any update, marks its page as not all-visible: after a bench's 13,000
-- creates 13,072 of 22,619 pages were, and counting a town's closed tickets visited the
-- table for 889 of its 1,001 entries. PostgreSQL's default waits for inserts of a fifth of
-- the table (200,000 at a million tickets) before vacuuming; here it is 1,000 plus 0.2%
-- (3,000 at a million), and 1% for updated rows. Such a vacuum reads only the pages not
-- marked, and skips the indexes when few rows died (docs/BENCHMARKS.md, session 20).
ALTER TABLE tickets SET (
    autovacuum_vacuum_insert_threshold = 1000,
    autovacuum_vacuum_insert_scale_factor = 0.002,
    autovacuum_vacuum_scale_factor = 0.01
);

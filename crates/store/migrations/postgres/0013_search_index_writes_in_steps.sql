-- New search documents go straight into the GIN index, not into its pending list: a list
-- is merged by the insert that takes it past gin_pending_list_limit (4 MB), which held that
-- group commit for tens of milliseconds every few seconds under continuous creates (create
-- p99 45–56 ms from the first 10,000 tickets; docs/BENCHMARKS.md, "Tail latency"), and only
-- autovacuum empties it otherwise. Each insert now pays its own small share instead.
ALTER INDEX search_docs_tsv SET (fastupdate = off);
SELECT gin_clean_pending_list('search_docs_tsv'::regclass);

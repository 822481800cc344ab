-- FTS5 merges its index segments itself in steps of 64 × levels pages, each inside whichever
-- commit crosses the next 64 leaves written: under continuous creates, a step of ~450 pages
-- in one group commit every quarter second at 300,000 tickets. The ticket writes now merge
-- 16 pages in each group instead (store::search::MERGE_STEP_SQLITE); a level still merges at
-- once when it reaches 16 segments (crisismerge), so the index stays bounded without them.
INSERT INTO search_fts (search_fts, rank) VALUES ('automerge', 0);

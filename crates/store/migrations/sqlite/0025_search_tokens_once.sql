-- PostgreSQL drops `search_docs.body` here (its tokens live in `tsv`); SQLite's FTS5
-- external-content table reads the tokens from `body`, which stays. Kept so both backends
-- carry the same migration versions.
SELECT 1;

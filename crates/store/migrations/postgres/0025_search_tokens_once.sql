-- PostgreSQL keeps a document's tokens in `tsv` only: `body` held the same tokens as
-- text, read by nothing here (SQLite's FTS5 reads its tokens from `body`), and was ~40% of
-- each search document's bytes and of its share of the write-ahead log.
ALTER TABLE search_docs DROP COLUMN body;

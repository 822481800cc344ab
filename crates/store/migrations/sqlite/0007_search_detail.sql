-- The search index keeps only which documents hold a token (detail=none): our queries are
-- whole tokens and prefixes, never positions, and writing positions cost about half of
-- every ticket's search document.
DROP TABLE search_fts;
CREATE VIRTUAL TABLE search_fts USING fts5(body, content='search_docs', content_rowid='id', tokenize='unicode61 remove_diacritics 0', detail=none);
INSERT INTO search_fts (search_fts) VALUES ('rebuild');

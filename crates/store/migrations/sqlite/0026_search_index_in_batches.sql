-- A new search document waits in `search_pending` and reaches the full-text index with
-- others, at least `store::search::FLUSH_AT` at a time (the create path) or when it has
-- waited a second (the upkeep). FTS5 writes a segment per transaction that touches it:
-- at ~8 documents a group commit that was 1.24 pages a document plus the merging of
-- all those small segments, a quarter of every group's pages; at 64 a segment, 0.25.
-- Searches read the pending documents beside the index (`store::search`), so a record is
-- found the moment its write is answered.
--
-- A document is in the index or pending, never both: updating an indexed one takes its
-- old tokens out of the index and makes it pending; deleting a pending one only forgets it.
CREATE TABLE search_pending (
    id  INTEGER PRIMARY KEY,
    at  REAL NOT NULL
);

DROP TRIGGER search_docs_ai;
CREATE TRIGGER search_docs_ai AFTER INSERT ON search_docs BEGIN
    INSERT INTO search_pending (id, at) VALUES (new.id, julianday('now'));
END;

DROP TRIGGER search_docs_ad;
CREATE TRIGGER search_docs_ad AFTER DELETE ON search_docs BEGIN
    INSERT INTO search_fts (search_fts, rowid, body)
        SELECT 'delete', old.id, old.body WHERE NOT EXISTS (SELECT 1 FROM search_pending WHERE id = old.id);
    DELETE FROM search_pending WHERE id = old.id;
END;

DROP TRIGGER search_docs_au;
CREATE TRIGGER search_docs_au AFTER UPDATE ON search_docs BEGIN
    INSERT INTO search_fts (search_fts, rowid, body)
        SELECT 'delete', old.id, old.body WHERE NOT EXISTS (SELECT 1 FROM search_pending WHERE id = old.id);
    INSERT INTO search_pending (id, at)
        SELECT new.id, julianday('now') WHERE NOT EXISTS (SELECT 1 FROM search_pending WHERE id = new.id);
END;

-- Know-how (维护心得, manual §2.6, §2.7(3)): written by any staff member, reviewed by the
-- engineer: submitted ─publish─> published; submitted ─reject (reason)─> rejected ─edit─> submitted.
CREATE TABLE articles (
    id             INTEGER PRIMARY KEY,
    title          TEXT NOT NULL,
    body           TEXT NOT NULL,
    cause          TEXT,
    fix            TEXT,
    prevention     TEXT,
    system         TEXT,
    fault_type     TEXT,
    subcategory    TEXT,
    model          TEXT,
    ticket_id      BIGINT REFERENCES tickets (id),
    status         TEXT NOT NULL,
    review_note    TEXT,
    author_id      BIGINT NOT NULL REFERENCES users (id),
    reviewed_by    BIGINT REFERENCES users (id),
    published_at   TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    version        BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX articles_status ON articles (status, updated_at);
CREATE INDEX articles_model ON articles (model) WHERE status = 'published';
CREATE INDEX articles_subcategory ON articles (subcategory) WHERE status = 'published';
CREATE INDEX articles_ticket ON articles (ticket_id);
CREATE INDEX articles_author ON articles (author_id, id);

-- Foundation: users, sessions, login throttle, audit trail, customers, equipment,
-- the search index and the jobs table. SQLite flavour; postgres/0001 has the same meaning.

CREATE TABLE customers (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL,
    code            TEXT NOT NULL UNIQUE,
    county          TEXT NOT NULL,
    town            TEXT NOT NULL,
    address         TEXT,
    travel_minutes  INTEGER,
    version         BIGINT NOT NULL DEFAULT 1,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX customers_town ON customers (town, name);

CREATE TABLE customer_contacts (
    id            INTEGER PRIMARY KEY,
    customer_id   BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    position      INTEGER NOT NULL,
    name          TEXT NOT NULL,
    title         TEXT,
    phone         TEXT,
    phone_digits  TEXT,
    email         TEXT,
    im            TEXT
);
CREATE INDEX customer_contacts_customer ON customer_contacts (customer_id, position);
CREATE INDEX customer_contacts_phone ON customer_contacts (phone_digits);

CREATE TABLE users (
    id             INTEGER PRIMARY KEY,
    username       TEXT NOT NULL UNIQUE,
    password_hash  TEXT NOT NULL,
    display_name   TEXT NOT NULL,
    roles          TEXT NOT NULL,
    customer_id    BIGINT REFERENCES customers (id),
    email          TEXT,
    phone          TEXT,
    locale         TEXT NOT NULL DEFAULT 'zh-CN',
    active         BOOLEAN NOT NULL DEFAULT TRUE,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);

CREATE TABLE sessions (
    id          TEXT PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    csrf_token  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE login_failures (
    id      INTEGER PRIMARY KEY,
    key     TEXT NOT NULL,
    at      TEXT NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (key, at);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    actor_id    BIGINT,
    actor_name  TEXT NOT NULL,
    entity      TEXT NOT NULL,
    entity_id   BIGINT NOT NULL,
    action      TEXT NOT NULL,
    summary     TEXT NOT NULL,
    before_json TEXT,
    after_json  TEXT
);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id, id);
CREATE INDEX audit_log_actor ON audit_log (actor_id, id);
-- Append-only: the trail can be read, never rewritten.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

CREATE TABLE equipment (
    id              INTEGER PRIMARY KEY,
    customer_id     BIGINT NOT NULL REFERENCES customers (id),
    system          TEXT NOT NULL,
    kind            TEXT NOT NULL,
    brand           TEXT,
    model           TEXT,
    serial_no       TEXT NOT NULL UNIQUE,
    location        TEXT,
    installed_on    TEXT,
    warranty_until  TEXT,
    critical        BOOLEAN NOT NULL DEFAULT FALSE,
    status          TEXT NOT NULL,
    version         BIGINT NOT NULL DEFAULT 1,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX equipment_customer ON equipment (customer_id, system);
CREATE INDEX equipment_system ON equipment (system, id);
CREATE INDEX equipment_status ON equipment (status, id);
CREATE INDEX equipment_warranty ON equipment (warranty_until);

-- One row per searchable record; body holds the tokens of our own tokenizer.
CREATE TABLE search_docs (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL,
    ref_id       BIGINT NOT NULL,
    customer_id  BIGINT,
    body         TEXT NOT NULL,
    UNIQUE (kind, ref_id)
);
CREATE VIRTUAL TABLE search_fts USING fts5(body, content='search_docs', content_rowid='id', tokenize='unicode61 remove_diacritics 0');
CREATE TRIGGER search_docs_ai AFTER INSERT ON search_docs BEGIN
    INSERT INTO search_fts (rowid, body) VALUES (new.id, new.body);
END;
CREATE TRIGGER search_docs_ad AFTER DELETE ON search_docs BEGIN
    INSERT INTO search_fts (search_fts, rowid, body) VALUES ('delete', old.id, old.body);
END;
CREATE TRIGGER search_docs_au AFTER UPDATE ON search_docs BEGIN
    INSERT INTO search_fts (search_fts, rowid, body) VALUES ('delete', old.id, old.body);
    INSERT INTO search_fts (rowid, body) VALUES (new.id, new.body);
END;

CREATE TABLE jobs (
    id            INTEGER PRIMARY KEY,
    kind          TEXT NOT NULL,
    payload       TEXT NOT NULL DEFAULT '{}',
    run_at        TEXT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    locked_until  TEXT,
    last_error    TEXT,
    done_at       TEXT
);
CREATE INDEX jobs_due ON jobs (done_at, run_at);

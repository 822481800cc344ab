-- Training (培训, manual §2.1, §3.2.5): a school's staff in three phases per system
-- (customer), the department's own people trained by a vendor or by the engineer.
-- planned ─complete (somebody present)─> completed; planned ─cancel─> cancelled.
CREATE TABLE trainings (
    id              INTEGER PRIMARY KEY,
    number          TEXT NOT NULL UNIQUE,
    kind            TEXT NOT NULL,
    title           TEXT NOT NULL,
    phase           TEXT,
    planned_on      TEXT NOT NULL,
    place           TEXT,
    topics          TEXT,
    provider        TEXT,
    status          TEXT NOT NULL,
    feedback_score  BIGINT CHECK (feedback_score >= 1 AND feedback_score <= 5),
    feedback_note   TEXT,
    summary         TEXT,
    completed_at    TEXT,
    created_by      BIGINT REFERENCES users (id),
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX trainings_planned_on ON trainings (planned_on, status);

CREATE TABLE training_schools (
    training_id  BIGINT NOT NULL REFERENCES trainings (id),
    customer_id  BIGINT NOT NULL REFERENCES customers (id),
    PRIMARY KEY (training_id, customer_id)
);
CREATE INDEX training_schools_customer ON training_schools (customer_id);

CREATE TABLE training_systems (
    training_id  BIGINT NOT NULL REFERENCES trainings (id),
    system       TEXT NOT NULL,
    PRIMARY KEY (training_id, system)
);

CREATE TABLE training_trainers (
    training_id  BIGINT NOT NULL REFERENCES trainings (id),
    user_id      BIGINT NOT NULL REFERENCES users (id),
    PRIMARY KEY (training_id, user_id)
);
CREATE INDEX training_trainers_user ON training_trainers (user_id);

-- Who came: a school's teachers by name, or the department's staff by account.
CREATE TABLE training_attendees (
    id             INTEGER PRIMARY KEY,
    training_id    BIGINT NOT NULL REFERENCES trainings (id),
    position       BIGINT NOT NULL,
    name           TEXT NOT NULL,
    customer_id    BIGINT REFERENCES customers (id),
    user_id        BIGINT REFERENCES users (id),
    present        BOOLEAN NOT NULL,
    administrator  BOOLEAN NOT NULL,
    result         TEXT
);
CREATE INDEX training_attendees_training ON training_attendees (training_id, position);
CREATE INDEX training_attendees_user ON training_attendees (user_id);

-- The handouts, slides and manuals of a training (a school downloads its own).
CREATE TABLE training_materials (
    id            INTEGER PRIMARY KEY,
    training_id   BIGINT NOT NULL REFERENCES trainings (id),
    filename      TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    data          BLOB NOT NULL,
    uploaded_by   BIGINT REFERENCES users (id),
    created_at    TEXT NOT NULL
);
CREATE INDEX training_materials_training ON training_materials (training_id);

-- Periodic inspections (巡检, manual §2.3, DESIGN.md §3a, form 2 《巡检记录表》).

-- The checklist templates per system (DOMAIN.md §2), edited by the engineer. An edit writes
-- a new version of the item and marks the old one superseded: a round's lines point at the
-- version they were planned with, so an edit never rewrites a planned or finished round.
CREATE TABLE checklist_items (
    id          INTEGER PRIMARY KEY,
    system      TEXT NOT NULL,
    code        TEXT NOT NULL,
    text        TEXT NOT NULL,
    standard    TEXT NOT NULL,
    frequency   TEXT NOT NULL,
    per_device  BOOLEAN NOT NULL,
    min_value   DOUBLE PRECISION,
    max_value   DOUBLE PRECISION,
    unit        TEXT,
    -- The phases the item belongs to, comma-separated; empty: every phase.
    phases      TEXT NOT NULL DEFAULT '',
    position    BIGINT NOT NULL,
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    superseded  BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at  TEXT NOT NULL
);
-- One current version per code in a system.
CREATE UNIQUE INDEX checklist_items_system_code ON checklist_items (system, code) WHERE NOT superseded;

CREATE TABLE inspections (
    id                     INTEGER PRIMARY KEY,
    number                 TEXT NOT NULL UNIQUE,
    customer_id            BIGINT NOT NULL REFERENCES customers (id),
    phase                  TEXT NOT NULL,
    -- The inspected systems, comma-separated.
    systems                TEXT NOT NULL,
    status                 TEXT NOT NULL,
    planned_on             TEXT NOT NULL,
    started_at             TEXT,
    completed_at           TEXT,
    cancelled_at           TEXT,
    cancel_reason          TEXT,
    summary                TEXT,
    handled_on_site        TEXT,
    signer_name            TEXT,
    signature_png          BLOB,
    callback_at            TEXT,
    callback_by            BIGINT REFERENCES users (id),
    callback_attended      BOOLEAN,
    callback_on_time       BOOLEAN,
    callback_satisfaction  BIGINT CHECK (callback_satisfaction >= 1 AND callback_satisfaction <= 5),
    callback_note          TEXT,
    -- Counted when the round completes (and as hazards are resolved), so the figures read
    -- the rounds, not their lines.
    hazards_found          BIGINT NOT NULL DEFAULT 0,
    hazards_resolved       BIGINT NOT NULL DEFAULT 0,
    created_by             BIGINT REFERENCES users (id),
    created_at             TEXT NOT NULL,
    updated_at             TEXT NOT NULL
);
CREATE INDEX inspections_planned ON inspections (planned_on, status);
CREATE INDEX inspections_customer ON inspections (customer_id, planned_on);
CREATE INDEX inspections_open ON inspections (planned_on) WHERE status IN ('planned', 'in_progress');
CREATE INDEX inspections_to_call ON inspections (completed_at) WHERE status = 'completed' AND callback_at IS NULL;

CREATE TABLE inspection_technicians (
    inspection_id  BIGINT NOT NULL REFERENCES inspections (id),
    user_id        BIGINT NOT NULL REFERENCES users (id),
    PRIMARY KEY (inspection_id, user_id)
);
CREATE INDEX inspection_technicians_user ON inspection_technicians (user_id);

-- A line of the round: the template item's version it was planned with, the device when it
-- is checked per device, and what the technician found.
CREATE TABLE inspection_items (
    id                  INTEGER PRIMARY KEY,
    inspection_id       BIGINT NOT NULL REFERENCES inspections (id),
    position            BIGINT NOT NULL,
    system              TEXT NOT NULL,
    equipment_id        BIGINT REFERENCES equipment (id),
    item_id             BIGINT NOT NULL REFERENCES checklist_items (id),
    result              TEXT,
    value               DOUBLE PRECISION,
    note                TEXT,
    suggest_replace     BOOLEAN NOT NULL DEFAULT FALSE,
    ticket_id           BIGINT REFERENCES tickets (id),
    recorded_by         BIGINT REFERENCES users (id),
    recorded_at         TEXT,
    hazard_resolved_at  TEXT,
    hazard_resolved_by  BIGINT REFERENCES users (id),
    hazard_resolution   TEXT,
    UNIQUE (inspection_id, position)
);
CREATE INDEX inspection_items_open_hazards ON inspection_items (inspection_id)
    WHERE result = 'hazard' AND hazard_resolved_at IS NULL;

-- A completed round's devices per system, and how many were sound (no fault, no hazard):
-- device availability (设备完好率) reads the latest of each school and system, not the lines.
CREATE TABLE inspection_systems (
    inspection_id  BIGINT NOT NULL REFERENCES inspections (id),
    system         TEXT NOT NULL,
    devices        BIGINT NOT NULL,
    devices_ok     BIGINT NOT NULL,
    latest         BOOLEAN NOT NULL DEFAULT TRUE,
    PRIMARY KEY (inspection_id, system)
);
CREATE INDEX inspection_systems_latest ON inspection_systems (inspection_id) WHERE latest;

-- The school's questions and the answers given (前期, reported to leadership).
CREATE TABLE inspection_questions (
    id             INTEGER PRIMARY KEY,
    inspection_id  BIGINT NOT NULL REFERENCES inspections (id),
    question       TEXT NOT NULL,
    answer         TEXT,
    created_by     BIGINT REFERENCES users (id),
    created_at     TEXT NOT NULL
);
CREATE INDEX inspection_questions_inspection ON inspection_questions (inspection_id, id);

CREATE TABLE inspection_photos (
    id             INTEGER PRIMARY KEY,
    inspection_id  BIGINT NOT NULL REFERENCES inspections (id),
    item_id        BIGINT REFERENCES inspection_items (id),
    content_type   TEXT NOT NULL,
    data           BLOB NOT NULL,
    created_at     TEXT NOT NULL
);
CREATE INDEX inspection_photos_inspection ON inspection_photos (inspection_id, id);

-- A fault line opens a ticket; the ticket points back to its line.
ALTER TABLE tickets ADD COLUMN inspection_item_id BIGINT REFERENCES inspection_items (id);
-- An upgrade or replacement suggested on a round.
ALTER TABLE equipment_suggestions ADD COLUMN inspection_id BIGINT REFERENCES inspections (id);

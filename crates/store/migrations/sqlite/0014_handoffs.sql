-- The hand-offs of the manual (§2.2, §2.4, §2.6, §二 2.6) and the forms' missing fields.

-- The visit time the agent agreed with the school (§2.2(5)); the technician sees it.
ALTER TABLE tickets ADD COLUMN agreed_visit_at TEXT;
ALTER TABLE tickets ADD COLUMN agreed_by BIGINT REFERENCES users (id);
-- 故障分析表: when the fault began (as the school says) and how it was diagnosed.
ALTER TABLE tickets ADD COLUMN occurred_at TEXT;
ALTER TABLE tickets ADD COLUMN diagnosis_steps TEXT;

-- 上门维修记录表: advice given to the school, labour hours, and the engineer's check
-- (复核, §2.4(4)): accepted, or returned with a note.
ALTER TABLE visits ADD COLUMN advice TEXT;
ALTER TABLE visits ADD COLUMN labor_minutes BIGINT;
ALTER TABLE visits ADD COLUMN review_verdict TEXT;
ALTER TABLE visits ADD COLUMN review_note TEXT;
ALTER TABLE visits ADD COLUMN reviewed_by BIGINT REFERENCES users (id);
ALTER TABLE visits ADD COLUMN reviewed_at TEXT;
CREATE INDEX visits_unreviewed ON visits (ticket_id) WHERE review_verdict IS NULL;

-- A consultation handed to an engineer (转工程师, §2.4(1)) waits for the engineer's reply,
-- which goes back to the school; a complaint names the person it is about.
ALTER TABLE contacts ADD COLUMN engineer_reply TEXT;
ALTER TABLE contacts ADD COLUMN engineer_replied_by BIGINT REFERENCES users (id);
ALTER TABLE contacts ADD COLUMN engineer_replied_at TEXT;
ALTER TABLE contacts ADD COLUMN about_user_id BIGINT REFERENCES users (id);
CREATE INDEX contacts_to_engineer ON contacts (received_at) WHERE handling = 'to_engineer' AND engineer_replied_at IS NULL;
CREATE INDEX contacts_about_user ON contacts (about_user_id);

-- Upgrade or replacement suggested for a piece of equipment (§二 2.6), for the manager.
CREATE TABLE equipment_suggestions (
    id             INTEGER PRIMARY KEY,
    equipment_id   BIGINT NOT NULL REFERENCES equipment (id),
    ticket_id      BIGINT REFERENCES tickets (id),
    kind           TEXT NOT NULL,
    reason         TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'open',
    decision_note  TEXT,
    decided_by     BIGINT REFERENCES users (id),
    decided_at     TEXT,
    created_by     BIGINT REFERENCES users (id),
    created_at     TEXT NOT NULL
);
CREATE INDEX equipment_suggestions_status ON equipment_suggestions (status, created_at);
CREATE INDEX equipment_suggestions_equipment ON equipment_suggestions (equipment_id);

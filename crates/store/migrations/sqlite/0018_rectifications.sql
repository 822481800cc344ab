-- Data analysis and rectifications (整改项, manual §2.7, §2.4(7), DESIGN.md §3a).

-- The analysis counts a period's faults by when they were reported.
CREATE INDEX tickets_created ON tickets (created_at);

-- proposed ─accept (manager)─> open ─done─> done;  proposed ─reject (manager, reason)─> rejected.
CREATE TABLE rectifications (
    id              INTEGER PRIMARY KEY,
    title           TEXT NOT NULL,
    detail          TEXT,
    source          TEXT NOT NULL,
    -- The weekly meeting it came from (the meetings table lands with the meeting).
    meeting_id      BIGINT,
    inspection_id   BIGINT REFERENCES inspections (id),
    hazard_item_id  BIGINT REFERENCES inspection_items (id),
    customer_id     BIGINT REFERENCES customers (id),
    system          TEXT,
    equipment_id    BIGINT REFERENCES equipment (id),
    owner_id        BIGINT REFERENCES users (id),
    due_on          TEXT,
    status          TEXT NOT NULL,
    reject_reason   TEXT,
    done_note       TEXT,
    proposed_by     BIGINT REFERENCES users (id),
    proposed_at     TEXT NOT NULL,
    decided_by      BIGINT REFERENCES users (id),
    decided_at      TEXT,
    done_at         TEXT,
    updated_at      TEXT NOT NULL
);
CREATE INDEX rectifications_status ON rectifications (status, due_on);
CREATE INDEX rectifications_customer ON rectifications (customer_id);
CREATE INDEX rectifications_equipment ON rectifications (equipment_id);

-- Spare-parts warehouse (issue 5): the catalogue, warehouses, on-hand per part and
-- warehouse, and the append-only stock ledger. SQLite flavour; postgres/0009 has the same
-- meaning. Money is integer fen (分); quantities are whole units.

CREATE TABLE parts (
    id              INTEGER PRIMARY KEY,
    code            TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    spec            TEXT,
    unit            TEXT NOT NULL,
    category        TEXT,
    systems         TEXT,
    models          TEXT,
    critical        BOOLEAN NOT NULL DEFAULT FALSE,
    supplier        TEXT,
    unit_cost_fen   BIGINT NOT NULL DEFAULT 0 CHECK (unit_cost_fen >= 0),
    lead_time_days  BIGINT,
    min_qty         BIGINT NOT NULL DEFAULT 0 CHECK (min_qty >= 0),
    max_qty         BIGINT,
    active          BOOLEAN NOT NULL DEFAULT TRUE,
    version         BIGINT NOT NULL DEFAULT 1,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX parts_category ON parts (category, code);

CREATE TABLE warehouses (
    id              INTEGER PRIMARY KEY,
    code            TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    kind            TEXT NOT NULL,
    holder_user_id  BIGINT REFERENCES users (id),
    active          BOOLEAN NOT NULL DEFAULT TRUE,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

-- Usable on-hand and defective parts brought back, per part and warehouse, kept equal
-- to the ledger's sum by the same transaction that appends the movement. The CHECKs are
-- the last line of defence: stock never goes negative.
CREATE TABLE stock (
    part_id       BIGINT NOT NULL REFERENCES parts (id),
    warehouse_id  BIGINT NOT NULL REFERENCES warehouses (id),
    on_hand       BIGINT NOT NULL DEFAULT 0 CHECK (on_hand >= 0),
    defective     BIGINT NOT NULL DEFAULT 0 CHECK (defective >= 0),
    avg_cost_fen  BIGINT NOT NULL DEFAULT 0 CHECK (avg_cost_fen >= 0),
    min_qty       BIGINT,
    max_qty       BIGINT,
    PRIMARY KEY (part_id, warehouse_id)
);
CREATE INDEX stock_warehouse ON stock (warehouse_id, part_id);

-- The ledger (领用记录表): a movement is never edited or deleted; a mistake is corrected by
-- a new movement. balance_after is the usable on-hand at warehouse_id after the movement
-- (the defective count for a defective_return).
CREATE TABLE stock_movements (
    id               INTEGER PRIMARY KEY,
    movement_no      TEXT NOT NULL UNIQUE,
    kind             TEXT NOT NULL,
    part_id          BIGINT NOT NULL REFERENCES parts (id),
    warehouse_id     BIGINT NOT NULL REFERENCES warehouses (id),
    to_warehouse_id  BIGINT REFERENCES warehouses (id),
    qty              BIGINT NOT NULL CHECK (qty > 0),
    direction        TEXT,
    unit_cost_fen    BIGINT NOT NULL DEFAULT 0,
    ticket_id        BIGINT REFERENCES tickets (id),
    equipment_id     BIGINT REFERENCES equipment (id),
    serial_no        TEXT,
    old_serial_no    TEXT,
    note             TEXT,
    by_user_id       BIGINT REFERENCES users (id),
    at               TEXT NOT NULL,
    balance_after    BIGINT NOT NULL
);
CREATE INDEX stock_movements_part ON stock_movements (part_id, warehouse_id, id);
CREATE INDEX stock_movements_warehouse ON stock_movements (warehouse_id, id);
CREATE INDEX stock_movements_to ON stock_movements (to_warehouse_id, id);
CREATE INDEX stock_movements_ticket ON stock_movements (ticket_id);
-- The equipment page lists the parts fitted to and taken out of one piece of equipment.
CREATE INDEX stock_movements_equipment ON stock_movements (equipment_id, id);
CREATE INDEX stock_movements_at ON stock_movements (at, id);
-- The stock reports: turnover and failure counts sum some kinds over a period (covering,
-- so a year of a million movements is read from the index alone); slow movers look for
-- the last issue of a part from a warehouse.
CREATE INDEX stock_movements_kind_at ON stock_movements (kind, at, part_id, qty, unit_cost_fen, direction);
CREATE INDEX stock_movements_part_kind ON stock_movements (part_id, warehouse_id, kind, at);
-- Append-only, like the audit trail.
CREATE TRIGGER stock_movements_no_update BEFORE UPDATE ON stock_movements BEGIN SELECT RAISE(ABORT, 'stock_movements is append-only'); END;
CREATE TRIGGER stock_movements_no_delete BEFORE DELETE ON stock_movements BEGIN SELECT RAISE(ABORT, 'stock_movements is append-only'); END;

-- Shortages (备件不齐, §3.2.9): raised once when usable on-hand falls below the reserve
-- quota, closed by itself when stock is back at min. At most one open alert per part and
-- warehouse (the partial unique index). penalty_proposed_at marks that the §3.2.9 event
-- was proposed; penalty_event_id links the first such event.
CREATE TABLE shortage_alerts (
    id                INTEGER PRIMARY KEY,
    part_id           BIGINT NOT NULL REFERENCES parts (id),
    warehouse_id      BIGINT NOT NULL REFERENCES warehouses (id),
    on_hand           BIGINT NOT NULL,
    min_qty           BIGINT NOT NULL,
    raised_at         TEXT NOT NULL,
    acknowledged_by   BIGINT REFERENCES users (id),
    acknowledged_at   TEXT,
    closed_at         TEXT,
    penalty_proposed_at TEXT,
    penalty_event_id  BIGINT REFERENCES penalty_events (id)
);
CREATE UNIQUE INDEX shortage_alerts_open ON shortage_alerts (part_id, warehouse_id) WHERE closed_at IS NULL;
CREATE INDEX shortage_alerts_raised ON shortage_alerts (closed_at, raised_at);
INSERT INTO settings (key, value) VALUES ('shortage_ack_hours', '24');

-- Requisitions (领用单/领条): requested → approved|rejected|cancelled; approved → issued.
-- Issuing posts one `issue` movement per line in the same transaction; the line keeps
-- its movement, the quantity issued and the cost at issue.
CREATE TABLE requisitions (
    id              INTEGER PRIMARY KEY,
    requisition_no  TEXT NOT NULL UNIQUE,
    requester_id    BIGINT NOT NULL REFERENCES users (id),
    warehouse_id    BIGINT NOT NULL REFERENCES warehouses (id),
    ticket_id       BIGINT REFERENCES tickets (id),
    purpose         TEXT,
    issue_type      TEXT NOT NULL,
    status          TEXT NOT NULL,
    approver_id     BIGINT REFERENCES users (id),
    approved_at     TEXT,
    approval_note   TEXT,
    issuer_id       BIGINT REFERENCES users (id),
    issued_at       TEXT,
    issue_note      TEXT,
    cancel_reason   TEXT,
    requested_at    TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX requisitions_requester ON requisitions (requester_id, id);
CREATE INDEX requisitions_status ON requisitions (status, id);
CREATE INDEX requisitions_ticket ON requisitions (ticket_id);

CREATE TABLE requisition_lines (
    id              INTEGER PRIMARY KEY,
    requisition_id  BIGINT NOT NULL REFERENCES requisitions (id),
    line_no         BIGINT NOT NULL,
    part_id         BIGINT NOT NULL REFERENCES parts (id),
    qty_requested   BIGINT NOT NULL CHECK (qty_requested > 0),
    qty_issued      BIGINT CHECK (qty_issued >= 0 AND qty_issued <= qty_requested),
    serial_no       TEXT,
    unit_cost_fen   BIGINT,
    amount_fen      BIGINT,
    movement_id     BIGINT REFERENCES stock_movements (id),
    UNIQUE (requisition_id, line_no)
);
CREATE INDEX requisition_lines_part ON requisition_lines (part_id);

-- What became of a defective part (repaired|rma|scrap) on the ledger row that took it out
-- of the defective count; NULL on every other movement.
ALTER TABLE stock_movements ADD COLUMN outcome TEXT;

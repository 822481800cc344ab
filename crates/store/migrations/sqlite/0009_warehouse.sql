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
CREATE INDEX stock_movements_at ON stock_movements (at, id);
-- Append-only, like the audit trail.
CREATE TRIGGER stock_movements_no_update BEFORE UPDATE ON stock_movements BEGIN SELECT RAISE(ABORT, 'stock_movements is append-only'); END;
CREATE TRIGGER stock_movements_no_delete BEFORE DELETE ON stock_movements BEGIN SELECT RAISE(ABORT, 'stock_movements is append-only'); END;

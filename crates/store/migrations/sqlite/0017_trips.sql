-- Outings (外出, manual §3.1, §3.2.4, §2.2(3)(5), §2.6(3), DESIGN.md §3a, form 6 《外出工作记录表》).

-- The department's vehicles (§3.1: a vehicle for the far towns).
CREATE TABLE vehicles (
    id          INTEGER PRIMARY KEY,
    plate       TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    seats       BIGINT NOT NULL CHECK (seats >= 1 AND seats <= 60),
    status      TEXT NOT NULL,
    note        TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

-- Minutes between two towns, as the manager set them; each pair once (from_town < to_town).
-- A pair not here is estimated from the schools' minutes from the depot.
CREATE TABLE town_travel (
    from_town   TEXT NOT NULL,
    to_town     TEXT NOT NULL,
    minutes     BIGINT NOT NULL CHECK (minutes >= 0 AND minutes <= 1440),
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (from_town, to_town),
    CHECK (from_town < to_town)
);

-- 外出单 WC…: planned ─depart─> out ─return─> returned; planned ─cancel─> cancelled.
CREATE TABLE trips (
    id                INTEGER PRIMARY KEY,
    number            TEXT NOT NULL UNIQUE,
    trip_date         TEXT NOT NULL,
    status            TEXT NOT NULL,
    transport         TEXT NOT NULL,
    vehicle_id        BIGINT REFERENCES vehicles (id),
    purpose           TEXT NOT NULL,
    note              TEXT,
    -- The planned window (the working day unless given): two live trips of one person or
    -- one vehicle never overlap in it.
    planned_start     TEXT NOT NULL,
    planned_end       TEXT NOT NULL,
    departed_at       TEXT,
    depart_odometer   BIGINT CHECK (depart_odometer >= 0),
    -- Why it left with lines of the checklist unticked.
    depart_note       TEXT,
    returned_at       TEXT,
    return_odometer   BIGINT CHECK (return_odometer >= depart_odometer),
    distance_km       BIGINT,
    summary           TEXT,
    cost_cents        BIGINT NOT NULL DEFAULT 0,
    cancelled_at      TEXT,
    cancel_reason     TEXT,
    approved_at       TEXT,
    approved_by       BIGINT REFERENCES users (id),
    created_by        BIGINT REFERENCES users (id),
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    CHECK (planned_start < planned_end)
);
CREATE INDEX trips_date ON trips (trip_date, status);
CREATE INDEX trips_vehicle ON trips (vehicle_id, trip_date);
CREATE INDEX trips_to_approve ON trips (returned_at) WHERE status = 'returned' AND approved_at IS NULL;

CREATE TABLE trip_staff (
    trip_id  BIGINT NOT NULL REFERENCES trips (id),
    user_id  BIGINT NOT NULL REFERENCES users (id),
    PRIMARY KEY (trip_id, user_id)
);
CREATE INDEX trip_staff_user ON trip_staff (user_id);

-- The schools in order, with arrive/leave times, the school's confirming person, and the
-- agent's phone verification (出勤核实, §2.2(3)).
CREATE TABLE trip_stops (
    id                 INTEGER PRIMARY KEY,
    trip_id            BIGINT NOT NULL REFERENCES trips (id),
    position           BIGINT NOT NULL,
    customer_id        BIGINT NOT NULL REFERENCES customers (id),
    arrived_at         TEXT,
    left_at            TEXT,
    confirmed_by       TEXT,
    note               TEXT,
    verified_at        TEXT,
    verified_by        BIGINT REFERENCES users (id),
    verified_ok        BOOLEAN,
    verified_contact   TEXT,
    verified_note      TEXT,
    CHECK (left_at IS NULL OR arrived_at IS NOT NULL)
);
CREATE INDEX trip_stops_trip ON trip_stops (trip_id, position);
CREATE INDEX trip_stops_customer ON trip_stops (customer_id);

-- The work done at a stop.
CREATE TABLE trip_stop_tickets (
    stop_id    BIGINT NOT NULL REFERENCES trip_stops (id),
    ticket_id  BIGINT NOT NULL REFERENCES tickets (id),
    PRIMARY KEY (stop_id, ticket_id)
);
CREATE INDEX trip_stop_tickets_ticket ON trip_stop_tickets (ticket_id);
CREATE TABLE trip_stop_inspections (
    stop_id        BIGINT NOT NULL REFERENCES trip_stops (id),
    inspection_id  BIGINT NOT NULL REFERENCES inspections (id),
    PRIMARY KEY (stop_id, inspection_id)
);
CREATE INDEX trip_stop_inspections_inspection ON trip_stop_inspections (inspection_id);

-- What to bring (§2.6(3)), ticked before departure.
CREATE TABLE trip_items (
    id          INTEGER PRIMARY KEY,
    trip_id     BIGINT NOT NULL REFERENCES trips (id),
    kind        TEXT NOT NULL,
    text        TEXT NOT NULL,
    qty         BIGINT,
    checked     BOOLEAN NOT NULL DEFAULT FALSE,
    checked_by  BIGINT REFERENCES users (id),
    checked_at  TEXT
);
CREATE INDEX trip_items_trip ON trip_items (trip_id, id);

-- Fuel, tolls, meals and the rest, in cents.
CREATE TABLE trip_costs (
    id            INTEGER PRIMARY KEY,
    trip_id       BIGINT NOT NULL REFERENCES trips (id),
    kind          TEXT NOT NULL,
    amount_cents  BIGINT NOT NULL CHECK (amount_cents >= 0)
);
CREATE INDEX trip_costs_trip ON trip_costs (trip_id);

-- Receipts.
CREATE TABLE trip_photos (
    id            INTEGER PRIMARY KEY,
    trip_id       BIGINT NOT NULL REFERENCES trips (id),
    content_type  TEXT NOT NULL,
    data          BLOB NOT NULL,
    created_by    BIGINT REFERENCES users (id),
    created_at    TEXT NOT NULL
);
CREATE INDEX trip_photos_trip ON trip_photos (trip_id, id);

-- A field person away for the day (leave, training elsewhere): the day board says absent.
CREATE TABLE absences (
    user_id     BIGINT NOT NULL REFERENCES users (id),
    day         TEXT NOT NULL,
    reason      TEXT NOT NULL,
    created_by  BIGINT REFERENCES users (id),
    created_at  TEXT NOT NULL,
    PRIMARY KEY (user_id, day)
);
CREATE INDEX absences_day ON absences (day);

-- Data analysis over long periods (issue 15): each local month's faults per grouping,
-- counted once and kept, so a year's grouping reads twelve small sets of rows instead of
-- half a million tickets. The current month is always counted live. A month is dropped
-- (and counted again on the next read) when a ticket created in it changes (its
-- ticket_events after the watermark) or when its count is a day old.
CREATE TABLE fault_months (
    grouped_by   TEXT NOT NULL,
    month      DATE NOT NULL,
    key        TEXT NOT NULL,
    label      TEXT NOT NULL,
    label_en   TEXT,
    tickets    BIGINT NOT NULL,
    repeat     BIGINT NOT NULL,
    resolved   BIGINT NOT NULL,
    hours      DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (grouped_by, month, key)
);

CREATE TABLE fault_month_counts (
    grouped_by     TEXT NOT NULL,
    month        DATE NOT NULL,
    counted_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (grouped_by, month)
);

-- The last ticket event the kept months have seen.
CREATE TABLE fault_month_watermark (
    id        BIGINT PRIMARY KEY CHECK (id = 1),
    event_id  BIGINT NOT NULL
);
-- Nothing is kept yet, so the events so far concern no kept month.
INSERT INTO fault_month_watermark (id, event_id) SELECT 1, COALESCE(MAX(id), 0) FROM ticket_events;

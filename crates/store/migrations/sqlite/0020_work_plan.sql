-- Next week's work plan (下周工作计划, manual §3.2.3, §2.4(6)): what the engineer adds by hand
-- beside the scheduled repairs, rounds and trips, and when the week was published.
CREATE TABLE work_plan_items (
    id              INTEGER PRIMARY KEY,
    day             TEXT NOT NULL,
    user_id         BIGINT NOT NULL REFERENCES users (id),
    kind            TEXT NOT NULL,
    title           TEXT NOT NULL,
    customer_id     BIGINT REFERENCES customers (id),
    done            BOOLEAN NOT NULL DEFAULT FALSE,
    slipped_reason  TEXT,
    created_by      BIGINT REFERENCES users (id),
    created_at      TEXT NOT NULL
);
CREATE INDEX work_plan_items_day ON work_plan_items (day, user_id);

CREATE TABLE work_plans (
    week_monday   TEXT PRIMARY KEY,
    published_at  TEXT NOT NULL,
    published_by  BIGINT REFERENCES users (id)
);

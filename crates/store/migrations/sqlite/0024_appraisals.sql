-- Study and appraisal (学习、考核, manual §3.2.5, §3.2.6): a person's appraisal per period
-- (a quarter or a month), the manager's decision freezing the figures it was made on; the
-- period's study plan.
CREATE TABLE appraisals (
    id             INTEGER PRIMARY KEY,
    user_id        BIGINT NOT NULL REFERENCES users (id),
    period         TEXT NOT NULL,
    period_from    TEXT NOT NULL,
    period_until   TEXT NOT NULL,
    exam_score     DOUBLE PRECISION,
    note           TEXT,
    outcome        TEXT,
    decision_note  TEXT,
    total          DOUBLE PRECISION,
    parts_json     TEXT,
    weights_json   TEXT,
    decided_by     BIGINT REFERENCES users (id),
    decided_at     TEXT,
    created_by     BIGINT REFERENCES users (id),
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    UNIQUE (user_id, period)
);
CREATE INDEX appraisals_period ON appraisals (period, user_id);

CREATE TABLE study_plans (
    id          INTEGER PRIMARY KEY,
    period      TEXT NOT NULL,
    title       TEXT NOT NULL,
    content     TEXT,
    created_by  BIGINT REFERENCES users (id),
    created_at  TEXT NOT NULL
);
CREATE INDEX study_plans_period ON study_plans (period, id);

-- The weekly technical meeting (技术研讨会议, manual §3.2.3, §2.4(6)(7)) and the data-analysis
-- meeting (§2.7(5)): planned ─hold (minutes, decisions, attendance)─> held.
CREATE TABLE meetings (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    held_on     TEXT NOT NULL,
    status      TEXT NOT NULL,
    title       TEXT NOT NULL,
    minutes     TEXT,
    decisions   TEXT,
    held_at     TEXT,
    created_by  BIGINT REFERENCES users (id),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX meetings_held_on ON meetings (held_on, status);

-- Anyone proposes a point during the week; the engineer orders them.
CREATE TABLE meeting_agenda (
    id            INTEGER PRIMARY KEY,
    meeting_id    BIGINT NOT NULL REFERENCES meetings (id),
    position      BIGINT NOT NULL,
    title         TEXT NOT NULL,
    detail        TEXT,
    presenter_id  BIGINT REFERENCES users (id),
    proposed_by   BIGINT REFERENCES users (id),
    created_at    TEXT NOT NULL
);
CREATE INDEX meeting_agenda_meeting ON meeting_agenda (meeting_id, position);

CREATE TABLE meeting_attendees (
    meeting_id  BIGINT NOT NULL REFERENCES meetings (id),
    user_id     BIGINT NOT NULL REFERENCES users (id),
    PRIMARY KEY (meeting_id, user_id)
);
CREATE INDEX rectifications_meeting ON rectifications (meeting_id);

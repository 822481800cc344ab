-- Service desk (客服): every contact on every channel, missed calls and their callbacks,
-- complaint reviews, suggestions with read receipts, the on-duty roster, the courteous
-- phrase library, and mail in.

-- A contact record (客服记录, form 1): one interaction on one channel, inbound or outbound.
-- `answered = FALSE` is a missed call: it waits in the callback queue for its owner.
CREATE TABLE contacts (
    id                   INTEGER PRIMARY KEY,
    record_no            TEXT NOT NULL UNIQUE,
    channel              TEXT NOT NULL,
    direction            TEXT NOT NULL DEFAULT 'inbound',
    received_at          TEXT NOT NULL,
    answered             BOOLEAN NOT NULL DEFAULT TRUE,
    answered_at          TEXT,
    ended_at             TEXT,
    wait_seconds         INTEGER,
    talk_seconds         INTEGER,
    customer_id          BIGINT REFERENCES customers (id),
    caller_name          TEXT,
    caller_title         TEXT,
    caller_phone         TEXT,
    phone_digits         TEXT,
    caller_email         TEXT,
    category             TEXT NOT NULL,
    system               TEXT,
    urgency              TEXT NOT NULL DEFAULT 'normal',
    content              TEXT NOT NULL DEFAULT '',
    reply                TEXT,
    handling             TEXT,
    result               TEXT,
    mood                 TEXT,
    promised_at          TEXT,
    after_hours          BOOLEAN NOT NULL DEFAULT FALSE,
    handler_id           BIGINT REFERENCES users (id),
    ticket_id            BIGINT REFERENCES tickets (id),
    callback_owner_id    BIGINT REFERENCES users (id),
    callback_due         TEXT,
    called_back_at       TEXT,
    callback_contact_id  BIGINT REFERENCES contacts (id),
    review_verdict       TEXT,
    review_action        TEXT,
    review_note          TEXT,
    reviewed_by          BIGINT REFERENCES users (id),
    reviewed_at          TEXT,
    closed_at            TEXT,
    source_ref           TEXT UNIQUE,
    created_by           BIGINT REFERENCES users (id),
    created_at           TEXT NOT NULL,
    version              BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX contacts_received ON contacts (received_at);
CREATE INDEX contacts_phone ON contacts (phone_digits, received_at);
CREATE INDEX contacts_customer ON contacts (customer_id, received_at);
CREATE INDEX contacts_handler ON contacts (handler_id, received_at);
CREATE INDEX contacts_category ON contacts (category, received_at);
CREATE INDEX contacts_ticket ON contacts (ticket_id);
CREATE INDEX contacts_missed_open ON contacts (callback_due) WHERE answered = FALSE AND called_back_at IS NULL;

-- Read receipts on suggestions (§2.2(4): leadership reads them).
CREATE TABLE contact_reads (
    contact_id  BIGINT NOT NULL REFERENCES contacts (id),
    user_id     BIGINT NOT NULL REFERENCES users (id),
    read_at     TEXT NOT NULL,
    PRIMARY KEY (contact_id, user_id)
);

-- Who answers the phone when (24 小时值班, §3.2.2), nights and holidays included.
CREATE TABLE duty_shifts (
    id          INTEGER PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users (id),
    starts_at   TEXT NOT NULL,
    ends_at     TEXT NOT NULL,
    note        TEXT,
    created_by  BIGINT REFERENCES users (id),
    created_at  TEXT NOT NULL
);
CREATE INDEX duty_shifts_time ON duty_shifts (starts_at, ends_at);

-- The courteous phrase library (客服文明用语), by scene.
CREATE TABLE phrases (
    id          INTEGER PRIMARY KEY,
    scene       TEXT NOT NULL,
    text        TEXT NOT NULL,
    position    INTEGER NOT NULL DEFAULT 0,
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    updated_at  TEXT NOT NULL
);
CREATE INDEX phrases_scene ON phrases (scene, position);

-- Every message fetched from the IMAP mailbox, kept raw before anything else is done with
-- it, so that a crash or a malformed message loses nothing and nothing is taken twice.
CREATE TABLE mail_messages (
    id           INTEGER PRIMARY KEY,
    mailbox      TEXT NOT NULL,
    uidvalidity  BIGINT NOT NULL,
    uid          BIGINT NOT NULL,
    message_id   TEXT,
    from_addr    TEXT,
    subject      TEXT,
    raw          BLOB NOT NULL,
    fetched_at   TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'new',
    error        TEXT,
    contact_id   BIGINT REFERENCES contacts (id),
    ticket_id    BIGINT REFERENCES tickets (id),
    processed_at TEXT,
    UNIQUE (mailbox, uidvalidity, uid)
);
CREATE INDEX mail_messages_status ON mail_messages (status, id);

CREATE TABLE mail_attachments (
    id            INTEGER PRIMARY KEY,
    mail_id       BIGINT NOT NULL REFERENCES mail_messages (id),
    contact_id    BIGINT REFERENCES contacts (id),
    filename      TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    data          BLOB NOT NULL
);
CREATE INDEX mail_attachments_contact ON mail_attachments (contact_id);

-- Photos and files a school attaches when it reports a fault on the portal.
CREATE TABLE ticket_attachments (
    id            INTEGER PRIMARY KEY,
    ticket_id     BIGINT NOT NULL REFERENCES tickets (id),
    filename      TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    data          BLOB NOT NULL,
    uploaded_by   BIGINT REFERENCES users (id),
    created_at    TEXT NOT NULL
);
CREATE INDEX ticket_attachments_ticket ON ticket_attachments (ticket_id);

-- A missed call not called back in time proposes a penalty event tied to the call.
ALTER TABLE penalty_events ADD COLUMN contact_id BIGINT REFERENCES contacts (id);
CREATE INDEX penalty_events_contact ON penalty_events (contact_id);

INSERT INTO settings (key, value) VALUES ('working_hours', '08:00-17:30');
INSERT INTO settings (key, value) VALUES ('working_days', '1,2,3,4,5');
INSERT INTO settings (key, value) VALUES ('missed_callback_minutes', '30');
INSERT INTO settings (key, value) VALUES ('company_name', '县教育信息化售后服务中心');

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
    -- A short label for the desk's prompt buttons (没听清, 复述确认).
    title       TEXT NOT NULL DEFAULT '',
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

-- The courteous phrases of DOMAIN.md §4 (客服文明用语). `{公司}` stays in the text and is
-- replaced by the `company_name` setting when shown, so renaming the company needs no edit.
-- The setting names the service centre itself (县教育信息化售后服务中心), so the §4 wording
-- "{公司}售后服务中心" is written "{公司}" here.
INSERT INTO phrases (scene, title, text, position, active, updated_at) VALUES
    ('greeting', '接听', '您好，{公司}，工号XX为您服务，请问有什么可以帮您？', 1, TRUE, CURRENT_TIMESTAMP),
    ('greeting', '接通无声', '您好，请问有什么可以帮您？（停5秒，重复一次；仍无声）对不起，您的电话没有声音，请您换一部电话再打来，好吗？再见！', 2, TRUE, CURRENT_TIMESTAMP),
    ('identify', '确认身份', '请问您是哪所学校的老师？怎么称呼您？', 3, TRUE, CURRENT_TIMESTAMP),
    ('identify', '没听清', '对不起，我没有听清楚，麻烦您再说一遍好吗？', 4, TRUE, CURRENT_TIMESTAMP),
    ('identify', '复述确认', '我跟您核对一下：您反映的是XX学校X楼XX教室的投影机不亮，对吗？', 5, TRUE, CURRENT_TIMESTAMP),
    ('wait', '请客户稍候', '请您稍等，我马上为您查询。', 6, TRUE, CURRENT_TIMESTAMP),
    ('wait', '等待后', '感谢您的耐心等待 / 对不起，让您久等了。', 7, TRUE, CURRENT_TIMESTAMP),
    ('wait', '需要时间', '这个问题我需要跟技术工程师确认一下，大约XX分钟后给您回电，您看可以吗？', 8, TRUE, CURRENT_TIMESTAMP),
    ('repair', '受理报修', '您的报修我已经记录，工单号是XXXX，维修人员会在XX前与您联系确定上门时间。', 9, TRUE, CURRENT_TIMESTAMP),
    ('after_hours', '非工作时间', '感谢您的来电，您的问题我已记录，我们将在XX时间前安排处理，请您保持电话畅通。', 10, TRUE, CURRENT_TIMESTAMP),
    ('complaint', '投诉', '非常抱歉给您带来不便，您反映的问题我已经详细记录，我们会尽快核实处理并给您答复。', 11, TRUE, CURRENT_TIMESTAMP),
    ('suggestion', '建议', '感谢您对我们工作的支持，您的建议我已记录并会转交公司领导。', 12, TRUE, CURRENT_TIMESTAMP),
    ('transfer', '转接', '请稍候，我马上为您转接技术工程师。', 13, TRUE, CURRENT_TIMESTAMP),
    ('identify', '方言', '对不起，请您讲普通话好吗？谢谢！', 14, TRUE, CURRENT_TIMESTAMP),
    ('closing', '结束前', '请问还有其他可以帮您的吗？', 15, TRUE, CURRENT_TIMESTAMP),
    ('closing', '结束', '感谢您的来电，再见！（等客户先挂机）', 16, TRUE, CURRENT_TIMESTAMP),
    ('follow_up', '回访开头', '您好，请问是XX学校的X老师吗？我是{公司}的客服，关于您X月X日报修的XX问题，想占用您一分钟做个回访，现在方便吗？', 17, TRUE, CURRENT_TIMESTAMP),
    ('follow_up', '回访询问', '请问设备现在使用正常吗？您对这次维修服务满意吗？（非常满意/满意/一般/不满意）', 18, TRUE, CURRENT_TIMESTAMP),
    ('follow_up', '回访结束', '非常感谢您的配合与支持，如有问题请随时拨打我们的服务电话，再见！', 19, TRUE, CURRENT_TIMESTAMP),
    ('visit', '上门', '您好，我是{公司}的维修人员XXX，来处理XX教室的报修，请问现在方便吗？', 20, TRUE, CURRENT_TIMESTAMP);

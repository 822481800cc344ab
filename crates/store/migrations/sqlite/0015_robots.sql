-- Group robots (企业微信 / 钉钉 群机器人): the notifications of a role or of one person are
-- also posted to a chat group's webhook. The forwarder reads notifications after a cursor
-- and queues one send job per message, retried like mail.
CREATE TABLE robot_hooks (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    platform    TEXT NOT NULL,
    url         TEXT NOT NULL,
    role        TEXT,
    user_id     BIGINT REFERENCES users (id),
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    created_by  BIGINT REFERENCES users (id),
    created_at  TEXT NOT NULL
);
CREATE INDEX robot_hooks_active ON robot_hooks (active);
-- Start after what is already there: a new hook is not flooded with old news.
INSERT INTO settings (key, value) SELECT 'robot_forwarded_id', CAST(COALESCE(MAX(id), 0) AS TEXT) FROM notifications;

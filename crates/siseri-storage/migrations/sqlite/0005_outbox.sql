-- Notifications (rules.md §5): a persistent outbox of e-mails, delivered at least once, each
-- with a stable Message-ID per alert and recipient (UNIQUE: enqueuing again adds nothing),
-- and the in-app inbox of accounts. alert_id has no foreign key: alerts come later.

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    alert_id        INTEGER,
    recipient_kind  TEXT NOT NULL CHECK (recipient_kind IN ('MDT', 'CRP', 'EMPLOYEUR', 'MINISTERE')),
    account_id      INTEGER REFERENCES accounts (id),
    email           TEXT NOT NULL,
    message_id      TEXT NOT NULL UNIQUE,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    sent_at         TEXT,
    last_error      TEXT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE sent_at IS NULL;
CREATE INDEX outbox_alert ON outbox (alert_id);

CREATE TABLE inbox (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    alert_id   INTEGER,
    message_id TEXT NOT NULL UNIQUE,
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    read_at    TEXT
);
CREATE INDEX inbox_account ON inbox (account_id, id);

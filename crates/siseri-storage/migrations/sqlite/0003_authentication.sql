-- Authentication: lockout, second factor, sessions, federated identities, and the
-- links that tie people to workers (delegations, designated doctors).

ALTER TABLE accounts ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN locked_until TEXT;
ALTER TABLE accounts ADD COLUMN totp_secret TEXT;
ALTER TABLE accounts ADD COLUMN totp_last_step INTEGER;
ALTER TABLE accounts ADD COLUMN enrolment_hash TEXT;
ALTER TABLE accounts ADD COLUMN enrolment_expires TEXT;

CREATE TABLE recovery_codes (
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    code_hash  TEXT NOT NULL,
    used_at    TEXT,
    PRIMARY KEY (account_id, code_hash)
);

CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES accounts (id),
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    second_factor BOOLEAN NOT NULL DEFAULT 0,
    csrf         TEXT NOT NULL
);
CREATE INDEX sessions_account ON sessions (account_id);

CREATE TABLE federated_identities (
    issuer     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    created_at TEXT NOT NULL,
    PRIMARY KEY (issuer, subject)
);

CREATE TABLE delegations (
    id              INTEGER PRIMARY KEY,
    mdt_id          INTEGER NOT NULL REFERENCES accounts (id),
    professional_id INTEGER NOT NULL REFERENCES accounts (id),
    can_write       BOOLEAN NOT NULL,
    created_at      TEXT NOT NULL,
    revoked_at      TEXT
);
CREATE INDEX delegations_professional ON delegations (professional_id);

CREATE TABLE doctor_grants (
    id         INTEGER PRIMARY KEY,
    nir        TEXT NOT NULL,
    doctor_id  INTEGER NOT NULL REFERENCES accounts (id),
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX doctor_grants_doctor ON doctor_grants (doctor_id);

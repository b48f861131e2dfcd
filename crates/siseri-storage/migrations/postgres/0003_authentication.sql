-- Authentication: lockout, second factor, sessions, federated identities, and the
-- links that tie people to workers (delegations, designated doctors).

ALTER TABLE accounts ADD COLUMN failed_logins BIGINT NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN locked_until TIMESTAMPTZ;
ALTER TABLE accounts ADD COLUMN totp_secret TEXT;
ALTER TABLE accounts ADD COLUMN totp_last_step BIGINT;
ALTER TABLE accounts ADD COLUMN enrolment_hash TEXT;
ALTER TABLE accounts ADD COLUMN enrolment_expires TIMESTAMPTZ;

CREATE TABLE recovery_codes (
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    code_hash  TEXT NOT NULL,
    used_at    TIMESTAMPTZ,
    PRIMARY KEY (account_id, code_hash)
);

CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    account_id   BIGINT NOT NULL REFERENCES accounts (id),
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    second_factor BOOLEAN NOT NULL DEFAULT FALSE,
    csrf         TEXT NOT NULL
);
CREATE INDEX sessions_account ON sessions (account_id);

CREATE TABLE federated_identities (
    issuer     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (issuer, subject)
);

CREATE TABLE delegations (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mdt_id          BIGINT NOT NULL REFERENCES accounts (id),
    professional_id BIGINT NOT NULL REFERENCES accounts (id),
    can_write       BOOLEAN NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    revoked_at      TIMESTAMPTZ
);
CREATE INDEX delegations_professional ON delegations (professional_id);

CREATE TABLE doctor_grants (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    nir        TEXT NOT NULL,
    doctor_id  BIGINT NOT NULL REFERENCES accounts (id),
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);
CREATE INDEX doctor_grants_doctor ON doctor_grants (doctor_id);

-- Authentication after issue 12 (access.md): guessing an account's password slows further
-- attempts on it instead of locking it (state shared by every server process), and
-- forgotten-password links, stored as SHA-256 hashes, single-use and short-lived.
-- A browser where an account logged in before carries a device token (stored as SHA-256)
-- that lets it try that account even while it is slowed (OWASP's device cookies): an
-- attacker cannot keep the owner out by taking every slot.
-- accounts.failed_logins and accounts.locked_until are no longer used.

CREATE TABLE login_throttle (
    account_id      BIGINT PRIMARY KEY REFERENCES accounts (id),
    failures        BIGINT NOT NULL,
    last_failure_at TIMESTAMPTZ NOT NULL,
    next_attempt_at TIMESTAMPTZ,
    notified_at     TIMESTAMPTZ
);

CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);
CREATE INDEX password_resets_account ON password_resets (account_id);

CREATE TABLE login_devices (
    token_hash TEXT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX login_devices_account ON login_devices (account_id);

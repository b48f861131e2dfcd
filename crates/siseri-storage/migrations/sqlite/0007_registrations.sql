-- Self-service registrations of new employers (issue 6): pending until an administrator
-- accepts them (creating the establishments and the account, account_id then set) or
-- refuses them with a reason. The establishments asked for are kept in their order.

CREATE TABLE registrations (
    id            INTEGER PRIMARY KEY,
    siren         TEXT NOT NULL,
    company_name  TEXT NOT NULL,
    rep_nom       TEXT NOT NULL,
    rep_prenom    TEXT NOT NULL,
    rep_email     TEXT NOT NULL,
    rep_telephone TEXT NOT NULL,
    login         TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('EN_ATTENTE', 'VALIDEE', 'REFUSEE')),
    created_at    TEXT NOT NULL,
    decided_at    TEXT,
    decided_by    TEXT,
    reason        TEXT,
    account_id    INTEGER REFERENCES accounts (id)
);
CREATE INDEX registrations_status ON registrations (status, id);

CREATE TABLE registration_establishments (
    registration_id INTEGER NOT NULL REFERENCES registrations (id),
    position        INTEGER NOT NULL CHECK (position BETWEEN 1 AND 5),
    siret           TEXT NOT NULL,
    name            TEXT NOT NULL,
    inb             BOOLEAN NOT NULL DEFAULT 0,
    PRIMARY KEY (registration_id, position)
);

-- Transmissions (exchange.md §6): the received file in parts, the outcome of every line that
-- is not a plain acceptance, the reconciliation queue, and the monthly sums of doses
-- (rules.md §3) that the import keeps up to date in the same transaction.

ALTER TABLE transmissions ADD COLUMN media TEXT NOT NULL DEFAULT 'csv';
ALTER TABLE transmissions ADD COLUMN file_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE transmissions ADD COLUMN refused BOOLEAN NOT NULL DEFAULT 0;
CREATE INDEX transmissions_sender ON transmissions (sender_siren, id);
CREATE INDEX transmissions_login ON transmissions (login, id);

CREATE TABLE transmission_files (
    transmission_id INTEGER NOT NULL REFERENCES transmissions (id),
    part            INTEGER NOT NULL,
    bytes           BLOB NOT NULL,
    PRIMARY KEY (transmission_id, part)
);

CREATE TABLE transmission_lines (
    transmission_id INTEGER NOT NULL REFERENCES transmissions (id),
    line            INTEGER NOT NULL,
    reference       TEXT,
    status          TEXT NOT NULL,
    codes           TEXT NOT NULL,
    messages        TEXT NOT NULL,
    PRIMARY KEY (transmission_id, line)
);

CREATE TABLE pending_lines (
    id              INTEGER PRIMARY KEY,
    transmission_id INTEGER NOT NULL REFERENCES transmissions (id),
    line            INTEGER NOT NULL,
    format          TEXT NOT NULL,
    nir             TEXT,
    codes           TEXT NOT NULL,
    conflicts       TEXT NOT NULL,
    record          TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    resolved_at     TEXT,
    resolution      TEXT,
    resolved_by     TEXT,
    worker_id       INTEGER REFERENCES workers (id),
    reason          TEXT,
    UNIQUE (transmission_id, line)
);
CREATE INDEX pending_lines_nir ON pending_lines (nir);

CREATE TABLE monthly_doses (
    worker_id INTEGER NOT NULL REFERENCES workers (id),
    mois      INTEGER NOT NULL,
    series    TEXT NOT NULL,
    dose_usv  INTEGER NOT NULL,
    absences  INTEGER NOT NULL,
    PRIMARY KEY (worker_id, mois, series)
);

-- The identities a correction replaced (the current one stays in `workers`): append-only.
CREATE TABLE worker_identity_history (
    worker_id      INTEGER NOT NULL REFERENCES workers (id),
    nom            TEXT NOT NULL,
    prenom         TEXT NOT NULL,
    date_naissance TEXT NOT NULL,
    sexe           TEXT NOT NULL,
    replaced_at    TEXT NOT NULL,
    replaced_by    TEXT NOT NULL,
    reason         TEXT NOT NULL
);
CREATE INDEX worker_identity_history_worker ON worker_identity_history (worker_id);
CREATE TRIGGER worker_identity_history_no_update BEFORE UPDATE ON worker_identity_history
BEGIN SELECT RAISE(ABORT, 'versions are append-only'); END;
CREATE TRIGGER worker_identity_history_no_delete BEFORE DELETE ON worker_identity_history
BEGIN SELECT RAISE(ABORT, 'versions are append-only'); END;

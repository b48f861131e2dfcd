-- Transmissions (exchange.md §6): the received file in parts, the outcome of every line that
-- is not a plain acceptance, the reconciliation queue, and the monthly sums of doses
-- (rules.md §3) that the import keeps up to date in the same transaction.

ALTER TABLE transmissions ADD COLUMN media TEXT NOT NULL DEFAULT 'csv';
ALTER TABLE transmissions ADD COLUMN file_bytes BIGINT NOT NULL DEFAULT 0;
ALTER TABLE transmissions ADD COLUMN refused BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX transmissions_sender ON transmissions (sender_siren, id);
CREATE INDEX transmissions_login ON transmissions (login, id);

CREATE TABLE transmission_files (
    transmission_id BIGINT NOT NULL REFERENCES transmissions (id),
    part            BIGINT NOT NULL,
    bytes           BYTEA NOT NULL,
    PRIMARY KEY (transmission_id, part)
);

CREATE TABLE transmission_lines (
    transmission_id BIGINT NOT NULL REFERENCES transmissions (id),
    line            BIGINT NOT NULL,
    reference       TEXT,
    status          TEXT NOT NULL,
    codes           TEXT NOT NULL,
    messages        TEXT NOT NULL,
    PRIMARY KEY (transmission_id, line)
);

CREATE TABLE pending_lines (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    transmission_id BIGINT NOT NULL REFERENCES transmissions (id),
    line            BIGINT NOT NULL,
    format          TEXT NOT NULL,
    nir             TEXT,
    codes           TEXT NOT NULL,
    conflicts       TEXT NOT NULL,
    record          TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    resolved_at     TIMESTAMPTZ,
    resolution      TEXT,
    resolved_by     TEXT,
    worker_id       BIGINT REFERENCES workers (id),
    reason          TEXT,
    UNIQUE (transmission_id, line)
);
CREATE INDEX pending_lines_nir ON pending_lines (nir);

CREATE TABLE monthly_doses (
    worker_id BIGINT NOT NULL REFERENCES workers (id),
    mois      INTEGER NOT NULL,
    series    TEXT NOT NULL,
    dose_usv  BIGINT NOT NULL,
    absences  BIGINT NOT NULL,
    PRIMARY KEY (worker_id, mois, series)
);

-- The identities a correction replaced (the current one stays in `workers`): append-only.
CREATE TABLE worker_identity_history (
    worker_id      BIGINT NOT NULL REFERENCES workers (id),
    nom            TEXT NOT NULL,
    prenom         TEXT NOT NULL,
    date_naissance DATE NOT NULL,
    sexe           TEXT NOT NULL,
    replaced_at    TIMESTAMPTZ NOT NULL,
    replaced_by    TEXT NOT NULL,
    reason         TEXT NOT NULL
);
CREATE INDEX worker_identity_history_worker ON worker_identity_history (worker_id);
CREATE TRIGGER worker_identity_history_append_only BEFORE UPDATE OR DELETE ON worker_identity_history
    FOR EACH ROW EXECUTE FUNCTION refuse_version_change();

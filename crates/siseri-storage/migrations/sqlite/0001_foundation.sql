-- The registry's foundation (SQLite). Dates are ISO text, instants RFC 3339 text.
-- Version tables are append-only: triggers refuse UPDATE and DELETE.

CREATE TABLE companies (
    siren TEXT PRIMARY KEY,
    name  TEXT NOT NULL
);

CREATE TABLE establishments (
    id         INTEGER PRIMARY KEY,
    siret      TEXT NOT NULL UNIQUE,
    siren      TEXT NOT NULL REFERENCES companies (siren),
    name       TEXT NOT NULL,
    inb        BOOLEAN NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);

CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY,
    login         TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL,
    siren         TEXT,
    rpps          TEXT,
    nir           TEXT,
    natures       TEXT NOT NULL DEFAULT '',
    email         TEXT,
    correspondent BOOLEAN NOT NULL DEFAULT 0,
    password_hash TEXT,
    created_at    TEXT NOT NULL
);

CREATE TABLE account_establishments (
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    siret      TEXT NOT NULL,
    PRIMARY KEY (account_id, siret)
);

CREATE TABLE api_tokens (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT
);

CREATE TABLE designations (
    id               INTEGER PRIMARY KEY,
    account_id       INTEGER NOT NULL REFERENCES accounts (id),
    role             TEXT NOT NULL CHECK (role IN ('MDT', 'CRP')),
    establishment_id INTEGER NOT NULL REFERENCES establishments (id),
    date_debut       TEXT NOT NULL,
    date_fin         TEXT,
    created_at       TEXT NOT NULL
);
CREATE INDEX designations_establishment ON designations (establishment_id);

CREATE TABLE workers (
    id             INTEGER PRIMARY KEY,
    nir            TEXT NOT NULL UNIQUE,
    nom            TEXT NOT NULL,
    prenom         TEXT NOT NULL,
    date_naissance TEXT NOT NULL,
    sexe           TEXT NOT NULL CHECK (sexe IN ('F', 'M')),
    created_at     TEXT NOT NULL
);

CREATE TABLE transmissions (
    id           INTEGER PRIMARY KEY,
    format       TEXT NOT NULL,
    sender_siren TEXT,
    login        TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    file_sha256  TEXT NOT NULL,
    report       TEXT NOT NULL
);

CREATE TABLE attachments (
    id               INTEGER PRIMARY KEY,
    worker_id        INTEGER NOT NULL REFERENCES workers (id),
    establishment_id INTEGER NOT NULL REFERENCES establishments (id),
    created_at       TEXT NOT NULL
);
CREATE INDEX attachments_worker ON attachments (worker_id);
CREATE INDEX attachments_establishment ON attachments (establishment_id);

CREATE TABLE attachment_versions (
    attachment_id      INTEGER NOT NULL REFERENCES attachments (id),
    version            INTEGER NOT NULL CHECK (version >= 1),
    date_debut         TEXT NOT NULL,
    date_fin           TEXT,
    classement         TEXT,
    autre_exposition   TEXT,
    caractere_activite TEXT NOT NULL,
    code_domaine       TEXT NOT NULL,
    code_secteur       TEXT NOT NULL,
    code_metier        TEXT NOT NULL,
    nuisance           TEXT NOT NULL,
    type_contrat       TEXT NOT NULL,
    quotite_milliemes  INTEGER NOT NULL CHECK (quotite_milliemes BETWEEN 100 AND 1000),
    groupe             TEXT,
    author             TEXT NOT NULL,
    recorded_at        TEXT NOT NULL,
    transmission_id    INTEGER REFERENCES transmissions (id),
    PRIMARY KEY (attachment_id, version)
);

CREATE TABLE dose_results (
    id               INTEGER PRIMARY KEY,
    sender           TEXT NOT NULL,
    reference        TEXT NOT NULL,
    worker_id        INTEGER NOT NULL REFERENCES workers (id),
    establishment_id INTEGER NOT NULL REFERENCES establishments (id),
    nature           TEXT NOT NULL,
    grandeur         TEXT NOT NULL,
    position         TEXT,
    created_at       TEXT NOT NULL,
    UNIQUE (sender, reference)
);
CREATE INDEX dose_results_worker ON dose_results (worker_id);

CREATE TABLE result_versions (
    result_id       INTEGER NOT NULL REFERENCES dose_results (id),
    version         INTEGER NOT NULL CHECK (version >= 1),
    date_debut      TEXT NOT NULL,
    date_fin        TEXT NOT NULL,
    statut          TEXT NOT NULL CHECK (statut IN ('MESURE', 'INF_SEUIL', 'ABSENCE', 'ANNULE')),
    dose_usv        INTEGER CHECK (dose_usv >= 0),
    seuil_usv       INTEGER CHECK (seuil_usv > 0),
    author          TEXT NOT NULL,
    recorded_at     TEXT NOT NULL,
    justification   TEXT,
    transmission_id INTEGER REFERENCES transmissions (id),
    PRIMARY KEY (result_id, version)
);

CREATE TABLE operational_readings (
    id               INTEGER PRIMARY KEY,
    worker_id        INTEGER NOT NULL REFERENCES workers (id),
    establishment_id INTEGER NOT NULL REFERENCES establishments (id),
    type_mesure      TEXT NOT NULL,
    debut_port       TEXT NOT NULL,
    fin_port         TEXT NOT NULL,
    site_inb_id      INTEGER NOT NULL REFERENCES establishments (id),
    created_at       TEXT NOT NULL,
    UNIQUE (worker_id, establishment_id, type_mesure, debut_port, fin_port)
);

CREATE TABLE reading_versions (
    reading_id      INTEGER NOT NULL REFERENCES operational_readings (id),
    version         INTEGER NOT NULL CHECK (version >= 1),
    lieu            TEXT NOT NULL,
    zone            TEXT NOT NULL,
    type_dosimetre  TEXT NOT NULL,
    dose_usv        INTEGER NOT NULL CHECK (dose_usv >= 0),
    activite        TEXT NOT NULL,
    author          TEXT NOT NULL,
    recorded_at     TEXT NOT NULL,
    transmission_id INTEGER REFERENCES transmissions (id),
    PRIMARY KEY (reading_id, version)
);

CREATE TRIGGER attachment_versions_no_update BEFORE UPDATE ON attachment_versions
BEGIN SELECT RAISE(ABORT, 'versions are append-only'); END;
CREATE TRIGGER attachment_versions_no_delete BEFORE DELETE ON attachment_versions
BEGIN SELECT RAISE(ABORT, 'versions are append-only'); END;
CREATE TRIGGER result_versions_no_update BEFORE UPDATE ON result_versions
BEGIN SELECT RAISE(ABORT, 'versions are append-only'); END;
CREATE TRIGGER result_versions_no_delete BEFORE DELETE ON result_versions
BEGIN SELECT RAISE(ABORT, 'versions are append-only'); END;
CREATE TRIGGER reading_versions_no_update BEFORE UPDATE ON reading_versions
BEGIN SELECT RAISE(ABORT, 'versions are append-only'); END;
CREATE TRIGGER reading_versions_no_delete BEFORE DELETE ON reading_versions
BEGIN SELECT RAISE(ABORT, 'versions are append-only'); END;

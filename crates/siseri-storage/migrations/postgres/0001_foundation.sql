-- The registry's foundation (PostgreSQL).
-- Version tables are append-only: triggers refuse UPDATE and DELETE.

CREATE TABLE companies (
    siren TEXT PRIMARY KEY,
    name  TEXT NOT NULL
);

CREATE TABLE establishments (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    siret      TEXT NOT NULL UNIQUE,
    siren      TEXT NOT NULL REFERENCES companies (siren),
    name       TEXT NOT NULL,
    inb        BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE accounts (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    login         TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL,
    siren         TEXT,
    rpps          TEXT,
    nir           TEXT,
    natures       TEXT NOT NULL DEFAULT '',
    email         TEXT,
    correspondent BOOLEAN NOT NULL DEFAULT FALSE,
    password_hash TEXT,
    created_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE account_establishments (
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    siret      TEXT NOT NULL,
    PRIMARY KEY (account_id, siret)
);

CREATE TABLE api_tokens (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);

CREATE TABLE designations (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id       BIGINT NOT NULL REFERENCES accounts (id),
    role             TEXT NOT NULL CHECK (role IN ('MDT', 'CRP')),
    establishment_id BIGINT NOT NULL REFERENCES establishments (id),
    date_debut       DATE NOT NULL,
    date_fin         DATE,
    created_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX designations_establishment ON designations (establishment_id);

CREATE TABLE workers (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    nir            TEXT NOT NULL UNIQUE,
    nom            TEXT NOT NULL,
    prenom         TEXT NOT NULL,
    date_naissance DATE NOT NULL,
    sexe           TEXT NOT NULL CHECK (sexe IN ('F', 'M')),
    created_at     TIMESTAMPTZ NOT NULL
);

CREATE TABLE transmissions (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    format       TEXT NOT NULL,
    sender_siren TEXT,
    login        TEXT NOT NULL,
    received_at  TIMESTAMPTZ NOT NULL,
    file_sha256  TEXT NOT NULL,
    report       TEXT NOT NULL
);

CREATE TABLE attachments (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    worker_id        BIGINT NOT NULL REFERENCES workers (id),
    establishment_id BIGINT NOT NULL REFERENCES establishments (id),
    created_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX attachments_worker ON attachments (worker_id);
CREATE INDEX attachments_establishment ON attachments (establishment_id);

CREATE TABLE attachment_versions (
    attachment_id      BIGINT NOT NULL REFERENCES attachments (id),
    version            INTEGER NOT NULL CHECK (version >= 1),
    date_debut         DATE NOT NULL,
    date_fin           DATE,
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
    recorded_at        TIMESTAMPTZ NOT NULL,
    transmission_id    BIGINT REFERENCES transmissions (id),
    PRIMARY KEY (attachment_id, version)
);

CREATE TABLE dose_results (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sender           TEXT NOT NULL,
    reference        TEXT NOT NULL,
    worker_id        BIGINT NOT NULL REFERENCES workers (id),
    establishment_id BIGINT NOT NULL REFERENCES establishments (id),
    nature           TEXT NOT NULL,
    grandeur         TEXT NOT NULL,
    position         TEXT,
    created_at       TIMESTAMPTZ NOT NULL,
    UNIQUE (sender, reference)
);
CREATE INDEX dose_results_worker ON dose_results (worker_id);

CREATE TABLE result_versions (
    result_id       BIGINT NOT NULL REFERENCES dose_results (id),
    version         INTEGER NOT NULL CHECK (version >= 1),
    date_debut      DATE NOT NULL,
    date_fin        DATE NOT NULL,
    statut          TEXT NOT NULL CHECK (statut IN ('MESURE', 'INF_SEUIL', 'ABSENCE', 'ANNULE')),
    dose_usv        BIGINT CHECK (dose_usv >= 0),
    seuil_usv       BIGINT CHECK (seuil_usv > 0),
    author          TEXT NOT NULL,
    recorded_at     TIMESTAMPTZ NOT NULL,
    justification   TEXT,
    transmission_id BIGINT REFERENCES transmissions (id),
    PRIMARY KEY (result_id, version)
);

CREATE TABLE operational_readings (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    worker_id        BIGINT NOT NULL REFERENCES workers (id),
    establishment_id BIGINT NOT NULL REFERENCES establishments (id),
    type_mesure      TEXT NOT NULL,
    debut_port       TIMESTAMP NOT NULL,
    fin_port         TIMESTAMP NOT NULL,
    site_inb_id      BIGINT NOT NULL REFERENCES establishments (id),
    created_at       TIMESTAMPTZ NOT NULL,
    UNIQUE (worker_id, establishment_id, type_mesure, debut_port, fin_port)
);

CREATE TABLE reading_versions (
    reading_id      BIGINT NOT NULL REFERENCES operational_readings (id),
    version         INTEGER NOT NULL CHECK (version >= 1),
    lieu            TEXT NOT NULL,
    zone            TEXT NOT NULL,
    type_dosimetre  TEXT NOT NULL,
    dose_usv        BIGINT NOT NULL CHECK (dose_usv >= 0),
    activite        TEXT NOT NULL,
    author          TEXT NOT NULL,
    recorded_at     TIMESTAMPTZ NOT NULL,
    transmission_id BIGINT REFERENCES transmissions (id),
    PRIMARY KEY (reading_id, version)
);

CREATE FUNCTION refuse_version_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'versions are append-only';
END;
$$;

CREATE TRIGGER attachment_versions_append_only BEFORE UPDATE OR DELETE ON attachment_versions
    FOR EACH ROW EXECUTE FUNCTION refuse_version_change();
CREATE TRIGGER result_versions_append_only BEFORE UPDATE OR DELETE ON result_versions
    FOR EACH ROW EXECUTE FUNCTION refuse_version_change();
CREATE TRIGGER reading_versions_append_only BEFORE UPDATE OR DELETE ON reading_versions
    FOR EACH ROW EXECUTE FUNCTION refuse_version_change();

-- Pregnancies declared by physicians, alerts (one per worker, limit and exceedance episode)
-- and the steps of their lifecycle (rules.md §4–§5). Alerts are never deleted.

CREATE TABLE pregnancies (
    id            INTEGER PRIMARY KEY,
    worker_id     INTEGER NOT NULL REFERENCES workers (id),
    declared_on   TEXT NOT NULL,
    ended_on      TEXT,
    author        TEXT NOT NULL,
    recorded_at   TEXT NOT NULL,
    justification TEXT NOT NULL
);
CREATE INDEX pregnancies_worker ON pregnancies (worker_id);

CREATE TABLE alerts (
    id            INTEGER PRIMARY KEY,
    worker_id     INTEGER NOT NULL REFERENCES workers (id),
    kind          TEXT NOT NULL,
    pregnancy_id  INTEGER REFERENCES pregnancies (id),
    first_month   INTEGER NOT NULL,
    last_month    INTEGER NOT NULL,
    dose_usv      INTEGER NOT NULL,
    status        TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX alerts_worker ON alerts (worker_id);

CREATE TABLE alert_steps (
    alert_id  INTEGER NOT NULL REFERENCES alerts (id),
    seq       INTEGER NOT NULL,
    status    TEXT NOT NULL,
    at        TEXT NOT NULL,
    author    TEXT NOT NULL,
    text      TEXT NOT NULL,
    PRIMARY KEY (alert_id, seq)
);
CREATE TRIGGER alert_steps_no_update BEFORE UPDATE ON alert_steps
BEGIN SELECT RAISE(ABORT, 'versions are append-only'); END;
CREATE TRIGGER alert_steps_no_delete BEFORE DELETE ON alert_steps
BEGIN SELECT RAISE(ABORT, 'versions are append-only'); END;
CREATE TRIGGER alerts_no_delete BEFORE DELETE ON alerts
BEGIN SELECT RAISE(ABORT, 'alerts are never deleted'); END;

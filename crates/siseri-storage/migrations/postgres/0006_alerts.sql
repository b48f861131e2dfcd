-- Pregnancies declared by physicians, alerts (one per worker, limit and exceedance episode)
-- and the steps of their lifecycle (rules.md §4–§5). Alerts are never deleted.

CREATE TABLE pregnancies (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    worker_id     BIGINT NOT NULL REFERENCES workers (id),
    declared_on   DATE NOT NULL,
    ended_on      DATE,
    author        TEXT NOT NULL,
    recorded_at   TIMESTAMPTZ NOT NULL,
    justification TEXT NOT NULL
);
CREATE INDEX pregnancies_worker ON pregnancies (worker_id);

CREATE TABLE alerts (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    worker_id     BIGINT NOT NULL REFERENCES workers (id),
    kind          TEXT NOT NULL,
    pregnancy_id  BIGINT REFERENCES pregnancies (id),
    first_month   INTEGER NOT NULL,
    last_month    INTEGER NOT NULL,
    dose_usv      BIGINT NOT NULL,
    status        TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX alerts_worker ON alerts (worker_id);

CREATE TABLE alert_steps (
    alert_id  BIGINT NOT NULL REFERENCES alerts (id),
    seq       INTEGER NOT NULL,
    status    TEXT NOT NULL,
    at        TIMESTAMPTZ NOT NULL,
    author    TEXT NOT NULL,
    text      TEXT NOT NULL,
    PRIMARY KEY (alert_id, seq)
);
CREATE TRIGGER alert_steps_append_only BEFORE UPDATE OR DELETE ON alert_steps
    FOR EACH ROW EXECUTE FUNCTION refuse_version_change();

CREATE FUNCTION refuse_alert_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'alerts are never deleted';
END;
$$;
CREATE TRIGGER alerts_no_delete BEFORE DELETE ON alerts
    FOR EACH ROW EXECUTE FUNCTION refuse_alert_delete();

-- The journal: append-only, hash-chained; its count and head are kept apart so that
-- removing the last entries is detected too (access.md, "Journal").

CREATE TABLE journal (
    seq       BIGINT PRIMARY KEY,
    at        TIMESTAMPTZ NOT NULL,
    actor     TEXT NOT NULL,
    role      TEXT,
    action    TEXT NOT NULL,
    data_kind TEXT NOT NULL,
    workers   TEXT NOT NULL,
    outcome   TEXT NOT NULL,
    mission   TEXT,
    detail    TEXT,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);

CREATE TABLE journal_workers (
    worker_id BIGINT NOT NULL,
    seq       BIGINT NOT NULL REFERENCES journal (seq),
    PRIMARY KEY (worker_id, seq)
);

CREATE TABLE journal_head (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    entries BIGINT NOT NULL,
    head    TEXT NOT NULL
);
INSERT INTO journal_head (id, entries, head)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE FUNCTION refuse_journal_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the journal is append-only';
END;
$$;

CREATE TRIGGER journal_append_only BEFORE UPDATE OR DELETE ON journal
    FOR EACH ROW EXECUTE FUNCTION refuse_journal_change();

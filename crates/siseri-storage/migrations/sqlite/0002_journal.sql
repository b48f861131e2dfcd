-- The journal: append-only, hash-chained; its count and head are kept apart so that
-- removing the last entries is detected too (access.md, "Journal").

CREATE TABLE journal (
    seq       INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
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

-- Lookup of a worker's entries (the hashed list is journal.workers).
CREATE TABLE journal_workers (
    worker_id INTEGER NOT NULL,
    seq       INTEGER NOT NULL REFERENCES journal (seq),
    PRIMARY KEY (worker_id, seq)
);

CREATE TABLE journal_head (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    entries INTEGER NOT NULL,
    head    TEXT NOT NULL
);
INSERT INTO journal_head (id, entries, head)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;

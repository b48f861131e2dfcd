-- Monthly sums are derived data: written only in the transaction that writes the results
-- they sum (whose own foreign keys check the worker), and rebuilt from those results by
-- `siseri admin recompute`; they keep no foreign key (as in the PostgreSQL schema, where
-- checking it cost as much as writing them). SQLite cannot drop a constraint: the table is
-- rebuilt.
CREATE TABLE monthly_doses_new (
    worker_id INTEGER NOT NULL,
    mois      INTEGER NOT NULL,
    series    TEXT NOT NULL,
    dose_usv  INTEGER NOT NULL,
    absences  INTEGER NOT NULL,
    PRIMARY KEY (worker_id, mois, series)
);
INSERT INTO monthly_doses_new SELECT worker_id, mois, series, dose_usv, absences FROM monthly_doses;
DROP TABLE monthly_doses;
ALTER TABLE monthly_doses_new RENAME TO monthly_doses;

-- What an import writes besides the results themselves, made cheaper (docs/performance.md).

-- Monthly sums are derived data: written only in the transaction that writes the results
-- they sum (whose own foreign keys check the worker), and rebuilt from those results by
-- `siseri admin recompute`. Checking the worker again for each of the million sums of a
-- large import cost PostgreSQL as much as writing them.
ALTER TABLE monthly_doses DROP CONSTRAINT monthly_doses_worker_id_fkey;

-- The kept files compress well; lz4 costs the server a fraction of the default pglz.
ALTER TABLE transmission_files ALTER COLUMN bytes SET COMPRESSION lz4;

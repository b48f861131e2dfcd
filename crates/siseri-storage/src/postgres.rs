//! The PostgreSQL adapter.

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};

use crate::DatabaseUrl;

/// The registry on a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: sqlx::PgPool,
    /// Appends the journaled reads of concurrent requests together.
    journal: std::sync::Arc<crate::journal_writer::JournalWriter>,
}

impl PostgresStore {
    const ENGINE: Engine = Engine::Postgres;

    /// Connects and migrates.
    pub async fn open(url: &DatabaseUrl) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url.expose())?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(std::time::Duration::from_secs(10))
            .connect_with(options)
            .await?;
        sqlx::migrate!("migrations/postgres").run(&pool).await?;
        Ok(PostgresStore {
            pool,
            journal: std::sync::Arc::default(),
        })
    }

    /// The pool, for tests that must reach under the interface (tampering checks).
    pub fn pool(&self) -> &sqlx::PgPool {
        &self.pool
    }
}

crate::sql::sql_store!(PostgresStore, sqlx::Postgres, PgRow);
crate::import_sql::sql_import!(
    PostgresStore,
    PostgresImport,
    sqlx::Postgres,
    PgRow,
    "SELECT json_array_elements_text($1::json)",
    "SELECT (json_array_elements_text($1::json))::bigint"
);

impl PostgresStore {
    /// The results (with their versions) of sender `$2` among the references of the JSON
    /// array `$1`: the (sender, reference) index probed for the chunk's references, the rest
    /// by key, whatever the planner believes.
    ///
    /// Written as a plain join, the lookup was planned while the tables were still small and
    /// without statistics, and the prepared statement's generic plan was then kept while the
    /// import's own rows grew them: it read every stored result of the sender and hashed every
    /// version at each chunk, time quadratic in the file's size. The LATERAL subqueries
    /// (`OFFSET 0` keeps them from being flattened into a join) leave the planner no other
    /// way than a lookup by key; the references are one index scan over an array (one
    /// executor node rather than one subquery per reference).
    pub(crate) const RESULTS_BY_REFERENCE: &'static str = "\
        SELECT r.id, r.sender, r.reference, w.nir, e.siret, r.nature, r.grandeur, r.position, \
        v.version, v.date_debut, v.date_fin, v.statut, v.dose_usv, v.seuil_usv, v.author, \
        v.recorded_at, v.justification, v.transmission_id \
        FROM dose_results r \
        CROSS JOIN LATERAL (SELECT x.nir FROM workers x WHERE x.id = r.worker_id OFFSET 0) w \
        CROSS JOIN LATERAL (SELECT x.siret FROM establishments x \
            WHERE x.id = r.establishment_id OFFSET 0) e \
        CROSS JOIN LATERAL (SELECT * FROM result_versions x WHERE x.result_id = r.id OFFSET 0) v \
        WHERE r.sender = $2 AND r.reference = ANY (ARRAY(SELECT json_array_elements_text($1::json))) \
        ORDER BY r.id, v.version";
}

/// Rows per upsert statement.
const ROWS_PER_UPSERT: usize = 10_000;

/// One column of an upsert, bound as one PostgreSQL array.
enum Array {
    Int(Vec<Option<i64>>),
    Text(Vec<Option<String>>),
    Date(Vec<Option<chrono::NaiveDate>>),
    Stamp(Vec<Option<chrono::DateTime<chrono::Utc>>>),
    Local(Vec<Option<chrono::NaiveDateTime>>),
}

impl Array {
    /// An empty array of the kind of `cell`.
    fn for_cell(cell: &Cell) -> Array {
        match cell {
            Cell::Int(_) | Cell::OptInt(_) => Array::Int(Vec::new()),
            Cell::Text(_) | Cell::OptText(_) => Array::Text(Vec::new()),
            Cell::Date(_) => Array::Date(Vec::new()),
            Cell::Stamp(_) => Array::Stamp(Vec::new()),
            Cell::Local(_) => Array::Local(Vec::new()),
        }
    }

    /// Appends `cell`; false when it is not of this array's kind.
    fn push(&mut self, cell: &Cell) -> bool {
        match (self, cell) {
            (Array::Int(v), Cell::Int(x)) => v.push(Some(*x)),
            (Array::Int(v), Cell::OptInt(x)) => v.push(*x),
            (Array::Text(v), Cell::Text(x)) => v.push(Some(x.clone())),
            (Array::Text(v), Cell::OptText(x)) => v.push(x.clone()),
            (Array::Date(v), Cell::Date(x)) => v.push(Some(*x)),
            (Array::Stamp(v), Cell::Stamp(x)) => v.push(Some(*x)),
            (Array::Local(v), Cell::Local(x)) => v.push(Some(*x)),
            _ => return false,
        }
        true
    }

    fn sql_type(&self) -> &'static str {
        match self {
            Array::Int(_) => "int8[]",
            Array::Text(_) => "text[]",
            Array::Date(_) => "date[]",
            Array::Stamp(_) => "timestamptz[]",
            Array::Local(_) => "timestamp[]",
        }
    }
}

/// Bytes sent per COPY message: small enough that the server parses and inserts the first
/// rows while the next ones are encoded (a chunk of results is about 250 kB).
const COPY_BUFFER: usize = 1 << 20;

impl PostgresStore {
    /// `COPY … FROM STDIN` in text format: the bulk path PostgreSQL is fastest at.
    pub(crate) async fn insert_rows(
        tx: &mut Tx<'_>,
        table: &str,
        columns: &[&str],
        rows: &[Vec<Cell>],
    ) -> Result<(), StoreError> {
        let statement = format!("COPY {table} ({}) FROM STDIN", columns.join(", "));
        let mut copy = tx.copy_in_raw(&statement).await?;
        // Sized to the rows (a fresh 1 MiB buffer per statement is pages the kernel must
        // zero each time).
        let mut buf = String::with_capacity((rows.len() * 160).min(COPY_BUFFER) + 4096);
        // An import stamps all its rows with one instant: formatted once.
        let mut stamp: Option<(chrono::DateTime<chrono::Utc>, String)> = None;
        for row in rows {
            for (i, cell) in row.iter().enumerate() {
                if i > 0 {
                    buf.push('\t');
                }
                match (cell, &stamp) {
                    (Cell::Stamp(t), Some((at, text))) if at == t => buf.push_str(text),
                    (Cell::Stamp(t), _) => {
                        let text = t.to_rfc3339();
                        buf.push_str(&text);
                        stamp = Some((*t, text));
                    }
                    _ => cell.copy_text(&mut buf),
                }
            }
            buf.push('\n');
            if buf.len() >= COPY_BUFFER {
                copy.send(buf.as_bytes()).await?;
                buf.clear();
            }
        }
        if !buf.is_empty() {
            copy.send(buf.as_bytes()).await?;
        }
        copy.finish().await?;
        Ok(())
    }

    /// `INSERT … SELECT * FROM UNNEST($1, …)` followed by `suffix` (COPY cannot resolve
    /// conflicts): one array parameter per column rather than one parameter per value, so
    /// that PostgreSQL parses and plans a short statement instead of thousands of VALUES.
    pub(crate) async fn upsert_rows(
        tx: &mut Tx<'_>,
        table: &str,
        columns: &[&str],
        rows: &[Vec<Cell>],
        suffix: &str,
    ) -> Result<(), StoreError> {
        for chunk in rows.chunks(ROWS_PER_UPSERT) {
            let mut arrays = Vec::with_capacity(columns.len());
            for (i, name) in columns.iter().enumerate() {
                let mut array = chunk
                    .first()
                    .and_then(|r| r.get(i))
                    .map(Array::for_cell)
                    .ok_or_else(|| StoreError::Conflict(format!("colonne {name} absente")))?;
                for row in chunk {
                    let cell = row
                        .get(i)
                        .ok_or_else(|| StoreError::Conflict(format!("colonne {name} absente")))?;
                    if !array.push(cell) {
                        return Err(StoreError::Conflict(format!(
                            "colonne {name} : types mêlés"
                        )));
                    }
                }
                arrays.push(array);
            }
            let params: Vec<String> = arrays
                .iter()
                .enumerate()
                .map(|(i, a)| format!("${}::{}", i + 1, a.sql_type()))
                .collect();
            let sql = format!(
                "INSERT INTO {table} ({}) SELECT * FROM UNNEST({}){suffix}",
                columns.join(", "),
                params.join(", ")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for a in arrays {
                q = match a {
                    Array::Int(v) => q.bind(v),
                    Array::Text(v) => q.bind(v),
                    Array::Date(v) => q.bind(v),
                    Array::Stamp(v) => q.bind(v),
                    Array::Local(v) => q.bind(v),
                };
            }
            q.execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// `n` fresh ids of `table`, from its identity sequence (not necessarily consecutive:
    /// other writers draw from it meanwhile).
    pub(crate) async fn reserve_ids(
        tx: &mut Tx<'static>,
        table: &str,
        n: usize,
    ) -> Result<Vec<i64>, StoreError> {
        let n = i64::try_from(n).map_err(|_| StoreError::Conflict("trop de lignes".into()))?;
        // The sequence is looked up once, not once per id.
        let sql = format!(
            "WITH s AS MATERIALIZED (SELECT pg_get_serial_sequence('{table}', 'id')::regclass AS seq) \
             SELECT nextval(s.seq) AS id FROM s CROSS JOIN generate_series(1, $1)"
        );
        let found = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(n)
            .fetch_all(&mut **tx)
            .await?;
        found.iter().map(|r| Ok(r.try_get("id")?)).collect()
    }

    /// Tells the planner, for this transaction only, what an import does: it looks rows up
    /// by key, a chunk at a time, while its own rows grow the tables.
    ///
    /// Inside the transaction the tables have no statistics of those rows (nothing analysed,
    /// and autovacuum cannot see them), and a prepared statement's generic plan is costed
    /// once, early, while they are small. Left to itself the planner then chose, for lookups
    /// such as `worker_id IN (…)`, a sequential scan of the whole table hashed against the
    /// chunk's keys, and kept that plan while the table grew: each chunk read everything the
    /// import had written so far, time quadratic in the file's size. Without sequential
    /// scans, hash joins and merge joins, the only plans left are index lookups per key
    /// (a table without a usable index is still read sequentially: it is the only way).
    pub(crate) async fn plan_for_keys(tx: &mut Tx<'static>) -> Result<(), StoreError> {
        sqlx::raw_sql(
            "SET LOCAL enable_seqscan = off; SET LOCAL enable_hashjoin = off; \
             SET LOCAL enable_mergejoin = off",
        )
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Imports run one at a time (an advisory lock held until the transaction ends), so that
    /// two files of one sender cannot race on the same references; other writes go on.
    pub(crate) async fn serialize_imports(tx: &mut Tx<'static>) -> Result<(), StoreError> {
        sqlx::query("SELECT pg_advisory_xact_lock(4151)")
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}
crate::alerts_sql::sql_alerts!(
    PostgresStore,
    PostgresImport,
    PgRow,
    "SELECT (json_array_elements_text($1::json))::bigint"
);
crate::outbox_sql::sql_outbox!(PostgresStore, sqlx::postgres::PgRow);
crate::registrations_sql::sql_employers!(PostgresStore, sqlx::postgres::PgRow);

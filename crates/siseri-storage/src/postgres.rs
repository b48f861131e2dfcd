//! The PostgreSQL adapter.

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};

use crate::DatabaseUrl;

/// The registry on a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: sqlx::PgPool,
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
        Ok(PostgresStore { pool })
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

/// Rows per multi-row upsert (PostgreSQL's limit is 65,535 parameters).
const ROWS_PER_UPSERT: usize = 1000;

/// Bytes sent per COPY message.
const COPY_BUFFER: usize = 1 << 20;

impl PostgresStore {
    /// `COPY … FROM STDIN` in text format: the bulk path PostgreSQL is fastest at.
    pub(crate) async fn insert_rows(
        tx: &mut Tx<'static>,
        table: &str,
        columns: &[&str],
        rows: &[Vec<Cell>],
    ) -> Result<(), StoreError> {
        let statement = format!("COPY {table} ({}) FROM STDIN", columns.join(", "));
        let mut copy = tx.copy_in_raw(&statement).await?;
        let mut buf = String::with_capacity(COPY_BUFFER + 4096);
        for row in rows {
            for (i, cell) in row.iter().enumerate() {
                if i > 0 {
                    buf.push('\t');
                }
                cell.copy_text(&mut buf);
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

    /// Multi-row INSERTs followed by `suffix` (COPY cannot resolve conflicts).
    pub(crate) async fn upsert_rows(
        tx: &mut Tx<'static>,
        table: &str,
        columns: &[&str],
        rows: &[Vec<Cell>],
        suffix: &str,
    ) -> Result<(), StoreError> {
        for chunk in rows.chunks(ROWS_PER_UPSERT) {
            let sql = crate::import::multi_row_insert(table, columns, chunk.len(), suffix);
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for row in chunk {
                for cell in row {
                    q = match cell {
                        Cell::Int(v) => q.bind(*v),
                        Cell::OptInt(v) => q.bind(*v),
                        Cell::Text(v) => q.bind(v.clone()),
                        Cell::OptText(v) => q.bind(v.clone()),
                        Cell::Date(v) => q.bind(*v),
                        Cell::Stamp(v) => q.bind(*v),
                        Cell::Local(v) => q.bind(*v),
                    };
                }
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
        let sql = format!(
            "SELECT nextval(pg_get_serial_sequence('{table}', 'id')) AS id FROM generate_series(1, $1)"
        );
        let found = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(n)
            .fetch_all(&mut **tx)
            .await?;
        found.iter().map(|r| Ok(r.try_get("id")?)).collect()
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

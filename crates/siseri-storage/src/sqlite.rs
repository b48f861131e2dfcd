//! The SQLite adapter: an embedded file in WAL mode with foreign keys on.

use std::str::FromStr;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};

use crate::DatabaseUrl;

/// The registry on an SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: sqlx::SqlitePool,
    /// Appends the journaled reads of concurrent requests together.
    journal: std::sync::Arc<crate::journal_writer::JournalWriter>,
}

impl SqliteStore {
    const ENGINE: Engine = Engine::Sqlite;

    /// Opens the file (creating it), sets WAL and foreign keys, and migrates.
    pub async fn open(url: &DatabaseUrl) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url.expose())?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(std::time::Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        sqlx::migrate!("migrations/sqlite").run(&pool).await?;
        Ok(SqliteStore {
            pool,
            journal: std::sync::Arc::default(),
        })
    }

    /// The pool, for tests that must reach under the interface (tampering checks).
    pub fn pool(&self) -> &sqlx::SqlitePool {
        &self.pool
    }
}

crate::sql::sql_store!(SqliteStore, sqlx::Sqlite, SqliteRow);
crate::import_sql::sql_import!(
    SqliteStore,
    SqliteImport,
    sqlx::Sqlite,
    SqliteRow,
    "SELECT value FROM json_each($1)",
    "SELECT value FROM json_each($1)"
);

impl SqliteStore {
    /// The results (with their versions) of sender `$2` among the references of the JSON
    /// array `$1`: SQLite probes the (sender, reference) index for each.
    pub(crate) const RESULTS_BY_REFERENCE: &'static str = concat!(
        crate::sql::result_select!(),
        "WHERE r.sender = $2 AND r.reference IN (SELECT value FROM json_each($1)) ORDER BY r.id, v.version"
    );
}

/// Rows per multi-row INSERT: well under SQLite's 32,766 parameters.
const ROWS_PER_INSERT: usize = 250;

/// `INSERT INTO table (columns) VALUES (?, …), (…)` for `rows` rows, then `suffix`.
///
/// Anonymous `?` parameters, not `$n`: sqlx asks SQLite the name of every parameter it
/// binds, and SQLite finds a named parameter's name by a linear scan of the statement's
/// parameter list, so binding the thousands of `$n` of a multi-row INSERT took time
/// quadratic in its size (most of an import's time). Anonymous ones have no name to scan for.
fn anonymous_multi_row_insert(table: &str, columns: &[&str], rows: usize, suffix: &str) -> String {
    let row = format!("({})", vec!["?"; columns.len()].join(", "));
    let mut sql = String::with_capacity(64 + rows * (row.len() + 2) + suffix.len());
    sql.push_str("INSERT INTO ");
    sql.push_str(table);
    sql.push_str(" (");
    sql.push_str(&columns.join(", "));
    sql.push_str(") VALUES ");
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&row);
    }
    sql.push_str(suffix);
    sql
}

#[cfg(test)]
mod multi_row_tests {
    #[test]
    fn multi_row_insert_has_anonymous_parameters() {
        assert_eq!(
            super::anonymous_multi_row_insert("t", &["a", "b"], 2, " ON CONFLICT DO NOTHING"),
            "INSERT INTO t (a, b) VALUES (?, ?), (?, ?) ON CONFLICT DO NOTHING"
        );
    }
}

impl SqliteStore {
    /// Multi-row INSERTs: one statement per [`ROWS_PER_INSERT`] rows.
    pub(crate) async fn insert_rows(
        tx: &mut Tx<'_>,
        table: &str,
        columns: &[&str],
        rows: &[Vec<Cell>],
    ) -> Result<(), StoreError> {
        Self::upsert_rows(tx, table, columns, rows, "").await
    }

    /// Multi-row INSERTs followed by `suffix` (an `ON CONFLICT` clause).
    pub(crate) async fn upsert_rows(
        tx: &mut Tx<'_>,
        table: &str,
        columns: &[&str],
        rows: &[Vec<Cell>],
        suffix: &str,
    ) -> Result<(), StoreError> {
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            let sql = anonymous_multi_row_insert(table, columns, chunk.len(), suffix);
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

    /// `n` fresh ids of `table`: the import holds SQLite's write lock from its start, so
    /// nobody else can take them.
    pub(crate) async fn reserve_ids(
        tx: &mut Tx<'static>,
        table: &str,
        n: usize,
    ) -> Result<Vec<i64>, StoreError> {
        let sql = format!("SELECT COALESCE(MAX(id), 0) AS m FROM {table}");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_one(&mut **tx)
            .await?;
        let m: i64 = row.try_get("m")?;
        Ok((1..=n as i64).map(|i| m + i).collect())
    }

    /// Nothing to do: SQLite plans from its indexes, not from statistics that the import's
    /// own rows would make stale (see the PostgreSQL adapter).
    pub(crate) async fn plan_for_keys(_tx: &mut Tx<'static>) -> Result<(), StoreError> {
        Ok(())
    }

    /// SQLite serialises every write already (the import takes the lock at its start).
    pub(crate) async fn serialize_imports(_tx: &mut Tx<'static>) -> Result<(), StoreError> {
        Ok(())
    }
}
crate::alerts_sql::sql_alerts!(
    SqliteStore,
    SqliteImport,
    SqliteRow,
    "SELECT value FROM json_each($1)"
);
crate::outbox_sql::sql_outbox!(SqliteStore, sqlx::sqlite::SqliteRow);
crate::registrations_sql::sql_employers!(SqliteStore, sqlx::sqlite::SqliteRow);

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
        Ok(SqliteStore { pool })
    }

    /// The pool, for tests that must reach under the interface (tampering checks).
    pub fn pool(&self) -> &sqlx::SqlitePool {
        &self.pool
    }
}

crate::sql::sql_store!(SqliteStore, sqlx::Sqlite, SqliteRow);

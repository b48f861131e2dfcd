//! Test support: fresh databases on either engine, raw access under the interface
//! (to tamper with rows as an attacker or a bug would), and the conformance suite
//! that every engine must pass.
//!
//! PostgreSQL tests run when `SISERI_TEST_POSTGRES` holds a server URL (for instance
//! `postgres://postgres@127.0.0.1:5432/postgres`): each test gets a database of its own,
//! named `siseri_t_…`. Once that variable is set, an unreachable server fails the tests;
//! it never skips them silently.

pub mod conformance;

use std::sync::Arc;

use rand::Rng;
use sqlx::Connection;

use crate::{DatabaseUrl, Engine, Store};

/// A worker's identity for tests (born 03/10/1995, F).
pub fn sample_worker(nir: &str, nom: &str) -> siseri_domain::worker::NewWorker {
    siseri_domain::worker::NewWorker {
        nir: siseri_domain::ids::Nir::parse(nir).unwrap_or_else(|e| panic!("{nir}: {e}")),
        nom: nom.to_string(),
        prenom: "Camille".to_string(),
        date_naissance: chrono::NaiveDate::from_ymd_opt(1995, 10, 3)
            .unwrap_or_else(|| panic!("date")),
        sexe: siseri_domain::codes::Sex::F,
    }
}

/// Attachment terms for tests: category A radiographer in diagnostic radiology, 80 %,
/// ongoing from `from`.
pub fn sample_terms(from: chrono::NaiveDate) -> siseri_domain::worker::AttachmentTerms {
    use siseri_domain::codes::{ActivityCharacter, Classification, ContractType, Nuisance};
    siseri_domain::worker::AttachmentTerms {
        date_debut: from,
        date_fin: None,
        classement: Some(Classification::A),
        autre_exposition: None,
        caractere_activite: ActivityCharacter::Civil,
        code_domaine: "100000".into(),
        code_secteur: "101000".into(),
        code_metier: "MANIP".into(),
        nuisance: Nuisance::External,
        type_contrat: ContractType::Permanent,
        quotite_milliemes: 800,
        groupe: None,
    }
}

/// The environment variable naming the PostgreSQL server for tests.
pub const POSTGRES_ENV: &str = "SISERI_TEST_POSTGRES";

/// A fresh, migrated database.
#[derive(Debug)]
pub struct TestDb {
    /// The store under test.
    pub store: Arc<dyn Store>,
    /// Its URL (to open it again, or from another process).
    pub url: DatabaseUrl,
    _dir: Option<TempDir>,
}

/// A temporary directory removed on drop.
#[derive(Debug)]
struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn random_suffix() -> String {
    let n: u64 = rand::rng().random();
    format!("{}_{n:016x}", std::process::id())
}

/// A fresh SQLite database in a temporary directory.
pub async fn sqlite() -> TestDb {
    let dir = std::env::temp_dir().join(format!("siseri-test-{}", random_suffix()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("temporary directory: {e}"));
    let url = DatabaseUrl::parse(&format!("sqlite:{}", dir.join("siseri.db").display()))
        .unwrap_or_else(|e| panic!("{e}"));
    let store = crate::open(&url)
        .await
        .unwrap_or_else(|e| panic!("open {url}: {e}"));
    TestDb {
        store,
        url,
        _dir: Some(TempDir(dir)),
    }
}

/// The PostgreSQL server URL, if PostgreSQL tests are enabled.
pub fn postgres_server() -> Option<String> {
    std::env::var(POSTGRES_ENV)
        .ok()
        .filter(|v| !v.trim().is_empty())
}

/// A fresh PostgreSQL database, or `None` when PostgreSQL tests are not enabled.
pub async fn postgres() -> Option<TestDb> {
    let server = postgres_server()?;
    let name = format!("siseri_t_{}", random_suffix());
    let mut admin = sqlx::PgConnection::connect(&server)
        .await
        .unwrap_or_else(|e| panic!("{POSTGRES_ENV} is set but PostgreSQL cannot be reached: {e}"));
    // The name is ours (digits, letters, underscores): safe to splice.
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
    let _ = admin.close().await;
    let url = DatabaseUrl::parse(&with_database(&server, &name)).unwrap_or_else(|e| panic!("{e}"));
    let store = crate::open(&url)
        .await
        .unwrap_or_else(|e| panic!("open {url}: {e}"));
    Some(TestDb {
        store,
        url,
        _dir: None,
    })
}

/// Replaces the database name of a PostgreSQL URL.
pub fn with_database(server: &str, name: &str) -> String {
    let (base, query) = match server.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (server, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// Both engines for a test that must run on each: SQLite always, PostgreSQL when enabled.
pub async fn every_engine() -> Vec<TestDb> {
    let mut dbs = vec![sqlite().await];
    dbs.extend(postgres().await);
    dbs
}

impl TestDb {
    /// Runs a statement directly on the database, bypassing the interface.
    pub async fn execute_raw(&self, sql: &str) -> Result<u64, sqlx::Error> {
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        match self.url.engine() {
            Engine::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(self.url.expose()).await?;
                Ok(sqlx::raw_sql(sql).execute(&mut c).await?.rows_affected())
            }
            Engine::Postgres => {
                let mut c = sqlx::PgConnection::connect(self.url.expose()).await?;
                Ok(sqlx::raw_sql(sql).execute(&mut c).await?.rows_affected())
            }
        }
    }

    /// Counts the rows of a table directly.
    pub async fn count_raw(&self, table: &str) -> i64 {
        let sql = sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}"));
        let counted = match self.url.engine() {
            Engine::Sqlite => match sqlx::SqliteConnection::connect(self.url.expose()).await {
                Ok(mut c) => sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut c).await,
                Err(e) => Err(e),
            },
            Engine::Postgres => match sqlx::PgConnection::connect(self.url.expose()).await {
                Ok(mut c) => sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut c).await,
                Err(e) => Err(e),
            },
        };
        counted.unwrap_or_else(|e| panic!("count {table}: {e}"))
    }
}

/// Generates one test per conformance check for an engine; `$make` is an async
/// expression giving `Option<TestDb>` (`None`: the engine is not enabled here).
#[macro_export]
macro_rules! conformance_tests {
    ($make:expr; $($check:ident),+ $(,)?) => {
        $(
            #[tokio::test]
            async fn $check() {
                match $make.await {
                    Some(db) => $crate::testing::conformance::$check(&db).await,
                    None => eprintln!(
                        "PostgreSQL not enabled ({} unset): {} not run",
                        $crate::testing::POSTGRES_ENV,
                        stringify!($check)
                    ),
                }
            }
        )+
    };
    ($make:expr) => {
        $crate::conformance_tests!($make;
            establishments_and_companies,
            accounts_round_trip,
            tokens_by_hash,
            designations_with_periods,
            workers_are_created_once,
            identity_corrections_keep_history,
            attachments_keep_every_version,
            results_keep_every_version,
            versions_cannot_be_overwritten_even_directly,
            stale_versions_are_refused,
            readings_and_corrections,
            batch_is_all_or_nothing,
            duplicate_reference_rolls_back_the_batch,
            dates_and_instants_round_trip,
            writes_and_reads_are_journaled,
            journal_tampering_is_detected,
            journal_head_tampering_is_detected,
            logins_sessions_and_second_factor,
            tokens_identities_delegations_and_grants,
            registrations_are_decided_once,
            designations_can_be_ended,
            import_ids_are_reserved_ahead_of_writes,
            transmissions_are_found_by_their_file,
            login_throttle_and_password_resets,
        );
    };
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::with_database;

    #[test]
    fn database_names_are_replaced() {
        assert_eq!(
            with_database("postgres://u@h:5432/postgres", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(
            with_database("postgres://u@h:5432", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(
            with_database("postgres://u@h/db?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
    }
}

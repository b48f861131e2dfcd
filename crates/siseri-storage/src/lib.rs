//! Storage: one interface ([`Store`]) and an adapter per engine (SQLite, PostgreSQL),
//! each with its own migrations, picked from the database URL at start-up.
//!
//! Writes that belong together (one transmission, one command) go through
//! [`Store::commit`] as one [`WriteBatch`], applied in one transaction: either every
//! operation is stored or none is. Version tables are append-only, enforced by the
//! database itself (triggers), so that no code path can overwrite history.

pub mod alerts;
mod alerts_sql;
mod auth;
mod batch;
mod error;
pub mod import;
mod import_sql;
pub mod journal;
mod journal_writer;
pub mod outbox;
mod outbox_sql;
pub mod registrations;
mod registrations_sql;
mod rows;
mod sql;
mod store;
mod url;

pub mod postgres;
pub mod sqlite;

#[cfg(feature = "testing")]
pub mod testing;

pub use alerts::{AlertRow, AlertStepRow, AlertsTx, PregnancyRow};
pub use auth::{DelegationRow, GrantRow, LoginState, SessionRow, TokenRow};
pub use batch::{AlertOp, BatchOutcome, NewTransmission, WriteBatch, WriteOp};
pub use error::StoreError;
pub use import::{
    ImportTx, LineRow, NewPending, NewReadingRow, NewResultRow, PendingResolution, PendingRow,
    TransmissionEnd, TransmissionRow,
};
pub use outbox::{
    Enqueued, InboxRow, NewInboxItem, NewNotification, Outbox, OutboxRow, RecipientKind,
};
pub use registrations::{
    Employers, NewRegistration, RegisteredEstablishment, RegistrationRow, RegistrationStatus,
};
pub use store::{NewDesignation, NewEstablishment, Store, StoredToken, TransmissionFilter};
pub use url::{DatabaseUrl, Engine};

use std::sync::Arc;

/// Opens (creating it if needed) and migrates the database named by `url`.
pub async fn open(url: &DatabaseUrl) -> Result<Arc<dyn Store>, StoreError> {
    match url.engine() {
        Engine::Sqlite => Ok(Arc::new(sqlite::SqliteStore::open(url).await?)),
        Engine::Postgres => Ok(Arc::new(postgres::PostgresStore::open(url).await?)),
    }
}

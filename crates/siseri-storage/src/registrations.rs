//! Employers' self-service (issue 6): the registration requests of new employers, kept
//! pending until an administrator accepts them (creating, in one transaction, the
//! company's establishments and its EMPLOYEUR account with an enrolment code) or refuses
//! them with a reason; and the end of a designation of an MDT or a CRP.
//!
//! Every write is journaled in its own transaction, as every other write of the registry.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use siseri_domain::account::{Account, NewAccount};
use siseri_domain::ids::{Siren, Siret};
use siseri_domain::journal::JournalEvent;

use crate::StoreError;

/// One establishment a registration asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredEstablishment {
    /// SIRET (of the registration's SIREN).
    pub siret: Siret,
    /// Name.
    pub name: String,
    /// Whether it holds an INB.
    pub inb: bool,
}

/// A registration request, as typed by the new employer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRegistration {
    /// The company.
    pub siren: Siren,
    /// Its name.
    pub company_name: String,
    /// One to five establishments of that company.
    pub establishments: Vec<RegisteredEstablishment>,
    /// The legal representative's last name.
    pub rep_nom: String,
    /// His first name.
    pub rep_prenom: String,
    /// His e-mail address (the account's).
    pub rep_email: String,
    /// His phone number.
    pub rep_telephone: String,
    /// The login wanted for the account.
    pub login: String,
}

/// Where a registration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RegistrationStatus {
    /// Waiting for an administrator.
    Pending,
    /// Accepted: its establishments and account exist.
    Accepted,
    /// Refused, with a reason.
    Refused,
}

impl RegistrationStatus {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            RegistrationStatus::Pending => "EN_ATTENTE",
            RegistrationStatus::Accepted => "VALIDEE",
            RegistrationStatus::Refused => "REFUSEE",
        }
    }

    /// Parses a stored code.
    pub fn parse(s: &str) -> Option<Self> {
        [
            RegistrationStatus::Pending,
            RegistrationStatus::Accepted,
            RegistrationStatus::Refused,
        ]
        .into_iter()
        .find(|r| r.code() == s)
    }
}

/// A stored registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationRow {
    /// Its id.
    pub id: i64,
    /// What was asked.
    pub request: NewRegistration,
    /// Where it stands.
    pub status: RegistrationStatus,
    /// When it was received.
    pub created_at: DateTime<Utc>,
    /// When an administrator decided.
    pub decided_at: Option<DateTime<Utc>>,
    /// Which administrator.
    pub decided_by: Option<String>,
    /// Why it was refused.
    pub reason: Option<String>,
}

/// The employers' self-service writes and reads, implemented identically by every engine;
/// reached from a [`crate::Store`] directly (it is a supertrait).
#[async_trait]
pub trait Employers: Send + Sync {
    /// This store as its employers' part.
    fn as_employers(&self) -> &dyn Employers;

    /// Records a pending registration; returns its id.
    async fn add_registration(
        &self,
        r: &NewRegistration,
        audit: &JournalEvent,
    ) -> Result<i64, StoreError>;

    /// The registrations (pending ones only, or all), oldest first.
    async fn registrations(&self, pending_only: bool) -> Result<Vec<RegistrationRow>, StoreError>;

    /// One registration.
    async fn registration(&self, id: i64) -> Result<Option<RegistrationRow>, StoreError>;

    /// Accepts a pending registration, in one transaction: the company (unless known), every
    /// establishment, the account `account` with the enrolment code's hash, the decision, and
    /// the `audit` entries. NotFound for an unknown id; Conflict when it is no longer
    /// pending, or when one of its SIRETs or the login exists: then nothing is stored.
    async fn accept_registration(
        &self,
        id: i64,
        account: &NewAccount,
        enrolment_hash: &str,
        enrolment_expires: DateTime<Utc>,
        decided_by: &str,
        audit: &[JournalEvent],
    ) -> Result<Account, StoreError>;

    /// Refuses a pending registration with a reason; false if unknown or no longer pending.
    async fn refuse_registration(
        &self,
        id: i64,
        reason: &str,
        decided_by: &str,
        audit: &JournalEvent,
    ) -> Result<bool, StoreError>;

    /// Ends a designation on `date_fin` (its last day); false if unknown.
    async fn end_designation(
        &self,
        id: i64,
        date_fin: NaiveDate,
        audit: &JournalEvent,
    ) -> Result<bool, StoreError>;
}

//! The storage interface every engine implements identically.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use siseri_domain::account::{Account, NewAccount};
use siseri_domain::ids::{Nir, Siret};
use siseri_domain::journal::{JournalEntry, JournalEvent};
use siseri_domain::result::{DoseResult, OperationalReading, Reference, Sender};
use siseri_domain::throttle::AccountThrottle;
use siseri_domain::worker::{
    Attachment, Company, Designation, DesignationRole, Establishment, Worker,
};

use crate::import::{ImportTx, LineRow, PendingRow, TransmissionRow};
use crate::{
    BatchOutcome, DelegationRow, Engine, GrantRow, LoginState, NewTransmission, SessionRow,
    StoreError, TokenRow, WriteBatch,
};

/// An establishment to create (its company is created if unknown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEstablishment {
    /// SIRET.
    pub siret: Siret,
    /// Name.
    pub name: String,
    /// Holds an INB.
    pub inb: bool,
    /// The company's name, used only when the company is new.
    pub company_name: String,
}

/// A designation to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDesignation {
    /// The designated account.
    pub login: String,
    /// MDT or CRP.
    pub role: DesignationRole,
    /// The establishment.
    pub siret: Siret,
    /// First day.
    pub date_debut: NaiveDate,
    /// Last day, if known.
    pub date_fin: Option<NaiveDate>,
}

/// A stored API token, as looked up by its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredToken {
    /// Token id.
    pub id: i64,
    /// Its account.
    pub account: Account,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
    /// Revocation, if any.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Which transmissions to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransmissionFilter {
    /// Every one (administrators).
    All,
    /// Those of one organisation.
    Organisation(siseri_domain::Siren),
    /// Those of one account (senders without an organisation).
    Login(String),
}

/// Everything the registry stores, behind one interface.
#[async_trait]
pub trait Store: crate::Outbox + crate::Employers + Send + Sync + std::fmt::Debug {
    /// Which engine this is.
    fn engine(&self) -> Engine;

    /// Whether the database answers.
    async fn ping(&self) -> Result<(), StoreError>;

    // --- organisations ---

    /// Creates an establishment (and its company when new). Conflict if the SIRET exists.
    async fn add_establishment(
        &self,
        e: &NewEstablishment,
        audit: &JournalEvent,
    ) -> Result<Establishment, StoreError>;
    /// One establishment.
    async fn establishment(&self, siret: &Siret) -> Result<Option<Establishment>, StoreError>;
    /// Every establishment, by SIRET.
    async fn establishments(&self) -> Result<Vec<Establishment>, StoreError>;
    /// One company.
    async fn company(&self, siren: &siseri_domain::Siren) -> Result<Option<Company>, StoreError>;

    // --- accounts ---

    /// Creates an account (validated by the caller). Conflict if the login exists.
    async fn add_account(
        &self,
        a: &NewAccount,
        password_hash: Option<&str>,
        audit: &JournalEvent,
    ) -> Result<Account, StoreError>;
    /// One account.
    async fn account(&self, login: &str) -> Result<Option<Account>, StoreError>;
    /// Every account, by login.
    async fn accounts(&self) -> Result<Vec<Account>, StoreError>;
    /// The PHC string of an account's password, if it has one.
    async fn password_hash(&self, login: &str) -> Result<Option<String>, StoreError>;
    /// Records an API token by its hash.
    async fn add_token(
        &self,
        login: &str,
        token_hash: &str,
        expires_at: DateTime<Utc>,
        audit: &JournalEvent,
    ) -> Result<i64, StoreError>;
    /// Finds a token by its hash (expiry and revocation are the caller's to check).
    async fn token(&self, token_hash: &str) -> Result<Option<StoredToken>, StoreError>;

    // --- designations ---

    /// Records a designation. NotFound if the account or establishment is unknown.
    /// Every write method journals its `audit` event in the same transaction.
    async fn add_designation(
        &self,
        d: &NewDesignation,
        audit: &JournalEvent,
    ) -> Result<Designation, StoreError>;
    /// The designations held by an account.
    async fn designations_of(&self, login: &str) -> Result<Vec<Designation>, StoreError>;
    /// The designations on an establishment.
    async fn designations_on(&self, siret: &Siret) -> Result<Vec<Designation>, StoreError>;

    // --- workers and their records ---

    /// One worker.
    async fn worker(&self, nir: &Nir) -> Result<Option<Worker>, StoreError>;
    /// How many workers are known.
    async fn worker_count(&self) -> Result<i64, StoreError>;
    /// A worker's attachments with their versions.
    async fn attachments(&self, nir: &Nir) -> Result<Vec<Attachment>, StoreError>;
    /// The workers attached (at any time) to an establishment, by NIR.
    async fn workers_of(&self, siret: &Siret) -> Result<Vec<Worker>, StoreError>;
    /// A worker's results with their versions.
    async fn results(&self, nir: &Nir) -> Result<Vec<DoseResult>, StoreError>;
    /// One result.
    async fn result(&self, id: i64) -> Result<Option<DoseResult>, StoreError>;
    /// One result by its sender's reference.
    async fn result_by_reference(
        &self,
        sender: &Sender,
        reference: &Reference,
    ) -> Result<Option<DoseResult>, StoreError>;
    /// A worker's operational readings with their versions.
    async fn readings(&self, nir: &Nir) -> Result<Vec<OperationalReading>, StoreError>;
    /// How many result versions are stored (all workers).
    async fn result_version_count(&self) -> Result<i64, StoreError>;

    // --- writes ---

    /// Applies a batch in one transaction, with its journal entry: all of it, or nothing.
    async fn commit(&self, batch: &WriteBatch) -> Result<BatchOutcome, StoreError>;

    // --- authentication ---

    /// What a login needs (account, password hash, lockout, second factor).
    async fn login_state(&self, login: &str) -> Result<Option<LoginState>, StoreError>;
    /// The login throttle of an account (`access.md`), if it has failed lately.
    async fn login_throttle(&self, login: &str) -> Result<Option<AccountThrottle>, StoreError>;
    /// Records a failed password or second factor of an account at `at`
    /// ([`AccountThrottle::after_failure`]), with its journal entry, in one transaction
    /// (several server processes share the count). Returns the new state and whether the
    /// owner must be told now (then marked told); `None` for an unknown login, which is
    /// journaled all the same.
    async fn record_login_failure(
        &self,
        login: &str,
        at: DateTime<Utc>,
        audit: &JournalEvent,
    ) -> Result<Option<(AccountThrottle, bool)>, StoreError>;
    /// Clears the failures (and the throttle) after a successful login.
    async fn login_succeeded(&self, login: &str, audit: &JournalEvent) -> Result<(), StoreError>;
    /// Replaces the password hash.
    async fn set_password(
        &self,
        login: &str,
        password_hash: &str,
        audit: &JournalEvent,
    ) -> Result<(), StoreError>;
    /// Sets the TOTP secret and replaces the recovery codes (stored hashed).
    async fn set_totp(
        &self,
        login: &str,
        secret: &str,
        recovery_hashes: &[String],
        audit: &JournalEvent,
    ) -> Result<(), StoreError>;
    /// Accepts a TOTP time step only if it is later than the last one used (no replay).
    async fn accept_totp_step(&self, login: &str, step: i64) -> Result<bool, StoreError>;
    /// Uses a recovery code once.
    async fn use_recovery_code(
        &self,
        login: &str,
        code_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Remembers a browser where `login` logged in (the SHA-256 of its device token).
    async fn add_login_device(
        &self,
        login: &str,
        token_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Whether a device token was given to a browser where `login` logged in.
    async fn login_device_known(&self, login: &str, token_hash: &str) -> Result<bool, StoreError>;
    /// Forgets a device token (after a failure made with it: a stolen one gives one guess).
    async fn forget_login_device(&self, token_hash: &str) -> Result<(), StoreError>;

    /// The accounts whose e-mail address is `email` (compared without case).
    async fn accounts_by_email(&self, email: &str) -> Result<Vec<Account>, StoreError>;
    /// Stores a forgotten-password link of an account (the SHA-256 of its token), with its
    /// journal entry.
    async fn add_password_reset(
        &self,
        login: &str,
        token_hash: &str,
        at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        audit: &JournalEvent,
    ) -> Result<(), StoreError>;
    /// The account of a forgotten-password link still usable at `at` (unused, not expired).
    async fn password_reset(
        &self,
        token_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<Account>, StoreError>;
    /// Uses a link once, in one transaction: marks it (and the account's other links) used,
    /// sets the password, ends every session of the account, clears its login throttle, and
    /// journals `audit`. False (nothing done) if the link is unknown, used or expired at `at`.
    async fn use_password_reset(
        &self,
        token_hash: &str,
        at: DateTime<Utc>,
        password_hash: &str,
        audit: &JournalEvent,
    ) -> Result<bool, StoreError>;

    /// Opens a session.
    async fn create_session(
        &self,
        token_hash: &str,
        login: &str,
        at: DateTime<Utc>,
        second_factor: bool,
        csrf: &str,
    ) -> Result<(), StoreError>;
    /// Finds a session.
    async fn session(&self, token_hash: &str) -> Result<Option<SessionRow>, StoreError>;
    /// Records activity on a session.
    async fn touch_session(&self, token_hash: &str, at: DateTime<Utc>) -> Result<(), StoreError>;
    /// Marks a session's second factor as passed.
    async fn promote_session(&self, token_hash: &str) -> Result<(), StoreError>;
    /// Ends a session.
    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError>;

    /// An account's API tokens.
    async fn tokens_of(&self, login: &str) -> Result<Vec<TokenRow>, StoreError>;
    /// Revokes one of an account's tokens; false if it is not one of its live tokens.
    async fn revoke_token(
        &self,
        login: &str,
        id: i64,
        at: DateTime<Utc>,
        audit: &JournalEvent,
    ) -> Result<bool, StoreError>;

    /// Links a federated identity (issuer, subject) to an account, once.
    async fn link_identity(
        &self,
        issuer: &str,
        subject: &str,
        login: &str,
        audit: &JournalEvent,
    ) -> Result<(), StoreError>;
    /// The account linked to a federated identity.
    async fn account_by_identity(
        &self,
        issuer: &str,
        subject: &str,
    ) -> Result<Option<Account>, StoreError>;
    /// Sets (replaces) an account's enrolment code, stored hashed.
    async fn set_enrolment(
        &self,
        login: &str,
        code_hash: &str,
        expires_at: DateTime<Utc>,
        audit: &JournalEvent,
    ) -> Result<(), StoreError>;
    /// Consumes a valid enrolment code, returning its account.
    async fn take_enrolment(
        &self,
        code_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<Account>, StoreError>;

    // --- links between people and workers ---

    /// An MDT delegates to a health professional.
    async fn add_delegation(
        &self,
        mdt_login: &str,
        professional_login: &str,
        can_write: bool,
        audit: &JournalEvent,
    ) -> Result<i64, StoreError>;
    /// Revokes a delegation; false if unknown or already revoked.
    async fn revoke_delegation(
        &self,
        id: i64,
        at: DateTime<Utc>,
        audit: &JournalEvent,
    ) -> Result<bool, StoreError>;
    /// Delegations given by an MDT.
    async fn delegations_from(&self, mdt_login: &str) -> Result<Vec<DelegationRow>, StoreError>;
    /// Delegations received by a health professional.
    async fn delegations_to(
        &self,
        professional_login: &str,
    ) -> Result<Vec<DelegationRow>, StoreError>;
    /// A worker (or an administrator for heirs) designates a doctor.
    async fn add_grant(
        &self,
        nir: &Nir,
        doctor_login: &str,
        audit: &JournalEvent,
    ) -> Result<i64, StoreError>;
    /// Revokes a designated doctor's grant.
    async fn revoke_grant(
        &self,
        id: i64,
        at: DateTime<Utc>,
        audit: &JournalEvent,
    ) -> Result<bool, StoreError>;
    /// Grants held by a doctor.
    async fn grants_of(&self, doctor_login: &str) -> Result<Vec<GrantRow>, StoreError>;
    /// Grants on a worker.
    async fn grants_on(&self, nir: &Nir) -> Result<Vec<GrantRow>, StoreError>;
    /// Replaces the natures an accredited body may send.
    async fn set_natures(
        &self,
        login: &str,
        natures: &[siseri_domain::codes::Nature],
        audit: &JournalEvent,
    ) -> Result<(), StoreError>;

    // --- transmissions ---

    /// Opens a transmission's transaction, with its row unless `t` is `None` (a dry run, or
    /// the resolution of a held line). Dropping it rolls everything back.
    async fn begin_import(
        &self,
        t: Option<&NewTransmission>,
        author: &str,
        at: DateTime<Utc>,
    ) -> Result<Box<dyn ImportTx>, StoreError>;
    /// Transmissions, newest first, at most `limit`.
    async fn transmissions(
        &self,
        filter: &TransmissionFilter,
        limit: i64,
    ) -> Result<Vec<TransmissionRow>, StoreError>;
    /// One transmission.
    async fn transmission(&self, id: i64) -> Result<Option<TransmissionRow>, StoreError>;
    /// The earliest transmission of `owner` in `format` whose file has this SHA-256 (a file
    /// sent again is answered with its first report, exchange.md §6).
    async fn transmission_by_file(
        &self,
        owner: &TransmissionFilter,
        format: siseri_domain::codes::TransmissionFormat,
        sha256: &str,
    ) -> Result<Option<TransmissionRow>, StoreError>;
    /// The outcomes of a transmission's lines that are not plain acceptances, by line.
    async fn transmission_lines(&self, id: i64) -> Result<Vec<LineRow>, StoreError>;
    /// One part of a transmission's file (parts are numbered from 0).
    async fn transmission_file_part(
        &self,
        id: i64,
        part: i64,
    ) -> Result<Option<Vec<u8>>, StoreError>;
    /// The reconciliation queue (open lines only, or every line), oldest first.
    async fn pending_lines(&self, open_only: bool) -> Result<Vec<PendingRow>, StoreError>;
    /// One line of the queue.
    async fn pending_line(&self, id: i64) -> Result<Option<PendingRow>, StoreError>;
    /// Workers born on `date` (to suggest matches for a held line).
    async fn workers_born_on(&self, date: NaiveDate) -> Result<Vec<Worker>, StoreError>;
    /// A worker's monthly sums: (month, series, µSv, absences).
    async fn monthly_doses(
        &self,
        nir: &Nir,
    ) -> Result<
        Vec<(
            siseri_domain::totals::Month,
            siseri_domain::totals::Series,
            i64,
            i64,
        )>,
        StoreError,
    >;

    // --- alerts ---

    /// A worker's alerts, with their steps, oldest first.
    async fn alerts(&self, worker_id: i64) -> Result<Vec<crate::AlertRow>, StoreError>;
    /// One alert.
    async fn alert(&self, id: i64) -> Result<Option<crate::AlertRow>, StoreError>;
    /// Every alert (few: exceedances are rare), oldest first.
    async fn all_alerts(&self) -> Result<Vec<crate::AlertRow>, StoreError>;
    /// A worker's pregnancies.
    async fn pregnancies(&self, worker_id: i64) -> Result<Vec<crate::PregnancyRow>, StoreError>;
    /// The worker of a pregnancy.
    async fn pregnancy_worker(&self, id: i64) -> Result<Option<Worker>, StoreError>;
    /// A worker by surrogate id.
    async fn worker_by_id(&self, id: i64) -> Result<Option<Worker>, StoreError>;
    /// Every worker's id, in order.
    async fn worker_ids(&self) -> Result<Vec<i64>, StoreError>;

    // --- journal ---

    /// Appends entries (reads, refusals, logins) in one transaction.
    async fn append_journal(&self, events: &[JournalEvent]) -> Result<(), StoreError>;
    /// Entries after `after_seq`, in order, at most `limit`.
    async fn journal_page(
        &self,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<JournalEntry>, StoreError>;
    /// The count and head hash kept apart from the entries.
    async fn journal_head(&self) -> Result<(i64, String), StoreError>;
    /// A worker's entries, newest first, at most `limit`.
    async fn journal_of_worker(
        &self,
        worker_id: i64,
        limit: i64,
    ) -> Result<Vec<JournalEntry>, StoreError>;

    // --- notifications ---

    /// The outbox of e-mails and the in-app inbox (rules.md §5).
    fn outbox(&self) -> &dyn crate::Outbox {
        self.as_outbox()
    }
}

//! Rows of the authentication tables, as the interface returns them.

use chrono::{DateTime, Utc};
use siseri_domain::account::Account;
use siseri_domain::ids::Nir;

/// What a login needs to decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginState {
    /// The account.
    pub account: Account,
    /// Its password's PHC string, if it has one.
    pub password_hash: Option<String>,
    /// Consecutive failures since the last success or lock.
    pub failed_logins: i64,
    /// Locked until then.
    pub locked_until: Option<DateTime<Utc>>,
    /// The TOTP secret (base32), once set up.
    pub totp_secret: Option<String>,
}

/// A browser session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    /// Its account.
    pub account: Account,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last request.
    pub last_seen_at: DateTime<Utc>,
    /// Whether the second factor was passed.
    pub second_factor: bool,
    /// The session's anti-forgery token.
    pub csrf: String,
}

/// An API token, without its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    /// Id.
    pub id: i64,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Expires.
    pub expires_at: DateTime<Utc>,
    /// Revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A delegation from an MDT to a health professional.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelegationRow {
    /// Id.
    pub id: i64,
    /// The delegating physician.
    pub mdt_login: String,
    /// The health professional.
    pub professional_login: String,
    /// Read and write, or read only.
    pub can_write: bool,
    /// Revocation.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A doctor designated by a worker (or for his heirs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRow {
    /// Id.
    pub id: i64,
    /// The worker.
    pub nir: Nir,
    /// The doctor.
    pub doctor_login: String,
    /// Revocation.
    pub revoked_at: Option<DateTime<Utc>>,
}

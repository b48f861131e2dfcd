//! Notifications (rules.md §5): a persistent outbox of e-mails and the in-app inbox.
//!
//! The outbox is written in one transaction with the inbox items of the same notice, and
//! read by the delivery loop (`siseri-notify`), which sends each due message and marks it
//! sent, or failed with a later attempt: delivery is at least once. Every row carries a
//! Message-ID that is stable per alert and recipient and UNIQUE in the table, so that
//! enqueuing the same notice again (a retry, a recomputation) adds nothing, and a receiver
//! can recognise a message delivered twice.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::StoreError;

/// To whom a notification goes (rules.md §5), which decides what it may say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RecipientKind {
    /// A physician designated on the worker's establishment: identity and dose.
    Mdt,
    /// A radiation-protection advisor designated there: identity and dose.
    Crp,
    /// An employer account of the establishment's company: the kind of limit only.
    Employeur,
    /// The labour ministry's configured address: no identity.
    Ministere,
}

impl RecipientKind {
    /// Every kind, from the most to the least informed.
    pub const ALL: &'static [RecipientKind] = &[
        RecipientKind::Mdt,
        RecipientKind::Crp,
        RecipientKind::Employeur,
        RecipientKind::Ministere,
    ];

    /// The code, as stored.
    pub fn code(self) -> &'static str {
        match self {
            RecipientKind::Mdt => "MDT",
            RecipientKind::Crp => "CRP",
            RecipientKind::Employeur => "EMPLOYEUR",
            RecipientKind::Ministere => "MINISTERE",
        }
    }

    /// Parses a stored code.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.code() == s)
    }
}

impl std::fmt::Display for RecipientKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// An e-mail to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotification {
    /// The alert it is about, if any.
    pub alert_id: Option<i64>,
    /// The kind of recipient.
    pub recipient_kind: RecipientKind,
    /// The recipient's account (none for the ministry).
    pub account_id: Option<i64>,
    /// The address it goes to.
    pub email: String,
    /// The Message-ID header, angle brackets included; stable per alert and recipient.
    pub message_id: String,
    /// Subject.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
}

/// An item to put in an account's in-app inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInboxItem {
    /// The account.
    pub account_id: i64,
    /// The alert it is about, if any.
    pub alert_id: Option<i64>,
    /// Its key, unique among inbox items (the e-mail's Message-ID when there is one): adding
    /// the same key again adds nothing.
    pub message_id: String,
    /// Subject.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
}

/// What [`Outbox::enqueue_notifications`] added (rows already there are not counted).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Enqueued {
    /// New outbox rows.
    pub notifications: u64,
    /// New inbox items.
    pub inbox_items: u64,
}

/// A queued e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    /// Row id.
    pub id: i64,
    /// The alert it is about, if any.
    pub alert_id: Option<i64>,
    /// The kind of recipient.
    pub recipient_kind: RecipientKind,
    /// The recipient's account (none for the ministry).
    pub account_id: Option<i64>,
    /// The address it goes to.
    pub email: String,
    /// The Message-ID header, angle brackets included.
    pub message_id: String,
    /// Subject.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// Failed attempts so far.
    pub attempts: i64,
    /// Not to be tried before.
    pub next_attempt_at: DateTime<Utc>,
    /// When the SMTP server accepted it.
    pub sent_at: Option<DateTime<Utc>>,
    /// The last failure.
    pub last_error: Option<String>,
}

/// An item of an account's in-app inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxRow {
    /// Row id.
    pub id: i64,
    /// The account.
    pub account_id: i64,
    /// The alert it is about, if any.
    pub alert_id: Option<i64>,
    /// Its key (the e-mail's Message-ID when there is one).
    pub message_id: String,
    /// Subject.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
    /// When it was added.
    pub created_at: DateTime<Utc>,
    /// When the account read it.
    pub read_at: Option<DateTime<Utc>>,
}

/// The outbox and inbox, implemented identically by every engine; reached from a
/// [`crate::Store`] through [`crate::Store::outbox`] (or directly: it is a supertrait).
#[async_trait]
pub trait Outbox: Send + Sync {
    /// This store as its outbox.
    fn as_outbox(&self) -> &dyn Outbox;

    /// Queues e-mails and adds inbox items in one transaction, skipping those whose
    /// Message-ID (key) is already stored: enqueuing the same notice twice adds nothing.
    /// A new e-mail is due at once (`at`).
    async fn enqueue_notifications(
        &self,
        notifications: &[NewNotification],
        inbox: &[NewInboxItem],
        at: DateTime<Utc>,
    ) -> Result<Enqueued, StoreError>;

    /// The unsent e-mails due at `now`, earliest first, at most `limit` (read only).
    async fn due_notifications(
        &self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<OutboxRow>, StoreError>;

    /// Takes the unsent e-mails due at `now`, earliest first, at most `limit`, and moves
    /// their next attempt to `lease_until`, so that a concurrent delivery loop does not take
    /// them too; a loop that dies holding them leaves them due again at `lease_until`.
    /// The rows are returned as they were before the lease.
    async fn claim_notifications(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<OutboxRow>, StoreError>;

    /// Records that the SMTP server accepted an e-mail; false if unknown or already sent.
    async fn notification_sent(&self, id: i64, at: DateTime<Utc>) -> Result<bool, StoreError>;

    /// Records a failed attempt: one more attempt, the error, and when to try again; false if
    /// unknown or already sent.
    async fn notification_failed(
        &self,
        id: i64,
        error: &str,
        next_attempt_at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// The e-mails of an alert, by id.
    async fn notifications_of_alert(&self, alert_id: i64) -> Result<Vec<OutboxRow>, StoreError>;

    /// One e-mail by its Message-ID.
    async fn notification_by_message_id(
        &self,
        message_id: &str,
    ) -> Result<Option<OutboxRow>, StoreError>;

    /// Adds inbox items, skipping keys already stored; returns how many were added.
    async fn add_inbox_items(
        &self,
        items: &[NewInboxItem],
        at: DateTime<Utc>,
    ) -> Result<u64, StoreError>;

    /// An account's inbox, newest first, at most `limit` (unread items only if asked).
    async fn inbox_of(
        &self,
        account_id: i64,
        unread_only: bool,
        limit: i64,
    ) -> Result<Vec<InboxRow>, StoreError>;

    /// How many items of an account's inbox are unread.
    async fn unread_count(&self, account_id: i64) -> Result<i64, StoreError>;

    /// Marks one of an account's items read (once: the first reading is kept); false if it is
    /// not one of its items.
    async fn mark_inbox_read(
        &self,
        account_id: i64,
        id: i64,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
}

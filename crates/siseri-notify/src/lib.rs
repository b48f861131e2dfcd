//! Notifications of alerts (rules.md §5).
//!
//! An alert is notified once per recipient — the physicians (MDT) and advisors (CRP)
//! designated on the worker's establishment, the employer accounts of its company, the labour
//! ministry's configured address — by e-mail, and to accounts in their in-app inbox too:
//!
//! 1. the caller (the alert computation) builds an [`AlertNotice`] and its [`Recipient`]s, and
//!    calls [`enqueue`], which renders each recipient's French message ([`render`]), and
//!    stores the e-mails in the outbox and the items in the inbox, in one transaction, each
//!    keyed by a Message-ID stable per alert and recipient ([`message_id`]): enqueuing again
//!    adds nothing;
//! 2. [`spawn_delivery`] runs [`deliver_due`] periodically, which sends the due e-mails by
//!    SMTP ([`SmtpConfig`]) and retries failures with exponential backoff: delivery is at
//!    least once, and a duplicate carries the same Message-ID.

mod config;
mod deliver;
mod direct;
mod queue;
mod render;

pub use config::{ConfigError, NotifyConfig, SmtpConfig, TlsMode};
pub use deliver::{
    BATCH, DeliveryError, DeliveryStats, FIRST_RETRY, LEASE, MAX_RETRY, backoff, deliver_due,
    message, spawn_delivery, transport,
};
pub use direct::send_now;
pub use queue::{Recipient, enqueue, inbox_items_for, notices_for};
pub use render::{
    AlertNotice, EstablishmentRef, Rendered, WorkerIdentity, format_msv, kind_label, kind_short,
    message_id, render,
};
pub use siseri_storage::{
    Enqueued, InboxRow, NewInboxItem, NewNotification, Outbox, OutboxRow, RecipientKind,
};

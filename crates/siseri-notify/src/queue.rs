//! From an alert's notice and its recipients to outbox rows and inbox items.

use chrono::{DateTime, Utc};
use siseri_domain::account::Account;
use siseri_storage::{Enqueued, NewInboxItem, NewNotification, Outbox, RecipientKind, StoreError};

use crate::render::{AlertNotice, message_id, render, render_email};

/// Someone an alert is notified to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    kind: RecipientKind,
    account_id: Option<i64>,
    email: Option<String>,
}

/// A usable address: trimmed, non-empty, valid.
fn usable(email: Option<&str>) -> Option<String> {
    let email = email?.trim();
    email
        .parse::<lettre::Address>()
        .ok()
        .map(|_| email.to_string())
}

impl Recipient {
    /// An account designated as MDT, CRP, or an employer account (`kind` is not
    /// [`RecipientKind::Ministere`]: that gives `None`). Without a valid e-mail address, the
    /// account gets the inbox item only.
    pub fn account(kind: RecipientKind, account_id: i64, email: Option<&str>) -> Option<Self> {
        (kind != RecipientKind::Ministere).then(|| Recipient {
            kind,
            account_id: Some(account_id),
            email: usable(email),
        })
    }

    /// A stored account, with its e-mail address.
    pub fn of_account(kind: RecipientKind, account: &Account) -> Option<Self> {
        Self::account(kind, account.id, account.spec.email.as_deref())
    }

    /// The labour ministry's configured address (see [`crate::NotifyConfig::ministry`]).
    pub fn ministry(email: &str) -> Self {
        Recipient {
            kind: RecipientKind::Ministere,
            account_id: None,
            email: usable(Some(email)),
        }
    }

    /// Its kind.
    pub fn kind(&self) -> RecipientKind {
        self.kind
    }

    /// Its account, if it is one.
    pub fn account_id(&self) -> Option<i64> {
        self.account_id
    }

    /// Its e-mail address, if it has a valid one.
    pub fn email(&self) -> Option<&str> {
        self.email.as_deref()
    }
}

/// The recipients once each, the most informed kind first: an account listed twice (say MDT
/// on one establishment and CRP on another) is notified once, and the ministry once.
fn distinct(recipients: &[Recipient]) -> Vec<&Recipient> {
    let mut sorted: Vec<&Recipient> = recipients.iter().collect();
    sorted.sort_by_key(|r| r.kind);
    let mut seen_accounts = std::collections::BTreeSet::new();
    let mut ministry = false;
    sorted
        .into_iter()
        .filter(|r| match r.account_id {
            Some(id) => seen_accounts.insert(id),
            None => !std::mem::replace(&mut ministry, true),
        })
        .collect()
}

/// The e-mails of `notice` to its recipients that have an address, one per recipient.
pub fn notices_for(notice: &AlertNotice, recipients: &[Recipient]) -> Vec<NewNotification> {
    distinct(recipients)
        .into_iter()
        .filter_map(|r| {
            let email = r.email.clone()?;
            let rendered = render_email(notice, r.kind);
            Some(NewNotification {
                alert_id: Some(notice.alert_id),
                recipient_kind: r.kind,
                account_id: r.account_id,
                email,
                message_id: message_id(notice.alert_id, r.kind, r.account_id),
                subject: rendered.subject,
                body: rendered.body,
            })
        })
        .collect()
}

/// The inbox items of `notice`, one per account recipient (with or without an address).
pub fn inbox_items_for(notice: &AlertNotice, recipients: &[Recipient]) -> Vec<NewInboxItem> {
    distinct(recipients)
        .into_iter()
        .filter_map(|r| {
            let account_id = r.account_id?;
            let rendered = render(notice, r.kind);
            Some(NewInboxItem {
                account_id,
                alert_id: Some(notice.alert_id),
                message_id: message_id(notice.alert_id, r.kind, r.account_id),
                subject: rendered.subject,
                body: rendered.body,
            })
        })
        .collect()
}

/// Queues the e-mails of `notice` and adds its inbox items, in one transaction. Idempotent:
/// what is already queued for the same alert and recipient is left as it is.
pub async fn enqueue(
    outbox: &dyn Outbox,
    notice: &AlertNotice,
    recipients: &[Recipient],
    at: DateTime<Utc>,
) -> Result<Enqueued, StoreError> {
    for r in recipients.iter().filter(|r| r.email.is_none()) {
        tracing::warn!(
            alert = notice.alert_id,
            kind = %r.kind,
            account = ?r.account_id,
            "destinataire sans adresse électronique valide : boîte de réception seulement"
        );
    }
    let notifications = notices_for(notice, recipients);
    let inbox = inbox_items_for(notice, recipients);
    outbox
        .enqueue_notifications(&notifications, &inbox, at)
        .await
}

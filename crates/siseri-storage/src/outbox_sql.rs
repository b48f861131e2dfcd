//! The outbox's and inbox's SQL, written once for both engines (see `sql.rs`).
//!
//! Instants are bound as `DateTime<Utc>`: TIMESTAMPTZ on PostgreSQL, RFC 3339 text in UTC on
//! SQLite, whose text order is their time order (same offset, decimal fractions), so the
//! `next_attempt_at <= $1` comparisons hold on both.

/// Implements [`crate::Outbox`] for `$store` (which has `pool: sqlx::Pool<_>`), whose rows
/// are `$row`. Expanded in a module of its own, so that it needs nothing from the adapter.
macro_rules! sql_outbox {
    ($store:ident, $row:ty) => {
        mod outbox_sql {
            use chrono::{DateTime, Utc};
            use sqlx::Row;

            use super::$store;
            use $crate::outbox::{
                Enqueued, InboxRow, NewInboxItem, NewNotification, Outbox, OutboxRow,
                RecipientKind,
            };
            use $crate::StoreError;

            /// The columns of an outbox row.
            const OUTBOX_COLUMNS: &str = "id, alert_id, recipient_kind, account_id, email, message_id, \
                 subject, body, created_at, attempts, next_attempt_at, sent_at, last_error";

            /// The columns of an inbox row.
            const INBOX_COLUMNS: &str =
                "id, account_id, alert_id, message_id, subject, body, created_at, read_at";

            fn outbox_row(row: &$row) -> Result<OutboxRow, StoreError> {
                let kind: String = row.try_get("recipient_kind")?;
                Ok(OutboxRow {
                    id: row.try_get("id")?,
                    alert_id: row.try_get("alert_id")?,
                    recipient_kind: RecipientKind::parse(&kind).ok_or_else(|| {
                        StoreError::Corrupt(format!("destinataire « {kind} »"))
                    })?,
                    account_id: row.try_get("account_id")?,
                    email: row.try_get("email")?,
                    message_id: row.try_get("message_id")?,
                    subject: row.try_get("subject")?,
                    body: row.try_get("body")?,
                    created_at: row.try_get("created_at")?,
                    attempts: row.try_get("attempts")?,
                    next_attempt_at: row.try_get("next_attempt_at")?,
                    sent_at: row.try_get("sent_at")?,
                    last_error: row.try_get("last_error")?,
                })
            }

            fn inbox_row(row: &$row) -> Result<InboxRow, StoreError> {
                Ok(InboxRow {
                    id: row.try_get("id")?,
                    account_id: row.try_get("account_id")?,
                    alert_id: row.try_get("alert_id")?,
                    message_id: row.try_get("message_id")?,
                    subject: row.try_get("subject")?,
                    body: row.try_get("body")?,
                    created_at: row.try_get("created_at")?,
                    read_at: row.try_get("read_at")?,
                })
            }

            /// Inserts inbox items in the caller's transaction, skipping known keys.
            async fn insert_inbox(
                tx: &mut sqlx::Transaction<'static, <$row as Row>::Database>,
                items: &[NewInboxItem],
                at: DateTime<Utc>,
            ) -> Result<u64, StoreError>
            {
                let mut added = 0;
                for item in items {
                    added += sqlx::query(
                        "INSERT INTO inbox (account_id, alert_id, message_id, subject, body, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (message_id) DO NOTHING",
                    )
                    .bind(item.account_id)
                    .bind(item.alert_id)
                    .bind(&item.message_id)
                    .bind(&item.subject)
                    .bind(&item.body)
                    .bind(at)
                    .execute(&mut **tx)
                    .await?
                    .rows_affected();
                }
                Ok(added)
            }

            #[async_trait::async_trait]
            impl Outbox for $store {
                fn as_outbox(&self) -> &dyn Outbox {
                    self
                }

                async fn enqueue_notifications(
                    &self,
                    notifications: &[NewNotification],
                    inbox: &[NewInboxItem],
                    at: DateTime<Utc>,
                ) -> Result<Enqueued, StoreError> {
                    let mut tx = self.pool.begin().await?;
                    let mut queued = 0;
                    for n in notifications {
                        queued += sqlx::query(
                            "INSERT INTO outbox (alert_id, recipient_kind, account_id, email, message_id, \
                             subject, body, created_at, attempts, next_attempt_at) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $8) \
                             ON CONFLICT (message_id) DO NOTHING",
                        )
                        .bind(n.alert_id)
                        .bind(n.recipient_kind.code())
                        .bind(n.account_id)
                        .bind(&n.email)
                        .bind(&n.message_id)
                        .bind(&n.subject)
                        .bind(&n.body)
                        .bind(at)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    }
                    let inboxed = insert_inbox(&mut tx, inbox, at).await?;
                    tx.commit().await?;
                    Ok(Enqueued { notifications: queued, inbox_items: inboxed })
                }

                async fn due_notifications(
                    &self,
                    now: DateTime<Utc>,
                    limit: i64,
                ) -> Result<Vec<OutboxRow>, StoreError> {
                    let sql = format!(
                        "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= $1 \
                         ORDER BY next_attempt_at, id LIMIT $2"
                    );
                    let found = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(now)
                        .bind(limit)
                        .fetch_all(&self.pool)
                        .await?;
                    found.iter().map(outbox_row).collect()
                }

                async fn claim_notifications(
                    &self,
                    now: DateTime<Utc>,
                    lease_until: DateTime<Utc>,
                    limit: i64,
                ) -> Result<Vec<OutboxRow>, StoreError> {
                    // The outer conditions are checked again on the row a concurrent claim
                    // may have just leased (PostgreSQL re-reads it): nobody takes it twice.
                    let sql = format!(
                        "UPDATE outbox SET next_attempt_at = $2 \
                         WHERE sent_at IS NULL AND next_attempt_at <= $1 AND id IN ( \
                           SELECT id FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= $1 \
                           ORDER BY next_attempt_at, id LIMIT $3) \
                         RETURNING {OUTBOX_COLUMNS}"
                    );
                    let found = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(now)
                        .bind(lease_until)
                        .bind(limit)
                        .fetch_all(&self.pool)
                        .await?;
                    let mut rows = found.iter().map(outbox_row).collect::<Result<Vec<_>, _>>()?;
                    rows.sort_by_key(|r| r.id);
                    Ok(rows)
                }

                async fn notification_sent(
                    &self,
                    id: i64,
                    at: DateTime<Utc>,
                ) -> Result<bool, StoreError> {
                    let done = sqlx::query(
                        "UPDATE outbox SET sent_at = $2, last_error = NULL WHERE id = $1 AND sent_at IS NULL",
                    )
                    .bind(id)
                    .bind(at)
                    .execute(&self.pool)
                    .await?;
                    Ok(done.rows_affected() == 1)
                }

                async fn notification_failed(
                    &self,
                    id: i64,
                    error: &str,
                    next_attempt_at: DateTime<Utc>,
                ) -> Result<bool, StoreError> {
                    let done = sqlx::query(
                        "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $2, last_error = $3 \
                         WHERE id = $1 AND sent_at IS NULL",
                    )
                    .bind(id)
                    .bind(next_attempt_at)
                    .bind(error)
                    .execute(&self.pool)
                    .await?;
                    Ok(done.rows_affected() == 1)
                }

                async fn notifications_of_alert(
                    &self,
                    alert_id: i64,
                ) -> Result<Vec<OutboxRow>, StoreError> {
                    let sql = format!("SELECT {OUTBOX_COLUMNS} FROM outbox WHERE alert_id = $1 ORDER BY id");
                    let found = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(alert_id)
                        .fetch_all(&self.pool)
                        .await?;
                    found.iter().map(outbox_row).collect()
                }

                async fn notification_by_message_id(
                    &self,
                    message_id: &str,
                ) -> Result<Option<OutboxRow>, StoreError> {
                    let sql = format!("SELECT {OUTBOX_COLUMNS} FROM outbox WHERE message_id = $1");
                    let found = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(message_id)
                        .fetch_optional(&self.pool)
                        .await?;
                    found.as_ref().map(outbox_row).transpose()
                }

                async fn add_inbox_items(
                    &self,
                    items: &[NewInboxItem],
                    at: DateTime<Utc>,
                ) -> Result<u64, StoreError> {
                    let mut tx = self.pool.begin().await?;
                    let added = insert_inbox(&mut tx, items, at).await?;
                    tx.commit().await?;
                    Ok(added)
                }

                async fn inbox_of(
                    &self,
                    account_id: i64,
                    unread_only: bool,
                    limit: i64,
                ) -> Result<Vec<InboxRow>, StoreError> {
                    let sql = format!(
                        "SELECT {INBOX_COLUMNS} FROM inbox WHERE account_id = $1 \
                         AND ($2 = 0 OR read_at IS NULL) ORDER BY id DESC LIMIT $3"
                    );
                    let found = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(account_id)
                        .bind(i64::from(unread_only))
                        .bind(limit)
                        .fetch_all(&self.pool)
                        .await?;
                    found.iter().map(inbox_row).collect()
                }

                async fn unread_count(&self, account_id: i64) -> Result<i64, StoreError> {
                    let row = sqlx::query(
                        "SELECT COUNT(*) AS n FROM inbox WHERE account_id = $1 AND read_at IS NULL",
                    )
                    .bind(account_id)
                    .fetch_one(&self.pool)
                    .await?;
                    Ok(row.try_get("n")?)
                }

                async fn mark_inbox_read(
                    &self,
                    account_id: i64,
                    id: i64,
                    at: DateTime<Utc>,
                ) -> Result<bool, StoreError> {
                    let done = sqlx::query(
                        "UPDATE inbox SET read_at = COALESCE(read_at, $3) WHERE id = $1 AND account_id = $2",
                    )
                    .bind(id)
                    .bind(account_id)
                    .bind(at)
                    .execute(&self.pool)
                    .await?;
                    Ok(done.rows_affected() == 1)
                }
            }
        }
    };
}
pub(crate) use sql_outbox;

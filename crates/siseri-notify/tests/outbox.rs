//! The outbox and inbox of the storage, on every engine, without SMTP.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use siseri_domain::account::{Account, NewAccount, Role};
use siseri_domain::journal::JournalEvent;
use siseri_notify::{NewInboxItem, NewNotification, RecipientKind};
use siseri_storage::testing::{TestDb, every_engine};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 30, 12, 0, 0)
        .single()
        .unwrap()
}

async fn account(db: &TestDb, login: &str) -> Account {
    let mut a = NewAccount::new(login, Role::Crp);
    a.email = Some(format!("{login}@example.org"));
    let audit = JournalEvent::new(t0(), "admin", "ECRITURE", "TEST");
    db.store.add_account(&a, None, &audit).await.unwrap()
}

fn notification(n: i64, account_id: Option<i64>) -> NewNotification {
    NewNotification {
        alert_id: Some(n),
        recipient_kind: if account_id.is_some() {
            RecipientKind::Crp
        } else {
            RecipientKind::Ministere
        },
        account_id,
        email: format!("r{n}@example.org"),
        message_id: format!("<test-{n}@siseri>"),
        subject: format!("Sujet {n}"),
        body: format!("Corps {n} — accentué"),
    }
}

#[tokio::test]
async fn claims_lease_messages_and_outcomes_are_recorded_once() {
    for db in every_engine().await {
        let outbox = db.store.outbox();
        let a = account(&db, "crp.a").await;
        let batch: Vec<_> = (1..=5).map(|n| notification(n, Some(a.id))).collect();
        let added = outbox
            .enqueue_notifications(&batch, &[], t0())
            .await
            .unwrap();
        assert_eq!(added.notifications, 5);
        // The same Message-IDs again, even with another content: nothing added.
        let mut changed = batch.clone();
        changed[0].body = "autre".into();
        let added = outbox
            .enqueue_notifications(&changed, &[], t0())
            .await
            .unwrap();
        assert_eq!(added.notifications, 0);
        let row = outbox
            .notification_by_message_id("<test-1@siseri>")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.body, "Corps 1 — accentué");
        assert_eq!(row.next_attempt_at, t0());
        assert_eq!(row.recipient_kind, RecipientKind::Crp);

        assert!(
            outbox
                .due_notifications(t0() - TimeDelta::seconds(1), 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(outbox.due_notifications(t0(), 3).await.unwrap().len(), 3);

        // Two claims take disjoint messages; a leased message is not due before the lease
        // ends, and is due again after (its loop died).
        let lease = t0() + TimeDelta::minutes(30);
        let first = outbox.claim_notifications(t0(), lease, 3).await.unwrap();
        let second = outbox.claim_notifications(t0(), lease, 3).await.unwrap();
        assert_eq!((first.len(), second.len()), (3, 2));
        let ids: BTreeSet<i64> = first.iter().chain(&second).map(|r| r.id).collect();
        assert_eq!(ids.len(), 5);
        assert!(first.iter().all(|r| r.next_attempt_at == lease));
        assert!(
            outbox
                .claim_notifications(t0(), lease, 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(outbox.due_notifications(lease, 10).await.unwrap().len(), 5);

        let id = first[0].id;
        let retry = t0() + TimeDelta::minutes(1);
        assert!(
            outbox
                .notification_failed(id, "refusé", retry)
                .await
                .unwrap()
        );
        assert!(
            outbox
                .notification_failed(id, "encore", retry + TimeDelta::minutes(2))
                .await
                .unwrap()
        );
        let row = outbox
            .notification_by_message_id(&first[0].message_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.attempts, 2);
        assert_eq!(row.last_error.as_deref(), Some("encore"));
        assert_eq!(row.next_attempt_at, retry + TimeDelta::minutes(2));
        assert!(outbox.notification_sent(id, retry).await.unwrap());
        // Sent is final.
        assert!(!outbox.notification_sent(id, retry).await.unwrap());
        assert!(!outbox.notification_failed(id, "tard", retry).await.unwrap());
        let row = outbox
            .notification_by_message_id(&first[0].message_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (row.sent_at, row.attempts, row.last_error),
            (Some(retry), 2, None)
        );
        assert!(!outbox.notification_sent(999_999, retry).await.unwrap());
        assert_eq!(
            outbox
                .due_notifications(lease + TimeDelta::days(1), 10)
                .await
                .unwrap()
                .len(),
            4
        );
        assert_eq!(outbox.notifications_of_alert(2).await.unwrap().len(), 1);
        assert!(outbox.notifications_of_alert(77).await.unwrap().is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claims_never_take_a_message_twice() {
    for db in every_engine().await {
        let batch: Vec<_> = (1..=40).map(|n| notification(n, None)).collect();
        db.store
            .outbox()
            .enqueue_notifications(&batch, &[], t0())
            .await
            .unwrap();
        let lease = t0() + TimeDelta::minutes(30);
        let loops: Vec<_> = (0..8)
            .map(|_| {
                let store = db.store.clone();
                tokio::spawn(async move {
                    let mut taken = Vec::new();
                    loop {
                        let got = store
                            .outbox()
                            .claim_notifications(t0(), lease, 3)
                            .await
                            .unwrap();
                        if got.is_empty() {
                            return taken;
                        }
                        taken.extend(got.into_iter().map(|r| r.id));
                    }
                })
            })
            .collect();
        let mut taken = Vec::new();
        for l in loops {
            taken.extend(l.await.unwrap());
        }
        let distinct: BTreeSet<i64> = taken.iter().copied().collect();
        assert_eq!((taken.len(), distinct.len()), (40, 40));
    }
}

#[tokio::test]
async fn inbox_items_are_added_once_and_listed_newest_first() {
    for db in every_engine().await {
        let outbox = db.store.outbox();
        let a = account(&db, "crp.a").await;
        let b = account(&db, "crp.b").await;
        let item = |n: i64, account_id: i64| NewInboxItem {
            account_id,
            alert_id: if n == 3 { None } else { Some(n) },
            message_id: format!("<inbox-{n}-{account_id}@siseri>"),
            subject: format!("Sujet {n}"),
            body: format!("Corps {n}"),
        };
        let items = [item(1, a.id), item(2, a.id), item(3, a.id), item(1, b.id)];
        assert_eq!(outbox.add_inbox_items(&items, t0()).await.unwrap(), 4);
        assert_eq!(outbox.add_inbox_items(&items, t0()).await.unwrap(), 0);
        let listed = outbox.inbox_of(a.id, false, 10).await.unwrap();
        assert_eq!(
            listed
                .iter()
                .map(|i| i.subject.as_str())
                .collect::<Vec<_>>(),
            ["Sujet 3", "Sujet 2", "Sujet 1"]
        );
        assert_eq!(listed[0].alert_id, None);
        assert_eq!(listed[0].created_at, t0());
        assert_eq!(outbox.inbox_of(a.id, false, 2).await.unwrap().len(), 2);
        assert_eq!(outbox.unread_count(a.id).await.unwrap(), 3);
        assert!(
            outbox
                .mark_inbox_read(a.id, listed[1].id, t0())
                .await
                .unwrap()
        );
        assert!(
            !outbox
                .mark_inbox_read(b.id, listed[0].id, t0())
                .await
                .unwrap()
        );
        let unread = outbox.inbox_of(a.id, true, 10).await.unwrap();
        assert_eq!(
            unread
                .iter()
                .map(|i| i.subject.as_str())
                .collect::<Vec<_>>(),
            ["Sujet 3", "Sujet 1"]
        );
        assert_eq!(outbox.unread_count(b.id).await.unwrap(), 1);
        // An unknown account is refused by the database.
        assert!(
            outbox
                .add_inbox_items(&[item(9, a.id + b.id + 100)], t0())
                .await
                .is_err()
        );
    }
}

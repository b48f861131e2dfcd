//! Notifications delivered to a real SMTP server (rules.md §5), on every storage engine.
//!
//! Each test starts `tests/smtp-sink/sink.py` (aiosmtpd) as a child process on a free port
//! of the loopback; it writes every message it accepts as a JSON file before answering 250.
//! Python 3 with aiosmtpd is required (scripts/test.sh installs it): without them the tests
//! fail, they are never skipped. `SISERI_TEST_PYTHON` names another interpreter.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use serde_json::Value;
use siseri_domain::account::{Account, NewAccount, Role};
use siseri_domain::ids::{Nir, Rpps, Siren, Siret};
use siseri_domain::journal::JournalEvent;
use siseri_domain::limits::LimitKind;
use siseri_domain::totals::Month;
use siseri_notify::{
    AlertNotice, DeliveryStats, Enqueued, EstablishmentRef, Recipient, RecipientKind, SmtpConfig,
    TlsMode, WorkerIdentity, deliver_due, enqueue, message_id,
};
use siseri_storage::testing::{TestDb, every_engine, sqlite};

#[path = "support/sink.rs"]
mod sink;

use sink::{Sink, body, header, rcpt};

// --- the registry's side ---

const FROM: &str = "SISERI <ne-pas-repondre@siseri.example>";
const MINISTRY: &str = "dgt@travail.example";
const NIR: &str = "2951099126111";
const SIRET: &str = "73282932000074";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 30, 12, 0, 0)
        .single()
        .unwrap()
}

fn plain(port: u16) -> SmtpConfig {
    SmtpConfig::plain("127.0.0.1", port, FROM)
}

struct People {
    mdt: Account,
    crp: Account,
    employer: Account,
    /// An MDT without an e-mail address: inbox only.
    mdt_without_address: Account,
}

async fn account(db: &TestDb, login: &str, role: Role, email: Option<&str>) -> Account {
    let mut a = NewAccount::new(login, role);
    match role {
        Role::Mdt => a.rpps = Some(Rpps::parse("10000000009").unwrap()),
        Role::Employeur => a.siren = Some(Siren::parse("732829320").unwrap()),
        _ => {}
    }
    a.email = email.map(str::to_string);
    let audit = JournalEvent::new(t0(), "admin", "ECRITURE", "TEST");
    db.store.add_account(&a, None, &audit).await.unwrap()
}

async fn people(db: &TestDb) -> People {
    People {
        mdt: account(db, "dr.martin", Role::Mdt, Some("mdt@chv.example")).await,
        crp: account(db, "crp.bernard", Role::Crp, Some("crp@chv.example")).await,
        employer: account(db, "rh.chv", Role::Employeur, Some("rh@chv.example")).await,
        mdt_without_address: account(db, "dr.petit", Role::Mdt, None).await,
    }
}

fn recipients(p: &People) -> Vec<Recipient> {
    let mut r = vec![
        Recipient::of_account(RecipientKind::Mdt, &p.mdt).unwrap(),
        Recipient::of_account(RecipientKind::Crp, &p.crp).unwrap(),
        Recipient::of_account(RecipientKind::Employeur, &p.employer).unwrap(),
        Recipient::of_account(RecipientKind::Mdt, &p.mdt_without_address).unwrap(),
        Recipient::ministry(MINISTRY),
    ];
    // Designated on two establishments, listed twice: notified once.
    r.push(Recipient::of_account(RecipientKind::Crp, &p.crp).unwrap());
    r.push(Recipient::ministry(MINISTRY));
    r
}

fn notice(alert_id: i64) -> AlertNotice {
    AlertNotice {
        alert_id,
        kind: LimitKind::E,
        first_month: Month::parse("2025-01").unwrap(),
        last_month: Month::parse("2025-03").unwrap(),
        dose_usv: 21_345,
        worker: WorkerIdentity {
            nom: "Durand".into(),
            prenom: "Camille".into(),
            nir: Nir::parse(NIR).unwrap(),
        },
        sector_code: "101000".into(),
        sector_label: Some("Radiodiagnostic".into()),
        establishment: Some(EstablishmentRef {
            name: "Centre hospitalier de Valence".into(),
            siret: Siret::parse(SIRET).unwrap(),
        }),
        public_url: "https://siseri.example".into(),
    }
}

/// The Message-IDs an alert's e-mails must bear, by address.
fn expected_ids(alert_id: i64, p: &People) -> BTreeMap<String, String> {
    BTreeMap::from([
        (
            "mdt@chv.example".to_string(),
            message_id(alert_id, RecipientKind::Mdt, Some(p.mdt.id)),
        ),
        (
            "crp@chv.example".to_string(),
            message_id(alert_id, RecipientKind::Crp, Some(p.crp.id)),
        ),
        (
            "rh@chv.example".to_string(),
            message_id(alert_id, RecipientKind::Employeur, Some(p.employer.id)),
        ),
        (
            MINISTRY.to_string(),
            message_id(alert_id, RecipientKind::Ministere, None),
        ),
    ])
}

/// Every way the test dose could be written.
const DOSE_FIGURES: &[&str] = &["21,35", "21.35", "21345", "21 345", "21,345", "21.345"];

/// The messages of one alert: one per address, each with its own Message-ID and content.
fn check_alert_messages(messages: &[Value], alert_id: i64, p: &People) {
    let expected = expected_ids(alert_id, p);
    let mut by_address: BTreeMap<String, &Value> = BTreeMap::new();
    for m in messages {
        let to = rcpt(m);
        assert_eq!(to.len(), 1, "one recipient per message: {to:?}");
        assert!(
            by_address.insert(to[0].clone(), m).is_none(),
            "two messages to {}",
            to[0]
        );
    }
    assert_eq!(
        by_address.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>()
    );
    let ids: std::collections::BTreeSet<&str> =
        messages.iter().map(|m| header(m, "Message-ID")).collect();
    assert_eq!(ids.len(), messages.len(), "distinct Message-IDs");
    for (address, m) in &by_address {
        assert_eq!(header(m, "Message-ID"), expected[address], "{address}");
        assert_eq!(header(m, "To"), address.as_str());
        assert_eq!(m["mail_from"], "ne-pas-repondre@siseri.example");
        assert_eq!(header(m, "From"), FROM);
        assert_eq!(header(m, "Auto-Submitted"), "auto-generated");
        assert!(header(m, "Content-Type").starts_with("text/plain"));
        let subject = header(m, "Subject");
        assert!(
            subject.contains(&format!("Alerte n° {alert_id}")) && subject.contains("dose efficace"),
            "{subject}"
        );
        assert!(!subject.contains("Durand") && !subject.contains("DURAND"));
        assert!(!subject.contains("Sv"), "{subject}");
    }

    // E-mails leave the registry: to people they carry the kind of alert and the way in,
    // never a name, a NIR, an establishment or a dose (issue 12).
    for address in ["mdt@chv.example", "crp@chv.example", "rh@chv.example"] {
        let m = by_address[address];
        let text = format!("{}\n{}", header(m, "Subject"), body(m));
        let raw = m["raw"].as_str().unwrap();
        for secret in [
            "Durand",
            "DURAND",
            "Camille",
            NIR,
            SIRET,
            "Centre hospitalier",
            "Sv",
        ] {
            assert!(!text.contains(secret), "{address}: {secret}\n{text}");
            assert!(!raw.contains(secret), "{address}: {secret}\n{raw}");
        }
        for figure in DOSE_FIGURES {
            assert!(!text.contains(figure), "{address}: {figure}\n{text}");
        }
        for needle in [
            "dose efficace (E) sur 12 mois glissants",
            &format!("Alerte n° {alert_id}"),
            "connectez-vous à SISERI : https://siseri.example/boite",
        ] {
            assert!(text.contains(needle), "{address}: {needle}\n{text}");
        }
    }

    let ministry = by_address[MINISTRY];
    let text = format!("{}\n{}", header(ministry, "Subject"), body(ministry));
    for secret in [
        "Durand",
        "DURAND",
        "Camille",
        NIR,
        SIRET,
        "Centre hospitalier",
    ] {
        assert!(
            !text.contains(secret),
            "no identity for the ministry: {secret}\n{text}"
        );
    }
    for needle in [
        "21,35 mSv",
        "dose efficace (E)",
        "101000 — Radiodiagnostic",
        "de 2025-01 à 2025-03",
    ] {
        assert!(text.contains(needle), "ministry: {needle}\n{text}");
    }
}

// --- the tests ---

/// One distinct message per recipient, with the content its kind may see; enqueuing again
/// (a retry, a recomputation with another dose) adds nothing; the accounts' inbox items.
#[tokio::test]
async fn every_recipient_gets_one_message_with_its_own_content() {
    let tmp = tempfile::tempdir().unwrap();
    for db in every_engine().await {
        let engine = format!("{:?}", db.store.engine());
        let p = people(&db).await;
        let outbox = db.store.outbox();

        let queued = enqueue(outbox, &notice(1001), &recipients(&p), t0())
            .await
            .unwrap();
        assert_eq!(
            queued,
            Enqueued {
                notifications: 4,
                inbox_items: 4
            },
            "{engine}"
        );
        let mut recomputed = notice(1001);
        recomputed.dose_usv = 25_000;
        recomputed.last_month = Month::parse("2025-04").unwrap();
        let again = enqueue(
            outbox,
            &recomputed,
            &recipients(&p),
            t0() + TimeDelta::hours(1),
        )
        .await
        .unwrap();
        assert_eq!(
            again,
            Enqueued::default(),
            "{engine}: enqueuing again adds nothing"
        );
        assert_eq!(outbox.due_notifications(t0(), 100).await.unwrap().len(), 4);

        let sink = Sink::start(&tmp.path().join(format!("{engine}-sink")), 0, &[]);
        let stats = deliver_due(outbox, &plain(sink.port), t0()).await.unwrap();
        assert_eq!(stats, DeliveryStats { sent: 4, failed: 0 }, "{engine}");
        let messages = sink.messages();
        assert_eq!(messages.len(), 4, "{engine}: {messages:#?}");
        check_alert_messages(&messages, 1001, &p);
        // Only the ministry's e-mail carries a dose (without identity): the first one.
        assert!(
            messages
                .iter()
                .filter(|m| rcpt(m)[0] == MINISTRY)
                .all(|m| body(m).contains("21,35") && !body(m).contains("25,00")),
            "{engine}: the first content is kept"
        );

        // Sent once: nothing is due any more, later either.
        let later = t0() + TimeDelta::days(2);
        let stats = deliver_due(outbox, &plain(sink.port), later).await.unwrap();
        assert_eq!(stats, DeliveryStats::default());
        assert_eq!(sink.messages().len(), 4);
        let rows = outbox.notifications_of_alert(1001).await.unwrap();
        assert_eq!(rows.len(), 4);
        for row in &rows {
            assert_eq!(row.sent_at, Some(t0()), "{engine}: {row:?}");
            assert_eq!((row.attempts, row.last_error.as_deref()), (0, None));
            assert_eq!(row.created_at, t0());
        }
        let ministry = outbox
            .notification_by_message_id(&message_id(1001, RecipientKind::Ministere, None))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (
                ministry.recipient_kind,
                ministry.account_id,
                ministry.email.as_str()
            ),
            (RecipientKind::Ministere, None, MINISTRY)
        );

        // The inbox: every account recipient, with or without an address; not the ministry.
        for (account, kind) in [
            (&p.mdt, RecipientKind::Mdt),
            (&p.crp, RecipientKind::Crp),
            (&p.employer, RecipientKind::Employeur),
            (&p.mdt_without_address, RecipientKind::Mdt),
        ] {
            let items = outbox.inbox_of(account.id, false, 50).await.unwrap();
            assert_eq!(items.len(), 1, "{engine}: {}", account.spec.login);
            let item = &items[0];
            assert_eq!(item.alert_id, Some(1001));
            assert_eq!(item.message_id, message_id(1001, kind, Some(account.id)));
            assert!(item.subject.contains("Alerte n° 1001"));
            assert_eq!(item.read_at, None);
            if kind == RecipientKind::Employeur {
                assert!(!item.body.contains("Sv") && !item.body.contains("21,35"));
            } else {
                assert!(item.body.contains("21,35 mSv"));
            }
            assert_eq!(outbox.unread_count(account.id).await.unwrap(), 1);
            // Somebody else's item cannot be marked.
            assert!(
                !outbox
                    .mark_inbox_read(p.employer.id + 1000, item.id, t0())
                    .await
                    .unwrap()
            );
            let read_at = t0() + TimeDelta::minutes(5);
            assert!(
                outbox
                    .mark_inbox_read(account.id, item.id, read_at)
                    .await
                    .unwrap()
            );
            assert!(
                outbox
                    .mark_inbox_read(account.id, item.id, later)
                    .await
                    .unwrap()
            );
            assert_eq!(outbox.unread_count(account.id).await.unwrap(), 0);
            let items = outbox.inbox_of(account.id, false, 50).await.unwrap();
            assert_eq!(items[0].read_at, Some(read_at), "the first reading is kept");
            assert!(
                outbox
                    .inbox_of(account.id, true, 50)
                    .await
                    .unwrap()
                    .is_empty()
            );
        }
    }
}

/// A server that refuses connections: the messages are marked failed with a later attempt
/// (1 min, then 2 min), and delivered, once each, when it is back.
#[tokio::test]
async fn a_failing_server_is_retried_with_backoff_until_it_delivers() {
    let tmp = tempfile::tempdir().unwrap();
    for db in every_engine().await {
        let engine = format!("{:?}", db.store.engine());
        let p = people(&db).await;
        let outbox = db.store.outbox();

        // The server works, then stops.
        let mut first = Sink::start(&tmp.path().join(format!("{engine}-first")), 0, &[]);
        let port = first.port;
        enqueue(outbox, &notice(1), &recipients(&p), t0())
            .await
            .unwrap();
        let stats = deliver_due(outbox, &plain(port), t0()).await.unwrap();
        assert_eq!(stats.sent, 4, "{engine}");
        first.stop();

        enqueue(outbox, &notice(2), &recipients(&p), t0())
            .await
            .unwrap();
        let stats = deliver_due(outbox, &plain(port), t0()).await.unwrap();
        assert_eq!(stats, DeliveryStats { sent: 0, failed: 4 }, "{engine}");
        for row in outbox.notifications_of_alert(2).await.unwrap() {
            assert_eq!(row.sent_at, None);
            assert_eq!(row.attempts, 1);
            assert_eq!(row.next_attempt_at, t0() + TimeDelta::minutes(1));
            assert!(
                row.last_error
                    .as_deref()
                    .is_some_and(|e| e.contains("SMTP")),
                "{row:?}"
            );
        }
        // Not due before its next attempt.
        let stats = deliver_due(outbox, &plain(port), t0() + TimeDelta::seconds(59))
            .await
            .unwrap();
        assert_eq!(stats, DeliveryStats::default());
        // Due again, still refused: the next delay doubles.
        let t1 = t0() + TimeDelta::minutes(1);
        let stats = deliver_due(outbox, &plain(port), t1).await.unwrap();
        assert_eq!(stats.failed, 4);
        for row in outbox.notifications_of_alert(2).await.unwrap() {
            assert_eq!(row.attempts, 2);
            assert_eq!(row.next_attempt_at, t1 + TimeDelta::minutes(2));
        }
        // The first alert's messages, sent, are not touched.
        for row in outbox.notifications_of_alert(1).await.unwrap() {
            assert_eq!((row.sent_at, row.attempts), (Some(t0()), 0));
        }

        // The server is back on the same port.
        let second = Sink::start(&tmp.path().join(format!("{engine}-second")), port, &[]);
        let t2 = t1 + TimeDelta::minutes(2);
        let stats = deliver_due(outbox, &plain(port), t2).await.unwrap();
        assert_eq!(stats, DeliveryStats { sent: 4, failed: 0 }, "{engine}");
        let messages = second.messages();
        assert_eq!(messages.len(), 4, "{engine}");
        check_alert_messages(&messages, 2, &p);
        for row in outbox.notifications_of_alert(2).await.unwrap() {
            assert_eq!((row.sent_at, row.attempts), (Some(t2), 2));
            assert_eq!(row.last_error, None);
        }
        let stats = deliver_due(outbox, &plain(port), t2 + TimeDelta::days(1))
            .await
            .unwrap();
        assert_eq!(stats, DeliveryStats::default());
        assert_eq!(second.messages().len(), 4);
    }
}

/// Requiring STARTTLS never sends anything in clear to a server that does not offer it.
#[tokio::test]
async fn required_starttls_is_not_downgraded() {
    let tmp = tempfile::tempdir().unwrap();
    let db = sqlite().await;
    let p = people(&db).await;
    let outbox = db.store.outbox();
    let sink = Sink::start(&tmp.path().join("sink"), 0, &[]);
    let mut config = plain(sink.port);
    config.tls = TlsMode::StartTls;
    config.host = "localhost".into();
    enqueue(outbox, &notice(7), &recipients(&p), t0())
        .await
        .unwrap();
    let stats = deliver_due(outbox, &config, t0()).await.unwrap();
    assert_eq!(stats, DeliveryStats { sent: 0, failed: 4 });
    assert!(sink.messages().is_empty());
}

/// Writes a test authority and a certificate for `localhost` signed by it; returns the
/// authority's PEM, the certificate's and its key's paths.
fn certificates(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap_or_else(|e| panic!("openssl is required to make test certificates: {e}"));
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509", "-days", "2", "-subj", "/CN=SISERI test CA"];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    run(&ca);
    let mut csr = vec!["req", "-subj", "/CN=localhost"];
    csr.extend(ec);
    csr.extend(["-keyout", "leaf.key", "-out", "leaf.csr"]);
    run(&csr);
    std::fs::write(
        dir.join("leaf.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n\
         keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "leaf.ext",
        "-out",
        "leaf.pem",
    ]);
    (
        dir.join("ca.pem"),
        dir.join("leaf.pem"),
        dir.join("leaf.key"),
    )
}

/// STARTTLS with a verified certificate and credentials; an unknown authority or a wrong
/// password fails (and is retried later), nothing is sent.
#[tokio::test]
async fn starttls_with_credentials() {
    let tmp = tempfile::tempdir().unwrap();
    let (ca, cert, key) = certificates(tmp.path());
    let db = sqlite().await;
    let p = people(&db).await;
    let outbox = db.store.outbox();
    let sink = Sink::start(
        &tmp.path().join("sink"),
        0,
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
            "--require-starttls",
            "--user",
            "siseri",
            "--password",
            "s3cret",
        ],
    );
    let good = SmtpConfig {
        tls: TlsMode::StartTls,
        username: Some("siseri".into()),
        password: Some("s3cret".into()),
        ca_file: Some(ca),
        ..SmtpConfig::plain("localhost", sink.port, FROM)
    };

    enqueue(outbox, &notice(8), &recipients(&p), t0())
        .await
        .unwrap();
    let unknown_authority = SmtpConfig {
        ca_file: None,
        ..good.clone()
    };
    let stats = deliver_due(outbox, &unknown_authority, t0()).await.unwrap();
    let error = outbox.notifications_of_alert(8).await.unwrap()[0]
        .last_error
        .clone();
    assert!(
        error.as_deref().is_some_and(|e| e.contains("certificate")),
        "{error:?}"
    );
    assert_eq!(stats, DeliveryStats { sent: 0, failed: 4 });
    let wrong_password = SmtpConfig {
        password: Some("nope".into()),
        ..good.clone()
    };
    let t1 = t0() + TimeDelta::minutes(1);
    let stats = deliver_due(outbox, &wrong_password, t1).await.unwrap();
    let error = outbox.notifications_of_alert(8).await.unwrap()[0]
        .last_error
        .clone();
    assert!(
        error.as_deref().is_some_and(|e| e.contains("535")),
        "{error:?}"
    );
    assert_eq!(stats, DeliveryStats { sent: 0, failed: 4 });
    assert!(sink.messages().is_empty());

    let t2 = t1 + TimeDelta::minutes(2);
    let stats = deliver_due(outbox, &good, t2).await.unwrap();
    assert_eq!(stats, DeliveryStats { sent: 4, failed: 0 });
    let messages = sink.messages();
    check_alert_messages(&messages, 8, &p);
    for m in &messages {
        assert_eq!(m["tls"], true);
        assert_eq!(m["auth_user"], "siseri");
    }
}

/// A server that accepts the connection but never answers does not hold the loop: the
/// message fails after the configured timeout, and the rest of the batch without waiting.
#[tokio::test]
async fn a_silent_server_times_out() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    let db = sqlite().await;
    let p = people(&db).await;
    let outbox = db.store.outbox();
    enqueue(outbox, &notice(9), &recipients(&p), t0())
        .await
        .unwrap();
    let config = SmtpConfig {
        timeout: Duration::from_secs(1),
        ..plain(port)
    };
    let clock = std::time::Instant::now();
    let stats = deliver_due(outbox, &config, t0()).await.unwrap();
    assert_eq!(stats, DeliveryStats { sent: 0, failed: 4 });
    assert!(
        clock.elapsed() < Duration::from_secs(10),
        "{:?}",
        clock.elapsed()
    );
    for row in outbox.notifications_of_alert(9).await.unwrap() {
        assert_eq!(row.attempts, 1);
        assert!(row.last_error.is_some());
    }
    held.abort();
}

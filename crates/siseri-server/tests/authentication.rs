//! Authentication as issue 12 left it (`access.md`, Authentication), over HTTP on each
//! engine: the login throttle (only failures count, per client address and per account,
//! with a delay instead of a lock, one answer for every failure), the second factor under
//! the same throttle and required of designated doctors, the forgotten-password path
//! against the test SMTP server, `Cache-Control: no-store` on authenticated answers, and
//! HSTS behind a trusted proxy.

#![allow(clippy::unwrap_used)]

mod support;

use std::net::IpAddr;

use reqwest::StatusCode;
use siseri_domain::Clock;
use siseri_domain::account::Role;
use siseri_domain::ids::{Nir, Rpps, Siren};
use siseri_server::client::TrustedProxies;
use siseri_storage::testing::TestDb;
use support::smtp::{self, Sink};
use support::web::{Browser, Env, PASSWORD, Page, csrf_of, each_engine, now_code, token};

const NIR: &str = "2951099126111";
const TOTP: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
const WRONG: &str = "pas le bon mot de passe du tout";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// The error shown on a page (the DSFR error alert's text).
fn alert(html: &str) -> String {
    html.split("role=\"alert\">")
        .nth(1)
        .and_then(|r| r.split("<p>").nth(1))
        .and_then(|r| r.split("</p>").next())
        .unwrap_or_default()
        .to_string()
}

/// The information shown on a page.
fn info(html: &str) -> String {
    html.split("fr-alert--info")
        .nth(1)
        .and_then(|r| r.split("<p>").nth(1))
        .and_then(|r| r.split("</p>").next())
        .unwrap_or_default()
        .to_string()
}

/// A worker account `camille` and an employer account `rh`, with e-mail addresses.
async fn people(env: &Env) {
    env.account("camille", Role::Travailleur, |a| {
        a.nir = Some(Nir::parse(NIR).unwrap());
        a.email = Some("Camille@Example.org".into());
    })
    .await;
    env.account("rh", Role::Employeur, |a| {
        a.siren = Some(Siren::parse("732829320").unwrap());
    })
    .await;
}

async fn plain(db: TestDb) -> Env {
    let env = Env::start(db).await;
    people(&env).await;
    env
}

/// Logs in through a proxy that says the client is `client`.
async fn login_forwarded(b: &mut Browser<'_>, client: &str, login: &str, password: &str) -> Page {
    let csrf = csrf_of(&b.get("/connexion").await.html);
    let request = b
        .http
        .post(format!("{}/connexion", b.env.base))
        .header("x-forwarded-for", format!("{client}, 127.0.0.1"))
        .form(&[("login", login), ("password", password), ("csrf", &csrf)]);
    b.request(request).await
}

#[tokio::test]
async fn only_failures_count_and_per_client_address() {
    for env in each_engine(plain).await {
        // Successes never count: a busy address (a hospital behind one NAT) is not refused.
        let mut b = Browser::<Page>::new(&env);
        for i in 0..35 {
            let p = b.login("camille", PASSWORD).await;
            assert_eq!(p.status, StatusCode::SEE_OTHER, "success {i}: {}", p.html);
        }
        // 35 failures from one address: 30 answered, then that address waits.
        let mut attacker = Browser::<Page>::new(&env);
        for i in 0..35 {
            let p = attacker.login(&format!("inconnu{i}"), WRONG).await;
            let expected = if i < 30 {
                StatusCode::UNAUTHORIZED
            } else {
                StatusCode::TOO_MANY_REQUESTS
            };
            assert_eq!(p.status, expected, "failure {i}");
        }
        let p = attacker.login("camille", PASSWORD).await;
        assert_eq!(p.status, StatusCode::TOO_MANY_REQUESTS);
        // Another address, and other accounts, are not touched.
        for login in ["camille", "rh"] {
            let mut other = Browser::<Page>::new(&env).connecting_from(ip("127.0.0.2"));
            let p = other.login(login, PASSWORD).await;
            assert_eq!(
                (p.status, p.location.as_str()),
                (StatusCode::SEE_OTHER, "/compte"),
                "{login}"
            );
        }
    }
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_client_counts() {
    let db = siseri_storage::testing::sqlite().await;
    let env = Env::start_with(db, Clock::System, |s| {
        s.with_trusted_proxies(TrustedProxies::new(vec!["127.0.0.1/32".parse().unwrap()]))
    })
    .await;
    people(&env).await;
    let mut b = Browser::<Page>::new(&env);
    for i in 0..30 {
        let p = login_forwarded(&mut b, "198.51.100.7", &format!("inconnu{i}"), WRONG).await;
        assert_eq!(p.status, StatusCode::UNAUTHORIZED, "{i}");
    }
    let p = login_forwarded(&mut b, "198.51.100.7", "camille", PASSWORD).await;
    assert_eq!(p.status, StatusCode::TOO_MANY_REQUESTS);
    // Every client of the proxy is not one bucket: another one logs in.
    let p = login_forwarded(&mut b, "198.51.100.8", "camille", PASSWORD).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
}

async fn with_mail(db: TestDb, sink: &Sink) -> Env {
    let smtp = sink.config();
    let env = Env::start_with(db, Clock::System, move |s| {
        s.with_mail(Some(smtp), "https://siseri.example/")
    })
    .await;
    people(&env).await;
    env
}

#[tokio::test]
async fn a_guessed_account_is_slowed_never_locked_and_answers_like_any_failure() {
    for db in siseri_storage::testing::every_engine().await {
        let sink = Sink::start();
        let env = with_mail(db, &sink).await;
        let mut attacker = Browser::<Page>::new(&env);
        let unknown = attacker.login("personne", WRONG).await;
        assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
        let message = alert(&unknown.html);
        assert!(
            message.contains("Identifiant ou mot de passe incorrect"),
            "{message}"
        );
        for i in 0..5 {
            let p = attacker.login("camille", WRONG).await;
            assert_eq!(
                (p.status, alert(&p.html)),
                (unknown.status, message.clone()),
                "{i}"
            );
        }
        // Slowed now: even the right password gets the very same answer, from anywhere.
        let mut owner = Browser::<Page>::new(&env).connecting_from(ip("127.0.0.2"));
        let p = owner.login("camille", PASSWORD).await;
        assert_eq!(
            (p.status, alert(&p.html)),
            (unknown.status, message.clone())
        );
        // Hammering during the delay neither gets checked nor pushes the delay.
        for _ in 0..10 {
            let p = attacker.login("camille", PASSWORD).await;
            assert_eq!(
                (p.status, alert(&p.html)),
                (unknown.status, message.clone())
            );
        }
        // The owner is told once, by e-mail.
        let mails = sink.wait_for(1).await;
        assert_eq!(smtp::rcpt(&mails[0]), ["Camille@Example.org"]);
        assert!(smtp::header(&mails[0], "Subject").contains("tentatives de connexion"));
        let body = smtp::body(&mails[0]);
        assert!(
            body.contains("« camille »")
                && body.contains("https://siseri.example/mot-de-passe-oublie"),
            "{body}"
        );
        assert!(!body.contains(PASSWORD) && !body.contains(WRONG));
        // One delay (a minute after the fifth failure) later, the owner gets in.
        env.instants.advance(chrono::Duration::seconds(61));
        let p = owner.login("camille", PASSWORD).await;
        assert_eq!(
            (p.status, p.location.as_str()),
            (StatusCode::SEE_OTHER, "/compte"),
            "{}",
            p.html
        );

        // A persistent attacker: each real attempt as soon as allowed, hammering between.
        let mut attacker = Browser::<Page>::new(&env).connecting_from(ip("127.0.0.3"));
        for _ in 0..5 {
            attacker.login("camille", WRONG).await;
        }
        for minutes in [1, 2, 4, 8, 15, 15] {
            for _ in 0..2 {
                attacker.login("camille", WRONG).await;
            }
            env.instants.advance(chrono::Duration::minutes(minutes));
            assert_eq!(
                attacker.login("camille", WRONG).await.status,
                StatusCode::UNAUTHORIZED
            );
        }
        // On a browser where he never logged in, the owner waits at most the longest delay
        // (15 minutes) after the attacker's last real attempt.
        let mut elsewhere = Browser::<Page>::new(&env).connecting_from(ip("127.0.0.6"));
        env.instants.advance(chrono::Duration::minutes(14));
        let p = elsewhere.login("camille", PASSWORD).await;
        assert_eq!(p.status, StatusCode::UNAUTHORIZED, "still slowed");
        env.instants.advance(chrono::Duration::minutes(1));
        let p = elsewhere.login("camille", PASSWORD).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
        assert_eq!(
            sink.wait_for(2).await.len(),
            2,
            "told again for the second run"
        );

        // On his usual browser (where he logged in before), he is not slowed at all.
        let mut attacker = Browser::<Page>::new(&env).connecting_from(ip("127.0.0.4"));
        for _ in 0..6 {
            attacker.login("camille", WRONG).await;
        }
        assert_eq!(
            attacker.login("camille", PASSWORD).await.status,
            StatusCode::UNAUTHORIZED
        );
        let p = owner.login("camille", PASSWORD).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "known browser: {}", p.html);
        // A stolen device cookie gives one guess, then is worth nothing.
        for _ in 0..5 {
            attacker.login("camille", WRONG).await;
        }
        let mut thief = Browser::<Page>::new(&env).connecting_from(ip("127.0.0.5"));
        let device = owner.cookies["siseri_appareil"].clone();
        thief.cookies.insert("siseri_appareil".into(), device);
        assert_eq!(
            thief.login("camille", WRONG).await.status,
            StatusCode::UNAUTHORIZED
        );
        let p = thief.login("camille", PASSWORD).await;
        assert_eq!(
            p.status,
            StatusCode::UNAUTHORIZED,
            "the device was forgotten"
        );

        let journal = env.db.store.journal_page(0, 1000).await.unwrap();
        assert!(journal.iter().any(|e| e.event.action == "CONNEXION_REFUSEE"
            && e.event.detail.as_deref() == Some("compte ralenti : essai non vérifié")));
    }
}

#[tokio::test]
async fn the_second_factor_is_throttled_and_required_of_designated_doctors() {
    for env in each_engine(plain).await {
        env.account("dr.famille", Role::MedecinDesigne, |a| {
            a.rpps = Some(Rpps::parse("10000000017").unwrap());
        })
        .await;
        let mut b = Browser::<Page>::new(&env);
        let p = b.login("dr.famille", PASSWORD).await;
        assert_eq!(
            p.location, "/compte/second-facteur",
            "a designated doctor sets up TOTP"
        );
        let p = b.get("/compte").await;
        assert_eq!(p.location, "/connexion/second-facteur");

        env.account("dr.a", Role::Mdt, |a| {
            a.rpps = Some(Rpps::parse("10000000009").unwrap());
        })
        .await;
        env.db
            .store
            .set_totp("dr.a", TOTP, &[], &support::web::event())
            .await
            .unwrap();
        let mut b = Browser::<Page>::new(&env);
        assert_eq!(
            b.login("dr.a", PASSWORD).await.location,
            "/connexion/second-facteur"
        );
        let csrf = csrf_of(&b.get("/connexion/second-facteur").await.html);
        let wrong = if now_code(TOTP) == "000000" {
            "111111"
        } else {
            "000000"
        };
        let mut answers = Vec::new();
        for _ in 0..5 {
            let p = b
                .post(
                    "/connexion/second-facteur",
                    &[("csrf", &csrf), ("code", wrong)],
                )
                .await;
            answers.push((p.status, alert(&p.html)));
        }
        // Slowed: the right code is not even checked, and answered the same.
        let p = b
            .post(
                "/connexion/second-facteur",
                &[("csrf", &csrf), ("code", &now_code(TOTP))],
            )
            .await;
        answers.push((p.status, alert(&p.html)));
        assert!(answers.iter().all(|a| a == &answers[0]), "{answers:?}");
        assert_eq!(answers[0].0, StatusCode::UNAUTHORIZED);
        // The password alone does not clear the failures.
        let mut again = Browser::<Page>::new(&env);
        assert_eq!(
            again.login("dr.a", PASSWORD).await.status,
            StatusCode::UNAUTHORIZED
        );
        env.instants.advance(chrono::Duration::seconds(61));
        let p = b
            .post(
                "/connexion/second-facteur",
                &[("csrf", &csrf), ("code", &now_code(TOTP))],
            )
            .await;
        assert_eq!(
            (p.status, p.location.as_str()),
            (StatusCode::SEE_OTHER, "/compte"),
            "{}",
            p.html
        );
    }
}

/// The forgotten-password link of the last mail.
fn link_of(mail: &serde_json::Value) -> String {
    let body = smtp::body(mail);
    let start = body
        .find("https://siseri.example/mot-de-passe-oublie/")
        .unwrap_or_else(|| panic!("{body}"));
    body[start..]
        .split_whitespace()
        .next()
        .unwrap()
        .trim_start_matches("https://siseri.example")
        .to_string()
}

#[tokio::test]
async fn a_forgotten_password_by_e_mail_end_to_end() {
    for db in siseri_storage::testing::every_engine().await {
        let sink = Sink::start();
        let env = with_mail(db, &sink).await;
        let mut session = Browser::<Page>::logged_in(&env, "camille", PASSWORD, None).await;
        let login_page = Browser::<Page>::new(&env).get("/connexion").await;
        assert!(login_page.html.contains("href=\"/mot-de-passe-oublie\""));

        // The same answer whether an account (with an address) matches or not.
        let mut answers = Vec::new();
        for asked in ["personne", "rh", "CAMILLE@example.org"] {
            let mut b = Browser::<Page>::new(&env);
            let form = b.get("/mot-de-passe-oublie").await;
            assert_eq!(form.status, StatusCode::OK);
            let p = b
                .post(
                    "/mot-de-passe-oublie",
                    &[("csrf", &csrf_of(&form.html)), ("identifiant", asked)],
                )
                .await;
            answers.push((p.status, info(&p.html)));
        }
        assert!(answers.iter().all(|a| a == &answers[0]), "{answers:?}");
        assert_eq!(answers[0].0, StatusCode::OK);
        let mails = sink.wait_for(1).await;
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        assert_eq!(
            sink.messages().len(),
            1,
            "one mail: rh has no address, personne no account"
        );
        assert_eq!(smtp::rcpt(&mails[0]), ["Camille@Example.org"]);
        let link = link_of(&mails[0]);

        // The link: a form; the account page's rules; then the new password, once.
        let mut b = Browser::<Page>::new(&env);
        let form = b.get(&link).await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.html);
        let csrf = csrf_of(&form.html);
        let token = link.rsplit('/').next().unwrap().to_string();
        let p = b
            .post(
                "/mot-de-passe-oublie/nouveau",
                &[("csrf", &csrf), ("jeton", &token), ("nouveau", "court")],
            )
            .await;
        assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
        let fresh = "une toute nouvelle phrase secrète";
        let p = b
            .post(
                "/mot-de-passe-oublie/nouveau",
                &[
                    ("csrf", &csrf_of(&p.html)),
                    ("jeton", &token),
                    ("nouveau", fresh),
                ],
            )
            .await;
        assert_eq!(p.status, StatusCode::OK, "{}", p.html);
        assert!(p.html.contains("Mot de passe changé"));
        // Every session of the account ended; the old password no longer works.
        assert_eq!(session.get("/compte").await.location, "/connexion");
        assert_eq!(
            Browser::<Page>::new(&env)
                .login("camille", PASSWORD)
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
        Browser::<Page>::logged_in(&env, "camille", fresh, None).await;
        // Used once.
        assert_eq!(b.get(&link).await.status, StatusCode::NOT_FOUND);
        let p = b
            .post(
                "/mot-de-passe-oublie/nouveau",
                &[
                    ("csrf", &csrf),
                    ("jeton", &token),
                    ("nouveau", "encore une autre phrase"),
                ],
            )
            .await;
        assert_eq!(p.status, StatusCode::NOT_FOUND);
        let journal = env.db.store.journal_page(0, 1000).await.unwrap();
        assert!(journal.iter().any(|e| {
            e.event.actor == "camille"
                && e.event.data_kind == "COMPTE"
                && e.event
                    .detail
                    .as_deref()
                    .is_some_and(|d| d.starts_with("nouveau mot de passe par lien"))
        }));

        // A link lives 30 minutes.
        let form = b.get("/mot-de-passe-oublie").await;
        b.post(
            "/mot-de-passe-oublie",
            &[("csrf", &csrf_of(&form.html)), ("identifiant", "camille")],
        )
        .await;
        let mails = sink.wait_for(2).await;
        let link = link_of(&mails[1]);
        env.instants.advance(chrono::Duration::minutes(31));
        assert_eq!(b.get(&link).await.status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn authenticated_answers_are_never_stored() {
    for env in each_engine(plain).await {
        let mut b = Browser::<Page>::logged_in(&env, "camille", PASSWORD, None).await;
        for path in ["/compte", "/", "/boite", "/mes-doses", "/page-inexistante"] {
            let p = b.get(path).await;
            assert_eq!(
                p.headers.get("cache-control").and_then(|v| v.to_str().ok()),
                Some("no-store"),
                "{path}: {}",
                p.status
            );
        }
        let bearer = token(&env.db, "camille").await;
        for path in [
            "/api/v1/moi",
            &format!("/api/v1/travailleurs/{NIR}"),
            "/api/v1/moi/journal",
            "/api/v1/resultats/999/versions",
        ] {
            let r = env
                .http
                .get(format!("{}{path}", env.base))
                .bearer_auth(&bearer)
                .send()
                .await
                .unwrap();
            assert_eq!(
                r.headers()
                    .get("cache-control")
                    .and_then(|v| v.to_str().ok()),
                Some("no-store"),
                "{path}: {}",
                r.status()
            );
        }
        // Public assets keep their caching, with the session cookie or without.
        let p = b.get("/static/siseri.css").await;
        assert_eq!(p.status, StatusCode::OK);
        let cache = p
            .headers
            .get("cache-control")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert!(cache.contains("public"), "{cache}");
        assert!(
            p.headers.get("strict-transport-security").is_none(),
            "plain HTTP, no proxy"
        );
    }
}

#[tokio::test]
async fn hsts_when_a_trusted_proxy_says_https() {
    let db = siseri_storage::testing::sqlite().await;
    let env = Env::start_with(db, Clock::System, |s| {
        s.with_trusted_proxies(TrustedProxies::new(vec!["127.0.0.1/32".parse().unwrap()]))
    })
    .await;
    let get = |proto: &'static str, from: &'static str| {
        let client = support::web::client_from(ip(from));
        let url = format!("{}/connexion", env.base);
        async move {
            client
                .get(url)
                .header("x-forwarded-proto", proto)
                .send()
                .await
                .unwrap()
                .headers()
                .get("strict-transport-security")
                .map(|v| v.to_str().unwrap().to_string())
        }
    };
    assert_eq!(
        get("https", "127.0.0.1").await.as_deref(),
        Some("max-age=63072000; includeSubDomains")
    );
    assert_eq!(get("http", "127.0.0.1").await, None);
    // Anyone else saying so is not believed.
    assert_eq!(get("https", "127.0.0.2").await, None);
}

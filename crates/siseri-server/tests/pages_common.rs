//! What every page shares, over HTTP on each engine: the header (login, role, the role's
//! navigation, unread messages), the establishment switcher, the inbox, and the French
//! error pages.

#![allow(clippy::unwrap_used)]

mod support;

use reqwest::StatusCode;
use siseri_domain::account::Role;
use siseri_domain::ids::Siret;
use siseri_domain::worker::DesignationRole;
use siseri_storage::{NewDesignation, NewEstablishment, NewInboxItem};
use support::web::{Browser, Env, PASSWORD, Page, csrf_of, day, event};

const SIRETS: [&str; 2] = ["73282932000074", "44306184100047"];
const TOTP: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

/// A physician designated on two establishments, with one unread notice.
async fn start(db: siseri_storage::testing::TestDb) -> Env {
    let env = Env::start(db).await;
    let store = env.db.store.as_ref();
    for (i, s) in SIRETS.iter().enumerate() {
        let e = NewEstablishment {
            siret: Siret::parse(s).unwrap(),
            name: format!("Établissement {}", i + 1),
            inb: false,
            company_name: format!("Société {}", i + 1),
        };
        store.add_establishment(&e, &event()).await.unwrap();
    }
    env.account("mdt", Role::Mdt, |a| {
        a.rpps = Some("10000000009".parse().unwrap());
    })
    .await;
    store.set_totp("mdt", TOTP, &[], &event()).await.unwrap();
    for s in SIRETS {
        let d = NewDesignation {
            login: "mdt".into(),
            role: DesignationRole::Physician,
            siret: Siret::parse(s).unwrap(),
            date_debut: day(2020, 1, 1),
            date_fin: None,
        };
        store.add_designation(&d, &event()).await.unwrap();
    }
    let id = store.account("mdt").await.unwrap().unwrap().id;
    let item = NewInboxItem {
        account_id: id,
        alert_id: None,
        message_id: "<essai@siseri>".into(),
        subject: "Avis de démonstration".into(),
        body: "Première ligne.\nSeconde ligne.".into(),
    };
    store
        .outbox()
        .add_inbox_items(&[item], chrono::Utc::now())
        .await
        .unwrap();
    env
}

#[tokio::test]
async fn the_header_the_switcher_and_the_inbox() {
    for env in support::web::each_engine(start).await {
        let mut b = Browser::<Page>::logged_in(&env, "mdt", PASSWORD, Some(TOTP)).await;
        let home = b.get("/").await;
        assert_eq!(home.status, StatusCode::OK);
        for text in [
            "mdt — Médecin du travail",
            "href=\"/suivi\"",
            "Travailleurs suivis",
            "Messages (1 non lu)",
            "Accéder à mon espace",
            "Établissement affiché",
            "Établissement 1 (73282932000074)",
        ] {
            assert!(home.html.contains(text), "{text}");
        }

        // The switcher: a forged form changes nothing, a good one sets the cookie and comes
        // back, never to another site.
        let csrf = csrf_of(&home.html);
        let p = b
            .post(
                "/choisir-etablissement",
                &[("csrf", "x"), ("etablissement", SIRETS[0]), ("retour", "/")],
            )
            .await;
        assert_eq!(p.status, StatusCode::FORBIDDEN);
        let p = b
            .post(
                "/choisir-etablissement",
                &[
                    ("csrf", &csrf),
                    ("etablissement", SIRETS[1]),
                    ("retour", "/compte"),
                ],
            )
            .await;
        assert_eq!(p.status, StatusCode::SEE_OTHER);
        assert_eq!(p.location, "/compte");
        assert_eq!(
            b.cookies.get("siseri_etablissement").map(String::as_str),
            Some(SIRETS[1])
        );
        let home = b.get("/").await;
        assert!(
            home.html
                .contains("<option value=\"44306184100047\" selected>"),
            "the choice is shown"
        );
        let p = b
            .post(
                "/choisir-etablissement",
                &[
                    ("csrf", &csrf),
                    ("etablissement", ""),
                    ("retour", "//ailleurs.example/"),
                ],
            )
            .await;
        assert_eq!(p.location, "/", "no open redirect");
        assert!(!b.cookies.contains_key("siseri_etablissement"));
        // Forms a browser would resolve to another site (issue 12, item 7).
        for hostile in [
            "/\\evil.example",
            "/\\/evil.example",
            "\\\\evil.example",
            "/\t/evil.example",
            "/%09/x\r\n//evil.example",
            "https://evil.example/",
            "javascript:alert(1)",
            "/ok//evil.example",
            "/é",
        ] {
            let p = b
                .post(
                    "/choisir-etablissement",
                    &[("csrf", &csrf), ("etablissement", ""), ("retour", hostile)],
                )
                .await;
            assert_eq!(
                (p.status, p.location.as_str()),
                (StatusCode::SEE_OTHER, "/"),
                "{hostile:?}"
            );
        }

        // The inbox: the notice, marked read once; another's id is not found.
        let inbox = b.get("/boite").await;
        assert_eq!(inbox.status, StatusCode::OK);
        assert!(inbox.html.contains("Avis de démonstration"));
        assert!(inbox.html.contains("Seconde ligne."));
        assert!(inbox.html.contains("Non lu"));
        let id = inbox
            .html
            .split("action=\"/boite/")
            .nth(1)
            .and_then(|s| s.split('/').next())
            .unwrap()
            .to_string();
        let p = b.post(&format!("/boite/{id}/lu"), &[("csrf", &csrf)]).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER);
        let inbox = b.get("/boite").await;
        assert!(!inbox.html.contains("Non lu"));
        assert!(
            !inbox.html.contains("non lu)"),
            "the header's count is gone"
        );
        let p = b.post("/boite/999999/lu", &[("csrf", &csrf)]).await;
        assert_eq!(p.status, StatusCode::NOT_FOUND);
        let found = b.get("/boite?q=introuvable").await;
        assert!(found.html.contains("Aucun message."));
    }
}

#[tokio::test]
async fn errors_are_french_pages_and_anonymous_visitors_log_in() {
    for env in support::web::each_engine(start).await {
        let mut anonymous = Browser::<Page>::new(&env);
        let p = anonymous.get("/boite").await;
        assert_eq!(p.status, StatusCode::SEE_OTHER);
        assert_eq!(p.location, "/connexion");
        let home = anonymous.get("/").await;
        assert!(home.html.contains("Se connecter"));
        assert!(home.html.contains("Inscrire un employeur"));
        let p = anonymous.get("/nulle-part").await;
        assert_eq!(p.status, StatusCode::NOT_FOUND);
        assert!(p.html.contains("<html lang=\"fr\""));
        assert!(p.html.contains("Page introuvable"));
        assert!(
            p.html.contains("href=\"/compte\""),
            "the header offers the account page"
        );

        let mut b = Browser::<Page>::logged_in(&env, "mdt", PASSWORD, Some(TOTP)).await;
        let p = b.get("/admin/comptes").await;
        assert_eq!(p.status, StatusCode::FORBIDDEN);
        assert!(p.html.contains("Accès refusé"));
        let p = b.get("/travailleurs/2951099126111").await;
        assert_eq!(
            p.status,
            StatusCode::NOT_FOUND,
            "unknown worker: the 404 page"
        );
        assert!(p.html.contains("Page introuvable"));
    }
}

//! The administrators' pages on each engine: who may open them, account creation (French
//! errors on their fields, the enrolment code shown once), accreditations,
//! establishments, the reconciliation queue (attach, reject, the sender's report), the
//! overview of alerts, the journal's search and its verification.

#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;

use chrono::Utc;
use reqwest::StatusCode;
use siseri_domain::Clock;
use siseri_domain::account::{NewAccount, Role};
use siseri_domain::codes::{Nature, TransmissionFormat};
use siseri_domain::ids::{Nir, Rpps, Siren, Siret};
use siseri_server::auth;
use siseri_server::caller::Caller;
use siseri_storage::NewEstablishment;
use siseri_storage::testing::TestDb;
use support::web::{self, csrf_of, event, now_code};

const SIRET: &str = "73282932000074";
const PASSWORD: &str = "Registre-de-test-2025!";
const NIR: &str = "2951099126111";
const HEADER: &str = "REFERENCE;NIR;CLE;NOM;PRENOM;DATENAISSANCE;SEXE;SIRET;NATURE;GRANDEUR;\
                      POSITION;DATE_DEBUT;DATE_FIN;STATUT;VALEUR;SEUIL;CODE_METROLOGIE";

struct Env {
    base: String,
    db: TestDb,
    /// TOTP secrets of the accounts that need one.
    secrets: Vec<(String, String)>,
}

/// An administrator, an employer, a physician and an accredited body; one establishment.
async fn start(db: TestDb) -> Env {
    let e = NewEstablishment {
        siret: Siret::parse(SIRET).unwrap(),
        name: "CHU".into(),
        inb: false,
        company_name: "Centre hospitalier".into(),
    };
    db.store.add_establishment(&e, &event()).await.unwrap();
    let hash = auth::hash_password(PASSWORD).unwrap();
    let mut body = NewAccount::new("labo", Role::Organisme);
    body.siren = Some(Siren::parse("443061841").unwrap());
    body.natures = vec![Nature::External];
    let mut employer = NewAccount::new("chu", Role::Employeur);
    employer.siren = Some(Siren::parse("732829320").unwrap());
    let mut mdt = NewAccount::new("dr.mdt", Role::Mdt);
    mdt.rpps = Some(Rpps::parse("10003456786").unwrap());
    let mut worker = NewAccount::new("marie", Role::Travailleur);
    worker.nir = Some(Nir::parse(NIR).unwrap());
    let admin = NewAccount::new("gestion", Role::Admin);
    for a in [body, employer, mdt, worker, admin] {
        db.store
            .add_account(&a, Some(&hash), &event())
            .await
            .unwrap();
    }
    let mut secrets = Vec::new();
    for login in ["gestion", "dr.mdt"] {
        let secret = auth::new_totp_secret();
        db.store
            .set_totp(login, &secret, &[], &event())
            .await
            .unwrap();
        secrets.push((login.to_string(), secret));
    }
    let addr = web::serve(&db, Clock::System).await;
    Env {
        base: format!("http://{addr}"),
        db,
        secrets,
    }
}

async fn envs() -> Vec<Env> {
    web::each_engine(start).await
}

/// A browser with reqwest's cookie store, following no redirect (unlike
/// `support::web::Browser`, its requests need no `&mut`).
struct Browser {
    http: reqwest::Client,
    base: String,
}

/// What a page answered.
struct Answer {
    status: StatusCode,
    location: String,
    html: String,
}

impl Browser {
    fn new(env: &Env) -> Self {
        Browser {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: env.base.clone(),
        }
    }

    async fn answer(r: reqwest::Response) -> Answer {
        let status = r.status();
        let location = r
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_string())
            .unwrap_or_default();
        Answer {
            status,
            location,
            html: r.text().await.unwrap(),
        }
    }

    async fn get(&self, path: &str) -> Answer {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        Self::answer(r).await
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> Answer {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .form(form)
            .send()
            .await
            .unwrap();
        Self::answer(r).await
    }

    /// The anti-forgery token of the session (from any page with a form).
    async fn csrf(&self) -> String {
        csrf_of(&self.get("/compte").await.html)
    }

    /// Logs in through the pages, with the second factor when the account has one.
    async fn login(env: &Env, login: &str) -> Self {
        let b = Browser::new(env);
        let csrf = csrf_of(&b.get("/connexion").await.html);
        let a = b
            .post(
                "/connexion",
                &[("login", login), ("password", PASSWORD), ("csrf", &csrf)],
            )
            .await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.html);
        if let Some((_, secret)) = env.secrets.iter().find(|(l, _)| l == login) {
            assert_eq!(a.location, "/connexion/second-facteur");
            let csrf = csrf_of(&b.get("/connexion/second-facteur").await.html);
            let code = now_code(secret);
            let a = b
                .post(
                    "/connexion/second-facteur",
                    &[("csrf", &csrf), ("code", &code)],
                )
                .await;
            assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.html);
        }
        b
    }
}

/// Sends `lines` as the accredited body, through the import crate; the transmission id.
async fn send_results(env: &Env, lines: &[String]) -> i64 {
    let store = env.db.store.as_ref();
    let account = store.account("labo").await.unwrap().unwrap();
    let caller = Caller {
        account,
        session: None,
        mission: None,
    };
    let sender = siseri_server::transmissions::sender_info(store, &caller)
        .await
        .unwrap();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), format!("{HEADER}\n{}\n", lines.join("\n"))).unwrap();
    let request = siseri_import::Request {
        format: TransmissionFormat::Results,
        json: false,
        encoding: Default::default(),
        dry_run: false,
        received_at: Utc::now(),
        today: Clock::System.today(),
    };
    let report = siseri_import::import(
        store,
        file.path(),
        &request,
        &sender,
        Arc::new(siseri_import::Progress::default()),
    )
    .await
    .unwrap();
    report.transmission.unwrap()
}

/// A result for NIR 2951099126111 (Marie `nom`), `value` mSv in the first quarter.
fn line(r: &str, nom: &str, value: &str) -> String {
    format!(
        "{r};{NIR};93;{nom};Marie;12/10/1995;F;{SIRET};EXTERNE;HP10;;01/01/2025;31/03/2025;MESURE;{value};;"
    )
}

const PAGES: [(&str, &str); 8] = [
    ("/admin/comptes", "<h1>Comptes</h1>"),
    ("/admin/comptes/nouveau", "<h1>Créer un compte</h1>"),
    (
        "/admin/comptes/labo/natures",
        "<h1>Accréditations de labo</h1>",
    ),
    ("/admin/etablissements", "<h1>Établissements</h1>"),
    (
        "/admin/etablissements/nouveau",
        "<h1>Déclarer un établissement</h1>",
    ),
    (
        "/admin/en-attente",
        "<h1>Lignes en attente de rapprochement</h1>",
    ),
    ("/admin/alertes", "<h1>Alertes</h1>"),
    ("/admin/journal", "<h1>Journal</h1>"),
];

#[tokio::test]
async fn administrators_only_open_their_pages() {
    for env in envs().await {
        let admin = Browser::login(&env, "gestion").await;
        for (path, h1) in PAGES {
            let a = admin.get(path).await;
            assert_eq!(a.status, StatusCode::OK, "{path}: {}", a.html);
            assert!(a.html.contains(h1), "{path}: {}", a.html);
            assert_eq!(a.html.matches("<h1").count(), 1, "{path}: one h1");
            assert!(!a.html.contains("style="), "{path}: no inline style");
        }
        for login in ["chu", "dr.mdt", "labo"] {
            let other = Browser::login(&env, login).await;
            for (path, h1) in PAGES {
                let a = other.get(path).await;
                assert_eq!(a.status, StatusCode::FORBIDDEN, "{login} {path}");
                assert!(a.html.contains("Accès refusé"), "{login} {path}");
                assert!(!a.html.contains(h1), "{login} {path}");
            }
            let csrf = other.csrf().await;
            let a = other
                .post(
                    "/admin/comptes/nouveau",
                    &[("csrf", &csrf), ("login", "intrus"), ("role", "ADMIN")],
                )
                .await;
            assert_eq!(a.status, StatusCode::FORBIDDEN, "{login} cannot create");
            let a = other
                .post("/admin/journal/verification", &[("csrf", &csrf)])
                .await;
            assert_eq!(a.status, StatusCode::FORBIDDEN);
        }
        assert!(env.db.store.account("intrus").await.unwrap().is_none());
        let anonymous = Browser::new(&env);
        let a = anonymous.get("/admin/comptes").await;
        assert_eq!(
            (a.status, a.location.as_str()),
            (StatusCode::SEE_OTHER, "/connexion")
        );
        // An accreditation page exists only for an accredited body.
        assert_eq!(
            admin.get("/admin/comptes/chu/natures").await.status,
            StatusCode::NOT_FOUND
        );
    }
}

#[tokio::test]
async fn accounts_are_listed_created_and_accredited() {
    for env in envs().await {
        let admin = Browser::login(&env, "gestion").await;
        // The list: every account, the worker's NIR masked, states in words.
        let a = admin.get("/admin/comptes").await;
        for login in ["labo", "chu", "dr.mdt", "marie", "gestion"] {
            assert!(
                a.html.contains(&format!("<th scope=\"row\">{login}</th>")),
                "{login}"
            );
        }
        assert!(!a.html.contains(NIR), "the NIR is masked");
        assert!(a.html.contains("2•••••••••111"));
        assert!(a.html.contains("Second facteur activé"));
        assert!(a.html.contains("Centre hospitalier (SIREN 732829320)"));
        let a = admin.get("/admin/comptes?role=ORGANISME").await;
        assert!(a.html.contains(">labo</th>") && !a.html.contains(">chu</th>"));
        let a = admin.get("/admin/comptes?q=10003456786").await;
        assert!(a.html.contains(">dr.mdt</th>") && !a.html.contains(">labo</th>"));

        // Refused fields, each with its French error on its field.
        let csrf = admin.csrf().await;
        let a = admin
            .post(
                "/admin/comptes/nouveau",
                &[
                    ("csrf", &csrf),
                    ("login", "rh.acme"),
                    ("role", "EMPLOYEUR"),
                    ("nir", "123"),
                ],
            )
            .await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(a.html.contains("NIR invalide"), "{}", a.html);
        assert!(a.html.contains("aria-describedby=\"nir-erreur\""));
        assert!(a.html.contains("fr-input-group--error"));
        assert!(
            a.html.contains("value=\"rh.acme\""),
            "typed values are kept"
        );
        let a = admin
            .post(
                "/admin/comptes/nouveau",
                &[("csrf", &csrf), ("login", "rh.acme"), ("role", "EMPLOYEUR")],
            )
            .await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            a.html.contains("Le rôle « Employeur » exige un SIREN."),
            "{}",
            a.html
        );
        assert!(a.html.contains("id=\"siren-erreur\""));
        let a = admin
            .post(
                "/admin/comptes/nouveau",
                &[
                    ("csrf", &csrf),
                    ("login", "Majuscules"),
                    ("role", "AGENT_CONTROLE"),
                    ("rpps", "10003456786"),
                ],
            )
            .await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            a.html.contains("Identifiant : 3 à 64 caractères"),
            "{}",
            a.html
        );
        let a = admin
            .post(
                "/admin/comptes/nouveau",
                &[
                    ("csrf", &csrf),
                    ("login", "insp.b"),
                    ("role", "AGENT_CONTROLE"),
                    ("password", "court"),
                ],
            )
            .await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(a.html.contains("Mot de passe refusé"), "{}", a.html);
        let a = admin
            .post(
                "/admin/comptes/nouveau",
                &[("csrf", &csrf), ("login", "labo"), ("role", "CHERCHEUR")],
            )
            .await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(a.html.contains("Un compte existe déjà"), "{}", a.html);
        let a = admin
            .post(
                "/admin/comptes/nouveau",
                &[
                    ("csrf", "faux"),
                    ("login", "faux.compte"),
                    ("role", "CHERCHEUR"),
                ],
            )
            .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "forged form refused");
        assert!(env.db.store.account("faux.compte").await.unwrap().is_none());

        // Good fields: the account exists and its enrolment code is shown once.
        let a = admin
            .post(
                "/admin/comptes/nouveau",
                &[
                    ("csrf", &csrf),
                    ("login", "labo.b"),
                    ("role", "ORGANISME"),
                    ("siren", "443061841"),
                    ("natures", "EXTERNE"),
                    ("natures", "RADON"),
                    ("email", "labo.b@example.org"),
                ],
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.html);
        assert!(a.html.contains("Compte labo.b créé"));
        let code = a
            .html
            .split("<code>")
            .nth(1)
            .unwrap()
            .split('<')
            .next()
            .unwrap()
            .to_string();
        assert!(code.len() >= 8, "{code}");
        let created = env.db.store.account("labo.b").await.unwrap().unwrap();
        assert_eq!(created.spec.natures, vec![Nature::External, Nature::Radon]);
        let a = admin.get("/admin/comptes?q=labo.b").await;
        assert!(a.html.contains("Inscription en attente"), "{}", a.html);
        assert!(!a.html.contains(&code), "the code is shown once");

        // A new enrolment code, and the accreditations.
        let a = admin
            .post("/admin/comptes/chu/code-inscription", &[("csrf", &csrf)])
            .await;
        assert_eq!(a.status, StatusCode::OK);
        assert!(a.html.contains("Nouveau code d’inscription pour chu"));
        let a = admin
            .post(
                "/admin/comptes/inconnu/code-inscription",
                &[("csrf", &csrf)],
            )
            .await;
        assert_eq!(a.status, StatusCode::NOT_FOUND);
        let a = admin.get("/admin/comptes/labo/natures").await;
        assert!(a.html.contains("value=\"EXTERNE\" checked"), "{}", a.html);
        assert!(!a.html.contains("ESTIMATION_MDT"), "not accreditable");
        let a = admin
            .post(
                "/admin/comptes/labo/natures",
                &[
                    ("csrf", &csrf),
                    ("natures", "INTERNE_VITRO"),
                    ("natures", "COSMIQUE"),
                ],
            )
            .await;
        assert_eq!(a.status, StatusCode::SEE_OTHER);
        let a = admin.get(&a.location).await;
        assert!(a.html.contains("Accréditations enregistrées"));
        let labo = env.db.store.account("labo").await.unwrap().unwrap();
        assert_eq!(
            labo.spec.natures,
            vec![Nature::InternalInVitro, Nature::Cosmic]
        );
        let a = admin
            .post(
                "/admin/comptes/labo/natures",
                &[("csrf", &csrf), ("natures", "ESTIMATION_MDT")],
            )
            .await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(a.html.contains("n’est pas une nature accréditable"));

        // Each write is journaled as the API journals it.
        let journal = env.db.store.journal_page(0, 10_000).await.unwrap();
        let by_admin = |kind: &str, detail: &str| {
            journal.iter().any(|e| {
                e.event.actor == "gestion"
                    && e.event.data_kind == kind
                    && e.event.detail.as_deref() == Some(detail)
            })
        };
        assert!(by_admin("COMPTE", "création du compte labo.b (ORGANISME)"));
        assert!(by_admin("INSCRIPTION", "code d'inscription pour labo.b"));
        assert!(by_admin("INSCRIPTION", "code d'inscription pour chu"));
        assert!(by_admin("ACCREDITATION", "labo : INTERNE_VITRO,COSMIQUE"));
    }
}

#[tokio::test]
async fn establishments_are_listed_and_declared() {
    for env in envs().await {
        let admin = Browser::login(&env, "gestion").await;
        let a = admin.get("/admin/etablissements").await;
        assert!(a.html.contains(SIRET) && a.html.contains("Centre hospitalier"));
        let csrf = admin.csrf().await;
        let a = admin
            .post(
                "/admin/etablissements/nouveau",
                &[("csrf", &csrf), ("siret", "12345"), ("nom", "")],
            )
            .await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(a.html.contains("SIRET invalide"), "{}", a.html);
        assert!(a.html.contains("Nom : 1 à 200 caractères."));
        let a = admin
            .post(
                "/admin/etablissements/nouveau",
                &[("csrf", &csrf), ("siret", SIRET), ("nom", "Doublon")],
            )
            .await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(a.html.contains("déjà enregistré"));
        let a = admin
            .post(
                "/admin/etablissements/nouveau",
                &[
                    ("csrf", &csrf),
                    ("siret", "44306184100047"),
                    ("nom", "Centrale du Nord"),
                    ("entreprise", "Énergie SA"),
                    ("inb", "1"),
                ],
            )
            .await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.html);
        let a = admin.get(&a.location).await;
        assert!(a.html.contains("Établissement enregistré"));
        assert!(a.html.contains("Centrale du Nord") && a.html.contains(">INB<"));
        assert!(a.html.contains("Énergie SA (SIREN 443061841)"));
        assert!(!a.html.contains("Centre hospitalier"), "search kept");
        let e = env
            .db
            .store
            .establishment(&Siret::parse("44306184100047").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert!(e.inb);
        let a = admin.get("/admin/etablissements?q=zzz").await;
        assert!(a.html.contains("Aucun établissement"));
    }
}

#[tokio::test]
async fn held_lines_are_attached_or_rejected_and_the_report_follows() {
    for env in envs().await {
        let transmission = send_results(
            &env,
            &[
                line("Q-1", "Dupont", "1"),
                line("Q-2", "Durand", "2"),
                line("Q-3", "Dupond", "3"),
            ],
        )
        .await;
        let admin = Browser::login(&env, "gestion").await;
        let a = admin.get("/admin/en-attente").await;
        assert!(a.html.contains("IDENTITE_INCOHERENTE"), "{}", a.html);
        assert!(a.html.contains("Lignes en attente (2)"));
        assert!(!a.html.contains("Durand"), "the list names nobody");
        let queue = env.db.store.pending_lines(true).await.unwrap();
        let (first, second) = (queue[0].id, queue[1].id);
        assert!(
            a.html
                .contains(&format!("href=\"/admin/en-attente/{first}\""))
        );

        // The held line, its suggestion and the differences side by side.
        let a = admin.get(&format!("/admin/en-attente/{first}")).await;
        assert_eq!(a.status, StatusCode::OK);
        assert!(a.html.contains("Même NIR : Marie Dupont"), "{}", a.html);
        assert!(a.html.contains("<td>Durand</td><td>Dupont</td>"));
        assert!(a.html.contains("Différent") && a.html.contains("Identique"));
        let worker = env
            .db
            .store
            .worker(&Nir::parse(NIR).unwrap())
            .await
            .unwrap()
            .unwrap();
        let journal = env.db.store.journal_page(0, 10_000).await.unwrap();
        assert!(
            journal.iter().any(|e| e.event.data_kind == "FILE_ATTENTE"
                && e.event.action == "LECTURE"
                && e.event.worker_ids == vec![worker.id]),
            "the read of the suggested identity is journaled"
        );
        let csrf = csrf_of(&a.html);
        let path = format!("/admin/en-attente/{first}");
        let a = admin
            .post(
                &path,
                &[("csrf", "x"), ("action", "rattacher"), ("nir", NIR)],
            )
            .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN);
        let a = admin
            .post(
                &path,
                &[("csrf", &csrf), ("action", "rattacher"), ("nir", "12")],
            )
            .await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(a.html.contains("id=\"nir-erreur\""), "{}", a.html);
        let a = admin
            .post(
                &path,
                &[
                    ("csrf", &csrf),
                    ("action", "rattacher"),
                    ("nir", "1850575123456"),
                ],
            )
            .await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(a.html.contains("NIR inconnu du registre"), "{}", a.html);

        // Attached with the identity unchanged: back to the list, with a notice.
        let a = admin
            .post(
                &path,
                &[("csrf", &csrf), ("action", "rattacher"), ("nir", NIR)],
            )
            .await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.html);
        assert_eq!(a.location, format!("/admin/en-attente?traitee={first}"));
        let a = admin.get(&a.location).await;
        assert!(a.html.contains("traitée : acceptée"), "{}", a.html);
        assert!(a.html.contains("Lignes en attente (1)"));
        assert!(
            !a.html
                .contains(&format!("href=\"/admin/en-attente/{first}\""))
        );
        let worker = env
            .db
            .store
            .worker(&Nir::parse(NIR).unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(worker.nom, "Dupont", "identity unchanged");
        let a = admin
            .post(
                &path,
                &[("csrf", &csrf), ("action", "rattacher"), ("nir", NIR)],
            )
            .await;
        assert_eq!(a.status, StatusCode::CONFLICT, "already resolved");

        // Rejected: a reason is required.
        let path = format!("/admin/en-attente/{second}");
        let a = admin
            .post(
                &path,
                &[("csrf", &csrf), ("action", "rejeter"), ("motif", " ")],
            )
            .await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            a.html.contains("Un motif de rejet est obligatoire."),
            "{}",
            a.html
        );
        assert!(a.html.contains("id=\"motif-erreur\""));
        let a = admin
            .post(
                &path,
                &[
                    ("csrf", &csrf),
                    ("action", "rejeter"),
                    ("motif", "homonyme"),
                ],
            )
            .await;
        assert_eq!(a.status, StatusCode::SEE_OTHER);
        let a = admin.get(&a.location).await;
        assert!(
            a.html.contains("traitée : rejetée. Motif : homonyme."),
            "{}",
            a.html
        );
        assert!(a.html.contains("Aucune ligne en attente"));
        let a = admin.get("/admin/en-attente?etat=toutes").await;
        assert!(
            a.html.contains("Lignes en attente (2)"),
            "resolved ones on demand"
        );

        // The sender's report follows.
        let lines = env.db.store.transmission_lines(transmission).await.unwrap();
        let status_of = |n: i64| lines.iter().find(|l| l.line == n).unwrap();
        assert_eq!(status_of(3).status, "ACCEPTE");
        assert_eq!(status_of(4).status, "REJETE");
        assert_eq!(status_of(4).codes, ["REJET_GESTIONNAIRE"]);
    }
}

#[tokio::test]
async fn the_alerts_overview_counts_and_filters() {
    for env in envs().await {
        send_results(&env, &[line("A-1", "Dupont", "25")]).await;
        assert!(!env.db.store.all_alerts().await.unwrap().is_empty());
        let admin = Browser::login(&env, "gestion").await;
        let a = admin.get("/admin/alertes").await;
        assert_eq!(a.status, StatusCode::OK);
        assert!(
            a.html.contains(&format!("href=\"/travailleurs/{NIR}\"")),
            "{}",
            a.html
        );
        assert!(a.html.contains("Marie Dupont"));
        assert!(a.html.contains("25,00\u{a0}mSv"), "{}", a.html);
        assert!(a.html.contains("Ouverte : 1"), "{}", a.html);
        let a = admin.get("/admin/alertes?statut=CONFIRMEE").await;
        assert!(a.html.contains("Aucune alerte"));
        assert!(
            a.html.contains("Ouverte : 1"),
            "counts ignore the status filter"
        );
        let a = admin.get("/admin/alertes?limite=CRISTALLIN").await;
        assert!(a.html.contains("Aucune alerte"));
        let a = admin.get("/admin/alertes?limite=E&q=dupont").await;
        assert!(a.html.contains("Marie Dupont"));
        let worker = env
            .db
            .store
            .worker(&Nir::parse(NIR).unwrap())
            .await
            .unwrap()
            .unwrap();
        let journal = env.db.store.journal_page(0, 10_000).await.unwrap();
        assert!(journal.iter().any(|e| e.event.actor == "gestion"
            && e.event.data_kind == "ALERTES"
            && e.event.worker_ids == vec![worker.id]));
    }
}

#[tokio::test]
async fn the_journal_is_searched_and_verified() {
    for env in envs().await {
        send_results(&env, &[line("J-1", "Dupont", "1")]).await;
        let worker = env
            .db
            .store
            .worker(&Nir::parse(NIR).unwrap())
            .await
            .unwrap()
            .unwrap();
        let admin = Browser::login(&env, "gestion").await;
        let all = env.db.store.journal_page(0, 10_000).await.unwrap();
        let newest = all.last().unwrap();
        let a = admin.get("/admin/journal").await;
        assert_eq!(a.status, StatusCode::OK);
        // Newest first, each with its hash.
        let first_row = a.html.split("<tbody>").nth(1).unwrap();
        assert!(
            first_row.contains(&format!("<th scope=\"row\">{}</th>", newest.seq)),
            "{first_row}"
        );
        assert!(a.html.contains(&newest.hash[..16]));

        let a = admin.get("/admin/journal?donnees=test&acteur=tes").await;
        assert!(a.html.contains("<td>TEST</td>"), "{}", a.html);
        assert!(!a.html.contains("<td>CONNEXION</td>"));
        let a = admin.get(&format!("/admin/journal?nir={NIR}")).await;
        assert!(
            a.html.contains(&format!("<td>{}</td>", worker.id)),
            "{}",
            a.html
        );
        assert!(
            !a.html.contains("<td>TEST</td>"),
            "only the worker's entries"
        );
        let a = admin.get("/admin/journal?nir=1850575123456").await;
        assert!(
            a.html
                .contains("Aucun travailleur du registre ne porte ce NIR.")
        );
        assert!(a.html.contains("Aucune entrée"));
        let a = admin.get("/admin/journal?du=demain").await;
        assert!(a.html.contains("id=\"du-erreur\""), "{}", a.html);
        let a = admin.get("/admin/journal?au=2000-01-01").await;
        assert!(a.html.contains("Aucune entrée"));
        let a = admin
            .get("/admin/journal?action=connexion&acteur=gestion")
            .await;
        assert!(a.html.contains("<td>CONNEXION</td>"), "{}", a.html);

        // Consulting the journal is journaled, about the worker searched for.
        let all = env.db.store.journal_page(0, 10_000).await.unwrap();
        assert!(all.iter().any(|e| e.event.actor == "gestion"
            && e.event.data_kind == "JOURNAL"
            && e.event.worker_ids == vec![worker.id]));

        // Verification: intact, then broken.
        let csrf = csrf_of(&a.html);
        let a = admin
            .post("/admin/journal/verification", &[("csrf", &csrf)])
            .await;
        assert_eq!(a.status, StatusCode::OK);
        assert!(a.html.contains("Journal intègre"), "{}", a.html);
        // The head verified: the entry before the page's own (the consultation, journaled
        // once the page is built).
        let all = env.db.store.journal_page(0, 10_000).await.unwrap();
        let verified = &all[all.len() - 2];
        assert!(
            a.html
                .contains(&format!("{} entrées vérifiées", verified.seq)),
            "{}",
            a.html
        );
        assert!(a.html.contains(&verified.hash[..16]));
        let a = admin
            .post("/admin/journal/verification", &[("csrf", "faux")])
            .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN);
        let drop = match env.db.url.engine() {
            siseri_storage::Engine::Sqlite => "DROP TRIGGER journal_no_update",
            siseri_storage::Engine::Postgres => "DROP TRIGGER journal_append_only ON journal",
        };
        env.db.execute_raw(drop).await.unwrap();
        env.db
            .execute_raw("UPDATE journal SET detail = 'rien' WHERE seq = 2")
            .await
            .unwrap();
        let a = admin
            .post("/admin/journal/verification", &[("csrf", &csrf)])
            .await;
        assert!(a.html.contains("Journal altéré"), "{}", a.html);
        assert!(a.html.contains("entrée n° 2"), "{}", a.html);
    }
}

//! The employer's pages on each engine: self-service registration (field errors,
//! anti-forgery), its validation by an administrator (establishments, account, enrolment
//! code), the new employer's establishments; declaring, editing and ending attachments;
//! designations; the yearly summary; and what an employer must never see: a dose, or
//! another company's worker (answered as unknown).

#![allow(clippy::unwrap_used)]

mod support;

use chrono::{Datelike, NaiveDate, Utc};
use reqwest::StatusCode;
use siseri_domain::account::Role;
use siseri_domain::codes::{Nature, Quantity, ResultStatus};
use siseri_domain::ids::{Nir, Siren, Siret};
use siseri_domain::result::{Reference, ResultValues, Sender};
use siseri_server::auth;
use siseri_storage::testing::{every_engine, sample_terms, sample_worker};
use siseri_storage::{NewEstablishment, RegistrationStatus, WriteBatch, WriteOp};
use support::web::{self, Env, PASSWORD, csrf_of, event};

/// The company of the registration (SIREN 732829320) and two of its establishments.
const SIREN: &str = "732829320";
const SIRET_A: &str = "73282932000074";
const SIRET_A2: &str = "73282932000017";
/// Another company.
const SIRET_B: &str = "44306184100047";
const NIR_A: &str = "2951099126111";
const NIR_B: &str = "1850578006084";

type Browser<'a> = web::Browser<'a, (StatusCode, String, String)>;

impl Env {
    async fn establishment(&self, siret: &str, name: &str) {
        let e = NewEstablishment {
            siret: Siret::parse(siret).unwrap(),
            name: name.into(),
            inb: false,
            company_name: format!("Entreprise {}", &siret[..9]),
        };
        self.db.store.add_establishment(&e, &event()).await.unwrap();
    }

    /// An administrator with a second factor, logged in.
    async fn admin(&self) -> Browser<'_> {
        self.account("gestion", Role::Admin, |_| {}).await;
        let secret = auth::new_totp_secret();
        self.db
            .store
            .set_totp("gestion", &secret, &[], &event())
            .await
            .unwrap();
        let mut b = Browser::new(self);
        let (_, location, _) = b.login("gestion", PASSWORD).await;
        assert_eq!(location, "/connexion/second-facteur");
        let (s, location, _) = b.second_factor(&secret).await;
        assert_eq!((s, location.as_str()), (StatusCode::SEE_OTHER, "/compte"));
        b
    }

    async fn journal_kinds(&self) -> Vec<(String, String)> {
        self.db
            .store
            .journal_page(0, 100_000)
            .await
            .unwrap()
            .into_iter()
            .map(|e| (e.event.data_kind, e.event.detail.unwrap_or_default()))
            .collect()
    }
}

/// The registration form's fields, valid unless changed.
fn registration<'a>(csrf: &'a str, changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("csrf", csrf),
        ("siren", SIREN),
        ("raison_sociale", "Centre hospitalier de Valmont"),
        ("siret_1", SIRET_A),
        ("nom_etablissement_1", "Site Nord"),
        ("siret_2", SIRET_A2),
        ("nom_etablissement_2", "Site Sud"),
        ("inb_2", "oui"),
        ("siret_3", ""),
        ("nom_etablissement_3", ""),
        ("nom", "Durand"),
        ("prenom", "Élise"),
        ("courriel", "elise.durand@chu-valmont.fr"),
        ("telephone", "01 23 45 67 89"),
        ("identifiant", "chu.valmont"),
    ];
    for (k, v) in changes {
        match form.iter_mut().find(|(name, _)| name == k) {
            Some(f) => f.1 = v,
            None => form.push((k, v)),
        }
    }
    form
}

/// The error message shown under a field, if any.
fn field_error(html: &str, field: &str) -> Option<String> {
    let marker = format!("id=\"{field}-erreur\" class=\"fr-error-text\">");
    html.split(&marker)
        .nth(1)
        .map(|rest| rest.split('<').next().unwrap().to_string())
}

#[tokio::test]
async fn a_registration_validated_by_an_administrator_gives_the_employer_its_establishments() {
    for db in every_engine().await {
        let env = Env::start(db).await;
        env.establishment(SIRET_B, "Autre entreprise").await;
        env.account("autre.employeur", Role::Employeur, |a| {
            a.siren = Some(Siren::parse("443061841").unwrap())
        })
        .await;
        let mut visitor = Browser::new(&env);
        let (s, _, html) = visitor.get("/inscription").await;
        assert_eq!(s, 200);
        assert!(html.contains("<h1>Inscrire un employeur</h1>"));
        assert!(visitor.cookies.contains_key("siseri_inscription"));
        let csrf = csrf_of(&html);

        // Errors per field, in French, linked to their inputs, the typed values kept.
        let bad = registration(
            &csrf,
            &[
                ("siren", "732829321"),
                ("siret_2", SIRET_B),
                ("nom_etablissement_3", "Site fantôme"),
                ("courriel", "pas-une-adresse"),
                ("telephone", "12"),
                ("identifiant", "Chu Valmont!"),
                ("prenom", ""),
            ],
        );
        let (s, _, html) = visitor.post("/inscription", &bad).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            field_error(&html, "siren")
                .unwrap()
                .contains("clé de contrôle")
        );
        assert_eq!(field_error(&html, "siret_1"), None);
        assert!(
            field_error(&html, "siret_3")
                .unwrap()
                .contains("Indiquez le SIRET")
        );
        assert!(
            field_error(&html, "courriel")
                .unwrap()
                .contains("adresse électronique")
        );
        assert!(
            field_error(&html, "telephone")
                .unwrap()
                .contains("téléphone")
        );
        assert!(
            field_error(&html, "identifiant")
                .unwrap()
                .contains("3 à 64 caractères")
        );
        assert!(field_error(&html, "prenom").unwrap().contains("prénom"));
        assert!(html.contains("fr-input-group--error"));
        assert!(html.contains("aria-describedby=\"siren-erreur\""));
        assert!(html.contains("value=\"Centre hospitalier de Valmont\""));
        assert!(html.contains("value=\"Site fantôme\""));
        // A SIRET of another company, with a valid SIREN.
        let (_, _, html) = visitor
            .post(
                "/inscription",
                &registration(&csrf, &[("siret_2", SIRET_B)]),
            )
            .await;
        assert!(
            field_error(&html, "siret_2")
                .unwrap()
                .contains("n’appartient pas")
        );
        // A login already taken.
        let (_, _, html) = visitor
            .post(
                "/inscription",
                &registration(&csrf, &[("identifiant", "autre.employeur")]),
            )
            .await;
        assert!(
            field_error(&html, "identifiant")
                .unwrap()
                .contains("déjà pris")
        );

        // Without the form's cookie, or with another token: refused, nothing stored.
        let mut forger = Browser::new(&env);
        let (s, _, html) = forger.post("/inscription", &registration(&csrf, &[])).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        assert!(html.contains("Le formulaire a expiré"));
        let (s, _, _) = visitor
            .post("/inscription", &registration("faux", &[]))
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        assert!(env.db.store.registrations(false).await.unwrap().is_empty());

        // The request is stored, pending, journaled.
        let (_, _, html) = visitor.get("/inscription").await;
        let csrf = csrf_of(&html);
        let (s, _, html) = visitor
            .post("/inscription", &registration(&csrf, &[]))
            .await;
        assert_eq!(s, 200, "{html}");
        assert!(html.contains("Demande d’inscription envoyée"));
        let pending = env.db.store.registrations(true).await.unwrap();
        assert_eq!(pending.len(), 1);
        let id = pending[0].id;
        assert_eq!(pending[0].request.establishments.len(), 2);
        assert!(pending[0].request.establishments[1].inb);
        // The same login cannot be asked twice while pending.
        let (_, _, html) = visitor.get("/inscription").await;
        let csrf = csrf_of(&html);
        let (s, _, html) = visitor
            .post(
                "/inscription",
                &registration(&csrf, &[("siret_2", ""), ("nom_etablissement_2", "")]),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            field_error(&html, "identifiant")
                .unwrap()
                .contains("déjà pris")
        );
        // No account yet: the employer cannot log in.
        assert!(env.db.store.account("chu.valmont").await.unwrap().is_none());

        // The administrator's list; other roles are refused.
        let mut admin = env.admin().await;
        let (s, _, html) = admin.get("/admin/inscriptions").await;
        assert_eq!(s, 200);
        assert!(html.contains("Centre hospitalier de Valmont") && html.contains(SIRET_A2));
        let admin_csrf = csrf_of(&html);
        let mut other = Browser::new(&env);
        other.login("autre.employeur", PASSWORD).await;
        assert_eq!(other.get("/admin/inscriptions").await.0, 403);
        let (_, _, html) = other.get("/employeur/etablissements").await;
        let other_csrf = csrf_of(&html);
        let (s, _, _) = other
            .post(
                &format!("/admin/inscriptions/{id}"),
                &[("csrf", &other_csrf), ("action", "valider")],
            )
            .await;
        assert_eq!(s, 403);

        // A refusal needs a reason; a forged form is refused.
        let path = format!("/admin/inscriptions/{id}");
        let (s, _, html) = admin
            .post(&path, &[("csrf", &admin_csrf), ("action", "refuser")])
            .await;
        assert_eq!(s, StatusCode::CONFLICT);
        assert!(html.contains("motif du refus"));
        let (s, _, _) = admin
            .post(&path, &[("csrf", "faux"), ("action", "valider")])
            .await;
        assert_eq!(s, 403);

        // Validation: establishments, account, enrolment code shown once.
        let (s, _, html) = admin
            .post(&path, &[("csrf", &admin_csrf), ("action", "valider")])
            .await;
        assert_eq!(s, 200, "{html}");
        let code = html
            .split("Code : <code>")
            .nth(1)
            .unwrap()
            .split('<')
            .next()
            .unwrap()
            .to_string();
        let decided = env.db.store.registration(id).await.unwrap().unwrap();
        assert_eq!(decided.status, RegistrationStatus::Accepted);
        assert_eq!(decided.decided_by.as_deref(), Some("gestion"));
        let account = env.db.store.account("chu.valmont").await.unwrap().unwrap();
        assert_eq!(account.spec.role, Role::Employeur);
        assert_eq!(account.spec.siren, Some(Siren::parse(SIREN).unwrap()));
        for s in [SIRET_A, SIRET_A2] {
            let siret = Siret::parse(s).unwrap();
            assert!(env.db.store.establishment(&siret).await.unwrap().is_some());
        }
        // Decided once.
        let (s, _, html) = admin
            .post(&path, &[("csrf", &admin_csrf), ("action", "valider")])
            .await;
        assert_eq!(s, StatusCode::CONFLICT);
        assert!(html.contains("déjà été traitée"));

        // The enrolment code links the account once (what the federated login does).
        let enrolled = env
            .db
            .store
            .take_enrolment(&auth::code_hash(&code), Utc::now())
            .await
            .unwrap();
        assert_eq!(
            enrolled.map(|a| a.spec.login).as_deref(),
            Some("chu.valmont")
        );

        // The new employer sees its establishments.
        let hash = auth::hash_password(PASSWORD).unwrap();
        env.db
            .store
            .set_password("chu.valmont", &hash, &event())
            .await
            .unwrap();
        let mut employer = Browser::new(&env);
        let (_, location, _) = employer.login("chu.valmont", PASSWORD).await;
        assert_eq!(location, "/compte");
        let (s, _, html) = employer.get("/employeur/etablissements").await;
        assert_eq!(s, 200);
        assert!(html.contains("Site Nord") && html.contains("Site Sud"));
        assert!(html.contains(SIRET_A) && !html.contains("Autre entreprise"));

        let kinds = env.journal_kinds().await;
        for (kind, detail) in [
            (
                "DEMANDE_INSCRIPTION",
                "demande d'inscription de l'entreprise",
            ),
            ("DEMANDE_INSCRIPTION", "validation de la demande"),
            ("ETABLISSEMENT", SIRET_A2),
            ("COMPTE", "création du compte chu.valmont"),
            ("INSCRIPTION", "code d'inscription pour chu.valmont"),
        ] {
            assert!(
                kinds.iter().any(|(k, d)| k == kind && d.contains(detail)),
                "{kind} {detail}"
            );
        }
    }
}

/// Two companies, each with one worker; company A's worker has a dose and a CRP account.
async fn two_companies(env: &Env) {
    env.establishment(SIRET_A, "Site Nord").await;
    env.establishment(SIRET_B, "Autre entreprise").await;
    env.account("chu", Role::Employeur, |a| {
        a.siren = Some(Siren::parse(SIREN).unwrap())
    })
    .await;
    env.account("crp.valmont", Role::Crp, |_| {}).await;
    let since = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let year = Utc::now().year();
    let mut batch = WriteBatch::new("test", Utc::now());
    batch.ops = vec![
        WriteOp::EnsureWorker(sample_worker(NIR_A, "DUPONT")),
        WriteOp::AddAttachment {
            nir: Nir::parse(NIR_A).unwrap(),
            siret: Siret::parse(SIRET_A).unwrap(),
            terms: sample_terms(since),
        },
        WriteOp::EnsureWorker(sample_worker(NIR_B, "LAMBERT")),
        WriteOp::AddAttachment {
            nir: Nir::parse(NIR_B).unwrap(),
            siret: Siret::parse(SIRET_B).unwrap(),
            terms: sample_terms(since),
        },
        WriteOp::AddResult {
            sender: Sender::Organisation(Siren::parse("443061841").unwrap()),
            reference: Reference::parse("R-1").unwrap(),
            nir: Nir::parse(NIR_A).unwrap(),
            siret: Siret::parse(SIRET_A).unwrap(),
            nature: Nature::External,
            quantity: Quantity::Hp10,
            position: None,
            values: ResultValues {
                date_debut: NaiveDate::from_ymd_opt(year, 1, 1).unwrap(),
                date_fin: NaiveDate::from_ymd_opt(year, 1, 31).unwrap(),
                statut: ResultStatus::Measured,
                dose_usv: Some(4_321),
                seuil_usv: Some(50),
            },
            justification: None,
        },
    ];
    env.db.store.commit(&batch).await.unwrap();
}

/// The fields of a valid declaration of NIR 1 040 375 012 345… (here: `nir`, `cle`).
fn declaration<'a>(csrf: &'a str, changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("csrf", csrf),
        ("nir", "1850578006084"),
        ("cle", "91"),
        ("nom", "Martin"),
        ("prenom", "Jean-Luc"),
        ("date_naissance", "1985-05-03"),
        ("sexe", "M"),
        ("siret", SIRET_A),
        ("classement", "B"),
        ("autre_exposition", ""),
        ("caractere", "Civil"),
        ("domaine", "100000"),
        ("secteur", "101000"),
        ("metier", "AS"),
        ("nuisance", "EXT"),
        ("contrat", "CDD"),
        ("quotite", "0,5"),
        ("groupe", ""),
        ("date_debut", "2025-01-01"),
        ("date_fin", ""),
    ];
    for (k, v) in changes {
        if let Some(f) = form.iter_mut().find(|(name, _)| name == k) {
            f.1 = v;
        }
    }
    form
}

#[tokio::test]
async fn an_employer_declares_and_ends_attachments_but_never_sees_a_dose_nor_another_company() {
    for db in every_engine().await {
        let env = Env::start(db).await;
        two_companies(&env).await;
        let mut b = Browser::new(&env);
        b.login("chu", PASSWORD).await;

        // Its worker, not the other company's; no dose anywhere.
        let (s, _, html) = b.get("/employeur/travailleurs").await;
        assert_eq!(s, 200);
        assert!(html.contains("DUPONT") && !html.contains("LAMBERT"));
        let csrf = csrf_of(&html);
        let (s, _, html) = b.get("/employeur/travailleurs?q=lambert").await;
        assert_eq!(s, 200);
        assert!(html.contains("Aucun travailleur"));
        let (_, _, html) = b.get("/employeur/travailleurs?etat=termines").await;
        assert!(!html.contains("DUPONT"));
        let year = Utc::now().year().to_string();
        for path in [
            "/employeur/etablissements".to_string(),
            "/employeur/travailleurs".to_string(),
            format!("/employeur/travailleurs/{NIR_A}"),
            "/employeur/travailleurs/nouveau".to_string(),
            "/employeur/designations".to_string(),
            format!("/employeur/bilan?annee={year}"),
        ] {
            let (s, _, html) = b.get(&path).await;
            assert_eq!(s, 200, "{path}");
            assert!(!html.contains("mSv"), "{path} shows a dose");
            assert!(!html.contains("4,32") && !html.contains("4321"), "{path}");
        }
        // The summary counts the worker without showing him: one worker is a small cell.
        let (_, _, html) = b.get(&format!("/employeur/bilan?annee={year}")).await;
        assert!(html.contains("secret") && !html.contains("DUPONT"));

        // Another company's worker: as unknown, for reading and for writing.
        assert_eq!(
            b.get(&format!("/employeur/travailleurs/{NIR_B}")).await.0,
            404
        );
        assert_eq!(b.get("/employeur/travailleurs/pas-un-nir").await.0, 404);
        let other = env
            .db
            .store
            .attachments(&Nir::parse(NIR_B).unwrap())
            .await
            .unwrap()[0]
            .id;
        let path = format!("/employeur/travailleurs/{NIR_B}/rattachements/{other}");
        assert_eq!(b.get(&path).await.0, 404);
        let (s, _, _) = b
            .post(
                &format!("{path}/fin"),
                &[("csrf", &csrf), ("date_fin", "2025-06-30")],
            )
            .await;
        assert_eq!(s, 404);
        let mine = env
            .db
            .store
            .attachments(&Nir::parse(NIR_A).unwrap())
            .await
            .unwrap()[0]
            .id;
        // Its own attachment id under the other worker's NIR is not found either.
        assert_eq!(
            b.get(&format!(
                "/employeur/travailleurs/{NIR_B}/rattachements/{mine}"
            ))
            .await
            .0,
            404
        );
        // The read of the record is journaled, a refused one too.
        let kinds = env.journal_kinds().await;
        assert!(kinds.iter().any(|(k, _)| k == "DOSSIER"));

        // A declaration with errors: per field, with the import's rules.
        let bad = declaration(
            &csrf,
            &[
                ("cle", "92"),
                ("nom", "Mart1n"),
                ("siret", SIRET_B),
                ("secteur", "501000"),
                ("quotite", "2"),
                ("date_fin", "2024-01-01"),
            ],
        );
        let (s, _, html) = b.post("/employeur/travailleurs/nouveau", &bad).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        for field in ["cle", "nom", "metier", "quotite", "date_fin"] {
            assert!(field_error(&html, field).is_some(), "{field}: {html}");
        }
        assert!(html.contains("value=\"Mart1n\""));
        // Valid lines, but another company's establishment.
        let (s, _, html) = b
            .post(
                "/employeur/travailleurs/nouveau",
                &declaration(&csrf, &[("siret", SIRET_B)]),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            field_error(&html, "siret")
                .unwrap()
                .contains("vos établissements")
        );
        // A forged form.
        let (s, _, _) = b
            .post("/employeur/travailleurs/nouveau", &declaration("faux", &[]))
            .await;
        assert_eq!(s, 403);
        // NIR_B is known under another name: his identity is not taken over.
        let (s, _, html) = b
            .post("/employeur/travailleurs/nouveau", &declaration(&csrf, &[]))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            field_error(&html, "nom")
                .unwrap()
                .contains("autre identité")
        );

        // A new worker.
        let fresh = [("nir", "1040375012345"), ("cle", "")];
        let key = format!("{:02}", Nir::parse("1040375012345").unwrap().key());
        let mut form = declaration(&csrf, &fresh);
        form.iter_mut().find(|(k, _)| *k == "cle").unwrap().1 = &key;
        let (s, location, html) = b.post("/employeur/travailleurs/nouveau", &form).await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{html}");
        assert_eq!(location, "/employeur/travailleurs/1040375012345");
        let (s, _, html) = b.get(&location).await;
        assert_eq!(s, 200);
        assert!(html.contains("Catégorie B") && html.contains("50 %"));
        // Declared twice on the same period: refused.
        let (s, _, html) = b.post("/employeur/travailleurs/nouveau", &form).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            field_error(&html, "date_debut")
                .unwrap()
                .contains("déjà rattaché")
        );

        // New terms, then the end: versions 2 and 3, the first ones kept.
        let nir = Nir::parse("1040375012345").unwrap();
        let id = env.db.store.attachments(&nir).await.unwrap()[0].id;
        let edit = format!("{location}/rattachements/{id}");
        let (s, _, html) = b.get(&edit).await;
        assert_eq!(s, 200);
        assert!(html.contains("value=\"0,5\""));
        let mut terms: Vec<(&str, &str)> = declaration(&csrf, &[("classement", "A")])
            .into_iter()
            .filter(|(k, _)| !["nir", "cle", "nom", "prenom", "date_naissance", "sexe"].contains(k))
            .collect();
        let (s, _, _) = b.post(&edit, &terms).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        terms.iter_mut().find(|(k, _)| *k == "quotite").unwrap().1 = "0";
        let (s, _, html) = b.post(&edit, &terms).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(field_error(&html, "quotite").is_some());
        let (s, _, _) = b
            .post(
                &format!("{edit}/fin"),
                &[("csrf", &csrf), ("date_fin", "2024-06-30")],
            )
            .await;
        assert_eq!(
            s,
            StatusCode::UNPROCESSABLE_ENTITY,
            "an end before the start"
        );
        let (s, _, _) = b
            .post(
                &format!("{edit}/fin"),
                &[("csrf", &csrf), ("date_fin", "2025-06-30")],
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let a = &env.db.store.attachments(&nir).await.unwrap()[0];
        assert_eq!(a.versions.len(), 3);
        assert_eq!(
            a.current().unwrap().date_fin,
            NaiveDate::from_ymd_opt(2025, 6, 30)
        );
        assert_eq!(a.versions[0].terms.classement.map(|c| c.code()), Some("B"));
        let (_, _, html) = b.get("/employeur/travailleurs?etat=termines").await;
        assert!(html.contains("MARTIN") || html.contains("Martin"));

        // Designations: a CRP on its establishment, then its end.
        let (s, location, html) = b
            .post(
                "/employeur/designations",
                &[
                    ("csrf", &csrf),
                    ("role", "CRP"),
                    ("login", "crp.valmont"),
                    ("siret", SIRET_A),
                    ("date_debut", "2025-01-01"),
                    ("date_fin", ""),
                ],
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{html}");
        let (_, _, html) = b.get(&location).await;
        assert!(html.contains("crp.valmont") && html.contains("Conseiller en radioprotection"));
        let (s, _, html) = b
            .post(
                "/employeur/designations",
                &[
                    ("csrf", &csrf),
                    ("role", "MDT"),
                    ("login", "crp.valmont"),
                    ("siret", SIRET_A),
                    ("date_debut", "2025-01-01"),
                ],
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(field_error(&html, "login").unwrap().contains("MDT"));
        let d = env.db.store.designations_of("crp.valmont").await.unwrap()[0].clone();
        let (s, _, _) = b
            .post(
                &format!("/employeur/designations/{}/fin", d.id),
                &[("csrf", &csrf), ("date_fin", "2025-12-31")],
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let d = env.db.store.designations_of("crp.valmont").await.unwrap()[0].clone();
        assert_eq!(d.date_fin, NaiveDate::from_ymd_opt(2025, 12, 31));

        // A new establishment of its company; not another company's.
        let (s, _, _) = b
            .post(
                "/employeur/etablissements",
                &[("csrf", &csrf), ("siret", SIRET_A2), ("nom", "Site Sud")],
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let (s, _, html) = b
            .post(
                "/employeur/etablissements",
                &[
                    ("csrf", &csrf),
                    ("siret", "44306184100021"),
                    ("nom", "Ailleurs"),
                ],
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(field_error(&html, "siret").is_some());

        // Other roles are refused the employer's pages.
        env.account("chercheur", Role::Chercheur, |_| {}).await;
        let mut c = Browser::new(&env);
        c.login("chercheur", PASSWORD).await;
        assert_eq!(c.get("/employeur/travailleurs").await.0, 403);
        assert_eq!(c.get("/employeur/bilan").await.0, 403);
    }
}

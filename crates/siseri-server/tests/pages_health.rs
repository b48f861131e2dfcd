//! The pages of occupational physicians, their delegates and advisors, end to end over HTTP
//! on each engine: the followed workers with what is left of each limit, a worker's
//! record as each role may see it (refusals look like unknown workers, inspectors need a
//! mission), the physicians' forms (a new version beside the current one, an estimate, a
//! pregnancy) with their errors and anti-forgery token, the alerts' lifecycle and the
//! delegations.

#![allow(clippy::unwrap_used)]

mod support;

use chrono::{NaiveDate, Utc};
use reqwest::StatusCode;
use siseri_domain::Clock;
use siseri_domain::account::{NewAccount, Role};
use siseri_domain::codes::{Nature, Quantity, ResultStatus, Sex};
use siseri_domain::ids::{Nir, Rpps, Siren, Siret};
use siseri_domain::result::{Reference, ResultValues, Sender};
use siseri_domain::worker::{DesignationRole, NewWorker};
use siseri_storage::testing::{TestDb, sample_terms};
use siseri_storage::{NewDesignation, NewEstablishment, WriteBatch, WriteOp};
use support::web::{self, Env, PASSWORD, Page, csrf_of, day, event};

const CHU: &str = "73282932000074";
const PLANT: &str = "44306184100047";
/// Followed by the physician: an exceedance of 20 mSv in January–February 2025.
const DUPONT: &str = "2951099126111";
/// Followed by the physician, a man, far below every limit.
const MARTIN: &str = "1850578006084";
/// At the plant: followed by the advisor only.
const DURAND: &str = "1780699123456";
const UNKNOWN: &str = "1700175123456";

fn today() -> NaiveDate {
    day(2025, 6, 15)
}

fn worker(nir: &str, nom: &str, prenom: &str, sexe: Sex) -> NewWorker {
    NewWorker {
        nir: Nir::parse(nir).unwrap(),
        nom: nom.into(),
        prenom: prenom.into(),
        date_naissance: day(1985, 5, 7),
        sexe,
    }
}

fn result(reference: &str, nir: &str, siret: &str, month: u32, usv: i64) -> WriteOp {
    let start = day(2025, month, 1);
    let end = start
        .checked_add_months(chrono::Months::new(1))
        .unwrap()
        .pred_opt()
        .unwrap();
    WriteOp::AddResult {
        sender: Sender::Organisation(Siren::parse("443061841").unwrap()),
        reference: Reference::parse(reference).unwrap(),
        nir: Nir::parse(nir).unwrap(),
        siret: Siret::parse(siret).unwrap(),
        nature: Nature::External,
        quantity: Quantity::Hp10,
        position: None,
        values: ResultValues {
            date_debut: start,
            date_fin: end,
            statut: ResultStatus::Measured,
            dose_usv: Some(usv),
            seuil_usv: Some(50),
        },
        justification: None,
    }
}

/// Two establishments, three workers with their results (sums and alerts rebuilt as the
/// demo does), and one account per role of this space, each with a password and TOTP.
async fn start(db: TestDb) -> Env {
    let store = db.store.clone();
    for (s, name, inb) in [(CHU, "CHU de Valmont", false), (PLANT, "Centrale", true)] {
        let e = NewEstablishment {
            siret: Siret::parse(s).unwrap(),
            name: name.into(),
            inb,
            company_name: name.into(),
        };
        store.add_establishment(&e, &event()).await.unwrap();
    }
    let mut b = WriteBatch::new("test", Utc::now());
    for (nir, nom, prenom, sexe, siret) in [
        (DUPONT, "DUPONT", "Marie", Sex::F, CHU),
        (MARTIN, "MARTIN", "Paul", Sex::M, CHU),
        (DURAND, "DURAND", "Luc", Sex::M, PLANT),
    ] {
        b.ops
            .push(WriteOp::EnsureWorker(worker(nir, nom, prenom, sexe)));
        b.ops.push(WriteOp::AddAttachment {
            nir: Nir::parse(nir).unwrap(),
            siret: Siret::parse(siret).unwrap(),
            terms: sample_terms(day(2020, 1, 1)),
        });
    }
    b.ops.push(result("R-1", DUPONT, CHU, 1, 15_000));
    b.ops.push(result("R-2", DUPONT, CHU, 2, 6_000));
    b.ops.push(result("R-3", MARTIN, CHU, 2, 500));
    b.ops.push(result("R-4", DURAND, PLANT, 3, 1_200));
    store.commit(&b).await.unwrap();
    siseri_import::alerts::recompute(store.as_ref(), "test", today())
        .await
        .unwrap();

    let accounts: [(&str, Role, Option<&str>); 8] = [
        ("dr", Role::Mdt, Some("10000000009")),
        ("dr.centrale", Role::Mdt, Some("10100000008")),
        ("inf", Role::ProfessionnelSante, Some("10000000785")),
        ("crp", Role::Crp, None),
        ("insp", Role::AgentControle, None),
        ("employeur", Role::Employeur, None),
        ("travailleur", Role::Travailleur, None),
        ("gestion", Role::Admin, None),
    ];
    for (login, role, rpps) in accounts {
        let mut a = NewAccount::new(login, role);
        a.rpps = rpps.map(|r| Rpps::parse(r).unwrap());
        match role {
            Role::Crp | Role::Employeur => a.siren = Some(Siret::parse(PLANT).unwrap().siren()),
            Role::Travailleur => a.nir = Some(Nir::parse(DUPONT).unwrap()),
            _ => {}
        }
        web::add_account(&db, &a, PASSWORD).await;
        if role.requires_second_factor() {
            store
                .set_totp(login, &secret(login), &[], &event())
                .await
                .unwrap();
        }
    }
    for (login, role, siret) in [
        ("dr", DesignationRole::Physician, CHU),
        ("dr.centrale", DesignationRole::Physician, PLANT),
        ("crp", DesignationRole::Advisor, PLANT),
    ] {
        let d = NewDesignation {
            login: login.into(),
            role,
            siret: Siret::parse(siret).unwrap(),
            date_debut: day(2020, 1, 1),
            date_fin: None,
        };
        store.add_designation(&d, &event()).await.unwrap();
    }

    Env::start_at(db, Clock::Fixed(today())).await
}

/// A valid base32 TOTP secret per login.
fn secret(login: &str) -> String {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    login
        .bytes()
        .cycle()
        .take(32)
        .enumerate()
        .map(|(i, b)| char::from(alphabet[(usize::from(b) + i) % 32]))
        .collect()
}

type Browser<'a> = web::Browser<'a, Page>;

/// Logs in through the pages: password, then the TOTP code when the role needs one.
async fn logged_in<'a>(env: &'a Env, login: &str) -> Browser<'a> {
    let role = env
        .db
        .store
        .account(login)
        .await
        .unwrap()
        .unwrap()
        .spec
        .role;
    let secret = role.requires_second_factor().then(|| secret(login));
    Browser::logged_in(env, login, PASSWORD, secret.as_deref()).await
}

impl Browser<'_> {
    /// The page's anti-forgery token.
    async fn csrf(&mut self, path: &str) -> String {
        csrf_of(&self.get(path).await.html)
    }
}

async fn envs() -> Vec<Env> {
    web::each_engine(start).await
}

/// The id of the result of `reference`.
async fn result_id(env: &Env, nir: &str, reference: &str) -> i64 {
    env.db
        .store
        .results(&Nir::parse(nir).unwrap())
        .await
        .unwrap()
        .iter()
        .find(|r| r.reference.as_str() == reference)
        .unwrap()
        .id
}

async fn alert_id(env: &Env) -> i64 {
    env.db.store.all_alerts().await.unwrap()[0].id
}

#[tokio::test]
async fn followed_workers_and_records_as_each_role_may_see_them() {
    for env in envs().await {
        let mut dr = logged_in(&env, "dr").await;
        let p = dr.get("/suivi").await;
        assert_eq!(p.status, 200, "{}", p.html);
        assert!(p.html.contains("Travailleurs suivis"));
        assert!(p.html.contains("DUPONT Marie") && p.html.contains("MARTIN Paul"));
        assert!(!p.html.contains("DURAND"), "not followed");
        // 21 mSv over the 12 months to June 2025: 1 mSv over the 20 mSv limit.
        assert!(p.html.contains("21,00\u{a0}mSv"), "{}", p.html);
        assert!(p.html.contains("dépassée de 1,00\u{a0}mSv"));
        assert!(
            p.html.contains("reste 19,50\u{a0}mSv (98\u{a0}%)"),
            "Martin"
        );
        assert!(
            p.html.contains("reste 500,00\u{a0}mSv (100\u{a0}%)"),
            "skin"
        );
        let p = dr.get("/suivi?alerte=oui").await;
        assert!(p.html.contains("DUPONT") && !p.html.contains("MARTIN Paul"));
        let p = dr.get("/suivi?q=martin").await;
        assert!(!p.html.contains("DUPONT Marie") && p.html.contains("MARTIN Paul"));
        let p = dr.get("/suivi?categorie=B").await;
        assert!(p.html.contains("Aucun travailleur"));

        // The record: identity, totals, limits, alerts, results with their versions.
        let p = dr.get(&format!("/travailleurs/{DUPONT}")).await;
        assert_eq!(p.status, 200, "{}", p.html);
        for text in [
            "Dossier de DUPONT Marie",
            "CHU de Valmont",
            "Alerte n°",
            "Dose efficace sur 12 mois",
            "15,00\u{a0}mSv",
            "Ajouter un résultat",
            "/resultats/",
        ] {
            assert!(p.html.contains(text), "{text}: {}", p.html);
        }
        let p = dr.get(&format!("/travailleurs/{DUPONT}?au=2025-01")).await;
        assert!(p.html.contains("Totaux au 01/2025"));
        assert_eq!(
            dr.get(&format!("/travailleurs/{DUPONT}?au=2025-13"))
                .await
                .status,
            400
        );
        // Not followed, unknown or malformed: the same 404 page.
        let hidden = dr.get(&format!("/travailleurs/{DURAND}")).await;
        let unknown = dr.get(&format!("/travailleurs/{UNKNOWN}")).await;
        assert_eq!(
            (hidden.status, unknown.status),
            (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND)
        );
        assert_eq!(hidden.html, unknown.html);
        assert_eq!(dr.get("/travailleurs/abc").await.status, 404);
        let journal = env.db.store.journal_page(0, 10_000).await.unwrap();
        assert!(journal.iter().any(|e| e.event.actor == "dr"
            && e.event.action == "LECTURE"
            && e.event.data_kind == "DOSSIER"));
        assert!(journal.iter().any(|e| e.event.actor == "dr"
            && e.event.data_kind == "LISTE_SUIVI"
            && e.event.worker_ids.len() == 2));
        assert!(
            journal
                .iter()
                .any(|e| e.event.actor == "dr" && e.event.action == "LECTURE_REFUSEE")
        );

        // The advisor: the plant's worker, external doses of his periods, no estimate form.
        let mut crp = logged_in(&env, "crp").await;
        let p = crp.get("/suivi").await;
        assert_eq!(p.status, 200, "{}", p.html);
        assert!(p.html.contains("DURAND Luc") && !p.html.contains("DUPONT"));
        assert!(p.html.contains("Indicateurs"));
        let p = crp.get(&format!("/travailleurs/{DURAND}")).await;
        assert_eq!(p.status, 200);
        assert!(p.html.contains("1,20\u{a0}mSv") && p.html.contains("autres contributions"));
        assert!(!p.html.contains("Ajouter un résultat"));
        assert_eq!(
            crp.get(&format!("/travailleurs/{DUPONT}")).await.status,
            404
        );

        // An inspector states a mission first.
        let mut insp = logged_in(&env, "insp").await;
        let p = insp.get(&format!("/travailleurs/{DUPONT}")).await;
        assert_eq!(p.status, 403);
        assert!(p.html.contains("href=\"/controle\""), "{}", p.html);
        insp.cookies
            .insert("siseri_mission".into(), "MISSION-2025-42".into());
        let p = insp.get(&format!("/travailleurs/{DUPONT}")).await;
        assert_eq!(p.status, 200, "{}", p.html);
        assert!(!p.html.contains("Ajouter un résultat"));
        let p = insp
            .get(&format!("/alertes/{}", alert_id(&env).await))
            .await;
        assert_eq!(p.status, 200, "{}", p.html);
        assert!(p.html.contains("21,00\u{a0}mSv") && !p.html.contains("Faire avancer"));

        // Roles that follow nobody.
        let mut employer = logged_in(&env, "employeur").await;
        assert_eq!(employer.get("/suivi").await.status, 403);
        assert_eq!(employer.get("/alertes").await.status, 403);
        assert_eq!(employer.get("/delegations").await.status, 403);
        assert_eq!(
            employer
                .get(&format!("/travailleurs/{DUPONT}"))
                .await
                .status,
            404
        );
    }
}

#[tokio::test]
async fn physicians_correct_add_and_declare_through_the_forms() {
    for env in envs().await {
        let mut dr = logged_in(&env, "dr").await;
        let id = result_id(&env, DUPONT, "R-1").await;
        let path = format!("/resultats/{id}/version");
        let p = dr.get(&path).await;
        assert_eq!(p.status, 200, "{}", p.html);
        assert!(p.html.contains("Version actuelle") && p.html.contains("15,00\u{a0}mSv"));
        assert!(
            p.html.contains("value=\"15\""),
            "the dose to correct, in mSv"
        );
        let csrf = csrf_of(&p.html);

        // A forged form, a missing justification, a bad date: nothing is written.
        let p = dr
            .post(
                &path,
                &[
                    ("csrf", "faux"),
                    ("statut", "MESURE"),
                    ("dose", "4"),
                    ("justification", "x"),
                ],
            )
            .await;
        assert_eq!(p.status, 403);
        let p = dr
            .post(
                &path,
                &[
                    ("csrf", &csrf),
                    ("statut", "MESURE"),
                    ("dose", "4,5"),
                    ("justification", "  "),
                ],
            )
            .await;
        assert_eq!(p.status, 422, "{}", p.html);
        assert!(p.html.contains("fr-input-group--error"));
        assert!(p.html.contains("aria-describedby=\"justification-erreur\""));
        assert!(
            p.html.contains("href=\"#justification\""),
            "the summary links to the field"
        );
        assert!(p.html.contains("value=\"4,5\""), "what was typed is kept");
        let p = dr
            .post(
                &path,
                &[
                    ("csrf", &csrf),
                    ("statut", "MESURE"),
                    ("dose", "4"),
                    ("date_fin", "2024-12-01"),
                    ("justification", "relecture"),
                ],
            )
            .await;
        assert_eq!(p.status, 422, "{}", p.html);
        assert!(p.html.contains("id=\"date_fin-erreur\""), "{}", p.html);
        let p = dr
            .post(
                &path,
                &[
                    ("csrf", &csrf),
                    ("statut", "MESURE"),
                    ("justification", "sans dose"),
                ],
            )
            .await;
        assert_eq!(p.status, 422);
        assert!(p.html.contains("id=\"dose-erreur\""), "{}", p.html);

        // The correction: a new version, the old one in the history, the totals follow.
        let p = dr
            .post(
                &path,
                &[
                    ("csrf", &csrf),
                    ("statut", "MESURE"),
                    ("dose", "4"),
                    (
                        "justification",
                        "Dosimètre exposé hors du poste de travail.",
                    ),
                ],
            )
            .await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
        assert_eq!(
            p.location,
            format!("/travailleurs/{DUPONT}?ok=version#resultat-{id}")
        );
        let p = dr.get(&format!("/travailleurs/{DUPONT}?ok=version")).await;
        assert!(
            p.html
                .contains("La nouvelle version du résultat a été enregistrée")
        );
        assert!(p.html.contains("Version 2 — voir l’historique"));
        assert!(
            p.html
                .contains("Dosimètre exposé hors du poste de travail.")
        );
        assert!(
            p.html.contains("reste 10,00\u{a0}mSv (50\u{a0}%)"),
            "{}",
            p.html
        );
        let p = dr
            .get(&format!("/travailleurs/{DUPONT}?ok=%3Cscript%3E"))
            .await;
        assert!(!p.html.contains("<script>alert"));

        // An estimate.
        let new = format!("/travailleurs/{DUPONT}/resultats/nouveau");
        let p = dr.get(&new).await;
        assert_eq!(p.status, 200);
        let csrf = csrf_of(&p.html);
        let p = dr
            .post(
                &new,
                &[
                    ("csrf", &csrf),
                    ("nature", "ESTIMATION_MDT"),
                    ("grandeur", "HP10"),
                    ("position", ""),
                    ("statut", "MESURE"),
                    ("date_debut", "2025-04-01"),
                    ("date_fin", "2025-03-31"),
                    ("dose", "1,5"),
                    ("justification", "Dosimètre perdu"),
                ],
            )
            .await;
        assert_eq!(p.status, 422);
        assert!(p.html.contains("id=\"date_fin-erreur\""), "{}", p.html);
        let p = dr
            .post(
                &new,
                &[
                    ("csrf", &csrf),
                    ("nature", "ESTIMATION_MDT"),
                    ("grandeur", "HP10"),
                    ("position", ""),
                    ("statut", "MESURE"),
                    ("date_debut", "01/04/2025"),
                    ("date_fin", "30/04/2025"),
                    ("dose", "1,5"),
                    ("justification", "Dosimètre perdu"),
                ],
            )
            .await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
        let p = dr.get(&format!("/travailleurs/{DUPONT}")).await;
        assert!(p.html.contains("Estimation du médecin") && p.html.contains("1,50\u{a0}mSv"));

        // A pregnancy, for a woman only.
        let preg = format!("/travailleurs/{DUPONT}/grossesse");
        let csrf = dr.csrf(&preg).await;
        let p = dr
            .post(
                &preg,
                &[
                    ("csrf", &csrf),
                    ("action", "declarer"),
                    ("date", "2025-05-02"),
                    ("justification", "Déclaration de la salariée"),
                ],
            )
            .await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
        let p = dr.get(&format!("/travailleurs/{DUPONT}")).await;
        assert!(p.html.contains("Déclarée le 02/05/2025") && p.html.contains("Enfant à naître"));
        assert_eq!(
            dr.get(&format!("/travailleurs/{MARTIN}/grossesse"))
                .await
                .status,
            422
        );

        // Everything written is journaled as the API does it.
        let journal = env.db.store.journal_page(0, 10_000).await.unwrap();
        for kind in ["RESULTAT", "GROSSESSE"] {
            assert!(journal.iter().any(|e| e.event.actor == "dr"
                && e.event.action == "ECRITURE"
                && e.event.data_kind == kind));
        }

        // Others may not write: the forms are not found.
        let mut crp = logged_in(&env, "crp").await;
        let durand = result_id(&env, DURAND, "R-4").await;
        assert_eq!(
            crp.get(&format!("/resultats/{durand}/version"))
                .await
                .status,
            404
        );
        assert_eq!(
            crp.get(&format!("/resultats/{id}/version")).await.status,
            404
        );
    }
}

#[tokio::test]
async fn alerts_move_along_their_lifecycle_and_delegations_are_given_and_revoked() {
    for env in envs().await {
        let mut dr = logged_in(&env, "dr").await;
        let alert = alert_id(&env).await;
        let p = dr.get("/alertes").await;
        assert_eq!(p.status, 200, "{}", p.html);
        assert!(p.html.contains(&format!("Alerte n° {alert}")) && p.html.contains("DUPONT Marie"));
        assert!(
            dr.get("/alertes?statut=CONFIRMEE")
                .await
                .html
                .contains("Aucune alerte")
        );
        let path = format!("/alertes/{alert}");
        let p = dr.get(&path).await;
        assert_eq!(p.status, 200);
        assert!(p.html.contains("value=\"EN_ANALYSE\"") && !p.html.contains("value=\"CONFIRMEE\""));
        let csrf = csrf_of(&p.html);
        let steps = format!("/alertes/{alert}/etapes");
        assert_eq!(
            dr.post(
                &steps,
                &[("csrf", "faux"), ("statut", "EN_ANALYSE"), ("texte", "x")]
            )
            .await
            .status,
            403
        );
        let p = dr
            .post(
                &steps,
                &[
                    ("csrf", &csrf),
                    ("statut", "CONFIRMEE"),
                    ("texte", "trop tôt"),
                ],
            )
            .await;
        assert_eq!(p.status, StatusCode::CONFLICT, "{}", p.html);
        assert!(p.html.contains("Transition refusée"));
        let p = dr
            .post(
                &steps,
                &[("csrf", &csrf), ("statut", "EN_ANALYSE"), ("texte", "")],
            )
            .await;
        assert_eq!(p.status, 422);
        assert!(p.html.contains("id=\"texte-erreur\""), "{}", p.html);
        let p = dr
            .post(
                &steps,
                &[
                    ("csrf", &csrf),
                    ("statut", "EN_ANALYSE"),
                    ("texte", "Entretien avec le salarié prévu."),
                ],
            )
            .await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
        let p = dr.get(&format!("{path}?ok=etape")).await;
        assert!(p.html.contains("L’alerte a changé de statut"));
        assert!(p.html.contains("Entretien avec le salarié prévu."));
        assert!(p.html.contains("value=\"CONFIRMEE\"") && !p.html.contains("value=\"EN_ANALYSE\""));

        // The delegation: given, used by the nurse (who may not conclude), revoked.
        let p = dr.get("/delegations").await;
        assert_eq!(p.status, 200);
        let csrf = csrf_of(&p.html);
        assert_eq!(
            dr.post(
                "/delegations",
                &[("csrf", "faux"), ("login", "inf"), ("droits", "ecriture")]
            )
            .await
            .status,
            403
        );
        let p = dr
            .post(
                "/delegations",
                &[
                    ("csrf", &csrf),
                    ("login", "personne"),
                    ("droits", "ecriture"),
                ],
            )
            .await;
        assert_eq!(p.status, 422);
        assert!(p.html.contains("Aucun compte de professionnel de santé"));
        assert!(p.html.contains("value=\"personne\""));
        let p = dr
            .post(
                "/delegations",
                &[("csrf", &csrf), ("login", "inf"), ("droits", "ecriture")],
            )
            .await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
        let p = dr.get("/delegations?ok=delegation").await;
        assert!(p.html.contains("inf") && p.html.contains("Lecture et écriture"));

        let mut inf = logged_in(&env, "inf").await;
        let p = inf.get("/delegations").await;
        assert!(p.html.contains("dr") && p.html.contains("Délégations reçues"));
        let p = inf.get("/suivi").await;
        assert!(p.html.contains("DUPONT Marie"));
        let p = inf.get(&path).await;
        assert_eq!(p.status, 200);
        assert!(
            !p.html.contains("value=\"CONFIRMEE\""),
            "a delegate does not conclude"
        );
        assert!(
            inf.get(&format!("/travailleurs/{DUPONT}"))
                .await
                .html
                .contains("Corriger")
        );

        let delegation = env.db.store.delegations_from("dr").await.unwrap()[0].id;
        let p = dr
            .post(
                &format!("/delegations/{delegation}/revocation"),
                &[("csrf", &csrf)],
            )
            .await;
        assert_eq!(p.status, StatusCode::SEE_OTHER);
        assert!(dr.get("/delegations").await.html.contains("Révoquée"));
        assert_eq!(
            inf.get(&format!("/travailleurs/{DUPONT}")).await.status,
            404
        );
        // Another physician cannot revoke it (nor see it).
        let mut other = logged_in(&env, "dr.centrale").await;
        let csrf = other.csrf("/delegations").await;
        assert_eq!(
            other
                .post(
                    &format!("/delegations/{delegation}/revocation"),
                    &[("csrf", &csrf)]
                )
                .await
                .status,
            404
        );
        assert_eq!(other.get(&path).await.status, 404);
    }
}

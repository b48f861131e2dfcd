//! The worker's pages (his doses, the CSV history, who read his record, his designated
//! doctor) and the inspector's search under a mission, over HTTP on each engine, logging
//! in through the pages (with the second factor for the inspector).

#![allow(clippy::unwrap_used)]

mod support;

use chrono::{NaiveDate, Utc};
use reqwest::StatusCode;
use siseri_domain::Clock;
use siseri_domain::account::{NewAccount, Role};
use siseri_domain::codes::{Nature, Quantity, ResultStatus};
use siseri_domain::ids::{Nir, Rpps, Siren, Siret};
use siseri_domain::result::{Reference, ResultValues, Sender};
use siseri_domain::totals::Month;
use siseri_domain::worker::DesignationRole;
use siseri_storage::testing::{TestDb, every_engine, sample_terms, sample_worker};
use siseri_storage::{NewDesignation, NewEstablishment, WriteBatch, WriteOp};
use support::web::{self, Env, PASSWORD, Page, csrf_of, event};

const SIRET_A: &str = "73282932000074";
const SIRET_B: &str = "44306184100047";
const NIR: &str = "2951099126111";
const OTHER_NIR: &str = "1850578006084";
const TOTP_SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
const MDT_RPPS: &str = "10000000009";
const DOCTOR_RPPS: &str = "10100000008";

/// Sets an account's scope before it is created.
type Configure = dyn Fn(&mut NewAccount);

fn values(m: Month, statut: ResultStatus, dose: Option<i64>) -> ResultValues {
    ResultValues {
        date_debut: m.first_day(),
        date_fin: m.last_day(),
        statut,
        dose_usv: dose,
        seuil_usv: Some(50),
    }
}

fn result(reference: &str, nir: &str, v: ResultValues) -> WriteOp {
    WriteOp::AddResult {
        sender: Sender::Organisation(Siren::parse("443061841").unwrap()),
        reference: Reference::parse(reference).unwrap(),
        nir: Nir::parse(nir).unwrap(),
        siret: Siret::parse(SIRET_A).unwrap(),
        nature: Nature::External,
        quantity: Quantity::Hp10,
        position: None,
        values: v,
        justification: None,
    }
}

/// Two establishments; two workers of A with their results (one corrected, one below the
/// threshold, one missing for him; a large dose for the other); his account, the other's,
/// an MDT of A, a doctor, an employer and an inspector (with a second factor).
async fn registry(db: TestDb) -> Env {
    let env = Env::start(db).await;
    let store = &env.db.store;
    for (s, name) in [(SIRET_A, "Radiographie du Rhône"), (SIRET_B, "Centrale")] {
        let e = NewEstablishment {
            siret: Siret::parse(s).unwrap(),
            name: name.into(),
            inb: false,
            company_name: name.into(),
        };
        store.add_establishment(&e, &event()).await.unwrap();
    }
    let now = Month::of(Clock::System.today());
    let since = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
    let mut b = WriteBatch::new("test", Utc::now());
    b.ops = vec![
        WriteOp::EnsureWorker(sample_worker(NIR, "DUPONT")),
        WriteOp::AddAttachment {
            nir: Nir::parse(NIR).unwrap(),
            siret: Siret::parse(SIRET_A).unwrap(),
            terms: sample_terms(since),
        },
        WriteOp::EnsureWorker(sample_worker(OTHER_NIR, "MARTIN")),
        WriteOp::AddAttachment {
            nir: Nir::parse(OTHER_NIR).unwrap(),
            siret: Siret::parse(SIRET_A).unwrap(),
            terms: sample_terms(since),
        },
        result(
            "LAB-A1",
            NIR,
            values(now.plus(-3), ResultStatus::Measured, Some(1_250)),
        ),
        result(
            "LAB-A2",
            NIR,
            values(now.plus(-2), ResultStatus::BelowThreshold, None),
        ),
        result(
            "LAB-A3",
            NIR,
            values(now.plus(-1), ResultStatus::Absent, None),
        ),
        result(
            "LAB-B1",
            OTHER_NIR,
            values(now.plus(-2), ResultStatus::Measured, Some(7_777)),
        ),
    ];
    store.commit(&b).await.unwrap();
    let first = store
        .results(&Nir::parse(NIR).unwrap())
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.reference.as_str() == "LAB-A1")
        .unwrap();
    let mut b = WriteBatch::new("test", Utc::now());
    b.ops = vec![WriteOp::AddResultVersion {
        result_id: first.id,
        after_version: 1,
        values: values(now.plus(-3), ResultStatus::Measured, Some(1_500)),
        justification: Some("erreur de saisie du laboratoire".into()),
    }];
    store.commit(&b).await.unwrap();
    // Results written directly: build their monthly sums as an import would.
    siseri_import::alerts::recompute(store.as_ref(), "test", Clock::System.today())
        .await
        .unwrap();

    let accounts: Vec<(&str, Role, Box<Configure>)> = vec![
        (
            "camille",
            Role::Travailleur,
            Box::new(|a| a.nir = Some(Nir::parse(NIR).unwrap())),
        ),
        (
            "autre",
            Role::Travailleur,
            Box::new(|a| a.nir = Some(Nir::parse(OTHER_NIR).unwrap())),
        ),
        (
            "dr.a",
            Role::Mdt,
            Box::new(|a| a.rpps = Some(Rpps::parse(MDT_RPPS).unwrap())),
        ),
        (
            "dr.b",
            Role::Mdt,
            Box::new(|a| a.rpps = Some(Rpps::parse("10000000017").unwrap())),
        ),
        (
            "docteur",
            Role::MedecinDesigne,
            Box::new(|a| a.rpps = Some(Rpps::parse(DOCTOR_RPPS).unwrap())),
        ),
        (
            "rh.a",
            Role::Employeur,
            Box::new(|a| a.siren = Some(Siren::parse("732829320").unwrap())),
        ),
        ("inspecteur", Role::AgentControle, Box::new(|_| {})),
    ];
    for (login, role, configure) in accounts {
        let mut a = NewAccount::new(login, role);
        configure(&mut a);
        web::add_account(&env.db, &a, PASSWORD).await;
    }
    store
        .set_totp("inspecteur", TOTP_SECRET, &[], &event())
        .await
        .unwrap();
    for (login, siret) in [("dr.a", SIRET_A), ("dr.b", SIRET_B)] {
        let d = NewDesignation {
            login: login.into(),
            role: DesignationRole::Physician,
            siret: Siret::parse(siret).unwrap(),
            date_debut: since,
            date_fin: None,
        };
        store.add_designation(&d, &event()).await.unwrap();
    }
    env
}

type Browser<'a> = web::Browser<'a, Page>;

/// Logs in through the pages (and the second factor of the inspector, the only account
/// with one).
async fn logged_in<'a>(env: &'a Env, login: &str) -> Browser<'a> {
    let secret = (login == "inspecteur").then_some(TOTP_SECRET);
    Browser::logged_in(env, login, PASSWORD, secret).await
}

impl Browser<'_> {
    /// The session's anti-forgery token, from a page.
    async fn csrf(&mut self) -> String {
        csrf_of(&self.get("/compte").await.html)
    }
}

async fn worker_id(env: &Env, nir: &str) -> i64 {
    env.db
        .store
        .worker(&Nir::parse(nir).unwrap())
        .await
        .unwrap()
        .unwrap()
        .id
}

#[tokio::test]
async fn the_worker_sees_his_doses_chart_results_and_history_and_nothing_of_another() {
    for db in every_engine().await {
        let env = registry(db).await;
        let anonymous = Browser::new(&env).get("/mes-doses").await;
        assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
        assert_eq!(anonymous.location, "/connexion");

        let mut b = logged_in(&env, "camille").await;
        let page = b.get("/mes-doses").await;
        assert_eq!(page.status, 200);
        let html = &page.html;
        assert!(html.contains("<h1>Mes doses</h1>"));
        assert!(html.contains("Camille DUPONT"));
        // The chart, drawn on the server, described for screen readers, with its table.
        assert!(html.contains("<svg class=\"siseri-chart\" viewBox="));
        assert!(html.contains("role=\"img\"") && html.contains("<title id=\"graphique-titre\">"));
        assert!(html.contains("Afficher les valeurs du graphique sous forme de tableau"));
        assert!(!html.contains("style="), "no inline style (CSP)");
        assert!(!html.contains("<script>"), "no inline script (CSP)");
        // Totals from the monthly sums: 1.5 mSv (the corrected value), incomplete (ABSENCE).
        assert!(
            html.contains("<p class=\"fr-callout__title\">1,50\u{a0}mSv</p>"),
            "rolling total from the monthly sums"
        );
        assert!(html.contains("Incomplet"));
        assert!(html.contains("Dose efficace par année civile"));
        // Every result, with its history.
        for text in [
            "LAB-A1",
            "LAB-A2",
            "LAB-A3",
            "&lt; seuil",
            "absence",
            "n° 2",
        ] {
            assert!(html.contains(text), "{text}");
        }
        assert!(
            html.contains("erreur de saisie du laboratoire"),
            "version history"
        );
        assert!(html.contains("1,25\u{a0}mSv"), "the first version's value");
        assert!(html.contains("Centrale (SIREN 443061841)"), "sender's name");
        // Missing results and the PDF to come.
        assert!(html.contains("Résultats manquants") && html.contains("Résultat absent"));
        assert!(html.contains("attestation au format PDF"));
        // Never the other worker's data.
        for text in ["LAB-B1", "7,777", "MARTIN", OTHER_NIR] {
            assert!(!html.contains(text), "{text} must not show");
        }
        // Search within the results.
        let found = b.get("/mes-doses?q=LAB-A2").await.html;
        assert!(found.contains("LAB-A2") && !found.contains("LAB-A1"));

        // The CSV history.
        let csv = b.get("/mes-doses/historique.csv").await;
        assert_eq!(csv.status, 200);
        assert!(
            csv.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/csv")
        );
        assert!(
            csv.headers["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("attachment")
        );
        assert!(csv.html.starts_with(
            "\u{feff}Référence;Nature;Grandeur;Position;Date de début;Date de fin;Statut;Dose (µSv);Dose (mSv);Seuil (µSv);Émetteur;SIRET;Version\r\n"
        ));
        let line = csv.html.lines().find(|l| l.starts_with("LAB-A1;")).unwrap();
        assert!(
            line.contains(";1500;1,500;50;Centrale (SIREN 443061841);73282932000074;2"),
            "{line}"
        );
        let fields: Vec<&str> = line.split(';').collect();
        assert_eq!(fields[4].len(), 10);
        assert_eq!(&fields[4][2..3], "/", "dates dd/mm/yyyy: {line}");
        assert!(!csv.html.contains("LAB-B1"));
        // The page and the export are journaled as reads of his record.
        let id = worker_id(&env, NIR).await;
        let journal = env.db.store.journal_page(0, 10_000).await.unwrap();
        let reads = journal
            .iter()
            .filter(|e| {
                e.event.actor == "camille"
                    && e.event.action == "LECTURE"
                    && e.event.data_kind == "DOSSIER"
                    && e.event.worker_ids == vec![id]
            })
            .count();
        assert!(reads >= 3, "{reads} reads journaled");

        // The other worker sees his own only; other roles are refused.
        let mut other = logged_in(&env, "autre").await;
        let html = other.get("/mes-doses").await.html;
        assert!(html.contains("LAB-B1") && html.contains("7,777\u{a0}mSv"));
        assert!(!html.contains("LAB-A1") && !html.contains("DUPONT"));
        let mut employer = logged_in(&env, "rh.a").await;
        for path in [
            "/mes-doses",
            "/mes-doses/historique.csv",
            "/mes-doses/consultations",
            "/mes-doses/medecin",
        ] {
            let a = employer.get(path).await;
            assert_eq!(a.status, StatusCode::FORBIDDEN, "{path}");
            assert!(!a.html.contains("LAB-"));
        }
    }
}

/// Cells a spreadsheet would run as formulas are neutralised in the CSV history (issue 12,
/// item 8): a sender's REFERENCE may begin with `-`, a company's name with anything.
#[tokio::test]
async fn the_history_csv_neutralises_formulas() {
    for db in every_engine().await {
        let env = registry(db).await;
        let store = &env.db.store;
        let hostile = NewEstablishment {
            siret: Siret::parse("55210055400013").unwrap(),
            name: "Labo".into(),
            inb: false,
            company_name: "=HYPERLINK(\"http://evil.example/\";\"Labo\")".into(),
        };
        store.add_establishment(&hostile, &event()).await.unwrap();
        let mut op = result(
            "-2025/001",
            NIR,
            values(
                Month::of(Clock::System.today()).plus(-4),
                ResultStatus::Measured,
                Some(10),
            ),
        );
        if let WriteOp::AddResult { sender, .. } = &mut op {
            *sender = Sender::Organisation(Siren::parse("552100554").unwrap());
        }
        let mut b = WriteBatch::new("test", Utc::now());
        b.ops = vec![op];
        store.commit(&b).await.unwrap();

        let mut b = logged_in(&env, "camille").await;
        let csv = b.get("/mes-doses/historique.csv").await;
        assert_eq!(csv.status, 200);
        let line = csv
            .html
            .lines()
            .find(|l| l.contains("-2025/001"))
            .unwrap_or_else(|| panic!("{}", csv.html));
        assert!(line.starts_with("'-2025/001;"), "{line}");
        assert!(
            line.contains(
                ";\"'=HYPERLINK(\"\"http://evil.example/\"\";\"\"Labo\"\") (SIREN 552100554)\";"
            ),
            "{line}"
        );
        // No cell begins with a formula character (none of these cells is quoted but the
        // name, which starts with its quote then `'`).
        for cell in csv.html.lines().flat_map(|l| l.split(';')) {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{cell:?} in {}",
                csv.html
            );
        }
    }
}

#[tokio::test]
async fn the_worker_sees_who_read_his_record() {
    for db in every_engine().await {
        let env = registry(db).await;
        // dr.a follows him and reads his record through the API; dr.b does not follow
        // him: his read is refused, and not shown to the worker.
        for (login, expected) in [("dr.a", 200), ("dr.b", 404)] {
            let token = env.token(login).await;
            let r = env
                .http
                .get(format!("{}/api/v1/travailleurs/{NIR}", env.base))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), expected, "{login}");
        }
        let mut b = logged_in(&env, "camille").await;
        let page = b.get("/mes-doses/consultations").await;
        assert_eq!(page.status, 200);
        let html = &page.html;
        assert!(html.contains("<h1>Qui a consulté mon dossier</h1>"));
        assert!(
            html.contains("<td>dr.a</td><td>Médecin du travail</td>"),
            "{html}"
        );
        assert!(!html.contains("dr.b"), "refused reads are not shown");
        assert!(html.contains("<caption>"));
        // Search.
        let found = b.get("/mes-doses/consultations?q=zzz").await.html;
        assert!(!found.contains("<td>dr.a</td>") && found.contains("Aucune consultation"));
        // Reading the list is itself journaled.
        let id = worker_id(&env, NIR).await;
        let journal = env.db.store.journal_page(0, 10_000).await.unwrap();
        assert!(journal.iter().any(|e| e.event.actor == "camille"
            && e.event.data_kind == "JOURNAL"
            && e.event.worker_ids == vec![id]));
    }
}

#[tokio::test]
async fn the_worker_designates_and_revokes_a_doctor_by_rpps() {
    for db in every_engine().await {
        let env = registry(db).await;
        let mut b = logged_in(&env, "camille").await;
        let page = b.get("/mes-doses/medecin").await;
        assert_eq!(page.status, 200);
        assert!(page.html.contains("Vous n’avez désigné aucun médecin"));
        let csrf = csrf_of(&page.html);

        // A forged form is refused.
        let a = b
            .post(
                "/mes-doses/medecin",
                &[("csrf", "faux"), ("rpps", DOCTOR_RPPS)],
            )
            .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN);
        // Bad numbers: a clear French error tied to the field.
        for (rpps, message) in [
            ("123", "comporte exactement 11 chiffres"),
            ("10000000008", "clé de contrôle ne correspond pas"),
            (
                MDT_RPPS,
                "Aucun médecin inscrit à SISERI ne porte ce numéro RPPS",
            ),
            ("", "Saisissez le numéro RPPS"),
        ] {
            let a = b
                .post("/mes-doses/medecin", &[("csrf", &csrf), ("rpps", rpps)])
                .await;
            assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{rpps}");
            assert!(a.html.contains(message), "{rpps}: {}", a.html);
            assert!(a.html.contains("fr-input-group--error"));
            assert!(a.html.contains("aria-describedby=\"rpps-erreur\""));
            assert!(a.html.contains("id=\"rpps-erreur\""));
        }
        assert!(
            env.db
                .store
                .grants_on(&Nir::parse(NIR).unwrap())
                .await
                .unwrap()
                .is_empty()
        );

        // The doctor's RPPS (spaces allowed) designates him.
        let a = b
            .post(
                "/mes-doses/medecin",
                &[("csrf", &csrf), ("rpps", "101 0000 0008")],
            )
            .await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.html);
        assert_eq!(a.location, "/mes-doses/medecin?fait=designe");
        let html = b.get(&a.location).await.html;
        assert!(html.contains("Le médecin est désigné"));
        assert!(html.contains("<td>docteur</td>") && html.contains("En cours"));
        let grants = env
            .db
            .store
            .grants_on(&Nir::parse(NIR).unwrap())
            .await
            .unwrap();
        assert_eq!(grants.len(), 1);
        assert_eq!(grants[0].doctor_login, "docteur");
        // Twice is refused.
        let a = b
            .post(
                "/mes-doses/medecin",
                &[("csrf", &csrf), ("rpps", DOCTOR_RPPS)],
            )
            .await;
        assert!(a.html.contains("déjà désigné"));

        // Another worker cannot revoke it; he can.
        let mut other = logged_in(&env, "autre").await;
        let other_csrf = other.csrf().await;
        let path = format!("/mes-doses/medecin/{}/revocation", grants[0].id);
        assert_eq!(
            other.post(&path, &[("csrf", &other_csrf)]).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            b.post(&path, &[("csrf", "faux")]).await.status,
            StatusCode::FORBIDDEN
        );
        let a = b.post(&path, &[("csrf", &csrf)]).await;
        assert_eq!(a.location, "/mes-doses/medecin?fait=revoque");
        let grants = env
            .db
            .store
            .grants_on(&Nir::parse(NIR).unwrap())
            .await
            .unwrap();
        assert!(grants[0].revoked_at.is_some());
        assert!(b.get("/mes-doses/medecin").await.html.contains("Révoquée"));
        let journal = env.db.store.journal_page(0, 10_000).await.unwrap();
        let writes = journal
            .iter()
            .filter(|e| e.event.actor == "camille" && e.event.data_kind == "MEDECIN_DESIGNE")
            .count();
        assert_eq!(writes, 2, "designation and revocation journaled");
    }
}

#[tokio::test]
async fn the_inspector_searches_only_under_a_mission_and_every_search_is_journaled() {
    for db in every_engine().await {
        let env = registry(db).await;
        let mut b = logged_in(&env, "inspecteur").await;
        let page = b.get("/controle").await;
        assert_eq!(page.status, 200);
        assert!(page.html.contains("Référence de la mission"));
        let csrf = csrf_of(&page.html);

        // Without a mission: refused, the mission form explains, and the refusal is journaled.
        let a = b.get(&format!("/controle?recherche={SIRET_A}")).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN);
        assert!(a.html.contains("Indiquez d’abord votre mission"));
        assert!(
            a.html
                .contains(&format!("name=\"recherche\" value=\"{SIRET_A}\""))
        );
        assert!(!a.html.contains("DUPONT") && !a.html.contains(NIR));
        let journal = env.db.store.journal_page(0, 10_000).await.unwrap();
        assert!(journal.iter().any(|e| e.event.actor == "inspecteur"
            && e.event.action == "LECTURE_REFUSEE"
            && e.event.outcome == "REFUSE"));

        // The mission form: anti-forgery, required, at most 100 characters.
        let form = |m: &str| {
            vec![
                ("csrf", csrf.clone()),
                ("mission", m.to_string()),
                ("recherche", SIRET_A.to_string()),
            ]
        };
        let forged = b
            .post("/controle/mission", &[("csrf", "faux"), ("mission", "M-1")])
            .await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        for (m, message) in [
            ("  ", "Indiquez la référence"),
            (&"x".repeat(101)[..], "100 caractères"),
        ] {
            let f = form(m);
            let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let a = b.post("/controle/mission", &f).await;
            assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert!(
                a.html.contains(message) && a.html.contains("aria-describedby=\"mission-erreur\"")
            );
            assert!(a.set_cookies.is_empty());
        }
        let f = form("DGT/2025 n° 42");
        let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let a = b.post("/controle/mission", &f).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER);
        assert_eq!(a.location, format!("/controle?recherche={SIRET_A}"));
        let cookie = a
            .set_cookies
            .iter()
            .find(|c| c.starts_with("siseri_mission="))
            .unwrap();
        assert!(
            cookie.starts_with("siseri_mission=DGT%2F2025%20n%C2%B0%2042;"),
            "{cookie}"
        );
        for attribute in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
            assert!(cookie.contains(attribute), "{cookie}");
        }
        assert!(!cookie.contains("Max-Age"), "a session cookie: {cookie}");

        // With the mission: the establishment's workers, with links to their records.
        let list = b.get(&a.location).await;
        assert_eq!(list.status, 200);
        assert!(list.html.contains("Mission en cours : DGT/2025 n° 42"));
        assert!(
            list.html
                .contains("Radiographie du Rhône (SIRET 73282932000074)")
        );
        assert!(list.html.contains("DUPONT Camille") && list.html.contains("MARTIN Camille"));
        assert!(list.html.contains(&format!("href=\"/travailleurs/{NIR}\"")));
        let filtered = b
            .get(&format!("/controle?recherche={SIRET_A}&q=martin"))
            .await
            .html;
        assert!(filtered.contains("MARTIN Camille") && !filtered.contains("DUPONT Camille"));
        let ids = [worker_id(&env, NIR).await, worker_id(&env, OTHER_NIR).await];
        let journal = env.db.store.journal_page(0, 10_000).await.unwrap();
        assert!(journal.iter().any(|e| e.event.actor == "inspecteur"
            && e.event.data_kind == "MISSION"
            && e.event.mission.as_deref() == Some("DGT/2025 n° 42")));
        let listed = journal
            .iter()
            .find(|e| e.event.actor == "inspecteur" && e.event.data_kind == "IDENTITE")
            .unwrap();
        assert_eq!(listed.event.mission.as_deref(), Some("DGT/2025 n° 42"));
        assert_eq!(listed.event.outcome, "OK");
        assert!(ids.iter().all(|id| listed.event.worker_ids.contains(id)));

        // A NIR leads to the record page; the search is journaled with the mission.
        let a = b.get(&format!("/controle?recherche={NIR}")).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER);
        assert_eq!(a.location, format!("/travailleurs/{NIR}"));
        let journal = env.db.store.journal_page(0, 10_000).await.unwrap();
        assert!(journal.iter().any(|e| e.event.actor == "inspecteur"
            && e.event.data_kind == "RECHERCHE"
            && e.event.action == "LECTURE"
            && e.event.worker_ids == vec![ids[0]]
            && e.event.mission.as_deref() == Some("DGT/2025 n° 42")));
        // Neither NIR nor SIRET; an unknown establishment.
        let a = b.get("/controle?recherche=123").await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST);
        assert!(a.html.contains("Saisissez un NIR") && a.html.contains("recherche-erreur"));
        let a = b.get("/controle?recherche=44306184100054").await;
        assert!(
            a.html.contains("SIRET n’est pas valide") || a.html.contains("Aucun établissement")
        );

        // The worker sees the inspector's read, with the mission.
        let mut worker = logged_in(&env, "camille").await;
        let html = worker.get("/mes-doses/consultations").await.html;
        assert!(
            html.contains("<td>inspecteur</td><td>Agent de contrôle</td>"),
            "{html}"
        );
        assert!(html.contains("DGT/2025 n° 42"));
        // Only inspectors search.
        assert_eq!(worker.get("/controle").await.status, StatusCode::FORBIDDEN);

        // Ending the mission clears the cookie; searching is refused again.
        let a = b.post("/controle/fin-mission", &[("csrf", &csrf)]).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER);
        assert!(
            a.set_cookies
                .iter()
                .any(|c| c.starts_with("siseri_mission=;") && c.contains("Max-Age=0"))
        );
        assert_eq!(
            b.get(&format!("/controle?recherche={SIRET_A}"))
                .await
                .status,
            StatusCode::FORBIDDEN
        );
    }
}

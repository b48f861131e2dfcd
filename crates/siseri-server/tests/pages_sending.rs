//! The transmission pages on each engine: the list with its upload form (only the formats
//! the role may send), uploads through the multipart form for each sending role and format,
//! dry runs that store nothing, refused anti-forgery tokens and formats, the report page
//! (rejected lines first, codes explained, filters, downloads) and who may read it, and a
//! large file followed through its progress page.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::{Duration, Instant};

use chrono::Utc;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use siseri_domain::account::{NewAccount, Role};
use siseri_domain::codes::Nature;
use siseri_domain::ids::{Nir, Siren, Siret};
use siseri_domain::worker::DesignationRole;
use siseri_storage::testing::{TestDb, sample_terms, sample_worker};
use siseri_storage::{NewDesignation, NewEstablishment, TransmissionFilter, WriteBatch, WriteOp};
use support::web::{self, Env, PASSWORD, csrf_of, event};

/// The hospital (not an INB), company 732829320.
const SIRET_A: &str = "73282932000074";
/// The plant (INB), company 443061841.
const SIRET_B: &str = "44306184100047";
const NIR: &str = "2951099126111";
const TOTP_SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

const RESULTS_HEADER: &str = "REFERENCE;NIR;CLE;NOM;PRENOM;DATENAISSANCE;SEXE;SIRET;NATURE;\
                              GRANDEUR;POSITION;DATE_DEBUT;DATE_FIN;STATUT;VALEUR;SEUIL;CODE_METROLOGIE";
const WORKERS_HEADER: &str = "NIR;CLE;NOM;PRENOM;DATENAISSANCE;SEXE;SIRET;GROUPE;CLASSEMENT;\
                              AUTREEXPOSITION;caractereActivite;codeDomaineActivite;\
                              codeSecteurActivite;codeNuisanceRadiologique;codeTypeContrat;\
                              CodeMetier;QUOTITE;DATEDEBUT";
const OPERATIONAL_HEADER: &str = "NIR;SIRET;LIEU;ZONE;TYPE_MESURE;TYPE_DOSIMETRE;\
                                  DATE_DEBUT_PORT;DATE_FIN_PORT;VALEUR;ACTIVITE";

/// Two establishments, a worker attached to the hospital, and one account per sending
/// role (plus an administrator and a worker).
async fn start(db: TestDb) -> Env {
    for (s, name) in [(SIRET_A, "CHU"), (SIRET_B, "Centrale")] {
        let e = NewEstablishment {
            siret: Siret::parse(s).unwrap(),
            name: name.into(),
            inb: s == SIRET_B,
            company_name: name.into(),
        };
        db.store.add_establishment(&e, &event()).await.unwrap();
    }
    let mut b = WriteBatch::new("test", Utc::now());
    b.ops = vec![
        WriteOp::EnsureWorker(sample_worker(NIR, "DUPONT")),
        WriteOp::AddAttachment {
            nir: Nir::parse(NIR).unwrap(),
            siret: Siret::parse(SIRET_A).unwrap(),
            terms: sample_terms(chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap()),
        },
    ];
    db.store.commit(&b).await.unwrap();

    let mut accounts = Vec::new();
    let mut labo = NewAccount::new("labo", Role::Organisme);
    labo.siren = Some(Siren::parse("552100554").unwrap());
    labo.natures = vec![Nature::External];
    accounts.push(labo);
    let mut chu = NewAccount::new("chu", Role::Employeur);
    chu.siren = Some(Siren::parse("732829320").unwrap());
    accounts.push(chu);
    let mut plant = NewAccount::new("centrale", Role::ExploitantInb);
    plant.siren = Some(Siren::parse("443061841").unwrap());
    plant.sirets = vec![Siret::parse(SIRET_B).unwrap()];
    accounts.push(plant);
    let mut crp = NewAccount::new("crp", Role::Crp);
    crp.siren = Some(Siren::parse("443061841").unwrap());
    accounts.push(crp);
    accounts.push(NewAccount::new("gestion", Role::Admin));
    let mut worker = NewAccount::new("camille", Role::Travailleur);
    worker.nir = Some(Nir::parse(NIR).unwrap());
    accounts.push(worker);
    for a in &accounts {
        web::add_account(&db, a, PASSWORD).await;
        if a.role.requires_second_factor() {
            db.store
                .set_totp(&a.login, TOTP_SECRET, &[], &event())
                .await
                .unwrap();
        }
    }
    let d = NewDesignation {
        login: "crp".into(),
        role: DesignationRole::Advisor,
        siret: Siret::parse(SIRET_B).unwrap(),
        date_debut: chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
        date_fin: None,
    };
    db.store.add_designation(&d, &event()).await.unwrap();

    Env::start(db).await
}

async fn envs() -> Vec<Env> {
    web::each_engine(start).await
}

impl Env {
    async fn stored(&self) -> usize {
        self.db
            .store
            .transmissions(&TransmissionFilter::All, 10_000)
            .await
            .unwrap()
            .len()
    }

    /// A browser logged in as `login` through the pages (with the second factor when the
    /// role needs one).
    async fn browser(&self, login: &str) -> Browser<'_> {
        let role = self
            .db
            .store
            .account(login)
            .await
            .unwrap()
            .unwrap()
            .spec
            .role;
        let secret = role.requires_second_factor().then_some(TOTP_SECRET);
        Browser::logged_in(self, login, PASSWORD, secret).await
    }
}

type Browser<'a> = web::Browser<'a, (StatusCode, String, String)>;

impl Browser<'_> {
    /// The session's anti-forgery token, read from the transmissions page.
    async fn csrf(&mut self) -> String {
        let (s, _, html) = self.get("/transmissions").await;
        assert_eq!(s, 200, "{html}");
        csrf_of(&html)
    }

    /// Posts the upload form as a browser does: token first, format, file, button.
    async fn upload_with(
        &mut self,
        csrf: &str,
        format: &str,
        action: &str,
        file: impl Into<Vec<u8>>,
    ) -> (StatusCode, String, String) {
        let form = Form::new()
            .text("csrf", csrf.to_string())
            .text("format", format.to_string())
            .part(
                "fichier",
                Part::bytes(file.into())
                    .file_name("envoi.csv")
                    .mime_str("text/csv")
                    .unwrap(),
            )
            .text("action", action.to_string());
        let request = self
            .env
            .http
            .post(format!("{}/transmissions/envoi", self.env.base))
            .multipart(form);
        self.request(request).await
    }

    async fn upload(
        &mut self,
        format: &str,
        action: &str,
        file: impl Into<Vec<u8>>,
    ) -> (StatusCode, String, String) {
        let csrf = self.csrf().await;
        self.upload_with(&csrf, format, action, file).await
    }

    /// Sends `file` for real and returns the id of the transmission it redirected to,
    /// once its report is complete.
    async fn send(&mut self, format: &str, file: impl Into<Vec<u8>>) -> i64 {
        let (s, location, html) = self.upload(format, "envoyer", file).await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{html}");
        let id: i64 = location
            .strip_prefix("/transmissions/")
            .unwrap()
            .parse()
            .unwrap();
        self.finished(id).await;
        id
    }

    /// Waits until the report page of `id` is no longer the progress page; returns it.
    async fn finished(&mut self, id: i64) -> String {
        let started = Instant::now();
        loop {
            let (s, _, html) = self.get(&format!("/transmissions/{id}")).await;
            assert_eq!(s, 200, "{html}");
            if !html.contains("en cours de traitement") {
                return html;
            }
            assert!(started.elapsed() < Duration::from_secs(300), "never ended");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A `resultats` line of the test worker.
fn result_line(reference: &str, siret: &str, value: &str) -> String {
    format!(
        "{reference};{NIR};93;DUPONT;Camille;03/10/1995;F;{siret};EXTERNE;HP10;;\
         01/01/2025;31/03/2025;MESURE;{value};;"
    )
}

fn results_file() -> String {
    format!(
        "{RESULTS_HEADER}\n{}\n{}\n{}\n{}\n",
        result_line("R-1", SIRET_B, "0,25"),
        result_line("R-2", SIRET_A, "0,5"),
        result_line("R-3", SIRET_A, "abc"),
        result_line("R-4", SIRET_A, "0,1")
    )
}

fn operational_file() -> String {
    format!(
        "{OPERATIONAL_HEADER}\n\
         {NIR};{SIRET_B};Bâtiment réacteur;ZC;OPE-HP10-PHO;EPD;03/02/2025 08:00;03/02/2025 17:00;0,012;Maintenance\n\
         {NIR};{SIRET_B};Bâtiment réacteur;ZC;OPE-HP10-PHO;EPD;04/02/2025 08:00;03/02/2025 17:00;0,012;Maintenance\n"
    )
}

fn workers_file() -> String {
    format!(
        "{WORKERS_HEADER}\n\
         1850578006084;91;MARTIN;Paul;12/05/1985;M;{SIRET_A};;A;;Civil;100000;101000;EXT;CDI;MANIP;1;01/01/2024\n\
         1850578006084;12;MARTIN;Paul;12/05/1985;M;{SIRET_A};;A;;Civil;100000;101000;EXT;CDI;MANIP;1;01/01/2024\n"
    )
}

#[tokio::test]
async fn the_list_offers_only_the_formats_the_role_may_send() {
    for env in envs().await {
        let cases: [(&str, &[&str], &[&str]); 4] = [
            (
                "labo",
                &["resultats"],
                &["travailleurs", "dosimetrie-operationnelle"],
            ),
            (
                "chu",
                &["travailleurs", "dosimetrie-operationnelle"],
                &["resultats"],
            ),
            (
                "centrale",
                &["dosimetrie-operationnelle"],
                &["travailleurs", "resultats"],
            ),
            (
                "crp",
                &["dosimetrie-operationnelle"],
                &["travailleurs", "resultats"],
            ),
        ];
        for (login, offered, absent) in cases {
            let mut b = env.browser(login).await;
            let (s, _, html) = b.get("/transmissions").await;
            assert_eq!(s, 200, "{login}: {html}");
            assert!(html.contains("<h1>Transmissions</h1>"));
            assert!(html.contains("enctype=\"multipart/form-data\""));
            assert!(html.contains("Vérifier sans enregistrer") && html.contains(">Envoyer<"));
            // The token is the first field of the upload form.
            let form = html
                .split("action=\"/transmissions/envoi\"")
                .nth(1)
                .unwrap();
            let first = form.find("name=\"").unwrap();
            assert!(form[first..].starts_with("name=\"csrf\""), "{login}");
            for f in offered {
                assert!(
                    html.contains(&format!("<option value=\"{f}\"")),
                    "{login} {f}"
                );
            }
            for f in absent {
                assert!(
                    !html.contains(&format!("<option value=\"{f}\"")),
                    "{login} {f}"
                );
            }
        }
        // Administrators read every report but send nothing; a worker has no such page.
        let mut admin = env.browser("gestion").await;
        let (s, _, html) = admin.get("/transmissions").await;
        assert_eq!(s, 200);
        assert!(!html.contains("multipart/form-data"));
        assert!(html.contains("Toutes les transmissions"));
        let mut worker = env.browser("camille").await;
        let (s, _, html) = worker.get("/transmissions").await;
        assert_eq!(s, 403);
        assert!(html.contains("Accès refusé"), "{html}");
        // Not connected: to the login page.
        let r = env
            .http
            .get(format!("{}/transmissions", env.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
}

#[tokio::test]
async fn each_role_sends_its_files_through_the_form() {
    for env in envs().await {
        let cases = [
            ("labo", "resultats", results_file()),
            ("chu", "travailleurs", workers_file()),
            ("chu", "dosimetrie-operationnelle", operational_file()),
            ("centrale", "dosimetrie-operationnelle", operational_file()),
            ("crp", "dosimetrie-operationnelle", operational_file()),
        ];
        for (i, (login, format, file)) in cases.into_iter().enumerate() {
            // Each file differs by its trailing empty lines: accounts of one company sending
            // the very same bytes would get the first report (exchange.md §6, tested below).
            let file = format!("{file}{}", "\n".repeat(i));
            let before = env.stored().await;
            let mut b = env.browser(login).await;
            let id = b.send(format, file).await;
            assert_eq!(env.stored().await, before + 1, "{login} {format}");
            let html = b.finished(id).await;
            assert!(
                html.contains(&format!("Rapport de la transmission n° {id}")),
                "{login} {format}: {html}"
            );
            assert!(
                html.contains("REJETE") || html.contains("Rejetée"),
                "{login} {format}"
            );
            let row = env.db.store.transmission(id).await.unwrap().unwrap();
            assert_eq!(row.login, login);
            assert_eq!(row.format.code(), format);
            // The list shows it with its report link.
            let (_, _, list) = b.get("/transmissions").await;
            assert!(
                list.contains(&format!("href=\"/transmissions/{id}\"")),
                "{login} {format}"
            );
        }
    }
}

/// The same file sent again through the form leads to its first report, which says so;
/// nothing new is stored (exchange.md §6).
#[tokio::test]
async fn a_file_sent_again_shows_its_first_report() {
    for env in envs().await {
        let mut b = env.browser("labo").await;
        let id = b.send("resultats", results_file()).await;
        let before = env.stored().await;
        let (s, location, html) = b.upload("resultats", "envoyer", results_file()).await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{html}");
        assert_eq!(location, format!("/transmissions/{id}?deja=1"));
        assert_eq!(env.stored().await, before);
        let (s, _, html) = b.get(&location).await;
        assert_eq!(s, 200);
        assert!(html.contains("Ce fichier avait déjà été reçu"), "{html}");
        assert!(html.contains(&format!("Rapport de la transmission n° {id}")));
    }
}

#[tokio::test]
async fn a_dry_run_shows_its_report_and_stores_nothing() {
    for env in envs().await {
        let before = env.stored().await;
        let mut b = env.browser("labo").await;
        let (s, _, html) = b.upload("resultats", "verifier", results_file()).await;
        assert_eq!(s, 200, "{html}");
        assert!(html.contains("Rapport de vérification"));
        assert!(html.contains("Rien n’a été enregistré"));
        assert!(html.contains("VALEUR_FORMAT"));
        assert!(html.contains("envoi.csv"), "the file's name is shown");
        assert!(
            !html.contains("rapport.csv"),
            "nothing to download: it is not kept"
        );
        assert_eq!(env.stored().await, before);
        // Nothing stored for the worker either: R-2 can still be sent as new.
        let id = b.send("resultats", results_file()).await;
        let (_, _, html) = b.get(&format!("/transmissions/{id}")).await;
        assert!(!html.contains("fr-badge--info"), "no duplicate: {html}");
    }
}

/// A Windows-1252 file (an INB operator's, "Bâtiment réacteur") sent through the form is
/// read, and the report page explains the warning (exchange.md §1).
#[tokio::test]
async fn a_windows_1252_file_is_read_with_its_warning_explained() {
    for env in envs().await {
        // Windows-1252: â and é are the same bytes as in Latin-1, the rest is ASCII.
        let file: Vec<u8> = operational_file()
            .chars()
            .map(|c| u8::try_from(u32::from(c)).unwrap())
            .collect();
        assert!(std::str::from_utf8(&file).is_err());
        let mut b = env.browser("centrale").await;
        let (s, _, html) = b
            .upload("dosimetrie-operationnelle", "verifier", file)
            .await;
        assert_eq!(s, 200, "{html}");
        assert!(html.contains("ENCODAGE_WINDOWS_1252"), "{html}");
        assert!(html.contains("il a été lu en Windows-1252"), "{html}");
        assert!(!html.contains("ENCODAGE_INVALIDE"), "{html}");
        assert!(
            html.contains("PERIODE_INVERSEE"),
            "the lines are checked: {html}"
        );
    }
}

#[tokio::test]
async fn forged_forms_and_forbidden_formats_are_refused() {
    for env in envs().await {
        let before = env.stored().await;
        let mut b = env.browser("labo").await;
        let csrf = b.csrf().await;
        // A wrong token.
        let (s, _, html) = b
            .upload_with("faux", "resultats", "envoyer", results_file())
            .await;
        assert_eq!(s, 403);
        assert!(html.contains("Le formulaire a expiré"), "{html}");
        // The right token, but not first.
        let form = Form::new()
            .text("format", "resultats")
            .text("csrf", csrf.clone())
            .part(
                "fichier",
                Part::bytes(results_file().into_bytes()).file_name("a.csv"),
            )
            .text("action", "envoyer");
        let r = env
            .http
            .post(format!("{}/transmissions/envoi", env.base))
            .header("cookie", b.header())
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        // A format the role may not send: a French message, nothing stored.
        let (s, _, html) = b
            .upload_with(&csrf, "travailleurs", "envoyer", workers_file())
            .await;
        assert_eq!(s, 403);
        assert!(
            html.contains("ne peut pas envoyer le format « Travailleurs"),
            "{html}"
        );
        assert!(html.contains("fr-alert--error"));
        // No file chosen: the browser sends an empty part without a name.
        let form = Form::new()
            .text("csrf", csrf.clone())
            .text("format", "resultats")
            .part("fichier", Part::bytes(Vec::new()).file_name(""))
            .text("action", "envoyer");
        let request = env
            .http
            .post(format!("{}/transmissions/envoi", env.base))
            .multipart(form);
        let (s, _, html) = b.request(request).await;
        assert_eq!(s, 400);
        assert!(html.contains("Choisissez le fichier à envoyer"), "{html}");
        assert!(html.contains("aria-describedby=\"fichier-aide fichier-erreur\""));
        // An unknown format.
        let (s, _, html) = b
            .upload_with(&csrf, "autre", "envoyer", results_file())
            .await;
        assert_eq!(s, 400);
        assert!(html.contains("Choisissez le format"), "{html}");
        assert_eq!(env.stored().await, before);
        // Without a session: to the login page.
        let r = env
            .http
            .post(format!("{}/transmissions/envoi", env.base))
            .multipart(Form::new().text("csrf", csrf))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
}

#[tokio::test]
async fn the_report_puts_rejected_lines_first_and_explains_codes() {
    for env in envs().await {
        let mut b = env.browser("labo").await;
        b.send("resultats", results_file()).await;
        // Sent again with one more line: the first four are duplicates now.
        let again = format!(
            "{}{}\n",
            results_file(),
            result_line("R-5", SIRET_A, "200000")
        );
        let id = b.send("resultats", again).await;
        let (s, _, html) = b.get(&format!("/transmissions/{id}")).await;
        assert_eq!(s, 200);
        assert!(html.contains(&format!("<h1>Rapport de la transmission n° {id}</h1>")));
        // Lines 4 and 6 rejected, first; then the duplicates.
        let rejected = html.find("R-3").unwrap();
        let rejected2 = html.find("R-5").unwrap();
        let duplicate = html.find("R-1").unwrap();
        assert!(rejected < duplicate && rejected2 < duplicate, "{html}");
        assert!(html.contains("Rejetée") && html.contains("Doublon"));
        // Each code with its field, its message and its explanation.
        assert!(html.contains("VALEUR_FORMAT"));
        assert!(html.contains("La valeur doit être un nombre"));
        assert!(html.contains("<td>VALEUR</td>"), "{html}");
        // Downloads.
        assert!(html.contains(&format!("/api/v1/transmissions/{id}/rapport.csv")));
        assert!(html.contains(&format!("href=\"/api/v1/transmissions/{id}\"")));
        let r = env
            .http
            .get(format!(
                "{}/api/v1/transmissions/{id}/rapport.csv",
                env.base
            ))
            .header("cookie", b.header())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(
            r.text().await.unwrap().contains(
                ";STATUT;VALEUR;SEUIL;CODE_METROLOGIE;STATUT_LIGNE;CODE_ERREUR;MESSAGE\r\n"
            )
        );

        // Filters by status and by code.
        let (_, _, html) = b.get(&format!("/transmissions/{id}?statut=REJETE")).await;
        assert!(html.contains("R-3") && !html.contains(">R-1<"), "{html}");
        let (_, _, html) = b
            .get(&format!("/transmissions/{id}?code=VALEUR_FORMAT"))
            .await;
        assert!(html.contains("R-3") && !html.contains("R-5"), "{html}");
        assert!(html.contains("Effacer les filtres"));
        let (_, _, html) = b.get(&format!("/transmissions/{id}?q=r-5")).await;
        assert!(html.contains("R-5") && !html.contains("R-3<"), "{html}");

        // Another organisation gets the page of an unknown address; administrators read it.
        let mut other = env.browser("chu").await;
        let (s, _, html) = other.get(&format!("/transmissions/{id}")).await;
        assert_eq!(s, 404);
        assert!(html.contains("Page introuvable"));
        let (_, _, unknown) = other.get("/transmissions/999999").await;
        assert_eq!(other.get("/transmissions/999999").await.0, 404);
        assert!(unknown.contains("Page introuvable"));
        assert_eq!(other.get("/transmissions/abc").await.0, 404);
        let (_, _, list) = other.get("/transmissions").await;
        assert!(!list.contains(&format!("/transmissions/{id}\"")));
        let mut admin = env.browser("gestion").await;
        let (s, _, html) = admin.get(&format!("/transmissions/{id}")).await;
        assert_eq!(s, 200);
        assert!(html.contains("R-3"));
        let (_, _, list) = admin.get("/transmissions").await;
        assert!(list.contains(&format!("/transmissions/{id}\"")));
    }
}

#[tokio::test]
async fn the_list_counts_searches_and_filters() {
    for env in envs().await {
        let mut b = env.browser("chu").await;
        let refused = b.send("travailleurs", "NIR;NOM\n1;X\n".to_string()).await;
        let ok = b.send("travailleurs", workers_file()).await;
        let (_, _, html) = b.get(&format!("/transmissions/{refused}")).await;
        assert!(
            html.contains("Fichier refusé en entier (ENTETE_INVALIDE)"),
            "{html}"
        );
        assert!(html.contains("La première ligne (l’en-tête) est incorrecte"));
        let (_, _, html) = b.get("/transmissions").await;
        assert!(html.contains("Fichier refusé (1)"), "{html}");
        assert!(html.contains("Avec anomalies (1)"), "{html}");
        assert!(html.contains("Toutes (2)"));
        let (_, _, html) = b.get("/transmissions?etat=refusee").await;
        assert!(html.contains(&format!("/transmissions/{refused}\"")));
        assert!(!html.contains(&format!("/transmissions/{ok}\"")));
        let (_, _, html) = b.get(&format!("/transmissions?q={ok}")).await;
        assert!(html.contains(&format!("/transmissions/{ok}\"")));
        assert!(!html.contains(&format!("/transmissions/{refused}\"")));
    }
}

/// A file over axum's default multipart limit (2 MB), sent for real: the page redirects
/// to the report, which shows the progress until the import ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_file_is_followed_on_its_progress_page() {
    for env in envs().await {
        let mut file = String::from(OPERATIONAL_HEADER);
        file.push('\n');
        let start = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        let mut n = 0;
        while file.len() < 3 * 1024 * 1024 {
            let day = start + chrono::Duration::days(n / 12);
            let hour = n % 12 + 6;
            let d = day.format("%d/%m/%Y");
            file.push_str(&format!(
                "{NIR};{SIRET_B};Bâtiment réacteur;ZC;OPE-HP10-PHO;EPD;{d} {hour:02}:00;{d} {hour:02}:30;0,001;Maintenance\n"
            ));
            n += 1;
        }
        let mut b = env.browser("centrale").await;
        let (s, location, html) = b.upload("dosimetrie-operationnelle", "envoyer", file).await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{html}");
        let started = Instant::now();
        let mut seen_progress = false;
        loop {
            let r = env
                .http
                .get(format!("{}{location}", env.base))
                .header("cookie", b.header())
                .send()
                .await
                .unwrap();
            let refresh = r.headers().get("refresh").is_some();
            let html = r.text().await.unwrap();
            if html.contains("en cours de traitement") {
                assert!(refresh, "the progress page refreshes itself");
                assert!(html.contains("<progress"));
                assert!(
                    html.contains(&format!("sur environ {}", french(n))),
                    "{html}"
                );
                seen_progress = true;
            } else {
                assert!(html.contains("Rapport de la transmission"), "{html}");
                assert!(html.contains(&french(n)), "{html}");
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(300));
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        eprintln!("progress page seen: {seen_progress}, {n} lines");
    }
}

/// `12345` as the pages write it (`12 345`, with a narrow no-break space).
fn french(n: i64) -> String {
    siseri_server::pages::format::integer(n)
}

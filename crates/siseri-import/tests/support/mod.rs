//! Set-up shared by the importer's integration tests: a small registry on every engine, its
//! senders, valid lines of each format to derive test lines from, and the import call.
//!
//! The registry:
//! - company ACME (SIREN 732829320): `ACME_LYON` (73282932000074) and `ACME_INB`
//!   (73282932000082, an INB);
//! - company BETA (SIREN 443061841): `BETA` (44306184100047);
//! - `UNKNOWN_ACME` (73282932000108) and `UNKNOWN_OTHER` (55210055400013): valid SIRETs
//!   that the registry does not know;
//! - accounts: `employer` (EMPLOYEUR of ACME, whole company), `employer_lyon` (EMPLOYEUR of
//!   ACME limited to ACME_LYON), `lab` and `lab2` (ORGANISME of
//!   the same body, accredited for EXTERNE only), `operator` (EXPLOITANT_INB of ACME_INB);
//! - workers: DUPONT (category A at ACME_LYON), MARTIN (category B at ACME_LYON), COLIN
//!   (known, attached nowhere). `NEWCOMER` and [`nir`] give NIRs the registry does not know.
#![allow(dead_code)] // each test file uses its own part of the support

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{NaiveDate, TimeZone, Utc};
use siseri_domain::access::Person;
use siseri_domain::codes::{Classification, Nature, Sex, TransmissionFormat};
use siseri_domain::journal::JournalEvent;
use siseri_domain::worker::NewWorker;
use siseri_domain::{NewAccount, Nir, Role, Siren, Siret};
use siseri_import::{CsvEncoding, ImportError, Progress, Report, Request, SenderInfo};
use siseri_storage::testing::{TestDb, every_engine, sample_terms};
use siseri_storage::{NewEstablishment, Store, WriteBatch, WriteOp};

/// The reception day of every test.
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 30).expect("date")
}

pub const ACME_LYON: &str = "73282932000074";
pub const ACME_INB: &str = "73282932000082";
pub const BETA: &str = "44306184100047";
pub const UNKNOWN_ACME: &str = "73282932000108";
pub const UNKNOWN_OTHER: &str = "55210055400013";
/// The accredited body's SIREN (not an establishment of the registry).
pub const LAB_SIREN: &str = "301234563";

/// Known worker, category A at ACME_LYON since 01/01/2024.
pub const DUPONT: (&str, &str) = ("2951099126111", "93");
/// Known worker, category B at ACME_LYON since 01/01/2024.
pub const MARTIN: (&str, &str) = ("1850578006084", "91");
/// Known worker without any attachment.
pub const COLIN: (&str, &str) = ("253072B073004", "70");
/// A NIR unknown to the registry (the default worker of [`WORKERS`]).
pub const NEWCOMER: (&str, &str) = ("253072A073004", "43");

/// The key of a NIR (exchange.md §5): 97 − (N mod 97), 2A → 19, 2B → 18.
pub fn cle(nir: &str) -> String {
    let digits = nir.replacen("2A", "19", 1).replacen("2B", "18", 1);
    let n: u64 = digits.parse().expect("NIR digits");
    format!("{:02}", 97 - n % 97)
}

/// Another NIR unknown to the registry, female (first digit 2), born in 1990, numbered `i`.
pub fn nir(i: u32) -> (String, String) {
    let n = format!("2900175{:06}", 100 + i);
    let k = cle(&n);
    (n, k)
}

// ---------------------------------------------------------------------------------------------
// Lines
// ---------------------------------------------------------------------------------------------

/// A format with a valid line: every test line is this line with some values changed.
#[derive(Debug, Clone, Copy)]
pub struct Template {
    pub format: TransmissionFormat,
    /// (column, valid value), in the format's column order.
    pub fields: &'static [(&'static str, &'static str)],
}

/// `travailleurs`, sent by `employer`: declares NEWCOMER at ACME_LYON.
pub const WORKERS: Template = Template {
    format: TransmissionFormat::Workers,
    fields: &[
        ("NIR", NEWCOMER.0),
        ("CLE", NEWCOMER.1),
        ("NOM", "Leroy"),
        ("PRENOM", "Anne"),
        ("DATENAISSANCE", "01/07/1953"),
        ("SEXE", "F"),
        ("SIRET", ACME_LYON),
        ("GROUPE", ""),
        ("CLASSEMENT", "A"),
        ("AUTREEXPOSITION", ""),
        ("caractereActivite", "Civil"),
        ("codeDomaineActivite", "100000"),
        ("codeSecteurActivite", "101000"),
        ("codeNuisanceRadiologique", "EXT"),
        ("codeTypeContrat", "CDI"),
        ("CodeMetier", "MANIP"),
        ("QUOTITE", "0,8"),
        ("DATEDEBUT", "01/01/2025"),
        ("DATEFIN", ""),
    ],
};

/// `resultats`, sent by `lab`: a result of DUPONT at ACME_LYON (where she is attached).
pub const RESULTS: Template = Template {
    format: TransmissionFormat::Results,
    fields: &[
        ("REFERENCE", "R-1"),
        ("NIR", DUPONT.0),
        ("CLE", DUPONT.1),
        ("NOM", "Dupont"),
        ("PRENOM", "Marie"),
        ("DATENAISSANCE", "12/10/1995"),
        ("SEXE", "F"),
        ("SIRET", ACME_LYON),
        ("NATURE", "EXTERNE"),
        ("GRANDEUR", "HP10"),
        ("POSITION", ""),
        ("DATE_DEBUT", "01/03/2026"),
        ("DATE_FIN", "31/03/2026"),
        ("STATUT", "MESURE"),
        ("VALEUR", "0,25"),
        ("SEUIL", ""),
        ("CODE_METROLOGIE", ""),
    ],
};

/// A `resultats` line of MARTIN (category B at ACME_LYON since 2024), with `changes`.
pub fn martin_line(changes: &[(&str, &str)]) -> String {
    let mut all = vec![
        ("NIR", MARTIN.0),
        ("CLE", MARTIN.1),
        ("NOM", "Martin"),
        ("PRENOM", "Jean-Luc"),
        ("DATENAISSANCE", "03/05/1985"),
        ("SEXE", "M"),
    ];
    all.extend_from_slice(changes);
    RESULTS.line(&all)
}

/// A `resultats` line of MARTIN of `value` mSv.
pub fn martin_result(reference: &str, value: &str) -> String {
    martin_line(&[("REFERENCE", reference), ("VALEUR", value)])
}

/// `dosimetrie-operationnelle`, sent by `operator`: a reading of DUPONT at ACME_LYON.
pub const OPERATIONAL: Template = Template {
    format: TransmissionFormat::OperationalDosimetry,
    fields: &[
        ("NIR", DUPONT.0),
        ("SIRET", ACME_LYON),
        ("LIEU", "Bâtiment réacteur 1"),
        ("ZONE", "Zone verte"),
        ("TYPE_MESURE", "OPE-HP10-PHO"),
        ("TYPE_DOSIMETRE", "EPD MK3"),
        ("DATE_DEBUT_PORT", "02/06/2026 08:00"),
        ("DATE_FIN_PORT", "02/06/2026 12:30"),
        ("VALEUR", "0,012"),
        ("ACTIVITE", "Maintenance robinetterie"),
        ("CODE_METROLOGIE", ""),
    ],
};

/// One CSV field, quoted when it must be.
fn quote(v: &str) -> String {
    if v.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_owned()
    }
}

impl Template {
    /// The header line.
    pub fn header(&self) -> String {
        self.fields
            .iter()
            .map(|(c, _)| *c)
            .collect::<Vec<_>>()
            .join(";")
    }

    /// The valid line with `changes` (column → new value) applied.
    pub fn line(&self, changes: &[(&str, &str)]) -> String {
        for (c, _) in changes {
            assert!(
                self.fields.iter().any(|(f, _)| f == c),
                "{c}: not a column of {}",
                self.format.code()
            );
        }
        self.fields
            .iter()
            .map(|(c, valid)| {
                let v = changes
                    .iter()
                    .rev()
                    .find(|(k, _)| k == c)
                    .map_or(*valid, |(_, v)| *v);
                quote(v)
            })
            .collect::<Vec<_>>()
            .join(";")
    }

    /// A whole file: the header, then `lines`.
    pub fn file(&self, lines: &[String]) -> String {
        let mut out = self.header();
        for l in lines {
            out.push('\n');
            out.push_str(l);
        }
        out.push('\n');
        out
    }

    /// The same records as a JSON body (lines built with [`Template::line`], unquoted values).
    pub fn json(&self, lines: &[String]) -> String {
        let records: Vec<serde_json::Value> = lines
            .iter()
            .map(|l| {
                let map: serde_json::Map<String, serde_json::Value> = self
                    .fields
                    .iter()
                    .zip(l.split(';'))
                    .map(|((c, _), v)| ((*c).to_owned(), serde_json::Value::from(v)))
                    .collect();
                serde_json::Value::Object(map)
            })
            .collect();
        serde_json::Value::Array(records).to_string()
    }
}

/// A line of a report: its status and codes (a plain acceptance is not listed).
pub fn outcome(report: &Report, line: i64) -> (String, Vec<String>) {
    match report.lines.iter().find(|l| l.line == line) {
        Some(l) => (l.status.clone(), l.codes.clone()),
        None => ("ACCEPTE".to_owned(), Vec::new()),
    }
}

/// What a test expects of one line.
#[derive(Debug, Clone)]
pub struct Case {
    pub what: &'static str,
    pub line: String,
    pub status: &'static str,
    pub codes: &'static [&'static str],
}

/// One case: `line` is expected to get `status` with exactly `codes`.
pub fn case(
    what: &'static str,
    line: String,
    status: &'static str,
    codes: &'static [&'static str],
) -> Case {
    Case {
        what,
        line,
        status,
        codes,
    }
}

/// Checks every case of a report whose file held `cases` in order (line 2 onwards), and its
/// totals.
pub fn check_cases(engine: &str, report: &Report, cases: &[Case]) {
    let mut failures = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let line = i as i64 + 2;
        let (status, codes) = outcome(report, line);
        if status != c.status || codes != c.codes {
            failures.push(format!(
                "line {line} ({}): expected {} {:?}, got {status} {codes:?}",
                c.what, c.status, c.codes
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "[{engine}] {}\n{}",
        report.format,
        failures.join("\n")
    );
    let count = |s: &str| cases.iter().filter(|c| c.status == s).count() as u64;
    let t = &report.totals;
    assert_eq!(t.lines, cases.len() as u64, "[{engine}] lines");
    assert_eq!(t.accepted, count("ACCEPTE"), "[{engine}] accepted");
    assert_eq!(t.duplicates, count("DOUBLON"), "[{engine}] duplicates");
    assert_eq!(t.on_hold, count("EN_ATTENTE"), "[{engine}] on hold");
    assert_eq!(t.rejected, count("REJETE"), "[{engine}] rejected");
    let warned = cases
        .iter()
        .filter(|c| c.status == "ACCEPTE" && !c.codes.is_empty())
        .count() as u64;
    assert_eq!(t.warnings, warned, "[{engine}] warnings");
}

// ---------------------------------------------------------------------------------------------
// The registry
// ---------------------------------------------------------------------------------------------

/// A registry on one engine, with its senders.
pub struct Registry {
    pub db: TestDb,
    pub employer: SenderInfo,
    pub employer_lyon: SenderInfo,
    pub lab: SenderInfo,
    pub lab2: SenderInfo,
    pub operator: SenderInfo,
    dir: tempfile::TempDir,
    files: AtomicUsize,
}

fn event(kind: &str) -> JournalEvent {
    JournalEvent::new(Utc::now(), "test", "ECRITURE", kind)
}

fn siret(s: &str) -> Siret {
    Siret::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn nir_of(s: &str) -> Nir {
    Nir::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// The access policy's facts of an account, as the server builds them (no designation,
/// delegation nor grant exists in these registries).
fn sender(account: siseri_domain::Account) -> SenderInfo {
    let spec = &account.spec;
    let mut person = Person::new(spec.role);
    person.siren.clone_from(&spec.siren);
    person.sirets.clone_from(&spec.sirets);
    person.natures.clone_from(&spec.natures);
    person.correspondent = spec.correspondent;
    SenderInfo { account, person }
}

async fn add_account(store: &dyn Store, a: NewAccount) -> SenderInfo {
    a.validate().unwrap_or_else(|e| panic!("{}: {e}", a.login));
    let account = store
        .add_account(&a, None, &event("COMPTE"))
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", a.login));
    sender(account)
}

/// A fresh registry on every engine (PostgreSQL when `SISERI_TEST_POSTGRES` is set).
pub async fn registries() -> Vec<Registry> {
    let mut out = Vec::new();
    for db in every_engine().await {
        out.push(Registry::new(db).await);
    }
    out
}

impl Registry {
    async fn new(db: TestDb) -> Registry {
        let store = db.store.as_ref();
        for (s, name, inb, company) in [
            (ACME_LYON, "ACME Lyon", false, "ACME"),
            (ACME_INB, "ACME centrale", true, "ACME"),
            (BETA, "BETA Paris", false, "BETA"),
        ] {
            let e = NewEstablishment {
                siret: siret(s),
                name: name.into(),
                inb,
                company_name: company.into(),
            };
            store
                .add_establishment(&e, &event("ETABLISSEMENT"))
                .await
                .unwrap_or_else(|e| panic!("{s}: {e}"));
        }
        let acme = siret(ACME_LYON).siren();

        let mut a = NewAccount::new("employeur.acme", Role::Employeur);
        a.siren = Some(acme.clone());
        let employer = add_account(store, a.clone()).await;
        a.login = "employeur.acme.lyon".into();
        a.sirets = vec![siret(ACME_LYON)];
        let employer_lyon = add_account(store, a).await;

        let lab_siren = Siren::parse(LAB_SIREN).expect("SIREN");
        let mut a = NewAccount::new("labo", Role::Organisme);
        a.siren = Some(lab_siren.clone());
        a.natures = vec![Nature::External];
        let lab = add_account(store, a.clone()).await;
        a.login = "labo.bis".into();
        let lab2 = add_account(store, a).await;

        let mut a = NewAccount::new("exploitant.acme", Role::ExploitantInb);
        a.siren = Some(acme);
        a.sirets = vec![siret(ACME_INB)];
        let operator = add_account(store, a).await;

        // Declared workers.
        let worker =
            |(n, _): (&str, &str), nom: &str, prenom: &str, born: (i32, u32, u32), sexe| {
                NewWorker {
                    nir: nir_of(n),
                    nom: nom.into(),
                    prenom: prenom.into(),
                    date_naissance: NaiveDate::from_ymd_opt(born.0, born.1, born.2).expect("date"),
                    sexe,
                }
            };
        let since = NaiveDate::from_ymd_opt(2024, 1, 1).expect("date");
        let mut category_b = sample_terms(since);
        category_b.classement = Some(Classification::B);
        let mut batch = WriteBatch::new("test", Utc::now());
        batch.ops = vec![
            WriteOp::EnsureWorker(worker(DUPONT, "DUPONT", "Marie", (1995, 10, 12), Sex::F)),
            WriteOp::AddAttachment {
                nir: nir_of(DUPONT.0),
                siret: siret(ACME_LYON),
                terms: sample_terms(since),
            },
            WriteOp::EnsureWorker(worker(MARTIN, "MARTIN", "Jean-Luc", (1985, 5, 3), Sex::M)),
            WriteOp::AddAttachment {
                nir: nir_of(MARTIN.0),
                siret: siret(ACME_LYON),
                terms: category_b,
            },
            WriteOp::EnsureWorker(worker(COLIN, "COLIN", "Lucie", (1953, 7, 1), Sex::F)),
        ];
        store.commit(&batch).await.expect("workers");

        Registry {
            db,
            employer,
            employer_lyon,
            lab,
            lab2,
            operator,
            dir: tempfile::tempdir().expect("temporary directory"),
            files: AtomicUsize::new(0),
        }
    }

    /// The store.
    pub fn store(&self) -> &dyn Store {
        self.db.store.as_ref()
    }

    /// The engine's name, for assertion messages.
    pub fn engine(&self) -> String {
        format!("{:?}", self.db.url.engine())
    }

    /// Writes `body` to a new file of the temporary directory.
    pub fn write(&self, body: &[u8]) -> PathBuf {
        let n = self.files.fetch_add(1, Ordering::Relaxed);
        let path = self.dir.path().join(format!("envoi-{n}"));
        std::fs::write(&path, body).expect("write the file");
        path
    }

    /// Imports `body` as `who`.
    pub async fn try_send(
        &self,
        who: &SenderInfo,
        format: TransmissionFormat,
        body: &[u8],
        json: bool,
        dry_run: bool,
    ) -> Result<Report, ImportError> {
        self.try_send_as(who, format, body, json, CsvEncoding::Auto, dry_run)
            .await
    }

    /// Imports `body` as `who`, a CSV file read as `encoding` says.
    pub async fn try_send_as(
        &self,
        who: &SenderInfo,
        format: TransmissionFormat,
        body: &[u8],
        json: bool,
        encoding: CsvEncoding,
        dry_run: bool,
    ) -> Result<Report, ImportError> {
        let path = self.write(body);
        let request = Request {
            format,
            json,
            encoding,
            dry_run,
            received_at: Utc
                .with_ymd_and_hms(2026, 6, 30, 10, 0, 0)
                .single()
                .expect("instant"),
            today: today(),
        };
        siseri_import::import(
            self.store(),
            &path,
            &request,
            who,
            Arc::new(Progress::default()),
        )
        .await
    }

    /// Imports a CSV `body` as `who` (a real send); panics on an import error.
    pub async fn send(&self, who: &SenderInfo, format: TransmissionFormat, body: &str) -> Report {
        self.try_send(who, format, body.as_bytes(), false, false)
            .await
            .unwrap_or_else(|e| panic!("[{}] import: {e}", self.engine()))
    }

    /// The stored report of a transmission, with its lines.
    pub async fn stored_report(&self, id: i64) -> Report {
        let t = self
            .store()
            .transmission(id)
            .await
            .expect("transmission")
            .expect("transmission stored");
        let lines = self.store().transmission_lines(id).await.expect("lines");
        Report::from_stored(&t.report, lines).expect("stored report")
    }

    /// Rows of the tables an import writes to.
    pub async fn counts(&self) -> Vec<(&'static str, i64)> {
        let mut out = Vec::new();
        for table in [
            "transmissions",
            "transmission_files",
            "transmission_lines",
            "pending_lines",
            "workers",
            "attachments",
            "attachment_versions",
            "dose_results",
            "result_versions",
            "operational_readings",
            "reading_versions",
            "monthly_doses",
            "journal",
        ] {
            out.push((table, self.db.count_raw(table).await));
        }
        out
    }

    /// Asserts that the journal's chain is intact.
    pub async fn verify_journal(&self) {
        let verified = siseri_storage::journal::verify(self.store())
            .await
            .expect("journal readable");
        assert!(
            verified.is_ok(),
            "[{}] journal broken: {verified:?}",
            self.engine()
        );
    }
}

/// A NIR value.
pub fn nir_value(s: &str) -> Nir {
    nir_of(s)
}

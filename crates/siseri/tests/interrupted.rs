//! A transmission is atomic (exchange.md §6): the server process is killed (SIGKILL) in the
//! middle of a large import; nothing of it is stored, and sending the same file again to the
//! restarted server gives the report of a first send. On each engine.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use siseri_storage::testing::{TestDb, every_engine};

const SIRET: &str = "73282932000074";
/// Workers declared, and results per worker: enough lines for several seconds of import.
const WORKERS: u32 = 2_000;
const PER_WORKER: u32 = 100;

fn run(db: &TestDb, args: &[&str]) -> Output {
    let o = Command::new(env!("CARGO_BIN_EXE_siseri"))
        .env_remove("SISERI_DATABASE_URL")
        .env("SISERI_TODAY", "2026-06-30")
        .arg("--database")
        .arg(db.url.expose())
        .args(args)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// NIR number `i` (men born in 1985) and its key.
fn nir(i: u32) -> (String, String) {
    let n = format!("18505780{:05}", 10_000 + i);
    let key = 97 - n.parse::<u64>().unwrap() % 97;
    (n, format!("{key:02}"))
}

/// The registry: one establishment, its employer, a body; the workers declared.
fn setup(db: &TestDb, dir: &std::path::Path) -> String {
    run(
        db,
        &[
            "admin",
            "establishment",
            "add",
            "--siret",
            SIRET,
            "--name",
            "CHU",
        ],
    );
    run(
        db,
        &[
            "admin",
            "account",
            "add",
            "--login",
            "rh.chu",
            "--role",
            "EMPLOYEUR",
            "--siren",
            "732829320",
        ],
    );
    run(
        db,
        &[
            "admin",
            "account",
            "add",
            "--login",
            "labo",
            "--role",
            "ORGANISME",
            "--siren",
            "443061841",
            "--natures",
            "EXTERNE",
        ],
    );
    let mut declare = String::from(
        "NIR;CLE;NOM;PRENOM;DATENAISSANCE;SEXE;SIRET;GROUPE;CLASSEMENT;AUTREEXPOSITION;\
         caractereActivite;codeDomaineActivite;codeSecteurActivite;codeNuisanceRadiologique;\
         codeTypeContrat;CodeMetier;QUOTITE;DATEDEBUT\n",
    );
    for i in 0..WORKERS {
        let (n, k) = nir(i);
        declare.push_str(&format!(
            "{n};{k};Durand;Paul;01/05/1985;M;{SIRET};;A;;Civil;100000;101000;EXT;CDI;AS;1;01/01/2020\n"
        ));
    }
    let file = dir.join("travailleurs.csv");
    std::fs::write(&file, declare).unwrap();
    run(
        db,
        &[
            "import",
            "--as",
            "rh.chu",
            "--format",
            "travailleurs",
            file.to_str().unwrap(),
        ],
    );
    let token = run(db, &["admin", "token", "--login", "labo"]);
    String::from_utf8_lossy(&token.stdout).trim().to_owned()
}

/// Small doses over four years: no warning, so the report of a first send has no line.
fn results_file(dir: &std::path::Path) -> std::path::PathBuf {
    let mut body = String::from(
        "REFERENCE;NIR;CLE;NOM;PRENOM;DATENAISSANCE;SEXE;SIRET;NATURE;GRANDEUR;POSITION;\
         DATE_DEBUT;DATE_FIN;STATUT;VALEUR;SEUIL;CODE_METROLOGIE\n",
    );
    for i in 0..WORKERS {
        let (n, k) = nir(i);
        for j in 0..PER_WORKER {
            let month = j % 48;
            let (y, m) = (2022 + month / 12, month % 12 + 1);
            body.push_str(&format!(
                "K-{i}-{j};{n};{k};Durand;Paul;01/05/1985;M;{SIRET};EXTERNE;HP10;;01/{m:02}/{y};\
                 28/{m:02}/{y};MESURE;0,001;;\n"
            ));
        }
    }
    let file = dir.join("resultats.csv");
    std::fs::write(&file, body).unwrap();
    file
}

struct Server {
    child: Child,
    base: String,
}

fn serve(db: &TestDb) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_siseri"))
        .env_remove("SISERI_DATABASE_URL")
        .env("SISERI_TODAY", "2026-06-30")
        .env("RUST_LOG", "warn")
        .args([
            "--database",
            db.url.expose(),
            "serve",
            "--listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let base = line
        .trim()
        .rsplit(' ')
        .next()
        .unwrap()
        .trim_end_matches('/')
        .to_owned();
    // Keep draining its output so that it never blocks on a full pipe.
    std::thread::spawn(move || for _ in out.lines() {});
    Server { child, base }
}

async fn send(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    file: &std::path::Path,
) -> reqwest::Result<reqwest::Response> {
    client
        .post(format!("{base}/api/v1/transmissions?format=resultats"))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(std::fs::read(file).unwrap())
        .send()
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_import_stores_nothing_and_a_resend_succeeds() {
    for db in every_engine().await {
        let dir = tempfile::tempdir().unwrap();
        let token = setup(&db, dir.path());
        let file = results_file(dir.path());
        let lines = u64::from(WORKERS * PER_WORKER);
        let tables = [
            "workers",
            "transmissions",
            "transmission_files",
            "transmission_lines",
            "journal",
        ];
        let mut before = Vec::new();
        for t in tables {
            before.push(db.count_raw(t).await);
        }

        let mut server = serve(&db);
        let client = reqwest::Client::new();
        let upload = {
            let (client, base, token, file) = (
                client.clone(),
                server.base.clone(),
                token.clone(),
                file.clone(),
            );
            tokio::spawn(async move { send(&client, &base, &token, &file).await })
        };
        // Wait until the import is visibly in progress, then kill the process outright.
        let started = Instant::now();
        loop {
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "no import in progress seen"
            );
            let r = client
                .get(format!("{}/api/v1/transmissions", server.base))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            let list: serde_json::Value = r.json().await.unwrap();
            let running =
                list.as_array().unwrap().iter().any(|t| {
                    t["etat"] == "EN_COURS" && t["lignes_traitees"].as_u64().unwrap_or(0) > 0
                });
            if running {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        server.child.kill().unwrap();
        server.child.wait().unwrap();
        assert!(
            upload.await.unwrap().is_err(),
            "the upload must have been cut"
        );

        // Nothing of it: no transmission, no result, no version, no sum, no journal entry.
        for table in ["dose_results", "result_versions", "monthly_doses"] {
            assert_eq!(db.count_raw(table).await, 0, "{table}");
        }
        let mut after = Vec::new();
        for t in tables {
            after.push(db.count_raw(t).await);
        }
        assert_eq!(after, before);

        // Restarted, the same file: the report of a first send.
        let mut server = serve(&db);
        let r = send(&client, &server.base, &token, &file).await.unwrap();
        assert_eq!(r.status(), 200);
        let report: serde_json::Value = r.json().await.unwrap();
        assert_eq!(
            report["totals"],
            serde_json::json!({"lines": lines, "accepted": lines, "duplicates": 0,
                               "on_hold": 0, "rejected": 0, "warnings": 0})
        );
        assert_eq!(report["lines"], serde_json::json!([]));
        assert_eq!(
            db.count_raw("dose_results").await,
            i64::try_from(lines).unwrap()
        );
        server.child.kill().unwrap();
        server.child.wait().unwrap();
        run(&db, &["journal", "verify"]);
    }
}

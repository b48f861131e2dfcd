//! The `siseri` binary, run as a user would: help, exit statuses, admin commands on
//! both engines, the demo, and serving until SIGTERM.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};

use siseri_storage::testing::{TestDb, every_engine};

fn siseri() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_siseri"));
    c.env_remove("SISERI_DATABASE_URL")
        .env_remove("SISERI_TODAY")
        .env_remove("SISERI_PASSWORD");
    c
}

fn run(db: &TestDb, args: &[&str]) -> Output {
    siseri()
        .arg("--database")
        .arg(db.url.expose())
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[track_caller]
fn assert_status(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        stdout(o),
        stderr(o)
    );
}

#[test]
fn help_lists_every_command() {
    let top = siseri().arg("--help").output().unwrap();
    assert_status(&top, 0);
    for word in ["serve", "demo", "admin", "--database"] {
        assert!(stdout(&top).contains(word), "{word}");
    }
    let admin = siseri().args(["admin", "--help"]).output().unwrap();
    for word in ["account", "establishment", "designate", "token"] {
        assert!(stdout(&admin).contains(word), "{word}");
    }
    let add = siseri()
        .args(["admin", "account", "add", "--help"])
        .output()
        .unwrap();
    for word in [
        "--login",
        "--role",
        "--siren",
        "--siret",
        "--rpps",
        "--nir",
        "--natures",
        "--email",
        "--correspondant",
        "--password",
    ] {
        assert!(stdout(&add).contains(word), "{word}");
    }
    for sub in [
        &["serve", "--help"][..],
        &["demo", "--help"],
        &["admin", "designate", "--help"],
        &["admin", "token", "--help"],
        &["admin", "establishment", "add", "--help"],
        &["admin", "account", "list", "--help"],
    ] {
        assert_status(&siseri().args(sub).output().unwrap(), 0);
    }
}

#[test]
fn usage_errors_exit_with_status_2() {
    assert_status(&siseri().arg("frobnicate").output().unwrap(), 2);
    assert_status(
        &siseri()
            .args(["admin", "account", "add", "--role", "ADMIN"])
            .output()
            .unwrap(),
        2,
    );
    assert_status(&siseri().args(["serve", "--nope"]).output().unwrap(), 2);
}

#[tokio::test]
async fn admin_commands_on_every_engine() {
    for db in every_engine().await {
        let siret = "73282932000074";
        assert_status(
            &run(
                &db,
                &[
                    "admin",
                    "establishment",
                    "add",
                    "--siret",
                    siret,
                    "--name",
                    "CHU de Valmont",
                ],
            ),
            0,
        );
        assert_status(
            &run(
                &db,
                &[
                    "admin",
                    "establishment",
                    "add",
                    "--siret",
                    "44306184100047",
                    "--name",
                    "Centrale",
                    "--inb",
                ],
            ),
            0,
        );
        let again = run(
            &db,
            &[
                "admin",
                "establishment",
                "add",
                "--siret",
                siret,
                "--name",
                "x",
            ],
        );
        assert_status(&again, 1);
        assert!(stderr(&again).contains("conflit"));
        let bad = run(
            &db,
            &[
                "admin",
                "establishment",
                "add",
                "--siret",
                "73282932000079",
                "--name",
                "x",
            ],
        );
        assert_status(&bad, 1);
        assert!(stderr(&bad).contains("SIRET"), "{}", stderr(&bad));
        let listed = run(&db, &["admin", "establishment", "list"]);
        assert!(stdout(&listed).contains("Centrale (INB)"));

        let no_siren = run(
            &db,
            &[
                "admin",
                "account",
                "add",
                "--login",
                "rh.chu",
                "--role",
                "EMPLOYEUR",
            ],
        );
        assert_status(&no_siren, 1);
        assert!(stderr(&no_siren).contains("--siren"));
        assert_status(
            &run(
                &db,
                &[
                    "admin",
                    "account",
                    "add",
                    "--login",
                    "rh.chu",
                    "--role",
                    "employeur",
                    "--siren",
                    "732829320",
                    "--siret",
                    siret,
                    "--correspondant",
                ],
            ),
            0,
        );
        let other_company = run(
            &db,
            &[
                "admin",
                "account",
                "add",
                "--login",
                "rh.autre",
                "--role",
                "EMPLOYEUR",
                "--siren",
                "732829320",
                "--siret",
                "44306184100047",
            ],
        );
        assert_status(&other_company, 1);
        let no_rpps = run(
            &db,
            &[
                "admin",
                "account",
                "add",
                "--login",
                "dr.martin",
                "--role",
                "MDT",
            ],
        );
        assert_status(&no_rpps, 1);
        assert!(stderr(&no_rpps).contains("--rpps"));
        let short = run(
            &db,
            &[
                "admin",
                "account",
                "add",
                "--login",
                "dr.martin",
                "--role",
                "MDT",
                "--rpps",
                "10000000009",
                "--password",
                "trop-court-12",
            ],
        );
        assert_status(&short, 1);
        assert!(stderr(&short).contains("15 caractères"));
        let common = run(
            &db,
            &[
                "admin",
                "account",
                "add",
                "--login",
                "jean",
                "--role",
                "TRAVAILLEUR",
                "--password",
                "Motdepasse2026",
            ],
        );
        assert_status(&common, 1);
        assert!(
            stderr(&common).contains("trop courant"),
            "{}",
            stderr(&common)
        );
        assert_status(
            &run(
                &db,
                &[
                    "admin",
                    "account",
                    "add",
                    "--login",
                    "dr.martin",
                    "--role",
                    "MDT",
                    "--rpps",
                    "10000000009",
                    "--password",
                    "un mot de passe assez long",
                    "--email",
                    "dr@example.fr",
                ],
            ),
            0,
        );
        assert_status(
            &run(
                &db,
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
                    "EXTERNE,radon",
                ],
            ),
            0,
        );
        assert_status(
            &run(
                &db,
                &[
                    "admin",
                    "account",
                    "add",
                    "--login",
                    "camille",
                    "--role",
                    "TRAVAILLEUR",
                    "--nir",
                    "2951099126111",
                ],
            ),
            0,
        );
        assert_status(
            &run(
                &db,
                &[
                    "admin",
                    "account",
                    "add",
                    "--login",
                    "bad",
                    "--role",
                    "ORGANISME",
                    "--siren",
                    "443061841",
                    "--natures",
                    "ESTIMATION_MDT",
                ],
            ),
            1,
        );
        assert_status(
            &run(
                &db,
                &["admin", "account", "add", "--login", "x", "--role", "ROI"],
            ),
            1,
        );

        let account = db.store.account("labo").await.unwrap().unwrap();
        assert_eq!(account.spec.natures.len(), 2);
        let hash = db.store.password_hash("dr.martin").await.unwrap().unwrap();
        assert!(hash.starts_with("$argon2id$") && !hash.contains("assez long"));

        assert_status(
            &run(
                &db,
                &[
                    "admin",
                    "designate",
                    "--role",
                    "MDT",
                    "--login",
                    "dr.martin",
                    "--siret",
                    siret,
                    "--from",
                    "2025-01-01",
                ],
            ),
            0,
        );
        let wrong_role = run(
            &db,
            &[
                "admin",
                "designate",
                "--role",
                "CRP",
                "--login",
                "dr.martin",
                "--siret",
                siret,
                "--from",
                "2025-01-01",
            ],
        );
        assert_status(&wrong_role, 1);
        assert_status(
            &run(
                &db,
                &[
                    "admin",
                    "designate",
                    "--role",
                    "MDT",
                    "--login",
                    "dr.martin",
                    "--siret",
                    siret,
                    "--from",
                    "01/01/2025",
                ],
            ),
            1,
        );
        assert_status(
            &run(
                &db,
                &[
                    "admin",
                    "designate",
                    "--role",
                    "MDT",
                    "--login",
                    "dr.martin",
                    "--siret",
                    siret,
                    "--from",
                    "2025-01-01",
                    "--to",
                    "2024-01-01",
                ],
            ),
            1,
        );
        assert_status(
            &run(
                &db,
                &[
                    "admin",
                    "designate",
                    "--role",
                    "MDT",
                    "--login",
                    "ghost",
                    "--siret",
                    siret,
                    "--from",
                    "2025-01-01",
                ],
            ),
            1,
        );
        let designations = db.store.designations_of("dr.martin").await.unwrap();
        assert_eq!(designations.len(), 1);

        let token = run(&db, &["admin", "token", "--login", "dr.martin"]);
        assert_status(&token, 0);
        let token = stdout(&token).trim().to_string();
        assert!(token.starts_with("siseri_"), "{token}");
        let stored = db
            .store
            .token(&siseri_server::auth::token_hash(&token))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.account.spec.login, "dr.martin");
        assert!(stored.expires_at <= chrono::Utc::now() + chrono::Duration::days(90));
        assert_status(&run(&db, &["admin", "token", "--login", "ghost"]), 1);
        assert_status(
            &run(
                &db,
                &["admin", "token", "--login", "dr.martin", "--days", "91"],
            ),
            1,
        );

        let list = run(&db, &["admin", "account", "list"]);
        assert_status(&list, 0);
        for login in ["camille", "dr.martin", "labo", "rh.chu"] {
            assert!(stdout(&list).contains(login));
        }
        assert!(
            !stdout(&list).contains("2951099126111"),
            "a NIR is never listed"
        );
        let json: serde_json::Value =
            serde_json::from_str(&stdout(&run(&db, &["admin", "account", "list", "--json"])))
                .unwrap();
        assert_eq!(json.as_array().unwrap().len(), 4);
    }
}

#[test]
fn database_comes_from_the_environment_or_defaults_to_a_local_file() {
    let dir = std::env::temp_dir().join(format!("siseri-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let o = siseri()
        .current_dir(&dir)
        .args(["admin", "account", "list"])
        .output()
        .unwrap();
    assert_status(&o, 0);
    assert!(
        dir.join("siseri.db").exists(),
        "default sqlite:siseri.db in the working directory"
    );
    let env_db = format!("sqlite:{}", dir.join("other.db").display());
    let o = siseri()
        .env("SISERI_DATABASE_URL", &env_db)
        .args(["admin", "establishment", "list"])
        .output()
        .unwrap();
    assert_status(&o, 0);
    assert!(dir.join("other.db").exists());
    let o = siseri()
        .args([
            "--database",
            "mysql://u:secret@h/db",
            "admin",
            "account",
            "list",
        ])
        .output()
        .unwrap();
    assert_status(&o, 1);
    assert!(
        !stderr(&o).contains("secret"),
        "passwords are never printed"
    );
    let o = siseri()
        .env("SISERI_TODAY", "31/12/2025")
        .args(["--database", &env_db, "admin", "account", "list"])
        .output()
        .unwrap();
    assert_status(&o, 1);
    assert!(stderr(&o).contains("SISERI_TODAY"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A server child process, stopped with SIGTERM.
struct Server {
    child: Child,
    base: String,
    banner: Vec<String>,
}

fn spawn(args: &[&str]) -> Server {
    let mut child = siseri()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut banner = Vec::new();
    let base = loop {
        let line = lines.next().expect("the server printed its URL").unwrap();
        if let Some(rest) = line.strip_prefix("SISERI écoute sur ") {
            break rest.trim_end_matches('/').to_string();
        }
        banner.push(line);
    };
    // Keep reading the banner in the background so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Server {
        child,
        base,
        banner,
    }
}

impl Server {
    fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        self.child.wait().unwrap()
    }
}

async fn get(url: &str) -> reqwest::Response {
    reqwest::get(url).await.unwrap()
}

#[tokio::test]
async fn demo_serves_home_and_openapi_then_stops_gracefully() {
    let dir = std::env::temp_dir().join(format!("siseri-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite:{}", dir.join("demo.db").display());
    let server = spawn(&["--database", &url, "demo", "--listen", "127.0.0.1:0"]);
    let home = get(&format!("{}/", server.base)).await;
    assert_eq!(home.status(), 200);
    let html = home.text().await.unwrap();
    assert!(html.contains("travailleurs suivis"));
    let doc: serde_json::Value = get(&format!("{}/api/v1/openapi.json", server.base))
        .await
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let health: serde_json::Value = get(&format!("{}/healthz", server.base))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(health["statut"], "ok");
    let status = server.terminate();
    assert!(status.success(), "graceful shutdown exits 0: {status}");

    // What the demo created.
    let store = siseri_storage::open(&siseri_storage::DatabaseUrl::parse(&url).unwrap())
        .await
        .unwrap();
    check_demo(store.as_ref()).await;

    // A second run reuses the database.
    let again = siseri()
        .args(["--database", &url, "demo", "--no-serve"])
        .output()
        .unwrap();
    assert_status(&again, 0);
    assert!(stderr(&again).contains("réutilisée"));
    assert!(stdout(&again).contains("siseri-demo-admin"));
    // The printed TOTP secret is the stored one, for every role that needs a second factor.
    let banner = stdout(&again);
    let secret = banner
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("mdt "))
        .nth(1)
        .unwrap()
        .rsplit(' ')
        .next()
        .unwrap()
        .to_string();
    let state = store.login_state("mdt").await.unwrap().unwrap();
    assert_eq!(state.totp_secret.as_deref(), Some(secret.as_str()));
    assert_eq!(banner.matches("second facteur (TOTP)").count(), 6);
    assert_eq!(store.worker_count().await.unwrap(), 200);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The demo holds ~200 workers, an INB with operational dosimetry, one account per
/// role, a physician's correction, and one exceedance of the 20 mSv limit.
async fn check_demo(store: &dyn siseri_storage::Store) {
    assert_eq!(store.worker_count().await.unwrap(), 200);
    let accounts = store.accounts().await.unwrap();
    for role in siseri_domain::Role::ALL {
        assert!(
            accounts.iter().any(|a| a.spec.role == *role),
            "no demo account for {role}"
        );
    }
    let establishments = store.establishments().await.unwrap();
    let inb = establishments.iter().find(|e| e.inb).expect("an INB site");
    let plant_workers = store.workers_of(&inb.siret).await.unwrap();
    assert!(plant_workers.len() >= 40);
    let readings = store.readings(&plant_workers[0].nir).await.unwrap();
    assert!(!readings.is_empty(), "operational dosimetry at the INB");

    let worker = accounts
        .iter()
        .find(|a| a.spec.role == siseri_domain::Role::Travailleur)
        .unwrap();
    let nir = worker.spec.nir.clone().unwrap();
    let results = store.results(&nir).await.unwrap();
    assert!(results.len() >= 30, "three years of monthly results");
    // Largest rolling 12-month effective dose (HP10, current versions).
    use chrono::Datelike;
    let mut monthly = std::collections::BTreeMap::<i32, i64>::new();
    for r in &results {
        let v = &r.current().unwrap().values;
        *monthly
            .entry(v.date_fin.year() * 12 + v.date_fin.month() as i32)
            .or_default() += v.counted_usv();
    }
    let max_rolling = monthly
        .keys()
        .map(|m| monthly.range(m - 11..=*m).map(|(_, d)| d).sum::<i64>())
        .max()
        .unwrap();
    assert!(
        max_rolling > 20_000,
        "the demo's exceedance: {max_rolling} µSv"
    );
    assert!(store.result_version_count().await.unwrap() > 7000);
}

#[tokio::test]
async fn demo_and_serve_on_postgresql() {
    let Some(db) = siseri_storage::testing::postgres().await else {
        eprintln!("PostgreSQL not enabled: demo_and_serve_on_postgresql not run");
        return;
    };
    let o = run(&db, &["demo", "--no-serve"]);
    assert_status(&o, 0);
    check_demo(db.store.as_ref()).await;
    let server = spawn(&[
        "--database",
        db.url.expose(),
        "serve",
        "--listen",
        "127.0.0.1:0",
    ]);
    assert!(server.banner.is_empty());
    let health: serde_json::Value = get(&format!("{}/healthz", server.base))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(health["base"], "postgresql");
    assert!(server.terminate().success());
}

#[tokio::test]
async fn journal_verify_names_the_first_broken_entry() {
    for db in every_engine().await {
        assert_status(
            &run(
                &db,
                &[
                    "admin",
                    "establishment",
                    "add",
                    "--siret",
                    "73282932000074",
                    "--name",
                    "CHU",
                ],
            ),
            0,
        );
        assert_status(
            &run(
                &db,
                &[
                    "admin", "account", "add", "--login", "admin.a", "--role", "ADMIN",
                ],
            ),
            0,
        );
        assert_status(&run(&db, &["admin", "token", "--login", "admin.a"]), 0);
        let ok = run(&db, &["journal", "verify"]);
        assert_status(&ok, 0);
        assert!(stdout(&ok).contains("3 entrées"), "{}", stdout(&ok));
        let entries = db.store.journal_page(0, 10).await.unwrap();
        assert!(entries.iter().all(|e| e.event.actor.starts_with("cli:")));
        assert_eq!(entries[1].event.data_kind, "COMPTE");
        let drop = match db.url.engine() {
            siseri_storage::Engine::Sqlite => "DROP TRIGGER journal_no_update",
            siseri_storage::Engine::Postgres => "DROP TRIGGER journal_append_only ON journal",
        };
        db.execute_raw(drop).await.unwrap();
        db.execute_raw("UPDATE journal SET detail = 'rien' WHERE seq = 2")
            .await
            .unwrap();
        let broken = run(&db, &["journal", "verify"]);
        assert_status(&broken, 1);
        assert!(
            stderr(&broken).contains("entrée n° 2"),
            "{}",
            stderr(&broken)
        );
    }
}

#[tokio::test]
async fn links_between_people_on_the_command_line() {
    for db in every_engine().await {
        assert_status(
            &run(
                &db,
                &[
                    "admin",
                    "account",
                    "add",
                    "--login",
                    "dr.martin",
                    "--role",
                    "MDT",
                    "--rpps",
                    "10000000009",
                ],
            ),
            0,
        );
        assert_status(
            &run(
                &db,
                &[
                    "admin",
                    "account",
                    "add",
                    "--login",
                    "infirmier",
                    "--role",
                    "PROFESSIONNEL_SANTE",
                ],
            ),
            0,
        );
        assert_status(
            &run(
                &db,
                &[
                    "admin",
                    "account",
                    "add",
                    "--login",
                    "dr.famille",
                    "--role",
                    "MEDECIN_DESIGNE",
                ],
            ),
            0,
        );
        assert_status(
            &run(
                &db,
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
                ],
            ),
            0,
        );

        assert_status(
            &run(
                &db,
                &[
                    "admin",
                    "delegate",
                    "--mdt",
                    "infirmier",
                    "--to",
                    "dr.martin",
                ],
            ),
            1,
        );
        let o = run(
            &db,
            &[
                "admin",
                "delegate",
                "--mdt",
                "dr.martin",
                "--to",
                "infirmier",
                "--write",
            ],
        );
        assert_status(&o, 0);
        let delegations = db.store.delegations_to("infirmier").await.unwrap();
        assert!(delegations[0].can_write);
        let id = delegations[0].id.to_string();
        assert_status(&run(&db, &["admin", "revoke-delegation", "--id", &id]), 0);
        assert_status(&run(&db, &["admin", "revoke-delegation", "--id", &id]), 1);

        assert_status(
            &run(
                &db,
                &[
                    "admin",
                    "grant",
                    "--nir",
                    "2951099126111",
                    "--doctor",
                    "dr.martin",
                ],
            ),
            1,
        );
        assert_status(
            &run(
                &db,
                &[
                    "admin",
                    "grant",
                    "--nir",
                    "2951099126111",
                    "--doctor",
                    "dr.famille",
                ],
            ),
            0,
        );
        let g = db.store.grants_of("dr.famille").await.unwrap()[0]
            .id
            .to_string();
        assert_status(&run(&db, &["admin", "revoke-grant", "--id", &g]), 0);

        assert_status(
            &run(
                &db,
                &[
                    "admin",
                    "accredit",
                    "--login",
                    "labo",
                    "--natures",
                    "EXTERNE,cosmique",
                ],
            ),
            0,
        );
        assert_status(
            &run(
                &db,
                &[
                    "admin",
                    "accredit",
                    "--login",
                    "labo",
                    "--natures",
                    "ESTIMATION_MDT",
                ],
            ),
            1,
        );
        assert_status(
            &run(
                &db,
                &[
                    "admin",
                    "accredit",
                    "--login",
                    "dr.martin",
                    "--natures",
                    "EXTERNE",
                ],
            ),
            1,
        );
        assert_eq!(
            db.store
                .account("labo")
                .await
                .unwrap()
                .unwrap()
                .spec
                .natures
                .len(),
            2
        );

        let enrol = run(&db, &["admin", "enrol", "--login", "dr.famille"]);
        assert_status(&enrol, 0);
        let code = stdout(&enrol).trim().to_string();
        let account = db
            .store
            .take_enrolment(&siseri_server::auth::code_hash(&code), chrono::Utc::now())
            .await
            .unwrap();
        assert_eq!(account.unwrap().spec.login, "dr.famille");

        let token = stdout(&run(&db, &["admin", "token", "--login", "labo"]))
            .trim()
            .to_string();
        let stored = db
            .store
            .token(&siseri_server::auth::token_hash(&token))
            .await
            .unwrap()
            .unwrap();
        let tid = stored.id.to_string();
        assert_status(
            &run(
                &db,
                &[
                    "admin",
                    "revoke-token",
                    "--login",
                    "dr.martin",
                    "--id",
                    &tid,
                ],
            ),
            1,
        );
        assert_status(
            &run(
                &db,
                &["admin", "revoke-token", "--login", "labo", "--id", &tid],
            ),
            0,
        );
        assert_status(&run(&db, &["journal", "verify"]), 0);
    }
}

#[test]
fn a_bad_federation_configuration_stops_the_start_up() {
    let dir = std::env::temp_dir().join(format!("siseri-oidc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite:{}", dir.join("s.db").display());
    let missing = siseri()
        .args([
            "--database",
            &db,
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--oidc-config",
            "/nonexistent.json",
        ])
        .output()
        .unwrap();
    assert_status(&missing, 1);
    assert!(stderr(&missing).contains("--oidc-config"));
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{").unwrap();
    let o = siseri()
        .args(["--database", &db, "serve", "--listen", "127.0.0.1:0"])
        .arg("--oidc-config")
        .arg(&bad)
        .output()
        .unwrap();
    assert_status(&o, 1);
    assert!(stderr(&o).contains("JSON invalide"));
    let unreachable = dir.join("unreachable.json");
    let config = r#"[{"name":"fc","label":"FranceConnect+","issuer_url":"http://127.0.0.1:9","client_id":"x","client_secret":"very-secret-value","redirect_url":"http://127.0.0.1/retour","scopes":[]}]"#;
    std::fs::write(&unreachable, config).unwrap();
    let o = siseri()
        .args(["--database", &db, "serve", "--listen", "127.0.0.1:0"])
        .arg("--oidc-config")
        .arg(&unreachable)
        .output()
        .unwrap();
    assert_status(&o, 1);
    assert!(stderr(&o).contains("fédération fc"));
    assert!(!stderr(&o).contains("very-secret-value"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn worker_records_on_the_command_line_follow_the_policy() {
    use siseri_domain::ids::{Nir, Siret};
    use siseri_storage::{WriteBatch, WriteOp};
    let day = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap();
    for db in every_engine().await {
        assert_status(
            &run(
                &db,
                &[
                    "admin",
                    "establishment",
                    "add",
                    "--siret",
                    "73282932000074",
                    "--name",
                    "CHU",
                ],
            ),
            0,
        );
        assert_status(
            &run(
                &db,
                &[
                    "admin",
                    "establishment",
                    "add",
                    "--siret",
                    "44306184100047",
                    "--name",
                    "Centrale",
                ],
            ),
            0,
        );
        for (login, rpps, siret) in [
            ("dr.a", "10000000009", "73282932000074"),
            ("dr.b", "10100000008", "44306184100047"),
        ] {
            assert_status(
                &run(
                    &db,
                    &[
                        "admin", "account", "add", "--login", login, "--role", "MDT", "--rpps",
                        rpps,
                    ],
                ),
                0,
            );
            assert_status(
                &run(
                    &db,
                    &[
                        "admin",
                        "designate",
                        "--role",
                        "MDT",
                        "--login",
                        login,
                        "--siret",
                        siret,
                        "--from",
                        "2020-01-01",
                    ],
                ),
                0,
            );
        }
        assert_status(
            &run(
                &db,
                &[
                    "admin",
                    "account",
                    "add",
                    "--login",
                    "inspecteur",
                    "--role",
                    "AGENT_CONTROLE",
                ],
            ),
            0,
        );
        let nir = Nir::parse("2951099126111").unwrap();
        let mut b = WriteBatch::new("test", chrono::Utc::now());
        b.ops = vec![
            WriteOp::EnsureWorker(siseri_storage::testing::sample_worker(
                "2951099126111",
                "DUPONT",
            )),
            WriteOp::AddAttachment {
                nir: nir.clone(),
                siret: Siret::parse("73282932000074").unwrap(),
                terms: siseri_storage::testing::sample_terms(day(2020, 1, 1)),
            },
        ];
        db.store.commit(&b).await.unwrap();

        let seen = run(&db, &["worker", "2951099126111", "--as", "dr.a", "--json"]);
        assert_status(&seen, 0);
        let record: serde_json::Value = serde_json::from_str(&stdout(&seen)).unwrap();
        assert_eq!(record["nom"], "DUPONT");
        assert_eq!(record["rattachements"][0]["classement"], "A");
        assert!(
            stdout(&run(&db, &["worker", "2951099126111", "--as", "dr.a"]))
                .contains("DUPONT Camille")
        );

        let hidden = run(&db, &["worker", "2951099126111", "--as", "dr.b"]);
        let unknown = run(&db, &["worker", "1850578006084", "--as", "dr.b"]);
        assert_status(&hidden, 1);
        assert_status(&unknown, 1);
        assert_eq!(stderr(&hidden), stderr(&unknown), "a refusal tells nothing");
        assert_eq!(stdout(&hidden), "");
        let no_mission = run(&db, &["worker", "2951099126111", "--as", "inspecteur"]);
        assert_status(&no_mission, 1);
        assert!(stderr(&no_mission).contains("mission requise"));
        assert_status(
            &run(
                &db,
                &[
                    "worker",
                    "2951099126111",
                    "--as",
                    "inspecteur",
                    "--mission",
                    "M-42",
                ],
            ),
            0,
        );
        assert_status(
            &run(&db, &["worker", "2951099126111", "--as", "personne"]),
            1,
        );

        let journal = db.store.journal_page(0, 1000).await.unwrap();
        let reads = |actor: &str, action: &str| {
            journal
                .iter()
                .filter(|e| e.event.actor == actor && e.event.action == action)
                .count()
        };
        assert_eq!(reads("dr.a", "LECTURE"), 2);
        assert_eq!(reads("dr.b", "LECTURE_REFUSEE"), 2);
        assert_eq!(reads("inspecteur", "LECTURE_REFUSEE"), 1);
        assert!(
            journal.iter().any(
                |e| e.event.actor == "inspecteur" && e.event.mission.as_deref() == Some("M-42")
            )
        );
        assert_status(&run(&db, &["journal", "verify"]), 0);
    }
}

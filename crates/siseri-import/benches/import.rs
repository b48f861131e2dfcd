//! Import speed against the database's raw bulk-load speed (docs/performance.md).
//!
//! ```text
//! cargo bench -p siseri-import --bench import -- [--lines N] [--workers N] [--engine sqlite|postgres|all]
//! ```
//!
//! For each engine, on a fresh database: declares `--workers` workers (a `travailleurs`
//! import: one attachment each, category A), then times `siseri_import::import` of a
//! `resultats` file of `--lines` valid lines (up to its return, i.e. committed). Then, on
//! another fresh database with the same migrations and the same workers, times the raw load
//! of the very rows the import wrote into `dose_results` and `result_versions`: SQLite, one
//! prepared INSERT per row in one transaction; PostgreSQL, `COPY … FROM STDIN`. Prints
//! lines per second for both and their ratio.
//!
//! PostgreSQL: the server is `SISERI_BENCH_POSTGRES`, else `SISERI_TEST_POSTGRES`, else
//! `postgres://postgres@127.0.0.1:5432/postgres`; the benchmark creates and drops databases
//! named `siseri_bench_…`.

#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use siseri_domain::access::Person;
use siseri_domain::account::{NewAccount, Role};
use siseri_domain::codes::{Nature, TransmissionFormat};
use siseri_domain::ids::{Siren, Siret};
use siseri_domain::journal::JournalEvent;
use siseri_import::{Progress, Report, Request, SenderInfo};
use siseri_storage::{DatabaseUrl, Engine, NewEstablishment, Store};
use sqlx::{Connection, Row};

/// The binary's allocator (crates/siseri/src/main.rs), so that the import is timed as it runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SIRET: &str = "73282932000074";
const EMPLOYER_SIREN: &str = "732829320";
const BODY_SIREN: &str = "301234563";

#[derive(Debug)]
struct Options {
    lines: usize,
    workers: usize,
    engines: Vec<Engine>,
    /// PostgreSQL: log every statement of the import's database with its duration (the
    /// server's log then tells where the time goes).
    log_statements: bool,
}

fn options() -> Options {
    let mut o = Options {
        lines: 1_000_000,
        workers: 100_000,
        engines: vec![Engine::Sqlite],
        log_statements: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{a}: value expected"));
        match a.as_str() {
            "--lines" => o.lines = value().replace('_', "").parse().unwrap(),
            "--workers" => o.workers = value().replace('_', "").parse().unwrap(),
            "--engine" => {
                o.engines = match value().as_str() {
                    "sqlite" => vec![Engine::Sqlite],
                    "postgres" | "postgresql" => vec![Engine::Postgres],
                    "all" => vec![Engine::Sqlite, Engine::Postgres],
                    e => panic!("--engine {e}: sqlite, postgres or all"),
                };
            }
            "--log-statements" => o.log_statements = true,
            // What `cargo bench` adds for every harness.
            "--bench" => {}
            other => panic!("unknown argument {other}"),
        }
    }
    assert!(o.workers > 0 && o.lines > 0);
    o
}

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let n: u64 = Utc::now().timestamp_nanos_opt().unwrap_or(0).unsigned_abs();
        let dir = std::env::temp_dir().join(format!("siseri-bench-{}-{n:x}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The NIR of worker `i` and its key: a man born in 1985, month from `i`, department 75.
fn nir(i: usize) -> (String, String, u32) {
    let month = (i % 12) as u32 + 1;
    let nir = format!("185{month:02}75{i:06}");
    let n: u64 = nir.parse().unwrap();
    (nir, format!("{:02}", 97 - n % 97), month)
}

fn write_workers(path: &Path, workers: usize) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(
        f,
        "NIR;CLE;NOM;PRENOM;DATENAISSANCE;SEXE;SIRET;GROUPE;CLASSEMENT;AUTREEXPOSITION;\
         caractereActivite;codeDomaineActivite;codeSecteurActivite;codeNuisanceRadiologique;\
         codeTypeContrat;CodeMetier;QUOTITE;DATEDEBUT;DATEFIN"
    )
    .unwrap();
    for i in 0..workers {
        let (n, k, m) = nir(i);
        writeln!(
            f,
            "{n};{k};Martin;Jean;03/{m:02}/1985;M;{SIRET};;A;;Civil;100000;101000;EXT;CDI;AS;0,8;01/01/2010;"
        )
        .unwrap();
    }
    f.flush().unwrap();
}

/// `lines` monthly HP10 results: line `j` is worker `j % workers`, month `j / workers` from
/// January 2012, so that a chunk holds distinct workers, as a body's monthly send does.
fn write_results(path: &Path, lines: usize, workers: usize) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(
        f,
        "REFERENCE;NIR;CLE;NOM;PRENOM;DATENAISSANCE;SEXE;SIRET;NATURE;GRANDEUR;POSITION;\
         DATE_DEBUT;DATE_FIN;STATUT;VALEUR;SEUIL;CODE_METROLOGIE"
    )
    .unwrap();
    for j in 0..lines {
        let i = j % workers;
        let (n, k, m) = nir(i);
        let month = j / workers;
        let first = NaiveDate::from_ymd_opt(2012 + (month / 12) as i32, (month % 12) as u32 + 1, 1)
            .unwrap();
        let last = first
            .checked_add_months(chrono::Months::new(1))
            .unwrap()
            .pred_opt()
            .unwrap();
        writeln!(
            f,
            "R{j:08};{n};{k};Martin;Jean;03/{m:02}/1985;M;{SIRET};EXTERNE;HP10;;{};{};MESURE;0,{};;",
            first.format("%d/%m/%Y"),
            last.format("%d/%m/%Y"),
            j % 90 + 10
        )
        .unwrap();
    }
    f.flush().unwrap();
}

fn event() -> JournalEvent {
    JournalEvent::new(Utc::now(), "bench", "ECRITURE", "BENCH")
}

fn sender(account: siseri_domain::Account) -> SenderInfo {
    let spec = &account.spec;
    let mut person = Person::new(spec.role);
    person.siren.clone_from(&spec.siren);
    person.sirets.clone_from(&spec.sirets);
    person.natures.clone_from(&spec.natures);
    person.correspondent = spec.correspondent;
    SenderInfo { account, person }
}

/// The establishment, an employer and an accredited body.
async fn accounts(store: &dyn Store) -> (SenderInfo, SenderInfo) {
    let e = NewEstablishment {
        siret: Siret::parse(SIRET).unwrap(),
        name: "CHU".into(),
        inb: false,
        company_name: "CHU".into(),
    };
    store.add_establishment(&e, &event()).await.unwrap();
    let mut employer = NewAccount::new("chu", Role::Employeur);
    employer.siren = Some(Siren::parse(EMPLOYER_SIREN).unwrap());
    let mut body = NewAccount::new("labo", Role::Organisme);
    body.siren = Some(Siren::parse(BODY_SIREN).unwrap());
    body.natures = vec![Nature::External];
    let employer = store.add_account(&employer, None, &event()).await.unwrap();
    let body = store.add_account(&body, None, &event()).await.unwrap();
    (sender(employer), sender(body))
}

async fn import(
    store: &dyn Store,
    path: &Path,
    format: TransmissionFormat,
    who: &SenderInfo,
) -> Report {
    let now = Utc::now();
    let request = Request {
        format,
        json: false,
        encoding: Default::default(),
        dry_run: false,
        received_at: now,
        today: now.date_naive(),
    };
    siseri_import::import(store, path, &request, who, Arc::new(Progress::default()))
        .await
        .unwrap()
}

/// A fresh, migrated database, and what drops it.
struct Fresh {
    store: Arc<dyn Store>,
    url: DatabaseUrl,
    _dir: Option<TempDir>,
    drop_pg: Option<(String, String)>,
}

fn pg_server() -> String {
    std::env::var("SISERI_BENCH_POSTGRES")
        .or_else(|_| std::env::var("SISERI_TEST_POSTGRES"))
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

async fn fresh(engine: Engine, tag: &str, log_statements: bool) -> Fresh {
    match engine {
        Engine::Sqlite => {
            let dir = TempDir::new();
            let url = DatabaseUrl::parse(&format!("sqlite:{}", dir.0.join("bench.db").display()))
                .unwrap();
            Fresh {
                store: siseri_storage::open(&url).await.unwrap(),
                url,
                _dir: Some(dir),
                drop_pg: None,
            }
        }
        Engine::Postgres => {
            let server = pg_server();
            let name = format!("siseri_bench_{}_{tag}", std::process::id());
            let mut admin = sqlx::PgConnection::connect(&server).await.unwrap();
            let mut statements = vec![
                format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                format!("CREATE DATABASE {name}"),
            ];
            if log_statements {
                statements.push(format!(
                    "ALTER DATABASE {name} SET log_min_duration_statement = 0"
                ));
                statements.push(format!(
                    "ALTER DATABASE {name} SET log_parameter_max_length = 0"
                ));
            }
            for sql in statements {
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                    .execute(&mut admin)
                    .await
                    .unwrap();
            }
            let _ = admin.close().await;
            let url = DatabaseUrl::parse(&siseri_storage::testing::with_database(&server, &name))
                .unwrap();
            Fresh {
                store: siseri_storage::open(&url).await.unwrap(),
                url,
                _dir: None,
                drop_pg: Some((server, name)),
            }
        }
    }
}

impl Fresh {
    async fn close(self) {
        drop(self.store);
        if let Some((server, name)) = self.drop_pg {
            let mut admin = sqlx::PgConnection::connect(&server).await.unwrap();
            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut admin)
            .await;
        }
    }
}

/// A row of `dose_results`, worker and establishment by their keys.
struct ResultRow {
    id: i64,
    sender: String,
    reference: String,
    nir: String,
    siret: String,
    nature: String,
    grandeur: String,
    position: Option<String>,
    created_at: DateTime<Utc>,
}

/// A row of `result_versions`.
struct VersionRow {
    result_id: i64,
    version: i32,
    date_debut: NaiveDate,
    date_fin: NaiveDate,
    statut: String,
    dose_usv: Option<i64>,
    seuil_usv: Option<i64>,
    author: String,
    recorded_at: DateTime<Utc>,
    justification: Option<String>,
}

const RESULTS_SELECT: &str = "SELECT r.id, r.sender, r.reference, w.nir, e.siret, r.nature, \
     r.grandeur, r.position, r.created_at FROM dose_results r \
     JOIN workers w ON w.id = r.worker_id JOIN establishments e ON e.id = r.establishment_id \
     ORDER BY r.id";
const VERSIONS_SELECT: &str = "SELECT result_id, version, date_debut, date_fin, statut, \
     dose_usv, seuil_usv, author, recorded_at, justification FROM result_versions \
     ORDER BY result_id, version";

macro_rules! read_rows {
    ($conn:expr) => {{
        let results = sqlx::query(RESULTS_SELECT)
            .fetch_all(&mut $conn)
            .await
            .unwrap()
            .iter()
            .map(|r| ResultRow {
                id: r.get("id"),
                sender: r.get("sender"),
                reference: r.get("reference"),
                nir: r.get("nir"),
                siret: r.get("siret"),
                nature: r.get("nature"),
                grandeur: r.get("grandeur"),
                position: r.get("position"),
                created_at: r.get("created_at"),
            })
            .collect::<Vec<_>>();
        let versions = sqlx::query(VERSIONS_SELECT)
            .fetch_all(&mut $conn)
            .await
            .unwrap()
            .iter()
            .map(|r| VersionRow {
                result_id: r.get("result_id"),
                version: r.get("version"),
                date_debut: r.get("date_debut"),
                date_fin: r.get("date_fin"),
                statut: r.get("statut"),
                dose_usv: r.get("dose_usv"),
                seuil_usv: r.get("seuil_usv"),
                author: r.get("author"),
                recorded_at: r.get("recorded_at"),
                justification: r.get("justification"),
            })
            .collect::<Vec<_>>();
        let workers: HashMap<String, i64> = sqlx::query("SELECT id, nir FROM workers")
            .fetch_all(&mut $conn)
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get("nir"), r.get("id")))
            .collect();
        let establishments: HashMap<String, i64> =
            sqlx::query("SELECT id, siret FROM establishments")
                .fetch_all(&mut $conn)
                .await
                .unwrap()
                .iter()
                .map(|r| (r.get("siret"), r.get("id")))
                .collect();
        (results, versions, workers, establishments)
    }};
}

type Rows = (Vec<ResultRow>, Vec<VersionRow>);
type Ids = (HashMap<String, i64>, HashMap<String, i64>);

/// The rows the import wrote.
async fn imported_rows(url: &DatabaseUrl) -> Rows {
    match url.engine() {
        Engine::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(url.expose()).await.unwrap();
            let (r, v, _, _) = read_rows!(c);
            (r, v)
        }
        Engine::Postgres => {
            let mut c = sqlx::PgConnection::connect(url.expose()).await.unwrap();
            let (r, v, _, _) = read_rows!(c);
            (r, v)
        }
    }
}

/// Worker and establishment ids of the raw database, by NIR and SIRET.
async fn ids(url: &DatabaseUrl) -> Ids {
    match url.engine() {
        Engine::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(url.expose()).await.unwrap();
            let (_, _, w, e) = read_rows!(c);
            (w, e)
        }
        Engine::Postgres => {
            let mut c = sqlx::PgConnection::connect(url.expose()).await.unwrap();
            let (_, _, w, e) = read_rows!(c);
            (w, e)
        }
    }
}

/// A transmission row for the versions to point to (outside the timed load).
async fn transmission_row(url: &DatabaseUrl) -> i64 {
    let sql = "INSERT INTO transmissions (format, sender_siren, login, received_at, file_sha256, report) \
               VALUES ('resultats', '301234563', 'labo', $1, '', '{}') RETURNING id";
    match url.engine() {
        Engine::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(url.expose()).await.unwrap();
            sqlx::query_scalar(sql)
                .bind(Utc::now())
                .fetch_one(&mut c)
                .await
                .unwrap()
        }
        Engine::Postgres => {
            let mut c = sqlx::PgConnection::connect(url.expose()).await.unwrap();
            sqlx::query_scalar(sql)
                .bind(Utc::now())
                .fetch_one(&mut c)
                .await
                .unwrap()
        }
    }
}

/// SQLite: one prepared INSERT per row per table, in one transaction.
async fn raw_sqlite(url: &DatabaseUrl, rows: &Rows, ids: &Ids, transmission: i64) -> Duration {
    let mut c = sqlx::SqliteConnection::connect(url.expose()).await.unwrap();
    let start = Instant::now();
    let mut tx = c.begin().await.unwrap();
    for r in &rows.0 {
        sqlx::query(
            "INSERT INTO dose_results (id, sender, reference, worker_id, establishment_id, nature, \
             grandeur, position, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(r.id)
        .bind(&r.sender)
        .bind(&r.reference)
        .bind(ids.0[&r.nir])
        .bind(ids.1[&r.siret])
        .bind(&r.nature)
        .bind(&r.grandeur)
        .bind(&r.position)
        .bind(r.created_at)
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    for v in &rows.1 {
        sqlx::query(
            "INSERT INTO result_versions (result_id, version, date_debut, date_fin, statut, \
             dose_usv, seuil_usv, author, recorded_at, justification, transmission_id) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(v.result_id)
        .bind(v.version)
        .bind(v.date_debut)
        .bind(v.date_fin)
        .bind(&v.statut)
        .bind(v.dose_usv)
        .bind(v.seuil_usv)
        .bind(&v.author)
        .bind(v.recorded_at)
        .bind(&v.justification)
        .bind(transmission)
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    start.elapsed()
}

fn copy_text(out: &mut String, value: Option<&str>) {
    match value {
        None => out.push_str("\\N"),
        Some(s) => {
            for c in s.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\t' => out.push_str("\\t"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    c => out.push(c),
                }
            }
        }
    }
}

/// PostgreSQL: `COPY … FROM STDIN` per table, in one transaction.
async fn raw_postgres(url: &DatabaseUrl, rows: &Rows, ids: &Ids, transmission: i64) -> Duration {
    const BUFFER: usize = 1 << 20;
    let mut c = sqlx::PgConnection::connect(url.expose()).await.unwrap();
    let start = Instant::now();
    let mut tx = c.begin().await.unwrap();
    let mut copy = tx
        .copy_in_raw(
            "COPY dose_results (id, sender, reference, worker_id, establishment_id, nature, \
             grandeur, position, created_at) FROM STDIN",
        )
        .await
        .unwrap();
    let mut buf = String::with_capacity(BUFFER + 4096);
    for r in &rows.0 {
        let _ = write!(buf, "{}\t", r.id);
        copy_text(&mut buf, Some(&r.sender));
        buf.push('\t');
        copy_text(&mut buf, Some(&r.reference));
        let _ = write!(buf, "\t{}\t{}\t", ids.0[&r.nir], ids.1[&r.siret]);
        copy_text(&mut buf, Some(&r.nature));
        buf.push('\t');
        copy_text(&mut buf, Some(&r.grandeur));
        buf.push('\t');
        copy_text(&mut buf, r.position.as_deref());
        buf.push('\t');
        buf.push_str(&r.created_at.to_rfc3339());
        buf.push('\n');
        if buf.len() >= BUFFER {
            copy.send(buf.as_bytes()).await.unwrap();
            buf.clear();
        }
    }
    if !buf.is_empty() {
        copy.send(buf.as_bytes()).await.unwrap();
        buf.clear();
    }
    copy.finish().await.unwrap();
    let mut copy = tx
        .copy_in_raw(
            "COPY result_versions (result_id, version, date_debut, date_fin, statut, dose_usv, \
             seuil_usv, author, recorded_at, justification, transmission_id) FROM STDIN",
        )
        .await
        .unwrap();
    let opt = |v: Option<i64>| v.map_or_else(|| "\\N".to_owned(), |v| v.to_string());
    for v in &rows.1 {
        let _ = write!(
            buf,
            "{}\t{}\t{}\t{}\t",
            v.result_id,
            v.version,
            v.date_debut.format("%Y-%m-%d"),
            v.date_fin.format("%Y-%m-%d")
        );
        copy_text(&mut buf, Some(&v.statut));
        let _ = write!(buf, "\t{}\t{}\t", opt(v.dose_usv), opt(v.seuil_usv));
        copy_text(&mut buf, Some(&v.author));
        buf.push('\t');
        buf.push_str(&v.recorded_at.to_rfc3339());
        buf.push('\t');
        copy_text(&mut buf, v.justification.as_deref());
        let _ = writeln!(buf, "\t{transmission}");
        if buf.len() >= BUFFER {
            copy.send(buf.as_bytes()).await.unwrap();
            buf.clear();
        }
    }
    if !buf.is_empty() {
        copy.send(buf.as_bytes()).await.unwrap();
    }
    copy.finish().await.unwrap();
    tx.commit().await.unwrap();
    start.elapsed()
}

/// CPU seconds (user + system) so far: of this process, and of every PostgreSQL server
/// process on the machine (backends, WAL writer, checkpointer…), read from `/proc` (Linux;
/// zero elsewhere). The import's wall time against these tells how much of it the client
/// and the server spend working, and how much waiting for each other.
fn cpu_seconds() -> (f64, f64) {
    fn ticks(stat: &str) -> Option<(String, f64)> {
        // `pid (comm) state …`: comm may hold spaces; the fields after it are fixed.
        let open = stat.find('(')?;
        let close = stat.rfind(')')?;
        let comm = stat.get(open + 1..close)?.to_owned();
        let rest: Vec<&str> = stat.get(close + 2..)?.split(' ').collect();
        let utime: f64 = rest.get(11)?.parse().ok()?;
        let stime: f64 = rest.get(12)?.parse().ok()?;
        Some((comm, utime + stime))
    }
    const HZ: f64 = 100.0;
    let own = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| ticks(&s))
        .map_or(0.0, |(_, t)| t / HZ);
    let mut server = 0.0;
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            if let Ok(s) = std::fs::read_to_string(e.path().join("stat"))
                && let Some((comm, t)) = ticks(&s)
                && comm.starts_with("postgres")
            {
                server += t / HZ;
            }
        }
    }
    (own, server)
}

fn per_second(lines: usize, d: Duration) -> f64 {
    lines as f64 / d.as_secs_f64()
}

async fn run(engine: Engine, o: &Options, dir: &Path) {
    let name = match engine {
        Engine::Sqlite => "sqlite",
        Engine::Postgres => "postgres",
    };
    let workers_file = dir.join("travailleurs.csv");
    let results_file = dir.join("resultats.csv");

    // The import.
    let db = fresh(engine, "import", o.log_statements).await;
    let (employer, body) = accounts(db.store.as_ref()).await;
    let start = Instant::now();
    let declared = import(
        db.store.as_ref(),
        &workers_file,
        TransmissionFormat::Workers,
        &employer,
    )
    .await;
    assert_eq!(declared.totals.accepted as usize, o.workers, "{declared:?}");
    eprintln!(
        "[{name}] {} workers declared in {:.1} s",
        o.workers,
        start.elapsed().as_secs_f64()
    );
    eprintln!(
        "[{name}] import starts at {}",
        Utc::now().format("%H:%M:%S%.3f")
    );
    let cpu = cpu_seconds();
    let start = Instant::now();
    let report = import(
        db.store.as_ref(),
        &results_file,
        TransmissionFormat::Results,
        &body,
    )
    .await;
    let imported = start.elapsed();
    let cpu_after = cpu_seconds();
    assert_eq!(
        (report.totals.accepted as usize, report.totals.warnings),
        (o.lines, 0),
        "every line accepted without warning: {:?}",
        report.totals
    );
    eprintln!(
        "[{name}] import: {} lines in {:.2} s; CPU: importer {:.1} s, PostgreSQL server {:.1} s",
        o.lines,
        imported.as_secs_f64(),
        cpu_after.0 - cpu.0,
        cpu_after.1 - cpu.1
    );
    let rows = imported_rows(&db.url).await;
    assert_eq!((rows.0.len(), rows.1.len()), (o.lines, o.lines));
    db.close().await;

    // The raw load of the same rows, on a database holding the same workers.
    let raw_db = fresh(engine, "raw", false).await;
    let (employer, _) = accounts(raw_db.store.as_ref()).await;
    import(
        raw_db.store.as_ref(),
        &workers_file,
        TransmissionFormat::Workers,
        &employer,
    )
    .await;
    let ids = ids(&raw_db.url).await;
    let transmission = transmission_row(&raw_db.url).await;
    let cpu = cpu_seconds();
    let raw = match engine {
        Engine::Sqlite => raw_sqlite(&raw_db.url, &rows, &ids, transmission).await,
        Engine::Postgres => raw_postgres(&raw_db.url, &rows, &ids, transmission).await,
    };
    let cpu_after = cpu_seconds();
    eprintln!(
        "[{name}] raw load: {:.2} s; CPU: loader {:.1} s, PostgreSQL server {:.1} s",
        raw.as_secs_f64(),
        cpu_after.0 - cpu.0,
        cpu_after.1 - cpu.1
    );
    raw_db.close().await;

    println!(
        "{name}: {} lines, {} workers: import {:.2} s = {:.0} lines/s; raw load ({}) {:.2} s = {:.0} lines/s; ratio {:.2}",
        o.lines,
        o.workers,
        imported.as_secs_f64(),
        per_second(o.lines, imported),
        match engine {
            Engine::Sqlite => "one prepared INSERT per row",
            Engine::Postgres => "COPY",
        },
        raw.as_secs_f64(),
        per_second(o.lines, raw),
        imported.as_secs_f64() / raw.as_secs_f64()
    );
}

fn main() {
    let o = options();
    let dir = TempDir::new();
    let start = Instant::now();
    write_workers(&dir.0.join("travailleurs.csv"), o.workers);
    write_results(&dir.0.join("resultats.csv"), o.lines, o.workers);
    let size = std::fs::metadata(dir.0.join("resultats.csv"))
        .map(|m| m.len())
        .unwrap_or(0);
    eprintln!(
        "files written in {:.1} s ({} MB of results, months {}–{})",
        start.elapsed().as_secs_f64(),
        size / 1_000_000,
        2012,
        2012 + ((o.lines - 1) / o.workers / 12) as i32
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    for engine in &o.engines {
        rt.block_on(run(*engine, &o, &dir.0));
    }
}

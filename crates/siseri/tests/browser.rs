//! Browser journeys: each `journey!(name)` runs `tests/browser/journeys/name.mjs`
//! (Playwright on Debian's Chromium, axe-core; see tests/browser/README.md) against a
//! real `siseri serve` on a fresh copy of the demo registry.
//!
//! Needs Node.js, /usr/bin/chromium and `tests/browser/node_modules`, which
//! `scripts/test.sh` installs. When one is missing the tests FAIL with the fix: a
//! skipped browser test would look like a passing one.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use support::{Server, siseri, tail};

/// One test per journey file: `journey!(worker);` runs `journeys/worker.mjs`.
macro_rules! journey {
    ($name:ident) => {
        #[test]
        fn $name() {
            run_journey(stringify!($name));
        }
    };
}

journey!(common);
journey!(admin);
journey!(worker);
journey!(inspector);
journey!(crp);
journey!(organisme);
journey!(employer_import);
journey!(mdt);
journey!(employer);

/// Every journey file has its `journey!` line above (a forgotten one would never run).
#[test]
fn every_journey_file_has_a_test() {
    let this = include_str!("browser.rs");
    let dir = repo_root().join("tests/browser/journeys");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let file = entry.unwrap().file_name().into_string().unwrap();
        if let Some(name) = file.strip_suffix(".mjs") {
            assert!(
                this.contains(&format!("\njourney!({name});")),
                "tests/browser/journeys/{file} has no `journey!({name});` in crates/siseri/tests/browser.rs"
            );
        }
    }
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

const FIX: &str = "run scripts/test.sh (it installs them), or: \
    apt-get install -y chromium chromium-driver nodejs npm && \
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix tests/browser";

/// Fails loudly when a tool of the journeys is missing.
fn check_prerequisites() {
    let chromium = std::env::var("SISERI_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "no Chromium at {chromium}: {FIX}"
    );
    let node = Command::new("node").arg("--version").output();
    assert!(
        node.is_ok_and(|o| o.status.success()),
        "no `node` on PATH: {FIX}"
    );
    for package in ["playwright-core", "axe-core"] {
        let dir = repo_root().join("tests/browser/node_modules").join(package);
        assert!(dir.exists(), "{} missing: {FIX}", dir.display());
    }
}

/// The demo registry, made once per test process (a few seconds), copied for each
/// journey so that no journey sees another's writes.
fn demo_template() -> &'static Path {
    static TEMPLATE: OnceLock<PathBuf> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        // Under target/tmp, named by process id; leftovers of earlier runs are removed
        // here since a static is never dropped.
        let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
        for entry in std::fs::read_dir(tmp).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(pid) = name.strip_prefix("browser-demo-")
                && !Path::new("/proc").join(pid).exists()
            {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        let dir = tmp.join(format!("browser-demo-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("demo.db");
        let out = siseri()
            .arg("--database")
            .arg(format!("sqlite:{}", db.display()))
            .args(["demo", "--no-serve"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "siseri demo --no-serve failed\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        db
    })
}

/// A SQLite database is its file plus, in WAL mode, `-wal` and `-shm` when present.
fn copy_database(from: &Path, to: &Path) {
    std::fs::copy(from, to).unwrap();
    for suffix in ["-wal", "-shm"] {
        let side = PathBuf::from(format!("{}{suffix}", from.display()));
        if side.exists() {
            std::fs::copy(&side, format!("{}{suffix}", to.display())).unwrap();
        }
    }
}

fn run_journey(name: &str) {
    // One Chromium at a time: it is heavy on a 2-core machine. A journey that failed
    // poisons the lock; the next ones still run.
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    check_prerequisites();

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    copy_database(demo_template(), &db);
    let server = Server::start(&db, dir.path().join("server.log"));

    let out = Command::new("node")
        .arg("tests/browser/run.mjs")
        .args(["--base", &server.base, "--journey", name])
        .current_dir(repo_root())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "journey {name} failed ({})\n--- stdout\n{stdout}\n--- stderr\n{stderr}\n--- server log (last 4000 bytes)\n{}",
        out.status,
        tail(&server.log(), 4000)
    );
    print!("{stdout}");
}

//! The API against its own OpenAPI document: Schemathesis (PyPI, installed by
//! `scripts/test.sh`) fuzzes every operation of a real `siseri serve` on a fresh demo
//! registry with the bearer tokens of three roles (a physician, an employer and an
//! administrator), checking that no answer is a server error and that every status,
//! content type and body is the one the document gives (issue 12, item 5).
//!
//! Bounded for CI (`SISERI_SCHEMATHESIS_EXAMPLES`, 20 by default, a fixed seed); see
//! docs/testing.md to run it by hand with more examples. Fails, never skips, when
//! Schemathesis is missing.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The roles whose tokens fuzz the API.
const ROLES: [&str; 3] = ["mdt", "employeur", "admin"];

/// The checks of the acceptance.
const CHECKS: &str = "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance";

const FIX: &str =
    "run scripts/test.sh (it installs it), or: python3 -m pip install schemathesis==4.32.5";

fn siseri() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_siseri"));
    c.env_remove("SISERI_DATABASE_URL")
        .env_remove("SISERI_TODAY")
        .env_remove("SISERI_PASSWORD")
        .env_remove("SISERI_OIDC_CONFIG")
        .env_remove("SISERI_SMTP_HOST");
    c
}

/// `python3 -m schemathesis.cli` (a module, so that no console-script shim is needed).
fn schemathesis() -> Command {
    let python = std::env::var("SISERI_PYTHON").unwrap_or_else(|_| "python3".into());
    let mut c = Command::new(python);
    c.args(["-m", "schemathesis.cli"]);
    c
}

fn check_prerequisites() {
    let version = schemathesis().arg("--version").output();
    match version {
        Ok(o) if o.status.success() => {
            let v = String::from_utf8_lossy(&o.stdout);
            assert!(
                v.contains("version 4."),
                "Schemathesis 4.x expected, found {v}: {FIX}"
            );
        }
        Ok(o) => panic!(
            "Schemathesis is missing ({}): {FIX}",
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => panic!("no python3 to run Schemathesis ({e}): {FIX}"),
    }
}

/// `siseri serve` on a free port; killed when dropped.
struct Server {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Server {
    fn start(db: &Path, log: PathBuf) -> Server {
        let mut child = siseri()
            .arg("--database")
            .arg(format!("sqlite:{}", db.display()))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let base = loop {
            let Some(line) = lines.next() else {
                let _ = child.kill();
                panic!(
                    "siseri serve exited before printing its URL:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            };
            if let Some(rest) = line.unwrap().strip_prefix("SISERI écoute sur ") {
                break rest.trim_end_matches('/').to_string();
            }
        };
        std::thread::spawn(move || for _ in lines {});
        let server = Server { child, base, log };
        let deadline = Instant::now() + Duration::from_secs(30);
        while get(&server.base, "/healthz", None).0 != 200 {
            assert!(
                Instant::now() < deadline,
                "{}/healthz did not answer 200",
                server.base
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A bare HTTP/1.1 GET: the status (0 when unreachable).
fn get(base: &str, path: &str, token: Option<&str>) -> (u16, String) {
    let address = base.trim_start_matches("http://");
    let Ok(mut s) = TcpStream::connect(address) else {
        return (0, String::new());
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    if write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\n{auth}Connection: close\r\n\r\n"
    )
    .is_err()
    {
        return (0, String::new());
    }
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, answer)
}

fn token(db: &Path, login: &str) -> String {
    let out = siseri()
        .arg("--database")
        .arg(format!("sqlite:{}", db.display()))
        .args(["admin", "token", "--login", login])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "siseri admin token --login {login}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn the_api_conforms_to_its_openapi_document() {
    check_prerequisites();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let out = siseri()
        .arg("--database")
        .arg(format!("sqlite:{}", db.display()))
        .args(["demo", "--no-serve"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "siseri demo --no-serve: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tokens: Vec<(&str, String)> = ROLES.iter().map(|l| (*l, token(&db, l))).collect();
    let server = Server::start(&db, dir.path().join("server.log"));
    let examples =
        std::env::var("SISERI_SCHEMATHESIS_EXAMPLES").unwrap_or_else(|_| "20".to_owned());
    let seed = std::env::var("SISERI_SCHEMATHESIS_SEED").unwrap_or_else(|_| "1".to_owned());

    let mut failed = Vec::new();
    for (login, token) in &tokens {
        // A run whose token does not work would test nothing but 401s.
        let (status, answer) = get(&server.base, "/api/v1/moi", Some(token));
        assert_eq!(
            status, 200,
            "{login}'s token is refused before the run: {answer}"
        );
        let started = Instant::now();
        let out = schemathesis()
            .args(["run", &format!("{}/api/v1/openapi.json", server.base)])
            .args(["--header", &format!("Authorization: Bearer {token}")])
            .args(["--checks", CHECKS])
            .args(["--max-examples", &examples, "--seed", &seed])
            // Revoking its own token would leave the rest of the run to 401s.
            .args(["--exclude-operation-id", "revoke_token"])
            .args(["--request-timeout", "30", "--no-color"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        println!(
            "schemathesis as {login} ({} s):\n{}",
            started.elapsed().as_secs(),
            tail(&stdout, 1500)
        );
        if !out.status.success() {
            failed.push(format!(
                "=== as {login}: {}\n{stdout}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let (status, answer) = get(&server.base, "/api/v1/moi", Some(token));
        assert_eq!(
            status, 200,
            "{login}'s token was lost during the run: {answer}"
        );
    }
    assert!(
        failed.is_empty(),
        "Schemathesis found failures:\n{}\n--- server log (last 4000 bytes)\n{}",
        failed.join("\n"),
        tail(
            &std::fs::read_to_string(&server.log).unwrap_or_default(),
            4000
        )
    );
}

fn tail(text: &str, bytes: usize) -> &str {
    let mut start = text.len().saturating_sub(bytes);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

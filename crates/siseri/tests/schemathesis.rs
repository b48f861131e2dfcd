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

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use support::{Server, get, siseri, tail};

/// The roles whose tokens fuzz the API.
const ROLES: [&str; 3] = ["mdt", "employeur", "admin"];

/// The checks of the acceptance.
const CHECKS: &str = "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance";

const FIX: &str =
    "run scripts/test.sh (it installs it), or: python3 -m pip install schemathesis==4.32.5";

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
        tail(&server.log(), 4000)
    );
}

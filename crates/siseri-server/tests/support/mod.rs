//! A real OpenID Connect provider for the tests: the npm package `oidc-provider`,
//! started from `tests/oidc-provider/provider.mjs` with Node.js, and a "browser" that
//! plays the user through its login form. Shared by the OIDC client and the
//! federated-login tests.

#![allow(dead_code)]

pub mod smtp;
pub mod web;

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use reqwest::{StatusCode, Url};

pub const CLIENT_ID: &str = "siseri-test";
pub const CLIENT_SECRET: &str = "secret-de-test-assez-long-pour-hs256-0123456789";
pub const TEST_SUBJECT: &str = "agent-7f3c2a";
pub const TEST_EMAIL: &str = "agent.test@siseri.invalid";

/// The provider's Node.js process, killed on drop.
pub struct Provider {
    child: Child,
    /// The issuer it announced.
    pub issuer: String,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn provider_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/oidc-provider")
}

/// Starts the provider on a free port (chosen by the provider itself, so no race) and
/// waits for its `READY <issuer>` line.
pub fn start_provider(client_secret: Option<&str>, redirect_uri: &str) -> Provider {
    let dir = provider_dir();
    assert!(
        dir.join("node_modules/oidc-provider/package.json")
            .is_file(),
        "tests/oidc-provider/node_modules is missing: run `npm ci --prefix tests/oidc-provider` \
         at the workspace root (scripts/test.sh does it)"
    );
    let mut child = Command::new("node")
        .arg("provider.mjs")
        .current_dir(&dir)
        .env("PORT", "0")
        .env("CLIENT_ID", CLIENT_ID)
        .env("CLIENT_SECRET", client_secret.unwrap_or(""))
        .env("REDIRECT_URI", redirect_uri)
        .env("TEST_SUBJECT", TEST_SUBJECT)
        .env("NODE_ENV", "test")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot start `node` ({e}): install Node.js (scripts/test.sh does it)")
        });

    // Collect stderr, to show it if the provider does not come up.
    let stderr_text = Arc::new(Mutex::new(String::new()));
    let mut stderr = child.stderr.take().expect("stderr piped");
    let sink = Arc::clone(&stderr_text);
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stderr.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock()
                .expect("stderr lock")
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });

    // Read stdout until READY, then keep draining it.
    let stdout = child.stdout.take().expect("stdout piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(issuer) = line.strip_prefix("READY ") {
                let _ = tx.send(issuer.trim().to_owned());
            }
        }
    });
    match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(issuer) => Provider { child, issuer },
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the OIDC test provider did not print READY within 30 s; its stderr:\n{}",
                stderr_text.lock().expect("stderr lock")
            );
        }
    }
}

/// A "browser": keeps cookies, never follows redirects on its own.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("reqwest client")
}

/// Plays the user: follows the authorize URL through the provider's interaction (GET the
/// form, POST it) until the redirect to REDIRECT_URI, and returns its `code` and `state`.
pub async fn authorize(authorize_url: &str, redirect_uri: &str) -> (String, String) {
    let browser = browser();
    let mut url = Url::parse(authorize_url).expect("authorize URL");
    for _ in 0..10 {
        let response = browser.get(url.clone()).send().await.expect("GET");
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .expect("Location header")
                .to_str()
                .expect("Location is ASCII");
            let next = url.join(location).expect("Location is a URL");
            if next.as_str().starts_with(redirect_uri) {
                let param = |name: &str| {
                    next.query_pairs()
                        .find(|(k, _)| k == name)
                        .map(|(_, v)| v.into_owned())
                };
                assert_eq!(param("error"), None, "provider answered an error: {next}");
                return (
                    param("code").expect("code in callback"),
                    param("state").expect("state in callback"),
                );
            }
            url = next;
            continue;
        }
        assert_eq!(status, StatusCode::OK, "unexpected answer at {url}");
        // The interaction form: POST it to its action.
        let html = response.text().await.expect("form");
        let action = html
            .split("action=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("no form at {url}: {html}"));
        let response = browser
            .post(url.join(action).expect("form action"))
            .form(&[("login", TEST_SUBJECT)])
            .send()
            .await
            .expect("POST");
        assert!(
            response.status().is_redirection(),
            "interaction POST answered {}",
            response.status()
        );
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .expect("Location after POST")
            .to_str()
            .expect("ASCII");
        url = url.join(location).expect("Location is a URL");
    }
    panic!("no redirect to {redirect_uri} after 10 steps");
}

//! Federated login (OpenID Connect) end to end against a real provider: the npm package
//! `oidc-provider`, started by each test from `tests/oidc-provider/provider.mjs` with
//! Node.js. The browser is played by a reqwest client that keeps cookies and does not
//! follow redirects; nothing listens at the redirect URI, the test stops at that redirect.
//!
//! Needs `node` and `npm ci --prefix tests/oidc-provider` (scripts/test.sh does both).
//! Never skipped: without them the tests fail and say what to run.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use reqwest::{StatusCode, Url};
use siseri_server::oidc::{OidcClient, OidcConfig, OidcError, PendingLogin};

const CLIENT_ID: &str = "siseri-test";
const CLIENT_SECRET: &str = "secret-de-test-assez-long-pour-hs256-0123456789";
const REDIRECT_URI: &str = "http://127.0.0.1:9/connexion/federation/retour";
const TEST_SUBJECT: &str = "agent-7f3c2a";
const TEST_EMAIL: &str = "agent.test@siseri.invalid";

/// The provider's Node.js process, killed on drop.
struct Provider {
    child: Child,
    issuer: String,
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
fn start_provider(client_secret: Option<&str>) -> Provider {
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
        .env("REDIRECT_URI", REDIRECT_URI)
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

fn config(provider: &Provider, client_secret: Option<&str>) -> OidcConfig {
    OidcConfig {
        name: "test".into(),
        label: "Fournisseur de test".into(),
        issuer_url: provider.issuer.clone(),
        client_id: CLIENT_ID.into(),
        client_secret: client_secret.map(str::to_owned),
        redirect_url: REDIRECT_URI.into(),
        scopes: vec!["openid".into(), "email".into()],
    }
}

async fn discover(provider: &Provider) -> OidcClient {
    OidcClient::discover(config(provider, Some(CLIENT_SECRET)))
        .await
        .expect("discovery")
}

/// A "browser": keeps cookies, never follows redirects on its own.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("reqwest client")
}

/// Plays the user: follows the authorize URL through the provider's interaction (GET the
/// form, POST it) until the redirect to REDIRECT_URI, and returns its `code` and `state`.
async fn authorize(authorize_url: &str) -> (String, String) {
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
            if next.as_str().starts_with(REDIRECT_URI) {
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
    panic!("no redirect to {REDIRECT_URI} after 10 steps");
}

/// `begin` and the user's part of the flow: the pending login and the callback's
/// `code` and `state`.
async fn login(client: &OidcClient) -> (PendingLogin, String, String) {
    let (url, pending) = client.begin();
    let (code, state) = authorize(&url).await;
    (pending, code, state)
}

#[tokio::test]
async fn login_with_real_provider_returns_verified_identity() {
    let provider = start_provider(Some(CLIENT_SECRET));
    let client = discover(&provider).await;

    let (url, pending) = client.begin();
    let parsed = Url::parse(&url).expect("URL");
    let param = |name: &str| {
        parsed
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    assert!(url.starts_with(&provider.issuer), "{url}");
    assert_eq!(param("code_challenge_method").as_deref(), Some("S256"));
    assert_eq!(param("state").as_deref(), Some(pending.state.as_str()));
    assert_eq!(param("nonce").as_deref(), Some(pending.nonce.as_str()));
    assert_eq!(param("scope").as_deref(), Some("openid email"));
    assert!(!url.contains(&pending.pkce_verifier));
    assert_eq!(pending.provider, "test");

    let (code, state) = authorize(&url).await;
    let identity = client
        .finish(pending, &code, &state)
        .await
        .expect("login accepted");
    assert_eq!(identity.issuer, provider.issuer);
    assert_eq!(identity.subject, TEST_SUBJECT);
    assert_eq!(identity.email.as_deref(), Some(TEST_EMAIL));
    assert_eq!(identity.email_verified, Some(true));
}

#[tokio::test]
async fn public_client_login_works() {
    let provider = start_provider(None);
    let client = OidcClient::discover(config(&provider, None))
        .await
        .expect("discovery");
    let (pending, code, state) = login(&client).await;
    let identity = client.finish(pending, &code, &state).await.expect("login");
    assert_eq!(identity.subject, TEST_SUBJECT);
}

#[tokio::test]
async fn wrong_state_is_refused() {
    let provider = start_provider(Some(CLIENT_SECRET));
    let client = discover(&provider).await;
    let (pending, code, state) = login(&client).await;

    let err = client
        .finish(pending.clone(), &code, "un-autre-state")
        .await
        .expect_err("wrong state");
    assert!(matches!(err, OidcError::StateMismatch), "{err:?}");

    // A pending login of another federation is refused too.
    let other = PendingLogin {
        provider: "autre".into(),
        ..pending.clone()
    };
    let err = client
        .finish(other, &code, &state)
        .await
        .expect_err("other provider");
    assert!(matches!(err, OidcError::StateMismatch), "{err:?}");

    // The refusals did not burn the code: the genuine callback still succeeds.
    client.finish(pending, &code, &state).await.expect("login");
}

#[tokio::test]
async fn replayed_code_is_refused() {
    let provider = start_provider(Some(CLIENT_SECRET));
    let client = discover(&provider).await;
    let (pending, code, state) = login(&client).await;

    client
        .finish(pending.clone(), &code, &state)
        .await
        .expect("first use");
    let err = client
        .finish(pending, &code, &state)
        .await
        .expect_err("replay");
    assert!(matches!(err, OidcError::Exchange(_)), "{err:?}");
    assert!(err.to_string().contains("invalid_grant"), "{err}");
    assert!(
        !err.to_string().contains(&code),
        "the message echoes the code"
    );
}

#[tokio::test]
async fn pending_login_from_another_begin_is_refused() {
    let provider = start_provider(Some(CLIENT_SECRET));
    let client = discover(&provider).await;
    let (_pending, code, state) = login(&client).await;
    let (_, other) = client.begin();

    // Another session's pending login: its state does not match.
    let err = client
        .finish(other.clone(), &code, &state)
        .await
        .expect_err("other session");
    assert!(matches!(err, OidcError::StateMismatch), "{err:?}");

    // Even with the right state (leaked), another begin's PKCE verifier is refused by
    // the token endpoint.
    let forged = PendingLogin {
        state: state.clone(),
        ..other.clone()
    };
    let err = client
        .finish(forged, &code, &state)
        .await
        .expect_err("wrong verifier");
    assert!(matches!(err, OidcError::Exchange(_)), "{err:?}");

    // Right verifier but another begin's nonce: the ID token is refused.
    let (pending2, code2, state2) = login(&client).await;
    let forged = PendingLogin {
        nonce: other.nonce,
        ..pending2
    };
    let err = client
        .finish(forged, &code2, &state2)
        .await
        .expect_err("wrong nonce");
    assert!(matches!(err, OidcError::IdToken(_)), "{err:?}");
}

#[tokio::test]
async fn discovery_of_unreachable_issuer_fails() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let issuer = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    let err = OidcClient::discover(OidcConfig {
        name: "absent".into(),
        label: "Absent".into(),
        issuer_url: issuer,
        client_id: CLIENT_ID.into(),
        client_secret: Some(CLIENT_SECRET.into()),
        redirect_url: REDIRECT_URI.into(),
        scopes: vec![],
    })
    .await
    .expect_err("nothing listens");
    assert!(matches!(err, OidcError::Discovery(_)), "{err:?}");
    assert!(!err.to_string().contains(CLIENT_SECRET));
}

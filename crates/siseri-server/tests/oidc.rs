//! Federated login (OpenID Connect) end to end against a real provider: the npm package
//! `oidc-provider`, started by each test from `tests/oidc-provider/provider.mjs` with
//! Node.js. The browser is played by a reqwest client that keeps cookies and does not
//! follow redirects; nothing listens at the redirect URI, the test stops at that redirect.
//!
//! Needs `node` and `npm ci --prefix tests/oidc-provider` (scripts/test.sh does both).
//! Never skipped: without them the tests fail and say what to run.

mod support;

use reqwest::Url;
use siseri_server::oidc::{OidcClient, OidcConfig, OidcError, PendingLogin};
use support::{CLIENT_ID, CLIENT_SECRET, Provider, TEST_EMAIL, TEST_SUBJECT, start_provider};

const REDIRECT_URI: &str = "http://127.0.0.1:9/connexion/federation/retour";

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

/// `begin` and the user's part of the flow: the pending login and the callback's
/// `code` and `state`.
async fn login(client: &OidcClient) -> (PendingLogin, String, String) {
    let (url, pending) = client.begin();
    let (code, state) = support::authorize(&url, REDIRECT_URI).await;
    (pending, code, state)
}

#[tokio::test]
async fn login_with_real_provider_returns_verified_identity() {
    let provider = start_provider(Some(CLIENT_SECRET), REDIRECT_URI);
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

    let (code, state) = support::authorize(&url, REDIRECT_URI).await;
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
    let provider = start_provider(None, REDIRECT_URI);
    let client = OidcClient::discover(config(&provider, None))
        .await
        .expect("discovery");
    let (pending, code, state) = login(&client).await;
    let identity = client.finish(pending, &code, &state).await.expect("login");
    assert_eq!(identity.subject, TEST_SUBJECT);
}

#[tokio::test]
async fn wrong_state_is_refused() {
    let provider = start_provider(Some(CLIENT_SECRET), REDIRECT_URI);
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
    let provider = start_provider(Some(CLIENT_SECRET), REDIRECT_URI);
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
    let provider = start_provider(Some(CLIENT_SECRET), REDIRECT_URI);
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

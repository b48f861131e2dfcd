//! Federated login through the server, end to end against a real OpenID Connect
//! provider: the first login links the account with an enrolment code given by the
//! registry, later logins match on (issuer, subject), never on a name.

#![allow(clippy::unwrap_used)]

mod support;

use chrono::Utc;
use reqwest::Url;
use reqwest::redirect::Policy;
use siseri_domain::Clock;
use siseri_domain::account::{NewAccount, Role};
use siseri_domain::ids::Nir;
use siseri_domain::journal::JournalEvent;
use siseri_server::AppState;
use siseri_server::federation::Federations;
use siseri_server::oidc::{OidcClient, OidcConfig};
use support::{CLIENT_ID, CLIENT_SECRET, TEST_SUBJECT, start_provider};

/// Follows one flow: the server's redirect to the provider, the user's login there,
/// and the provider's redirect back to the server's callback (returned, not followed).
async fn federated_flow(
    base: &str,
    server: &reqwest::Client,
    cookies: &mut Vec<String>,
    callback: &str,
) -> String {
    let r = server
        .get(format!("{base}/connexion/federation/test"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    for c in r.headers().get_all("set-cookie") {
        cookies.push(c.to_str().unwrap().split(';').next().unwrap().to_string());
    }
    let authorize = r.headers()["location"].to_str().unwrap().to_string();
    let (code, state) = support::authorize(&authorize, callback).await;
    let mut url = Url::parse(callback).unwrap();
    url.query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", &state);
    url.to_string()
}

fn cookie_header(cookies: &[String]) -> String {
    cookies
        .iter()
        .filter(|c| !c.ends_with('='))
        .cloned()
        .collect::<Vec<_>>()
        .join("; ")
}

fn keep(cookies: &mut Vec<String>, r: &reqwest::Response) {
    for c in r.headers().get_all("set-cookie") {
        let kv = c.to_str().unwrap().split(';').next().unwrap().to_string();
        let name = kv.split('=').next().unwrap().to_string();
        cookies.retain(|c| !c.starts_with(&format!("{name}=")));
        cookies.push(kv);
    }
}

#[tokio::test]
async fn first_federated_login_links_with_an_enrolment_code_then_matches_on_the_subject() {
    let db = siseri_storage::testing::sqlite().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let callback = format!("{base}/connexion/federation/test/retour");
    let provider = start_provider(Some(CLIENT_SECRET), &callback);
    let config = OidcConfig {
        name: "test".into(),
        label: "FranceConnect+ (test)".into(),
        issuer_url: provider.issuer.clone(),
        client_id: CLIENT_ID.into(),
        client_secret: Some(CLIENT_SECRET.into()),
        redirect_url: callback.clone(),
        scopes: vec!["openid".into()],
    };
    let client = OidcClient::discover(config).await.unwrap();
    let state = AppState::new(db.store.clone(), Clock::System)
        .with_federations(Federations::new(vec![client]));
    tokio::spawn(siseri_server::serve(
        listener,
        state,
        std::future::pending(),
    ));

    // A worker's account, whose name and e-mail have nothing to do with the provider's claims.
    let mut account = NewAccount::new("camille", Role::Travailleur);
    account.nir = Some(Nir::parse("2951099126111").unwrap());
    let event = JournalEvent::new(Utc::now(), "test", "ECRITURE", "TEST");
    db.store.add_account(&account, None, &event).await.unwrap();
    let (codes, hashes) = siseri_server::auth::new_recovery_codes();
    db.store
        .set_enrolment(
            "camille",
            &hashes[0],
            Utc::now() + chrono::Duration::days(7),
            &event,
        )
        .await
        .unwrap();

    let server = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let login_page = server
        .get(format!("{base}/connexion"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(login_page.contains("Se connecter avec FranceConnect+ (test)"));

    // First login: the identity is verified but linked to nothing; a wrong code is refused.
    let mut cookies = Vec::new();
    let back = federated_flow(&base, &server, &mut cookies, &callback).await;
    let r = server
        .get(&back)
        .header("cookie", cookie_header(&cookies))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    keep(&mut cookies, &r);
    let html = r.text().await.unwrap();
    assert!(html.contains("Première connexion fédérée"));
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let wrong = server
        .post(format!("{base}/connexion/federation/inscription"))
        .header("cookie", cookie_header(&cookies))
        .form(&[("code", "AAAA-BBBB"), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 403);
    assert!(
        db.store
            .account_by_identity(&provider.issuer, TEST_SUBJECT)
            .await
            .unwrap()
            .is_none()
    );

    // Again, with the registry's code: linked, and logged in.
    let mut cookies = Vec::new();
    let back = federated_flow(&base, &server, &mut cookies, &callback).await;
    let r = server
        .get(&back)
        .header("cookie", cookie_header(&cookies))
        .send()
        .await
        .unwrap();
    keep(&mut cookies, &r);
    let html = r.text().await.unwrap();
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let r = server
        .post(format!("{base}/connexion/federation/inscription"))
        .header("cookie", cookie_header(&cookies))
        .form(&[("code", codes[0].to_lowercase().as_str()), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/compte");
    keep(&mut cookies, &r);
    let page = server
        .get(format!("{base}/compte"))
        .header("cookie", cookie_header(&cookies))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("camille"));
    let linked = db
        .store
        .account_by_identity(&provider.issuer, TEST_SUBJECT)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(linked.spec.login, "camille");

    // Later logins: straight in, no code; the code itself was single-use.
    let mut fresh = Vec::new();
    let back = federated_flow(&base, &server, &mut fresh, &callback).await;
    let r = server
        .get(&back)
        .header("cookie", cookie_header(&fresh))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/compte");
    assert!(
        db.store
            .take_enrolment(&hashes[0], Utc::now())
            .await
            .unwrap()
            .is_none()
    );

    // A callback replayed without its flow cookie is refused.
    let r = server.get(&back).send().await.unwrap();
    assert_eq!(r.status(), 403);

    let journal = db.store.journal_page(0, 1000).await.unwrap();
    assert!(journal.iter().any(|e| e.event.actor == "camille"
        && e.event.action == "CONNEXION"
        && e.event.detail.as_deref() == Some("fédération test")));
    assert!(
        journal
            .iter()
            .any(|e| e.event.detail.as_deref() == Some("liaison d'une identité fédérée"))
    );
    assert!(journal.iter().any(|e| e.event.action == "CONNEXION_REFUSEE"
        && e.event.detail.as_deref() == Some("code d'inscription invalide")));
}

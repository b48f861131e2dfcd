//! The real server on a random port, on each engine, spoken to over HTTP.

#![allow(clippy::unwrap_used)]

use siseri_domain::Clock;
use siseri_server::AppState;
use siseri_storage::testing::{TestDb, every_engine};

/// A running server; dropped with the test.
struct Running {
    base: String,
    client: reqwest::Client,
    _db: TestDb,
}

async fn start(db: TestDb) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = AppState::new(db.store.clone(), Clock::System);
    tokio::spawn(siseri_server::serve(
        listener,
        state,
        std::future::pending(),
    ));
    Running {
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
        _db: db,
    }
}

async fn servers() -> Vec<Running> {
    let mut out = Vec::new();
    for db in every_engine().await {
        out.push(start(db).await);
    }
    out
}

#[tokio::test]
async fn health_reports_the_engine() {
    for s in servers().await {
        let r = s
            .client
            .get(format!("{}/healthz", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["statut"], "ok");
        assert!(
            body["base"] == "sqlite" || body["base"] == "postgresql",
            "{body}"
        );
    }
}

#[tokio::test]
async fn home_page_is_french_dsfr_and_secure() {
    for s in servers().await {
        let r = s.client.get(format!("{}/", s.base)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let headers = r.headers().clone();
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("default-src 'self'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert!(headers.contains_key("x-request-id"));
        let html = r.text().await.unwrap();
        assert!(html.contains(r#"<html lang="fr""#));
        assert!(html.contains("/static/dsfr/dsfr.min.css"));
        assert!(html.contains("République<br>Française"));
        assert!(html.contains("travailleurs suivis"));
        // No asset from the internet.
        assert!(
            !html.contains("http://") && !html.contains("https://"),
            "external URL in the page"
        );
    }
}

#[tokio::test]
async fn dsfr_assets_are_served_by_the_binary() {
    let s = start(siseri_storage::testing::sqlite().await).await;
    for (path, kind) in [
        ("/static/dsfr/dsfr.min.css", "text/css"),
        ("/static/dsfr/dsfr.module.min.js", "text/javascript"),
        ("/static/dsfr/utility/icons/icons.min.css", "text/css"),
        ("/static/dsfr/favicon/favicon.svg", "image/svg+xml"),
        ("/static/htmx/htmx.min.js", "text/javascript"),
    ] {
        let r = s
            .client
            .get(format!("{}{path}", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(kind),
            "{path}"
        );
    }
    // Fonts referenced by the stylesheet resolve too.
    let css = s
        .client
        .get(format!("{}/static/dsfr/dsfr.min.css", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let font = css
        .split("url(")
        .find(|p| p.starts_with("fonts/"))
        .unwrap()
        .split(')')
        .next()
        .unwrap();
    let r = s
        .client
        .get(format!("{}/static/dsfr/{font}", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{font}");
    let missing = s
        .client
        .get(format!("{}/static/dsfr/nope.css", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn openapi_document_describes_the_api() {
    let s = start(siseri_storage::testing::sqlite().await).await;
    let r = s
        .client
        .get(format!("{}/api/v1/openapi.json", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let doc: serde_json::Value = r.json().await.unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert!(doc["paths"]["/healthz"]["get"].is_object());
    assert!(doc["paths"]["/api/v1/nomenclature"]["get"].is_object());
    // The served document is the one generated from the code.
    let generated = serde_json::to_value(siseri_server::openapi_document()).unwrap();
    assert_eq!(doc, generated);
}

/// Every answer an operation can give is documented (issue 12, item 5): 401 and 403 on
/// every authenticated operation, 400 wherever there is a parameter or a body, 413 with a
/// body, each with a description and, for errors, the JSON `ErrorBody`; the NIR of a path
/// has the pattern of exchange.md §2.
#[test]
fn openapi_document_lists_every_answer() {
    let doc = serde_json::to_value(siseri_server::openapi_document()).unwrap();
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            operations += 1;
            let name = format!("{method} {path}");
            let responses = op["responses"].as_object().unwrap();
            let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
            let params = op["parameters"]
                .as_array()
                .map_or(&[][..], |p| p.as_slice());
            let mut expected = Vec::new();
            if secured {
                expected.extend(["401", "403"]);
            }
            if !params.is_empty() || op.get("requestBody").is_some() {
                expected.push("400");
            }
            if op.get("requestBody").is_some() {
                expected.push("413");
            }
            for status in expected {
                let r = &responses
                    .get(status)
                    .unwrap_or_else(|| panic!("{name}: {status} undocumented"));
                // A transmission's 413 is its report (FICHIER_TROP_GRAND).
                if path != "/api/v1/transmissions" {
                    assert_eq!(
                        r["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/ErrorBody",
                        "{name} {status}"
                    );
                }
            }
            for (status, r) in responses {
                assert!(
                    r["description"].as_str().is_some_and(|d| !d.is_empty()),
                    "{name} {status}: no description"
                );
                if status.starts_with('2') && method != "get" || status == "200" {
                    assert!(r["content"].is_object(), "{name} {status}: no content");
                }
            }
            for p in params {
                if p["name"] == "nir" {
                    assert_eq!(
                        p["schema"]["pattern"], "^[1-478][0-9]{4}(2A|2B|[0-9]{2})[0-9]{6}$",
                        "{name}"
                    );
                }
            }
        }
    }
    assert!(operations > 30, "{operations}");
    for (path, method) in [
        ("/api/v1/alertes/{id}/etapes", "post"),
        ("/api/v1/grossesses/{id}/fin", "post"),
    ] {
        assert!(
            doc["paths"][path][method]["responses"]["403"].is_object(),
            "{method} {path}"
        );
    }
}

#[test]
fn openapi_document_snapshot() {
    // Any change to the API shows in review as a change of this snapshot.
    insta::assert_snapshot!(siseri_server::openapi_document().to_pretty_json().unwrap());
}

#[tokio::test]
async fn nomenclature_is_public_reference_data() {
    let s = start(siseri_storage::testing::sqlite().await).await;
    let rows: Vec<serde_json::Value> = s
        .client
        .get(format!("{}/api/v1/nomenclature", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rows.len(), 1895);
    assert!(
        rows.iter()
            .any(|r| r["code_secteur"] == "506000" && r["code_domaine"] == "500000")
    );
}

#[tokio::test]
async fn unknown_routes_answer_in_french_json_or_html() {
    let s = start(siseri_storage::testing::sqlite().await).await;
    let r = s
        .client
        .get(format!("{}/api/v1/inexistant", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "INTROUVABLE");
    assert!(body["message"].as_str().unwrap().contains("introuvable"));
    let page = s
        .client
        .get(format!("{}/nulle-part", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 404);
    assert!(page.text().await.unwrap().contains("Page introuvable"));
}

#[tokio::test]
async fn bodies_over_one_mebibyte_are_refused() {
    let s = start(siseri_storage::testing::sqlite().await).await;
    let big = vec![b'a'; 1024 * 1024 + 1];
    let r = s
        .client
        .post(format!("{}/api/v1/nomenclature", s.base))
        .body(big)
        .send()
        .await
        .unwrap();
    assert!(r.status() == 413 || r.status() == 405, "{}", r.status());
}

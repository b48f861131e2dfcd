//! Malformed requests (issue 12, item 4): every one answers `api.md`'s JSON
//! `{"code": "REQUETE_INVALIDE", "message"}` naming the field under `/api/v1` (413
//! `REQUETE_TROP_GRANDE` for a body over the limit), and a French page elsewhere; never
//! axum's English plain text. On each engine, over HTTP.

#![allow(clippy::unwrap_used)]

mod support;

use std::io::{Read, Write};

use reqwest::StatusCode;
use serde_json::Value;
use siseri_domain::account::Role;
use siseri_storage::testing::TestDb;
use support::web::{Env, each_engine};

struct Setup {
    env: Env,
    mdt: String,
    admin: String,
}

async fn setup(db: TestDb) -> Setup {
    let env = Env::start(db).await;
    env.account("mdt", Role::Mdt, |_| {}).await;
    env.account("admin", Role::Admin, |_| {}).await;
    Setup {
        mdt: env.token("mdt").await,
        admin: env.token("admin").await,
        env,
    }
}

/// The answer's status and JSON body, which must be JSON.
async fn json_answer(r: reqwest::Response) -> (StatusCode, Value) {
    let status = r.status();
    let content_type = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = r.text().await.unwrap();
    assert!(
        content_type.starts_with("application/json"),
        "{status} answered {content_type:?}: {text}"
    );
    (status, serde_json::from_str(&text).unwrap())
}

/// Asserts a 400 `REQUETE_INVALIDE` whose message contains `field`.
async fn refused(r: reqwest::Response, field: &str) -> String {
    let (status, body) = json_answer(r).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], "REQUETE_INVALIDE", "{body}");
    let message = body["message"].as_str().unwrap().to_owned();
    assert!(message.contains(field), "« {field} » not in « {message} »");
    message
}

impl Setup {
    fn post(&self, token: &str, path: &str) -> reqwest::RequestBuilder {
        self.env
            .http
            .post(format!("{}{path}", self.env.base))
            .bearer_auth(token)
    }

    fn json(&self, path: &str, body: &str) -> reqwest::RequestBuilder {
        self.post(&self.mdt, path)
            .header("content-type", "application/json")
            .body(body.to_owned())
    }
}

#[tokio::test]
async fn malformed_json_bodies_answer_400_json_naming_the_field() {
    for s in each_engine(setup).await {
        // A syntax error.
        let m = refused(
            s.json(
                "/api/v1/alertes/1/etapes",
                r#"{"statut": "CONFIRMEE", "texte": "#,
            )
            .send()
            .await
            .unwrap(),
            "JSON",
        )
        .await;
        assert!(m.contains("ligne 1"), "{m}");
        let m = refused(
            s.json(
                "/api/v1/alertes/1/etapes",
                r#"{"statut": "CONFIRMEE" "texte": "x"}"#,
            )
            .send()
            .await
            .unwrap(),
            "JSON",
        )
        .await;
        assert!(m.contains("mal formé"), "{m}");
        // A missing field.
        refused(
            s.json("/api/v1/alertes/1/etapes", r#"{"statut": "CONFIRMEE"}"#)
                .send()
                .await
                .unwrap(),
            "texte",
        )
        .await;
        // A mistyped field.
        let m = refused(
            s.json(
                "/api/v1/resultats/1/versions",
                r#"{"statut": "MESURE", "dose_usv": "douze", "justification": "j"}"#,
            )
            .send()
            .await
            .unwrap(),
            "dose_usv",
        )
        .await;
        assert!(m.contains("entier"), "{m}");
        let m = refused(
            s.json(
                "/api/v1/grossesses/1/fin",
                r#"{"date_fin": 20250101, "justification": "j"}"#,
            )
            .send()
            .await
            .unwrap(),
            "date_fin",
        )
        .await;
        assert!(m.contains("AAAA-MM-JJ"), "{m}");
        // An unknown field: a typo in an optional field is not a silent no-op.
        let m = refused(
            s.json(
                "/api/v1/resultats/1/versions",
                r#"{"statut": "MESURE", "dose_uSv": 12, "justification": "j"}"#,
            )
            .send()
            .await
            .unwrap(),
            "dose_uSv",
        )
        .await;
        assert!(m.contains("inconnu"), "{m}");
        // Not an object, and an empty body.
        refused(
            s.json("/api/v1/alertes/1/etapes", r#""CONFIRMEE""#)
                .send()
                .await
                .unwrap(),
            "corps",
        )
        .await;
        refused(
            s.json("/api/v1/alertes/1/etapes", "").send().await.unwrap(),
            "JSON",
        )
        .await;
    }
}

#[tokio::test]
async fn a_missing_or_wrong_content_type_answers_400_json() {
    for s in each_engine(setup).await {
        let body = r#"{"statut": "CONFIRMEE", "texte": "vu"}"#;
        refused(
            s.post(&s.mdt, "/api/v1/alertes/1/etapes")
                .body(body)
                .send()
                .await
                .unwrap(),
            "Content-Type",
        )
        .await;
        refused(
            s.post(&s.mdt, "/api/v1/alertes/1/etapes")
                .header("content-type", "text/plain")
                .body(body)
                .send()
                .await
                .unwrap(),
            "Content-Type",
        )
        .await;
        // `application/json; charset=utf-8` is JSON: the request goes through (to a 404,
        // the alert being unknown).
        let (status, body) = json_answer(
            s.post(&s.mdt, "/api/v1/alertes/1/etapes")
                .header("content-type", "application/json; charset=utf-8")
                .body(body)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    }
}

#[tokio::test]
async fn malformed_paths_and_queries_answer_400_json_naming_the_parameter() {
    for s in each_engine(setup).await {
        let m = refused(
            s.json(
                "/api/v1/alertes/abc/etapes",
                r#"{"statut": "CONFIRMEE", "texte": "x"}"#,
            )
            .send()
            .await
            .unwrap(),
            "id",
        )
        .await;
        assert!(m.contains("abc") && m.contains("entier"), "{m}");
        refused(
            s.env
                .http
                .delete(format!(
                    "{}/api/v1/moi/jetons/99999999999999999999",
                    s.env.base
                ))
                .bearer_auth(&s.mdt)
                .send()
                .await
                .unwrap(),
            "id",
        )
        .await;
        refused(
            s.env
                .http
                .get(format!(
                    "{}/api/v1/admin/en-attente?toutes=peut-etre",
                    s.env.base
                ))
                .bearer_auth(&s.admin)
                .send()
                .await
                .unwrap(),
            "toutes",
        )
        .await;
        refused(
            s.post(&s.admin, "/api/v1/transmissions?dry_run=true")
                .header("content-type", "text/csv")
                .body("x")
                .send()
                .await
                .unwrap(),
            "format",
        )
        .await;
    }
}

/// Sends a chunked body of `size` bytes (no `Content-Length`) and returns the status line
/// and the answer's body. The answer is read while the body is still being written: the
/// server answers as soon as it passes the limit.
fn chunked_post(base: &str, path: &str, token: &str, size: usize) -> (String, String, String) {
    let addr = base.trim_start_matches("http://").to_owned();
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    let sender = std::thread::spawn(move || {
        let _ = writer.write_all(head.as_bytes());
        let chunk = vec![b' '; 64 * 1024];
        let mut sent = 0;
        while sent < size {
            let n = chunk.len().min(size - sent);
            let framed = [
                format!("{n:x}\r\n").as_bytes(),
                &chunk[..n],
                b"\r\n".as_slice(),
            ]
            .concat();
            if writer.write_all(&framed).is_err() {
                return;
            }
            sent += n;
        }
        let _ = writer.write_all(b"0\r\n\r\n");
    });
    let mut answer = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
        }
        let text = String::from_utf8_lossy(&answer);
        if let Some((_, body)) = text.split_once("\r\n\r\n")
            && body.trim_end().ends_with('}')
        {
            break;
        }
    }
    drop(stream);
    let _ = sender.join();
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.lines().next().unwrap_or_default().to_owned();
    let content_type = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-type:")
                .map(|v| v.trim().to_owned())
        })
        .unwrap_or_default();
    (status, content_type, body.to_owned())
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_answers_413_json() {
    for s in each_engine(setup).await {
        let base = s.env.base.clone();
        let token = s.mdt.clone();
        let (status, content_type, body) = tokio::task::spawn_blocking(move || {
            chunked_post(
                &base,
                "/api/v1/alertes/1/etapes",
                &token,
                1024 * 1024 + 64 * 1024,
            )
        })
        .await
        .unwrap();
        assert!(status.contains(" 413 "), "{status}: {body}");
        assert!(
            content_type.starts_with("application/json"),
            "{content_type}: {body}"
        );
        // The body may be chunked: take the JSON object out of it.
        let json = &body[body.find('{').unwrap()..=body.rfind('}').unwrap()];
        let body: Value = serde_json::from_str(json).unwrap();
        assert_eq!(body["code"], "REQUETE_TROP_GRANDE", "{body}");
        assert!(
            body["message"].as_str().unwrap().contains("1 Mio"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn other_refusals_of_the_router_answer_json_under_the_api() {
    for s in each_engine(setup).await {
        // A method the route does not take.
        let (status, body) = json_answer(
            s.env
                .http
                .patch(format!("{}/api/v1/nomenclature", s.env.base))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{body}");
        assert_eq!(body["code"], "METHODE_NON_AUTORISEE", "{body}");
    }
}

#[tokio::test]
async fn malformed_page_requests_answer_a_french_page() {
    for s in each_engine(setup).await {
        // A form without its fields.
        let r = s
            .env
            .http
            .post(format!("{}/connexion", s.env.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let html = r.text().await.unwrap();
        assert!(html.contains("Demande invalide"), "{html}");
        assert!(html.contains("login : champ obligatoire absent"), "{html}");
        // A form sent as something else.
        let r = s
            .env
            .http
            .post(format!("{}/connexion", s.env.base))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert!(r.text().await.unwrap().contains("Demande invalide"));
    }
}

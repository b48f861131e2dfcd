//! Transmissions over HTTP on each engine: sending CSV and JSON, the reports (JSON and
//! CSV) and who may read them, dry runs, file-level refusals and their status codes, the
//! size limits, and the administrators' reconciliation queue.

#![allow(clippy::unwrap_used)]

mod support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use siseri_domain::Clock;
use siseri_domain::account::{NewAccount, Role};
use siseri_domain::codes::Nature;
use siseri_domain::ids::{Siren, Siret};
use siseri_storage::NewEstablishment;
use siseri_storage::testing::TestDb;
use support::web::{self, event, token};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SIRET: &str = "73282932000074";
const HEADER: &str = "REFERENCE;NIR;CLE;NOM;PRENOM;DATENAISSANCE;SEXE;SIRET;NATURE;GRANDEUR;\
                      POSITION;DATE_DEBUT;DATE_FIN;STATUT;VALEUR;SEUIL;CODE_METROLOGIE";

struct Env {
    base: String,
    addr: std::net::SocketAddr,
    http: reqwest::Client,
    db: TestDb,
    body: String,
    employer: String,
    admin: String,
}

/// A body accredited for EXTERNE, an employer, an administrator, one establishment.
async fn start(db: TestDb) -> Env {
    let e = NewEstablishment {
        siret: Siret::parse(SIRET).unwrap(),
        name: "CHU".into(),
        inb: false,
        company_name: "CHU".into(),
    };
    db.store.add_establishment(&e, &event()).await.unwrap();
    let mut body = NewAccount::new("labo", Role::Organisme);
    body.siren = Some(Siren::parse("443061841").unwrap());
    body.natures = vec![Nature::External];
    let mut employer = NewAccount::new("chu", Role::Employeur);
    employer.siren = Some(Siren::parse("732829320").unwrap());
    for a in [body, employer, NewAccount::new("gestion", Role::Admin)] {
        db.store.add_account(&a, None, &event()).await.unwrap();
    }
    let addr = web::serve(&db, Clock::System).await;
    Env {
        base: format!("http://{addr}"),
        addr,
        http: reqwest::Client::new(),
        body: token(&db, "labo").await,
        employer: token(&db, "chu").await,
        admin: token(&db, "gestion").await,
        db,
    }
}

async fn envs() -> Vec<Env> {
    web::each_engine(start).await
}

/// A valid line for reference `r` and NIR 2951099126111, with `value` in mSv.
fn line(r: &str, nom: &str, value: &str) -> String {
    format!(
        "{r};2951099126111;93;{nom};Marie;12/10/1995;F;{SIRET};EXTERNE;HP10;;01/01/2025;31/03/2025;MESURE;{value};;"
    )
}

impl Env {
    async fn send(
        &self,
        token: &str,
        query: &str,
        ctype: &str,
        body: impl Into<reqwest::Body>,
    ) -> (StatusCode, Value) {
        let r = self
            .http
            .post(format!("{}/api/v1/transmissions?{query}", self.base))
            .bearer_auth(token)
            .header("content-type", ctype)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, token: &str, path: &str) -> (StatusCode, String) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    }
}

fn codes(report: &Value, line: u64) -> Vec<String> {
    report["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["line"] == line)
        .map(|l| {
            l["codes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_csv_file_gives_its_report_kept_for_its_organisation() {
    for env in envs().await {
        let file = format!(
            "{HEADER}\n{}\n{}\n{}\n",
            line("R-1", "Dupont", "0,25"),
            line("R-2", "Dupont", "abc"),
            line("R-1", "Dupont", "0,25"),
        );
        let (status, report) = env
            .send(&env.body, "format=resultats", "text/csv", file)
            .await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert_eq!(report["etat"], "TERMINE");
        assert_eq!(report["dry_run"], false);
        assert_eq!(report["sender"]["siren"], "443061841");
        assert_eq!(
            report["totals"],
            json!({"lines": 3, "accepted": 1, "duplicates": 1, "on_hold": 0, "rejected": 1, "warnings": 1})
        );
        assert_eq!(codes(&report, 2), ["RATTACHEMENT_ABSENT"]);
        assert_eq!(codes(&report, 3), ["VALEUR_FORMAT"]);
        let id = report["transmission"].as_i64().unwrap();

        // The report stays available to the organisation and to administrators.
        let (status, text) = env
            .get(&env.body, &format!("/api/v1/transmissions/{id}"))
            .await;
        assert_eq!(status, StatusCode::OK);
        let stored: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(stored["lines"], report["lines"]);
        assert_eq!(stored["totals"], report["totals"]);
        let (status, _) = env
            .get(&env.admin, &format!("/api/v1/transmissions/{id}"))
            .await;
        assert_eq!(status, StatusCode::OK);
        // Another organisation gets the answer of an unknown id.
        let (status, text) = env
            .get(&env.employer, &format!("/api/v1/transmissions/{id}"))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{text}");
        let (status, unknown) = env.get(&env.employer, "/api/v1/transmissions/999999").await;
        assert_eq!((status, &unknown), (StatusCode::NOT_FOUND, &text));

        let (status, text) = env.get(&env.body, "/api/v1/transmissions").await;
        assert_eq!(status, StatusCode::OK);
        let list: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(list[0]["transmission"], id);
        let (_, text) = env.get(&env.employer, "/api/v1/transmissions").await;
        assert_eq!(text, "[]");

        // The CSV report: every record, the three columns appended, codes and messages.
        let (status, csv) = env
            .get(
                &env.body,
                &format!("/api/v1/transmissions/{id}/rapport.csv"),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let rows: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
        assert_eq!(rows.len(), 4, "{csv}");
        assert!(
            rows[0]
                .ends_with(";STATUT;VALEUR;SEUIL;CODE_METROLOGIE;STATUT_LIGNE;CODE_ERREUR;MESSAGE"),
            "{}",
            rows[0]
        );
        assert!(
            rows[1].contains(";ACCEPTE;RATTACHEMENT_ABSENT;"),
            "{}",
            rows[1]
        );
        assert!(rows[2].contains(";REJETE;VALEUR_FORMAT;"), "{}", rows[2]);
        assert!(rows[3].ends_with(";DOUBLON;;"), "{}", rows[3]);

        // Fixed in a spreadsheet and sent back as it is: only the fixed line is new.
        let fixed = csv.replace(";abc;", ";0,5;");
        let (status, again) = env
            .send(&env.body, "format=resultats", "text/csv", fixed)
            .await;
        assert_eq!(status, StatusCode::OK, "{again}");
        assert_eq!(again["totals"]["accepted"], 1);
        assert_eq!(again["totals"]["duplicates"], 2);
        assert_eq!(again["totals"]["rejected"], 0);
    }
}

/// A Windows-1252 file is read with the warning; `?encodage=` forces one reading.
#[tokio::test]
async fn windows_1252_files_and_the_forced_encoding() {
    for env in envs().await {
        let file = format!("{HEADER}\r\n{}\r\n", line("W-1", "Lefèvre", "0,25"));
        // è is 0xE8 in Windows-1252 as in Latin-1, and the rest is ASCII.
        let cp1252: Vec<u8> = file
            .chars()
            .map(|c| u8::try_from(u32::from(c)).unwrap())
            .collect();
        assert!(std::str::from_utf8(&cp1252).is_err());
        let send = |query: &'static str, ctype: &'static str, body: Vec<u8>| {
            let env = &env;
            async move { env.send(&env.body, query, ctype, body).await }
        };
        let (status, forced) = send(
            "format=resultats&dry_run=true&encodage=utf-8",
            "text/csv",
            cp1252.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{forced}");
        assert_eq!(forced["file_errors"][0]["code"], "ENCODAGE_INVALIDE");
        let (status, forced) = send(
            "format=resultats&dry_run=true&encodage=Windows-1252",
            "text/csv",
            cp1252.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{forced}");
        assert_eq!(forced["file_errors"][0]["code"], "ENCODAGE_WINDOWS_1252");
        for (query, ctype) in [
            ("format=resultats&encodage=latin1", "text/csv"),
            ("format=resultats&encodage=windows-1252", "application/json"),
        ] {
            let (status, answer) = send(query, ctype, b"[]".to_vec()).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {answer}");
        }
        assert_eq!(env.db.count_raw("transmissions").await, 0);

        let (status, report) = send("format=resultats", "text/csv", cp1252).await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert_eq!(
            report["file_errors"],
            json!([{"code": "ENCODAGE_WINDOWS_1252", "message": report["file_errors"][0]["message"]}])
        );
        assert_eq!(report["totals"]["accepted"], 1, "{report}");
        let worker = env
            .db
            .store
            .worker(&siseri_domain::ids::Nir::parse("2951099126111").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(worker.nom, "Lefèvre");
        // The CSV report is UTF-8 and repeats the name as read.
        let id = report["transmission"].as_i64().unwrap();
        let (_, csv) = env
            .get(
                &env.body,
                &format!("/api/v1/transmissions/{id}/rapport.csv"),
            )
            .await;
        assert!(csv.contains(";Lefèvre;Marie;"), "{csv}");
        // Sent again in UTF-8: the same name, nothing new.
        let (status, again) = send("format=resultats", "text/csv", file.into_bytes()).await;
        assert_eq!(status, StatusCode::OK, "{again}");
        assert_eq!(again["file_errors"], json!([]));
        assert_eq!(again["totals"]["duplicates"], 1, "{again}");
    }
}

/// The CSV report neutralises cells a spreadsheet would run as formulas, and the report
/// sent back as it is gives the values first sent.
#[tokio::test]
async fn the_csv_report_neutralises_formulas_and_reads_back() {
    for env in envs().await {
        let file = format!(
            "{HEADER}\n{}\n{}\n",
            line("-R-1", "Dupont", "0,25"),
            line("R-2", "Dupont", "=1+1"),
        );
        let (status, report) = env
            .send(&env.body, "format=resultats", "text/csv", file)
            .await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert_eq!(codes(&report, 3), ["VALEUR_FORMAT"]);
        let id = report["transmission"].as_i64().unwrap();
        let (_, csv) = env
            .get(
                &env.body,
                &format!("/api/v1/transmissions/{id}/rapport.csv"),
            )
            .await;
        let rows: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
        assert!(rows[1].starts_with("'-R-1;"), "{csv}");
        assert!(rows[2].contains(";MESURE;'=1+1;"), "{csv}");
        for cell in rows.iter().flat_map(|r| r.split(';')) {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t']),
                "{cell:?} in {csv}"
            );
        }
        let (status, again) = env
            .send(&env.body, "format=resultats&dry_run=true", "text/csv", csv)
            .await;
        assert_eq!(status, StatusCode::OK, "{again}");
        assert_eq!(again["file_errors"], json!([]));
        assert_eq!(again["totals"]["duplicates"], 1, "{again}");
        assert_eq!(codes(&again, 3), ["VALEUR_FORMAT"], "{again}");
    }
}

#[tokio::test]
async fn json_records_and_dry_runs_give_the_same_report() {
    for env in envs().await {
        let record = |r: &str, v: &str| {
            json!({"REFERENCE": r, "nir": "2951099126111", "CLE": "93", "NOM": "Dupont",
                   "PRENOM": "Marie", "DATENAISSANCE": "12/10/1995", "SEXE": "F", "SIRET": SIRET,
                   "NATURE": "EXTERNE", "GRANDEUR": "HP10", "DATE_DEBUT": "01/01/2025",
                   "DATE_FIN": "31/03/2025", "STATUT": "MESURE", "VALEUR": v, "AUTRE": "x"})
        };
        let body = json!([record("J-1", "0,25"), record("J-2", "-1")]).to_string();
        let (status, dry) = env
            .send(
                &env.body,
                "format=resultats&dry_run=true",
                "application/json",
                body.clone(),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{dry}");
        assert_eq!(dry["transmission"], Value::Null);
        assert_eq!(dry["dry_run"], true);
        let (_, list) = env.get(&env.body, "/api/v1/transmissions").await;
        assert_eq!(list, "[]", "a dry run is not listed");
        assert_eq!(env.db.count_raw("dose_results").await, 0);

        let (status, real) = env
            .send(&env.body, "format=resultats", "application/json", body)
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(real["lines"], dry["lines"]);
        assert_eq!(real["totals"], dry["totals"]);
        assert_eq!(real["file_errors"][0]["code"], "COLONNE_IGNOREE");
        assert_eq!(codes(&real, 3), ["VALEUR_FORMAT"], "record 1 is line 3");
        assert_eq!(env.db.count_raw("dose_results").await, 1);
    }
}

#[tokio::test]
async fn refused_files_answer_their_status_with_the_report_and_store_no_line() {
    for env in envs().await {
        let cases: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
            (
                "text/csv",
                b"NIR;CLE\n1;2\n".to_vec(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "ENTETE_INVALIDE",
            ),
            (
                "text/csv",
                format!("{HEADER}\n").into_bytes(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "FICHIER_VIDE",
            ),
            (
                "text/csv",
                [
                    format!("{HEADER}\n").into_bytes(),
                    line("L-1", "Dupont", "1").into_bytes(),
                    // Undefined in Windows-1252.
                    b"\n\x81\n".to_vec(),
                ]
                .concat(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "ENCODAGE_INVALIDE",
            ),
            (
                "application/json",
                b"{\"not\": \"an array\"}".to_vec(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "JSON_INVALIDE",
            ),
            (
                "application/json",
                vec![0xff, 0xfe, 0x00, 0x01],
                StatusCode::UNPROCESSABLE_ENTITY,
                "",
            ),
        ];
        for (ctype, body, expected, code) in cases {
            let (status, report) = env.send(&env.body, "format=resultats", ctype, body).await;
            assert_eq!(status, expected, "{report}");
            if !code.is_empty() {
                assert_eq!(report["file_errors"][0]["code"], code, "{report}");
            }
            assert_eq!(report["totals"]["lines"], 0);
            let id = report["transmission"].as_i64().unwrap();
            let (_, csv) = env
                .get(
                    &env.body,
                    &format!("/api/v1/transmissions/{id}/rapport.csv"),
                )
                .await;
            if ctype == "text/csv" && !code.is_empty() && code != "FICHIER_VIDE" {
                assert!(
                    csv.lines()
                        .skip(1)
                        .all(|l| l.contains(&format!(";REJETE;{code};"))),
                    "{csv}"
                );
            }
        }
        assert_eq!(env.db.count_raw("dose_results").await, 0);
        assert_eq!(env.db.count_raw("transmission_lines").await, 0);
        assert_eq!(
            env.db.count_raw("transmissions").await,
            5,
            "each refused file is kept"
        );
    }
}

#[tokio::test]
async fn senders_formats_and_size_limits() {
    for env in envs().await {
        let file = format!("{HEADER}\n{}\n", line("S-1", "Dupont", "1"));
        let (status, body) = env
            .send(&env.employer, "format=resultats", "text/csv", file.clone())
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("FORMAT_NON_AUTORISE"))
        );
        let (status, body) = env
            .send(&env.body, "format=autre", "text/csv", file.clone())
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("REQUETE_INVALIDE"))
        );
        let (status, _) = env
            .send("siseri_faux", "format=resultats", "text/csv", file)
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);

        // More than the 1 MiB of other routes is fine here.
        let mut big = format!("{HEADER}\n");
        let mut n = 0;
        while big.len() < 1_200_000 {
            n += 1;
            big.push_str(&line(&format!("B-{n}"), "Dupont", "0,001"));
            big.push('\n');
        }
        let (status, report) = env
            .send(&env.body, "format=resultats", "text/csv", big.clone())
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(report["totals"]["accepted"], n);
        let r = env
            .http
            .post(format!("{}/api/v1/designations", env.base))
            .bearer_auth(&env.employer)
            .header("content-type", "application/json")
            .body(big)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);

        // Over 2 GiB announced: refused before reading, with the report.
        let mut s = tokio::net::TcpStream::connect(env.addr).await.unwrap();
        let head = format!(
            "POST /api/v1/transmissions?format=resultats HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\
             Content-Type: text/csv\r\nContent-Length: 3000000000\r\nConnection: close\r\n\r\n",
            env.addr, env.body
        );
        s.write_all(head.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        let _ = s.read_to_end(&mut answer).await;
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        assert!(answer.contains("FICHIER_TROP_GRAND"), "{answer}");
    }
}

#[tokio::test]
async fn administrators_resolve_held_lines_and_the_report_follows() {
    for env in envs().await {
        let file = format!(
            "{HEADER}\n{}\n{}\n{}\n",
            line("Q-1", "Dupont", "1"),
            line("Q-2", "Durand", "2"),
            line("Q-3", "Dupond", "3"),
        );
        let (_, report) = env
            .send(&env.body, "format=resultats", "text/csv", file)
            .await;
        assert_eq!(report["totals"]["on_hold"], 2, "{report}");
        assert_eq!(codes(&report, 3), ["IDENTITE_INCOHERENTE"]);
        let id = report["transmission"].as_i64().unwrap();

        let (status, _) = env.get(&env.body, "/api/v1/admin/en-attente").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, text) = env.get(&env.admin, "/api/v1/admin/en-attente").await;
        assert_eq!(status, StatusCode::OK);
        let queue: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(queue.as_array().unwrap().len(), 2);
        assert_eq!(queue[0]["conflits"], json!(["NOM"]));
        assert_eq!(queue[0]["suggestions"][0]["raison"], "MEME_NIR");
        assert!(
            !text.contains("Marie;"),
            "the queue shows fields, not raw lines"
        );

        let post = |qid: i64, body: Value| {
            env.http
                .post(format!("{}/api/v1/admin/en-attente/{qid}", env.base))
                .bearer_auth(&env.admin)
                .json(&body)
                .send()
        };
        let first = queue[0]["id"].as_i64().unwrap();
        let second = queue[1]["id"].as_i64().unwrap();
        let r = post(
            first,
            json!({"action": "rattacher", "nir": "2951099126111", "corriger_identite": true}),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let nir = siseri_domain::ids::Nir::parse("2951099126111").unwrap();
        let worker = env.db.store.worker(&nir).await.unwrap().unwrap();
        assert_eq!(worker.nom, "Durand", "identity corrected from the line");
        assert_eq!(env.db.count_raw("worker_identity_history").await, 1);
        let outcome: Value = r.json().await.unwrap();
        assert_eq!(outcome["status"], "ACCEPTE");
        let r = post(
            first,
            json!({"action": "rattacher", "nir": "2951099126111"}),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::CONFLICT);
        let r = post(second, json!({"action": "rejeter"})).await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "a reason is required");
        let r = post(second, json!({"action": "rejeter", "motif": "homonyme"}))
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);

        let (_, text) = env
            .get(&env.body, &format!("/api/v1/transmissions/{id}"))
            .await;
        let report: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(report["totals"]["on_hold"], 0);
        assert_eq!(report["totals"]["accepted"], 2);
        assert_eq!(report["totals"]["rejected"], 1);
        assert_eq!(codes(&report, 4), ["REJET_GESTIONNAIRE"]);
        assert_eq!(env.db.count_raw("dose_results").await, 2);
        let (_, open) = env.get(&env.admin, "/api/v1/admin/en-attente").await;
        assert_eq!(open, "[]");
    }
}

/// Bytes of every kind, in every format and both media: never a 500, never a panic.
#[tokio::test]
async fn no_input_makes_the_server_fail() {
    let mut seed: u64 = 0x5151_5e71;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for env in envs().await {
        let mut bodies: Vec<Vec<u8>> = vec![
            format!("{HEADER}\n{}\u{0}\n", line("N-1", "Dupont", "1")).into_bytes(),
            b"NIR;SIRET;LIEU;ZONE;TYPE_MESURE;TYPE_DOSIMETRE;DATE_DEBUT_PORT;DATE_FIN_PORT;VALEUR;ACTIVITE\n\
              2951099126111;73282932000074;Salle\x001;Z;OPE-HP10-PHO;EPD;01/01/2025 08:00;01/01/2025 17:00;0,1;A\n"
                .to_vec(),
            b"[{\"NIR\": \"\\u0000\"}]".to_vec(),
            b"\"\n;;;\n\"".to_vec(),
        ];
        for _ in 0..12 {
            let len = (next() % 400) as usize;
            let mut b = format!("{HEADER}\n").into_bytes();
            b.extend((0..len).map(|_| {
                let r = next();
                // Mostly the format's own characters, so that lines get far.
                match r % 4 {
                    0 => b";0123456789/,.\n"[(r >> 8) as usize % 15],
                    1 => b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"[(r >> 8) as usize % 26],
                    2 => b"\"\r\n;"[(r >> 8) as usize % 4],
                    _ => (r >> 8) as u8,
                }
            }));
            bodies.push(b);
        }
        for body in bodies {
            for format in ["resultats", "travailleurs", "dosimetrie-operationnelle"] {
                for (token, ctype) in [
                    (&env.body, "text/csv"),
                    (&env.body, "application/json"),
                    (&env.employer, "text/csv"),
                ] {
                    let (status, report) = env
                        .send(token, &format!("format={format}"), ctype, body.clone())
                        .await;
                    assert!(
                        [200, 403, 413, 422].contains(&status.as_u16()),
                        "{status} for {format} {ctype}: {report}"
                    );
                }
            }
        }
        let (status, _) = env.get(&env.admin, "/api/v1/transmissions").await;
        assert_eq!(status, StatusCode::OK);
    }
}

/// The employer declares, the body sends: the record then shows each caller its part —
/// the administrator the results, totals at `au` and the alert with its dose; the employer
/// the attachment and the alert's kind without any dose.
#[tokio::test]
async fn the_worker_record_shows_totals_and_alerts_as_each_may_see_them() {
    for env in envs().await {
        let declare = "NIR;CLE;NOM;PRENOM;DATENAISSANCE;SEXE;SIRET;GROUPE;CLASSEMENT;AUTREEXPOSITION;\
                       caractereActivite;codeDomaineActivite;codeSecteurActivite;codeNuisanceRadiologique;\
                       codeTypeContrat;CodeMetier;QUOTITE;DATEDEBUT\n\
                       2951099126111;93;Dupont;Marie;12/10/1995;F;73282932000074;;A;;Civil;100000;101000;EXT;CDI;AS;1;01/01/2024\n";
        let (status, report) = env
            .send(&env.employer, "format=travailleurs", "text/csv", declare)
            .await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert_eq!(report["totals"]["accepted"], 1, "{report}");
        let with_period = |r: &str, start: &str, end: &str, v: &str| {
            line(r, "Dupont", v)
                .replace("01/01/2025", start)
                .replace("31/03/2025", end)
        };
        let file = format!(
            "{HEADER}\n{}\n{}\n",
            with_period("T-1", "01/01/2025", "31/01/2025", "15"),
            with_period("T-2", "01/02/2025", "28/02/2025", "6"),
        );
        let (_, report) = env
            .send(&env.body, "format=resultats", "text/csv", file)
            .await;
        assert_eq!(report["totals"]["accepted"], 2, "{report}");

        let path = "/api/v1/travailleurs/2951099126111";
        let (status, text) = env.get(&env.admin, &format!("{path}?au=2025-02")).await;
        assert_eq!(status, StatusCode::OK, "{text}");
        let rec: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(rec["resultats"].as_array().unwrap().len(), 2);
        assert_eq!(rec["resultats"][0]["versions"][0]["auteur"], "labo");
        assert_eq!(rec["totaux"]["au"], "2025-02");
        assert_eq!(rec["totaux"]["e_12_mois_usv"], 21_000);
        assert_eq!(rec["totaux"]["complet"], true);
        assert_eq!(rec["alertes"][0]["limite"], "E");
        assert_eq!(rec["alertes"][0]["dose_usv"], 21_000);
        let (_, text) = env.get(&env.admin, &format!("{path}?au=2025-01")).await;
        let rec: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(rec["totaux"]["e_12_mois_usv"], 15_000);
        assert_eq!(
            rec["alertes"].as_array().unwrap().len(),
            1,
            "every alert, whatever au"
        );
        let (status, _) = env.get(&env.admin, &format!("{path}?au=2025-13")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);

        let (status, text) = env.get(&env.employer, path).await;
        assert_eq!(status, StatusCode::OK, "{text}");
        let rec: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(rec["rattachements"].as_array().unwrap().len(), 1);
        assert!(
            rec.get("resultats").is_none() && rec.get("totaux").is_none(),
            "{rec}"
        );
        assert_eq!(rec["alertes"][0]["limite"], "E");
        assert!(rec["alertes"][0].get("dose_usv").is_none(), "{rec}");
        assert!(!text.contains("mSv") && !text.contains("21000"), "{text}");
    }
}

/// A physician moves the alert, cancels a result, enters an estimate and declares a
/// pregnancy; every write is journaled and the totals follow.
#[tokio::test]
async fn physicians_write_through_the_api() {
    for env in envs().await {
        let mut dr = NewAccount::new("dr", Role::Mdt);
        dr.rpps = Some(siseri_domain::ids::Rpps::parse("10000000009").unwrap());
        env.db.store.add_account(&dr, None, &event()).await.unwrap();
        let d = siseri_storage::NewDesignation {
            login: "dr".into(),
            role: siseri_domain::worker::DesignationRole::Physician,
            siret: Siret::parse(SIRET).unwrap(),
            date_debut: chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
            date_fin: None,
        };
        env.db.store.add_designation(&d, &event()).await.unwrap();
        let dr = token(&env.db, "dr").await;
        let declare = "NIR;CLE;NOM;PRENOM;DATENAISSANCE;SEXE;SIRET;GROUPE;CLASSEMENT;AUTREEXPOSITION;\
                       caractereActivite;codeDomaineActivite;codeSecteurActivite;codeNuisanceRadiologique;\
                       codeTypeContrat;CodeMetier;QUOTITE;DATEDEBUT\n\
                       2951099126111;93;Dupont;Marie;12/10/1995;F;73282932000074;;A;;Civil;100000;101000;EXT;CDI;AS;1;01/01/2024\n";
        env.send(&env.employer, "format=travailleurs", "text/csv", declare)
            .await;
        let file = format!(
            "{HEADER}\n{}\n{}\n",
            line("P-1", "Dupont", "15").replace("31/03/2025", "31/01/2025"),
            line("P-2", "Dupont", "6")
                .replace("01/01/2025", "01/02/2025")
                .replace("31/03/2025", "28/02/2025"),
        );
        env.send(&env.body, "format=resultats", "text/csv", file)
            .await;
        let path = "/api/v1/travailleurs/2951099126111?au=2025-02";
        let (_, text) = env.get(&dr, path).await;
        let rec: Value = serde_json::from_str(&text).unwrap();
        let alert = rec["alertes"][0]["id"]
            .as_i64()
            .unwrap_or_else(|| panic!("{text}"));

        // The alert's notices: the physician with the dose (inbox: no address given), the
        // employer with the kind only, the ministry without identity; once each.
        for _ in 0..2 {
            siseri_server::notifications::sweep(
                env.db.store.as_ref(),
                Some("dgt@travail.gouv.fr"),
                "",
            )
            .await
            .unwrap();
        }
        let queued = env
            .db
            .store
            .outbox()
            .notifications_of_alert(alert)
            .await
            .unwrap();
        let kinds: Vec<String> = queued
            .iter()
            .map(|n| n.recipient_kind.code().to_owned())
            .collect();
        assert_eq!(
            kinds,
            ["MINISTERE"],
            "accounts without an address get the inbox only"
        );
        assert!(!queued[0].body.contains("Dupont") && !queued[0].body.contains("2951099126111"));
        let dr_account = env.db.store.account("dr").await.unwrap().unwrap();
        let inbox = env
            .db
            .store
            .outbox()
            .inbox_of(dr_account.id, false, 10)
            .await
            .unwrap();
        assert_eq!(inbox.len(), 1);
        assert!(inbox[0].body.contains("21,00 mSv"), "{}", inbox[0].body);
        let chu = env.db.store.account("chu").await.unwrap().unwrap();
        let inbox = env
            .db
            .store
            .outbox()
            .inbox_of(chu.id, false, 10)
            .await
            .unwrap();
        assert_eq!(inbox.len(), 1);
        assert!(
            !inbox[0].body.contains("Sv") && !inbox[0].body.contains("21"),
            "{}",
            inbox[0].body
        );
        let first = rec["resultats"][0]["id"].as_i64().unwrap();

        let post = |token: &str, path: String, body: Value| {
            env.http
                .post(format!("{}{path}", env.base))
                .bearer_auth(token)
                .json(&body)
                .send()
        };
        let steps = format!("/api/v1/alertes/{alert}/etapes");
        let r = post(
            &dr,
            steps.clone(),
            json!({"statut": "CONFIRMEE", "texte": "vu"}),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::CONFLICT);
        assert_eq!(
            r.json::<Value>().await.unwrap()["code"],
            "TRANSITION_INVALIDE"
        );
        for to in ["EN_ANALYSE", "CONFIRMEE"] {
            let r = post(
                &dr,
                steps.clone(),
                json!({"statut": to, "texte": "analyse"}),
            )
            .await
            .unwrap();
            assert_eq!(r.status(), StatusCode::OK, "{to}");
        }
        let r = post(
            &env.employer,
            steps.clone(),
            json!({"statut": "ANNULEE", "texte": "x"}),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);

        // Cancelling the 15 mSv result: totals drop, the alert keeps its status and gets a note.
        let r = post(
            &dr,
            format!("/api/v1/resultats/{first}/versions"),
            json!({"statut": "ANNULE", "justification": "dosimètre resté au vestiaire"}),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let (_, text) = env.get(&dr, path).await;
        let rec: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(rec["totaux"]["e_12_mois_usv"], 6_000);
        assert_eq!(rec["alertes"][0]["statut"], "CONFIRMEE");
        let notes = rec["alertes"][0]["etapes"].as_array().unwrap();
        assert!(
            notes.last().unwrap()["texte"]
                .as_str()
                .unwrap()
                .contains("ne dépassent plus")
        );
        assert_eq!(rec["resultats"][0]["annule"], true);
        assert_eq!(rec["resultats"][0]["versions"].as_array().unwrap().len(), 2);

        // An estimate, then a pregnancy and its end.
        let r = post(
            &dr,
            "/api/v1/travailleurs/2951099126111/resultats".into(),
            json!({"nature": "ESTIMATION_MDT", "grandeur": "HP10", "date_debut": "2025-02-01",
                   "date_fin": "2025-02-28", "statut": "MESURE", "dose_usv": 500,
                   "justification": "dosimètre perdu"}),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let created: Value = r.json().await.unwrap();
        assert!(created["reference"].as_str().unwrap().starts_with("MDT-"));
        let r = post(
            &dr,
            "/api/v1/travailleurs/2951099126111/resultats".into(),
            json!({"nature": "ESTIMATION_MDT", "grandeur": "HP10", "date_debut": "2025-02-01",
                   "date_fin": "2025-02-28", "statut": "MESURE", "dose_usv": 500,
                   "justification": " "}),
        )
        .await
        .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::BAD_REQUEST,
            "a justification is required"
        );
        let (_, text) = env.get(&dr, path).await;
        let rec: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(rec["totaux"]["e_12_mois_usv"], 6_500);

        let r = post(
            &dr,
            "/api/v1/travailleurs/2951099126111/grossesses".into(),
            json!({"date_declaration": "2025-02-01", "justification": "déclaration"}),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let pregnancy = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        let end = format!("/api/v1/grossesses/{pregnancy}/fin");
        let body = json!({"date_fin": "2025-09-30", "justification": "naissance"});
        assert_eq!(
            post(&dr, end.clone(), body.clone()).await.unwrap().status(),
            StatusCode::OK
        );
        assert_eq!(
            post(&dr, end, body).await.unwrap().status(),
            StatusCode::CONFLICT
        );
        // The unborn child's limit: 6.5 mSv since the declaration is over 1 mSv.
        let (_, text) = env.get(&dr, path).await;
        let rec: Value = serde_json::from_str(&text).unwrap();
        let kinds: Vec<&str> = rec["alertes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["limite"].as_str().unwrap())
            .collect();
        assert!(kinds.contains(&"ENFANT_A_NAITRE"), "{kinds:?}");

        // The body corrects the result the physician cancelled: the physician is told.
        let fix = format!(
            "{HEADER}\n{}C\n",
            line("P-1", "Dupont", "2").replace("31/03/2025", "31/01/2025")
        );
        let (_, report) = env
            .send(&env.body, "format=resultats", "text/csv", fix)
            .await;
        assert_eq!(report["totals"]["accepted"], 1, "{report}");
        let (_, text) = env.get(&dr, "/api/v1/moi/boite").await;
        assert!(text.contains("remplacé par l'organisme"), "{text}");
        siseri_storage::journal::verify(env.db.store.as_ref())
            .await
            .unwrap()
            .unwrap();
    }
}

/// The journal's entries after `seq`.
async fn journal_after(db: &TestDb, seq: i64) -> Vec<siseri_domain::journal::JournalEntry> {
    db.store.journal_page(seq, 1000).await.unwrap()
}

/// Every alert is told to the ministry, also when the worker has no attachment at its first
/// month; every employer account of the establishment's company is told, whatever
/// establishments the account is scoped to (rules.md §5, issue 12).
#[tokio::test]
async fn the_ministry_and_every_employer_of_the_company_are_told() {
    for env in envs().await {
        let other = NewEstablishment {
            siret: Siret::parse("73282932000082").unwrap(),
            name: "CHU annexe".into(),
            inb: false,
            company_name: "CHU".into(),
        };
        env.db
            .store
            .add_establishment(&other, &event())
            .await
            .unwrap();
        let mut scoped = NewAccount::new("chu.annexe", Role::Employeur);
        scoped.siren = Some(Siren::parse("732829320").unwrap());
        scoped.sirets = vec![Siret::parse("73282932000082").unwrap()];
        env.db
            .store
            .add_account(&scoped, None, &event())
            .await
            .unwrap();

        // MARTIN is declared at the CHU; DUPONT is created by her result, attached nowhere.
        let declare = "NIR;CLE;NOM;PRENOM;DATENAISSANCE;SEXE;SIRET;GROUPE;CLASSEMENT;AUTREEXPOSITION;\
                       caractereActivite;codeDomaineActivite;codeSecteurActivite;codeNuisanceRadiologique;\
                       codeTypeContrat;CodeMetier;QUOTITE;DATEDEBUT\n\
                       1850578006084;91;Martin;Jean-Luc;03/05/1985;M;73282932000074;;A;;Civil;100000;101000;EXT;CDI;AS;1;01/01/2024\n";
        let (status, _) = env
            .send(&env.employer, "format=travailleurs", "text/csv", declare)
            .await;
        assert_eq!(status, StatusCode::OK);
        let file = format!(
            "{HEADER}\n{}\n{}\n",
            line("M-1", "Dupont", "21"),
            line("M-2", "Dupont", "21").replace(
                "2951099126111;93;Dupont;Marie;12/10/1995;F",
                "1850578006084;91;Martin;Jean-Luc;03/05/1985;M"
            ),
        );
        let (status, report) = env
            .send(&env.body, "format=resultats", "text/csv", file)
            .await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert_eq!(codes(&report, 2), ["RATTACHEMENT_ABSENT"], "{report}");
        assert_eq!(report["totals"]["accepted"], 2, "{report}");
        siseri_server::notifications::sweep(env.db.store.as_ref(), Some("dgt@travail.gouv.fr"), "")
            .await
            .unwrap();
        let alert_of = |nir: &'static str| {
            let store = env.db.store.clone();
            async move {
                let w = store
                    .worker(&siseri_domain::Nir::parse(nir).unwrap())
                    .await
                    .unwrap()
                    .unwrap();
                let alerts = store.alerts(w.id).await.unwrap();
                assert_eq!(alerts.len(), 1, "{nir}: {alerts:?}");
                alerts[0].id
            }
        };
        let unattached = alert_of("2951099126111").await;
        let queued = env
            .db
            .store
            .outbox()
            .notifications_of_alert(unattached)
            .await
            .unwrap();
        let kinds: Vec<&str> = queued.iter().map(|n| n.recipient_kind.code()).collect();
        assert_eq!(kinds, ["MINISTERE"], "the ministry is told of every alert");
        assert!(!queued[0].body.contains("Dupont") && !queued[0].body.contains("2951099126111"));

        let attached = alert_of("1850578006084").await;
        let annexe = env.db.store.account("chu.annexe").await.unwrap().unwrap();
        let inbox = env
            .db
            .store
            .outbox()
            .inbox_of(annexe.id, false, 10)
            .await
            .unwrap();
        assert_eq!(
            inbox.iter().filter_map(|i| i.alert_id).collect::<Vec<_>>(),
            [attached],
            "every employer account of the company"
        );
        assert!(!inbox[0].body.contains("Sv"), "{}", inbox[0].body);
    }
}

/// A report (JSON and CSV) and the reconciliation queue name people: reading them is
/// journaled, and so is a refused read of another organisation's report (access.md).
#[tokio::test]
async fn reading_a_report_or_the_queue_is_journaled() {
    for env in envs().await {
        let file = format!(
            "{HEADER}\n{}\n{}\n",
            line("J-1", "Dupont", "0,25"),
            line("J-2", "Durand", "0,25"),
        );
        let (status, report) = env
            .send(&env.body, "format=resultats", "text/csv", file.clone())
            .await;
        assert_eq!(status, StatusCode::OK, "{report}");
        let id = report["transmission"].as_i64().unwrap();
        let (seq, _) = env.db.store.journal_head().await.unwrap();

        let (status, _) = env
            .get(&env.body, &format!("/api/v1/transmissions/{id}"))
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = env
            .get(
                &env.body,
                &format!("/api/v1/transmissions/{id}/rapport.csv"),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = env
            .get(&env.employer, &format!("/api/v1/transmissions/{id}"))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = env.get(&env.admin, "/api/v1/admin/en-attente").await;
        assert_eq!(status, StatusCode::OK);

        let entries = journal_after(&env.db, seq).await;
        let seen: Vec<(&str, &str, &str, &str)> = entries
            .iter()
            .map(|e| {
                (
                    e.event.actor.as_str(),
                    e.event.action.as_str(),
                    e.event.data_kind.as_str(),
                    e.event.outcome.as_str(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("labo", "LECTURE", "RAPPORT", "OK"),
                ("labo", "LECTURE", "RAPPORT_CSV", "OK"),
                ("chu", "LECTURE_REFUSEE", "RAPPORT", "REFUSE"),
                ("gestion", "LECTURE", "FILE_ATTENTE", "OK"),
            ]
        );
        // The held line's worker, suggested by name to the administrator, is named.
        let dupont = env
            .db
            .store
            .worker(&siseri_domain::Nir::parse("2951099126111").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(entries[3].event.worker_ids, [dupont.id]);

        // The same file again: its first report, and nothing stored but the read.
        let (status, again) = env
            .send(&env.body, "format=resultats", "text/csv", file)
            .await;
        assert_eq!(status, StatusCode::OK, "{again}");
        assert_eq!(again["deja_recu"], true);
        assert_eq!(again["transmission"], id);
    }
}

//! `siseri import` and the queue commands, run as a user would, on both engines: the report
//! on standard output (JSON or CSV), exit statuses, dry runs, and `admin pending/resolve`.

#![allow(clippy::unwrap_used)]

use std::process::{Command, Output};

use siseri_storage::testing::{TestDb, every_engine};

const HEADER: &str = "REFERENCE;NIR;CLE;NOM;PRENOM;DATENAISSANCE;SEXE;SIRET;NATURE;GRANDEUR;\
                      POSITION;DATE_DEBUT;DATE_FIN;STATUT;VALEUR;SEUIL;CODE_METROLOGIE";

fn run(db: &TestDb, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_siseri"))
        .env_remove("SISERI_DATABASE_URL")
        .env("SISERI_TODAY", "2025-06-30")
        .arg("--database")
        .arg(db.url.expose())
        .args(args)
        .output()
        .unwrap()
}

#[track_caller]
fn ok(o: &Output, code: i32) -> String {
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(
        o.status.code(),
        Some(code),
        "stdout: {out}\nstderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

fn line(r: &str, nom: &str, value: &str) -> String {
    format!(
        "{r};2951099126111;93;{nom};Marie;12/10/1995;F;73282932000074;EXTERNE;HP10;;\
         01/01/2025;31/03/2025;MESURE;{value};;"
    )
}

fn setup(db: &TestDb) {
    ok(
        &run(
            db,
            &[
                "admin",
                "establishment",
                "add",
                "--siret",
                "73282932000074",
                "--name",
                "CHU",
            ],
        ),
        0,
    );
    ok(
        &run(
            db,
            &[
                "admin",
                "account",
                "add",
                "--login",
                "labo",
                "--role",
                "ORGANISME",
                "--siren",
                "443061841",
                "--natures",
                "EXTERNE",
            ],
        ),
        0,
    );
}

#[test]
fn import_prints_the_report_and_exits_by_the_file_outcome() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    for db in rt.block_on(every_engine()) {
        setup(&db);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("resultats.csv");
        let body = format!(
            "{HEADER}\n{}\n{}\n{}\n",
            line("C-1", "Dupont", "0,25"),
            line("C-2", "Dupont", "x"),
            line("C-3", "Durand", "1")
        );
        std::fs::write(&file, &body).unwrap();
        let f = file.to_str().unwrap();
        // The same lines with one more empty line: another file (the very same bytes would
        // be answered with the first report, exchange.md §6).
        let file2 = dir.path().join("resultats-2.csv");
        std::fs::write(&file2, format!("{body}\n")).unwrap();
        let f2 = file2.to_str().unwrap();

        let dry = ok(
            &run(
                &db,
                &[
                    "import",
                    "--as",
                    "labo",
                    "--format",
                    "resultats",
                    "--dry-run",
                    f,
                ],
            ),
            0,
        );
        let dry: serde_json::Value = serde_json::from_str(&dry).unwrap();
        assert_eq!(dry["transmission"], serde_json::Value::Null);
        assert_eq!(rt.block_on(db.count_raw("dose_results")), 0);

        let real = ok(
            &run(&db, &["import", "--as", "labo", "--format", "resultats", f]),
            0,
        );
        let real: serde_json::Value = serde_json::from_str(&real).unwrap();
        assert_eq!(real["totals"], dry["totals"]);
        assert_eq!(real["lines"], dry["lines"]);
        assert_eq!(real["totals"]["accepted"], 1);
        assert_eq!(real["totals"]["rejected"], 1);
        // C-3 carries another name: held, not yet stored (the first line created the worker).
        assert_eq!(real["totals"]["on_hold"], 1);

        let csv = ok(
            &run(
                &db,
                &[
                    "import",
                    "--as",
                    "labo",
                    "--format",
                    "resultats",
                    "--report",
                    "csv",
                    f2,
                ],
            ),
            0,
        );
        assert!(csv.starts_with('\u{feff}'));
        assert!(csv.contains(";DOUBLON;;"), "{csv}");
        assert!(csv.contains(";REJETE;VALEUR_FORMAT;"), "{csv}");

        // The very same file again: its first report, nothing read or stored again.
        let same = ok(
            &run(&db, &["import", "--as", "labo", "--format", "resultats", f]),
            0,
        );
        let same: serde_json::Value = serde_json::from_str(&same).unwrap();
        assert_eq!(same["deja_recu"], true, "{same}");
        assert_eq!(same["transmission"], real["transmission"]);
        assert_eq!(same["totals"], real["totals"]);

        // The queue, then its resolution by rejection.
        let pending = ok(&run(&db, &["admin", "pending", "--json"]), 0);
        let pending: serde_json::Value = serde_json::from_str(&pending).unwrap();
        let ids: Vec<i64> = pending
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids.len(), 2, "the line held twice (two sends): {pending}");
        let out = ok(
            &run(
                &db,
                &[
                    "admin",
                    "resolve",
                    &ids[0].to_string(),
                    "--reject",
                    "homonyme",
                ],
            ),
            0,
        );
        assert!(out.contains("REJETE"), "{out}");
        let again = run(
            &db,
            &["admin", "resolve", &ids[0].to_string(), "--reject", "x"],
        );
        ok(&again, 1);
        let out = ok(
            &run(
                &db,
                &[
                    "admin",
                    "resolve",
                    &ids[1].to_string(),
                    "--attach",
                    "2951099126111",
                ],
            ),
            0,
        );
        assert!(out.contains("ACCEPTE"), "{out}");
        assert_eq!(rt.block_on(db.count_raw("dose_results")), 2);

        // A file refused as a whole: the report, then exit 1.
        let bad = dir.path().join("bad.csv");
        std::fs::write(&bad, "NIR;CLE\n1;2\n").unwrap();
        let out = ok(
            &run(
                &db,
                &[
                    "import",
                    "--as",
                    "labo",
                    "--format",
                    "resultats",
                    bad.to_str().unwrap(),
                ],
            ),
            1,
        );
        assert!(out.contains("ENTETE_INVALIDE"), "{out}");

        // Usage errors and refusals.
        ok(&run(&db, &["import", "--as", "labo", f]), 2);
        ok(
            &run(&db, &["import", "--as", "labo", "--format", "autre", f]),
            1,
        );
        ok(
            &run(
                &db,
                &["import", "--as", "inconnu", "--format", "resultats", f],
            ),
            1,
        );
        let forbidden = run(
            &db,
            &["import", "--as", "labo", "--format", "travailleurs", f],
        );
        ok(&forbidden, 1);
        assert!(String::from_utf8_lossy(&forbidden.stderr).contains("FORMAT_NON_AUTORISE"));

        ok(&run(&db, &["journal", "verify"]), 0);
    }
}

/// A Windows-1252 file is read with the warning; `--encodage` forces one reading.
#[test]
fn import_reads_windows_1252_and_takes_the_encoding() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    for db in rt.block_on(every_engine()) {
        setup(&db);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("excel.csv");
        let text = format!("{HEADER}\r\n{}\r\n", line("W-1", "Lefèvre", "0,25"));
        // è is 0xE8 in Windows-1252 as in Latin-1; the rest is ASCII.
        let bytes: Vec<u8> = text
            .chars()
            .map(|c| u8::try_from(u32::from(c)).unwrap())
            .collect();
        std::fs::write(&file, bytes).unwrap();
        let f = file.to_str().unwrap();
        let import = |extra: &[&str]| {
            let mut args = vec!["import", "--as", "labo", "--format", "resultats"];
            args.extend_from_slice(extra);
            args.push(f);
            run(&db, &args)
        };
        let out = ok(&import(&["--dry-run", "--encodage", "utf-8"]), 1);
        assert!(out.contains("ENCODAGE_INVALIDE"), "{out}");
        ok(&import(&["--dry-run", "--encodage", "latin1"]), 1);
        let out = ok(&import(&["--dry-run", "--encodage", "windows-1252"]), 0);
        assert!(out.contains("ENCODAGE_WINDOWS_1252"), "{out}");
        let csv = ok(&import(&["--report", "csv"]), 0);
        assert!(csv.contains(";Lefèvre;Marie;"), "{csv}");
        assert!(
            csv.contains(";STATUT_LIGNE;CODE_ERREUR;MESSAGE\r\n"),
            "{csv}"
        );
        let report = ok(&import(&["--dry-run"]), 0);
        let report: serde_json::Value = serde_json::from_str(&report).unwrap();
        assert_eq!(report["file_errors"][0]["code"], "ENCODAGE_WINDOWS_1252");
        assert_eq!(report["totals"]["duplicates"], 1, "the same name: {report}");
    }
}

#[test]
fn physicians_write_on_the_command_line() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    for db in rt.block_on(every_engine()) {
        setup(&db);
        for args in [
            &[
                "admin",
                "account",
                "add",
                "--login",
                "rh.acme",
                "--role",
                "EMPLOYEUR",
                "--siren",
                "732829320",
            ][..],
            &[
                "admin",
                "account",
                "add",
                "--login",
                "dr.a",
                "--role",
                "MDT",
                "--rpps",
                "10000000009",
            ],
            &[
                "admin",
                "designate",
                "--role",
                "MDT",
                "--login",
                "dr.a",
                "--siret",
                "73282932000074",
                "--from",
                "2020-01-01",
            ],
        ] {
            ok(&run(&db, args), 0);
        }
        let dir = tempfile::tempdir().unwrap();
        let workers = dir.path().join("travailleurs.csv");
        std::fs::write(
            &workers,
            "NIR;CLE;NOM;PRENOM;DATENAISSANCE;SEXE;SIRET;GROUPE;CLASSEMENT;AUTREEXPOSITION;\
             caractereActivite;codeDomaineActivite;codeSecteurActivite;codeNuisanceRadiologique;\
             codeTypeContrat;CodeMetier;QUOTITE;DATEDEBUT\n\
             2951099126111;93;Dupont;Marie;12/10/1995;F;73282932000074;;A;;Civil;100000;101000;EXT;CDI;AS;1;01/01/2024\n",
        )
        .unwrap();
        let w = workers.to_str().unwrap();
        ok(
            &run(
                &db,
                &["import", "--as", "rh.acme", "--format", "travailleurs", w],
            ),
            0,
        );
        let results = dir.path().join("resultats.csv");
        std::fs::write(
            &results,
            format!(
                "{HEADER}\n{}\n{}\n",
                line("M-1", "Dupont", "15").replace("31/03/2025", "31/01/2025"),
                line("M-2", "Dupont", "6")
                    .replace("01/01/2025", "01/02/2025")
                    .replace("31/03/2025", "28/02/2025"),
            ),
        )
        .unwrap();
        let r = results.to_str().unwrap();
        ok(
            &run(&db, &["import", "--as", "labo", "--format", "resultats", r]),
            0,
        );

        let show = |au: &str| -> serde_json::Value {
            let out = ok(
                &run(
                    &db,
                    &[
                        "worker",
                        "2951099126111",
                        "--as",
                        "dr.a",
                        "--au",
                        au,
                        "--json",
                    ],
                ),
                0,
            );
            serde_json::from_str(&out).unwrap()
        };
        let rec = show("2025-02");
        assert_eq!(rec["totaux"]["e_12_mois_usv"], 21_000);
        let alert = rec["alertes"][0]["id"].as_i64().unwrap().to_string();
        let first = rec["resultats"][0]["id"].as_i64().unwrap().to_string();

        ok(
            &run(
                &db,
                &[
                    "alert",
                    "step",
                    "--as",
                    "dr.a",
                    "--id",
                    &alert,
                    "--statut",
                    "CONFIRMEE",
                    "--texte",
                    "x",
                ],
            ),
            1,
        );
        let out = ok(
            &run(
                &db,
                &[
                    "alert",
                    "step",
                    "--as",
                    "dr.a",
                    "--id",
                    &alert,
                    "--statut",
                    "EN_ANALYSE",
                    "--texte",
                    "vu",
                ],
            ),
            0,
        );
        assert!(out.contains("EN_ANALYSE"), "{out}");
        ok(
            &run(
                &db,
                &[
                    "result",
                    "version",
                    "--as",
                    "dr.a",
                    "--id",
                    &first,
                    "--statut",
                    "ANNULE",
                    "--justification",
                    "erreur",
                ],
            ),
            0,
        );
        ok(
            &run(
                &db,
                &[
                    "result",
                    "add",
                    "--as",
                    "dr.a",
                    "--nir",
                    "2951099126111",
                    "--nature",
                    "ESTIMATION_MDT",
                    "--grandeur",
                    "HP10",
                    "--from",
                    "2025-02-01",
                    "--to",
                    "2025-02-28",
                    "--dose-usv",
                    "500",
                    "--justification",
                    "dosimètre perdu",
                ],
            ),
            0,
        );
        assert_eq!(show("2025-02")["totaux"]["e_12_mois_usv"], 6_500);
        let out = ok(
            &run(
                &db,
                &[
                    "pregnancy",
                    "declare",
                    "--as",
                    "dr.a",
                    "--nir",
                    "2951099126111",
                    "--date",
                    "2025-02-01",
                    "--justification",
                    "j",
                ],
            ),
            0,
        );
        assert!(out.contains("Grossesse"), "{out}");
        // The employer may not write in a record at all.
        ok(
            &run(
                &db,
                &[
                    "alert", "step", "--as", "rh.acme", "--id", &alert, "--statut", "ANNULEE",
                    "--texte", "x",
                ],
            ),
            1,
        );
        ok(&run(&db, &["journal", "verify"]), 0);
    }
}

//! The transmission rules of exchange.md §4 and §6 on every storage engine: earlier lines of
//! a file count as stored, the CSV report can be corrected and sent back, a dry run stores
//! nothing, a refused file keeps only itself, held lines are attached automatically or by an
//! administrator — and the journal stays verifiable through all of it.
#![allow(clippy::unwrap_used)]

mod support;

use siseri_domain::Siren;
use siseri_domain::codes::TransmissionFormat;
use siseri_domain::result::{Reference, Sender};
use siseri_domain::totals::Series;
use siseri_import::queue::{self, Decision, QueueError};
use siseri_import::report::write_csv;
use support::*;

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

fn owned(status: &str, codes: &[&str]) -> (String, Vec<String>) {
    (
        status.to_owned(),
        codes.iter().map(|c| (*c).to_owned()).collect(),
    )
}

#[tokio::test]
async fn earlier_lines_of_the_same_file_count_as_stored() {
    let t = &RESULTS;
    let results = vec![
        case("first", t.line(&[]), "ACCEPTE", &[]),
        case("identical", t.line(&[]), "DOUBLON", &[]),
        case(
            "corrected",
            t.line(&[("VALEUR", "0,5"), ("CODE_METROLOGIE", "C")]),
            "ACCEPTE",
            &[],
        ),
        case(
            "other value without C",
            t.line(&[("VALEUR", "0,7")]),
            "REJETE",
            &["REFERENCE_CONFLIT"],
        ),
        case(
            "the correction again (C ignored when comparing)",
            t.line(&[("VALEUR", "0,500"), ("CODE_METROLOGIE", "c")]),
            "DOUBLON",
            &[],
        ),
        case(
            "correction before its original",
            t.line(&[("REFERENCE", "R-2"), ("CODE_METROLOGIE", "C")]),
            "REJETE",
            &["CORRECTION_SANS_ORIGINE"],
        ),
        case(
            "absence",
            t.line(&[("REFERENCE", "R-2"), ("STATUT", "ABSENCE"), ("VALEUR", "")]),
            "ACCEPTE",
            &[],
        ),
        case(
            "absence completed",
            t.line(&[
                ("REFERENCE", "R-2"),
                ("VALEUR", "0,1"),
                ("CODE_METROLOGIE", "C"),
            ]),
            "ACCEPTE",
            &[],
        ),
    ];
    let w = &WORKERS;
    let workers = vec![
        case("declared", w.line(&[]), "ACCEPTE", &[]),
        case("identical", w.line(&[]), "DOUBLON", &[]),
        case("new terms", w.line(&[("QUOTITE", "1")]), "ACCEPTE", &[]),
        case(
            "new terms again",
            w.line(&[("QUOTITE", "1,0")]),
            "DOUBLON",
            &[],
        ),
    ];
    let o = &OPERATIONAL;
    let readings = vec![
        case("first", o.line(&[]), "ACCEPTE", &[]),
        case("identical", o.line(&[]), "DOUBLON", &[]),
        case(
            "replaced",
            o.line(&[("VALEUR", "0,02"), ("CODE_METROLOGIE", "C")]),
            "ACCEPTE",
            &[],
        ),
        case(
            "replaced again identically",
            o.line(&[("VALEUR", "0,020"), ("CODE_METROLOGIE", "C")]),
            "DOUBLON",
            &[],
        ),
        case(
            "other value without C",
            o.line(&[("VALEUR", "0,03")]),
            "REJETE",
            &["REFERENCE_CONFLIT"],
        ),
    ];
    for r in registries().await {
        let e = r.engine();
        for (who, t, cases) in [
            (&r.lab, &RESULTS, &results),
            (&r.employer, &WORKERS, &workers),
            (&r.operator, &OPERATIONAL, &readings),
        ] {
            let lines: Vec<String> = cases.iter().map(|c| c.line.clone()).collect();
            let report = r.send(who, t.format, &t.file(&lines)).await;
            check_cases(&e, &report, cases);
        }

        // two versions, the latest 0.5 mSv; R-2: the absence, then its value.
        let sender = Sender::Organisation(Siren::parse(LAB_SIREN).unwrap());
        let r1 = r
            .store()
            .result_by_reference(&sender, &Reference::parse("R-1").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(r1.versions.len(), 2, "[{e}]");
        assert_eq!(r1.current().unwrap().values.dose_usv, Some(500));
        let r2 = r
            .store()
            .result_by_reference(&sender, &Reference::parse("R-2").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(r2.versions.len(), 2, "[{e}]");
        // The monthly sum counts the latest versions only: 0.5 + 0.1 mSv in March 2026.
        let march: i64 = r
            .store()
            .monthly_doses(&nir_value(DUPONT.0))
            .await
            .unwrap()
            .iter()
            .filter(|(m, s, _, _)| m.label() == "2026-03" && *s == Series::EExternal)
            .map(|(_, _, d, _)| d)
            .sum();
        assert_eq!(march, 600, "[{e}]");

        let a = r.store().attachments(&nir_value(NEWCOMER.0)).await.unwrap();
        assert_eq!(a.len(), 1, "[{e}]");
        assert_eq!(a[0].versions.len(), 2, "[{e}]");
        assert_eq!(a[0].current().unwrap().quotite_milliemes, 1000);

        let readings = r.store().readings(&nir_value(DUPONT.0)).await.unwrap();
        assert_eq!(readings.len(), 1, "[{e}]");
        assert_eq!(readings[0].versions.len(), 2, "[{e}]");
        assert_eq!(readings[0].versions[1].1.dose_usv, 20);

        // Across transmissions too: the original values now conflict with the correction,
        // the correction is a duplicate (the file ends with one more empty line: the very
        // same bytes would be answered with the first report, exchange.md §6).
        let lines: Vec<String> = results.iter().map(|c| c.line.clone()).collect();
        let again = r
            .send(
                &r.lab,
                TransmissionFormat::Results,
                &format!("{}\n", t.file(&lines)),
            )
            .await;
        assert_eq!(
            outcome(&again, 2),
            owned("REJETE", &["REFERENCE_CONFLIT"]),
            "[{e}]"
        );
        assert_eq!(outcome(&again, 4), owned("DOUBLON", &[]), "[{e}]");
        r.verify_journal().await;
    }
}

/// The CSV report of a file with rejected lines, corrected in place and sent back: the fixed
/// lines are accepted, the others are duplicates, and the report's own columns are dropped
/// silently (`resultats` even has a STATUT column of its own).
#[tokio::test]
async fn corrected_csv_report_can_be_sent_back() {
    let t = &RESULTS;
    let body = t.file(&[
        t.line(&[]),
        t.line(&[("REFERENCE", "R-2"), ("CLE", "00")]),
        t.line(&[("REFERENCE", "R-3"), ("VALEUR", "0,1")]),
        t.line(&[("REFERENCE", "R-4"), ("VALEUR", "1,2,3")]),
    ]);
    for r in registries().await {
        let e = r.engine();
        let report = r.send(&r.lab, TransmissionFormat::Results, &body).await;
        assert_eq!(outcome(&report, 3), owned("REJETE", &["NIR_CLE"]), "[{e}]");
        assert_eq!(outcome(&report, 5), owned("REJETE", &["VALEUR_FORMAT"]));
        assert_eq!((report.totals.accepted, report.totals.rejected), (2, 2));

        let csv = write_csv(
            TransmissionFormat::Results,
            false,
            body.as_bytes(),
            &report,
            &report.lines,
            Vec::new(),
        )
        .unwrap();
        // A spreadsheet user edits the rejected lines' values and saves.
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(b';')
            .has_headers(false)
            .from_reader(csv.strip_prefix("\u{feff}".as_bytes()).unwrap());
        let mut rows: Vec<Vec<String>> = reader
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect();
        let header = rows[0].clone();
        let width = RESULTS.fields.len();
        assert_eq!(header.len(), width + 3);
        assert_eq!(header[width..], ["STATUT_LIGNE", "CODE_ERREUR", "MESSAGE"]);
        let col = |name: &str| header.iter().position(|h| h == name).unwrap();
        let (cle, valeur) = (col("CLE"), col("VALEUR"));
        let (statut, code, message) = (width, width + 1, width + 2);
        assert_eq!(rows.len(), 5);
        let summary: Vec<(&str, &str)> = rows[1..]
            .iter()
            .map(|row| (row[statut].as_str(), row[code].as_str()))
            .collect();
        assert_eq!(
            summary,
            [
                ("ACCEPTE", ""),
                ("REJETE", "NIR_CLE"),
                ("ACCEPTE", ""),
                ("REJETE", "VALEUR_FORMAT")
            ],
            "[{e}]"
        );
        assert_eq!(rows[2][message], "CLE : la clé du NIR devrait être 93");
        for row in &mut rows[1..] {
            if row[statut] == "REJETE" {
                match row[code].as_str() {
                    "NIR_CLE" => row[cle] = DUPONT.1.to_owned(),
                    _ => row[valeur] = "1,23".to_owned(),
                }
            }
        }
        let mut writer = csv::WriterBuilder::new()
            .delimiter(b';')
            .terminator(csv::Terminator::CRLF)
            .from_writer(b"\xef\xbb\xbf".to_vec());
        for row in &rows {
            writer.write_record(row).unwrap();
        }
        let corrected = String::from_utf8(writer.into_inner().unwrap()).unwrap();

        let again = r
            .send(&r.lab, TransmissionFormat::Results, &corrected)
            .await;
        assert!(
            again.file_errors.is_empty(),
            "[{e}] {:?}",
            again.file_errors
        );
        assert_eq!(outcome(&again, 2), owned("DOUBLON", &[]), "[{e}]");
        assert_eq!(outcome(&again, 3), owned("ACCEPTE", &[]), "[{e}]");
        assert_eq!(outcome(&again, 4), owned("DOUBLON", &[]), "[{e}]");
        assert_eq!(outcome(&again, 5), owned("ACCEPTE", &[]), "[{e}]");
        let t = &again.totals;
        assert_eq!((t.accepted, t.duplicates, t.rejected), (2, 2, 0));
        let stored = r.store().results(&nir_value(DUPONT.0)).await.unwrap();
        let r4 = stored
            .iter()
            .find(|x| x.reference.as_str() == "R-4")
            .unwrap();
        assert_eq!(r4.current().unwrap().values.dose_usv, Some(1230));
        r.verify_journal().await;
    }
}

/// A dry run stores nothing, and reports exactly what the real send that follows reports.
#[tokio::test]
async fn dry_run_stores_nothing_and_matches_the_real_send() {
    let (n8, k8) = nir(8);
    let files = [
        (
            TransmissionFormat::Results,
            RESULTS.file(&[
                RESULTS.line(&[]),
                RESULTS.line(&[]),
                RESULTS.line(&[("VALEUR", "0,4"), ("CODE_METROLOGIE", "C")]),
                RESULTS.line(&[("REFERENCE", "R-2"), ("NOM", "Durand")]),
                RESULTS.line(&[("REFERENCE", "R-3"), ("VALEUR", "x")]),
                RESULTS.line(&[
                    ("REFERENCE", "R-4"),
                    ("NIR", &n8),
                    ("CLE", &k8),
                    ("DATENAISSANCE", "01/01/1990"),
                ]),
                martin_line(&[("REFERENCE", "R-5"), ("VALEUR", "7")]),
            ]),
        ),
        (
            TransmissionFormat::Workers,
            WORKERS.file(&[
                WORKERS.line(&[]),
                WORKERS.line(&[]),
                WORKERS.line(&[("NIR", DUPONT.0), ("CLE", DUPONT.1)]),
                WORKERS.line(&[("SIRET", BETA)]),
            ]),
        ),
        (
            TransmissionFormat::OperationalDosimetry,
            OPERATIONAL.file(&[
                OPERATIONAL.line(&[]),
                OPERATIONAL.line(&[]),
                OPERATIONAL.line(&[("NIR", COLIN.0)]),
                OPERATIONAL.line(&[("NIR", "2900175999999")]),
                OPERATIONAL.line(&[("VALEUR", "")]),
            ]),
        ),
    ];
    for r in registries().await {
        let e = r.engine();
        for (format, body) in &files {
            let who = match format {
                TransmissionFormat::Results => &r.lab,
                TransmissionFormat::Workers => &r.employer,
                TransmissionFormat::OperationalDosimetry => &r.operator,
            };
            let before = r.counts().await;
            let dry = r
                .try_send(who, *format, body.as_bytes(), false, true)
                .await
                .unwrap();
            assert_eq!(r.counts().await, before, "[{e}] {format:?}: dry run stored");
            assert_eq!(dry.transmission, None);
            assert!(dry.dry_run);
            assert_eq!(dry.etat, "TERMINE");
            let real = r.send(who, *format, body).await;
            assert!(real.transmission.is_some());
            assert!(!real.dry_run);
            assert_eq!(real.totals, dry.totals, "[{e}] {format:?}");
            assert_eq!(real.lines, dry.lines, "[{e}] {format:?}");
            assert_eq!(real.file_errors, dry.file_errors, "[{e}] {format:?}");
            assert_eq!(real.lignes_traitees, dry.lignes_traitees);
            let row = r
                .store()
                .transmission(real.transmission.unwrap())
                .await
                .unwrap()
                .unwrap();
            assert_eq!(row.file_sha256, sha256(body.as_bytes()), "[{e}]");
            assert_eq!(row.file_bytes, body.len() as i64);
            assert_eq!((row.refused, row.media.as_str()), (false, "csv"));
            assert!(real.totals.accepted > 0 && real.totals.rejected > 0);
            assert_ne!(
                r.counts().await,
                before,
                "[{e}] {format:?}: real send stored"
            );
            // The real send's stored report is the one it returned.
            let stored = r.stored_report(real.transmission.unwrap()).await;
            assert_eq!(stored, real, "[{e}] {format:?}");
        }
        // A dry run of a refused file stores nothing either, not even the file.
        let before = r.counts().await;
        let dry = r
            .try_send(
                &r.employer,
                TransmissionFormat::Workers,
                WORKERS.header().as_bytes(),
                false,
                true,
            )
            .await
            .unwrap();
        assert_eq!(dry.refusal().map(|c| c.code()), Some("FICHIER_VIDE"));
        assert_eq!(dry.transmission, None);
        assert_eq!(r.counts().await, before, "[{e}] refused dry run stored");
        r.verify_journal().await;
    }
}

/// A file refused after whole chunks of its lines were processed keeps none of them: only
/// the transmission, marked refused, with its file; its CSV report repeats every line with
/// the refusal.
#[tokio::test]
async fn a_refused_file_stores_the_transmission_and_no_line() {
    // More lines than one chunk, then one that is neither UTF-8 nor Windows-1252 (0x81).
    let lines: Vec<String> = (0..siseri_import::CHUNK_RECORDS as u32 + 100)
        .map(|i| {
            let (n, k) = nir(1000 + i);
            WORKERS.line(&[("NIR", &n), ("CLE", &k), ("DATENAISSANCE", "01/01/1990")])
        })
        .collect();
    let mut body = WORKERS.file(&lines).into_bytes();
    body.extend(
        WORKERS
            .line(&[("NOM", "L\u{e9}roy"), ("PRENOM", "\u{81}")])
            .chars()
            .map(|c| c as u8),
    );
    body.push(b'\n');
    for r in registries().await {
        let e = r.engine();
        let before = r.counts().await;
        let report = r
            .try_send(
                &r.employer,
                TransmissionFormat::Workers,
                &body,
                false,
                false,
            )
            .await
            .unwrap();
        assert_eq!(
            report.refusal().map(|c| c.code()),
            Some("ENCODAGE_INVALIDE"),
            "[{e}] {:?}",
            report.file_errors
        );
        assert_eq!(report.totals, Default::default());
        assert_eq!(report.lignes_traitees, 0);
        assert!(report.lines.is_empty());
        let id = report.transmission.unwrap();
        let t = r.store().transmission(id).await.unwrap().unwrap();
        assert!(t.refused, "[{e}]");
        assert_eq!(t.file_bytes, body.len() as i64, "[{e}]");
        assert_eq!(t.file_sha256, sha256(&body), "[{e}]");
        assert!(r.store().transmission_lines(id).await.unwrap().is_empty());
        assert_eq!(r.stored_report(id).await, report, "[{e}]");
        let after = r.counts().await;
        for ((table, b), (_, a)) in before.iter().zip(&after) {
            let added = match *table {
                "transmissions" | "journal" | "transmission_files" => 1,
                _ => 0,
            };
            assert_eq!(a - b, added, "[{e}] {table}");
        }
        // The kept file gives the CSV report: every line rejected with the refusal.
        let mut kept = Vec::new();
        let mut part = 0;
        while let Some(bytes) = r.store().transmission_file_part(id, part).await.unwrap() {
            kept.extend(bytes);
            part += 1;
        }
        assert_eq!(kept, body, "[{e}]");
        let csv = write_csv(
            TransmissionFormat::Workers,
            false,
            kept.as_slice(),
            &report,
            &[],
            Vec::new(),
        )
        .unwrap();
        let csv = String::from_utf8(csv).unwrap();
        let rows: Vec<&str> = csv.lines().skip(1).collect();
        assert_eq!(rows.len(), lines.len() + 1, "[{e}]");
        // The refused line is repeated read as Windows-1252 as far as it goes.
        assert!(rows[lines.len()].contains(";Léroy;\u{81};"), "[{e}]");
        assert!(
            rows.iter()
                .all(|l| l.contains(";REJETE;ENCODAGE_INVALIDE;")),
            "[{e}] {}",
            rows[0]
        );
        r.verify_journal().await;
    }
}

/// Readings of an unknown NIR are held, then attached when a `travailleurs` file declares
/// the worker: the original transmission's report is updated in place.
#[tokio::test]
async fn held_readings_are_attached_when_the_worker_is_declared() {
    let o = &OPERATIONAL;
    let body = o.file(&[
        o.line(&[("NIR", NEWCOMER.0)]),
        o.line(&[]),
        o.line(&[("NIR", NEWCOMER.0), ("SIRET", ACME_INB)]),
    ]);
    let declaration = WORKERS.file(&[WORKERS.line(&[])]);
    for r in registries().await {
        let e = r.engine();
        let sent = r
            .send(&r.operator, TransmissionFormat::OperationalDosimetry, &body)
            .await;
        let id = sent.transmission.unwrap();
        assert_eq!(
            outcome(&sent, 2),
            owned("EN_ATTENTE", &["TRAVAILLEUR_INCONNU"])
        );
        assert_eq!(
            outcome(&sent, 4),
            owned("EN_ATTENTE", &["TRAVAILLEUR_INCONNU"])
        );
        assert_eq!((sent.totals.on_hold, sent.totals.accepted), (2, 1), "[{e}]");
        let held = queue::list(r.store(), true).await.unwrap();
        assert_eq!(held.len(), 2, "[{e}]");
        assert!(held.iter().all(|p| p.transmission == id));

        // A dry run of the declaration attaches nothing.
        let dry = r
            .try_send(
                &r.employer,
                TransmissionFormat::Workers,
                declaration.as_bytes(),
                false,
                true,
            )
            .await
            .unwrap();
        assert_eq!(dry.totals.accepted, 1);
        assert_eq!(
            queue::list(r.store(), true).await.unwrap().len(),
            2,
            "[{e}]"
        );
        assert_eq!(r.stored_report(id).await.totals.on_hold, 2);

        // The real one attaches both readings.
        let declared = r
            .send(&r.employer, TransmissionFormat::Workers, &declaration)
            .await;
        assert_eq!(declared.totals.accepted, 1, "[{e}] {:?}", declared.lines);
        assert!(
            queue::list(r.store(), true).await.unwrap().is_empty(),
            "[{e}]"
        );
        let all = queue::list(r.store(), false).await.unwrap();
        assert!(
            all.iter()
                .all(|p| p.resolution.as_deref() == Some("ACCEPTE")
                    && p.resolue_par.as_deref() == Some(queue::AUTOMATIC)),
            "[{e}] {all:?}"
        );
        let stored = r.stored_report(id).await;
        let t = &stored.totals;
        assert_eq!(
            (t.lines, t.accepted, t.on_hold, t.warnings),
            (3, 3, 0, 1),
            "[{e}] {t:?}"
        );
        assert_eq!(outcome(&stored, 2), owned("ACCEPTE", &[]), "[{e}]");
        // Attached to ACME_LYON, not to the INB establishment of the third line.
        assert_eq!(
            outcome(&stored, 4),
            owned("ACCEPTE", &["RATTACHEMENT_ABSENT"])
        );
        let lines = r.store().transmission_lines(id).await.unwrap();
        assert_eq!(
            lines.iter().find(|l| l.line == 2).unwrap().status,
            "ACCEPTE"
        );
        let readings = r.store().readings(&nir_value(NEWCOMER.0)).await.unwrap();
        assert_eq!(readings.len(), 2, "[{e}]");
        assert!(readings.iter().all(|x| x.site_inb.as_str() == ACME_INB));
        // Once attached, the same lines again are duplicates (one more empty line: the
        // very same bytes are answered with the first report).
        let again = r
            .send(
                &r.operator,
                TransmissionFormat::OperationalDosimetry,
                &format!("{body}\n"),
            )
            .await;
        assert_eq!(again.totals.duplicates, 3, "[{e}] {:?}", again.lines);
        r.verify_journal().await;
    }
}

/// An administrator attaches a held line (it is then processed as if accepted, and the
/// original report is updated) or rejects it; a line is resolved once.
#[tokio::test]
async fn administrator_resolves_held_lines_once() {
    let t = &RESULTS;
    let results = t.file(&[
        t.line(&[("NOM", "Durand")]),
        t.line(&[("REFERENCE", "R-2")]),
        t.line(&[("REFERENCE", "R-3"), ("PRENOM", "Maria"), ("VALEUR", "0,3")]),
    ]);
    let workers = WORKERS.file(&[WORKERS.line(&[
        ("NIR", DUPONT.0),
        ("CLE", DUPONT.1),
        ("NOM", "Dupont"),
        ("PRENOM", "Mari"),
        ("DATENAISSANCE", "12/10/1995"),
        ("DATEDEBUT", "01/01/2024"),
        ("QUOTITE", "1"),
    ])]);
    for r in registries().await {
        let e = r.engine();
        let dupont = nir_value(DUPONT.0);
        let sent = r.send(&r.lab, TransmissionFormat::Results, &results).await;
        let id = sent.transmission.unwrap();
        assert_eq!(
            outcome(&sent, 2),
            owned("EN_ATTENTE", &["IDENTITE_INCOHERENTE"])
        );
        assert_eq!(
            outcome(&sent, 4),
            owned("EN_ATTENTE", &["IDENTITE_INCOHERENTE"])
        );
        let held = queue::list(r.store(), true).await.unwrap();
        assert_eq!(held.len(), 2, "[{e}]");
        let (first, second) = (&held[0], &held[1]);
        assert_eq!((first.ligne, second.ligne), (2, 4));
        assert_eq!(first.conflits, ["NOM"]);
        assert_eq!(second.conflits, ["PRENOM"]);
        assert_eq!(first.suggestions[0].raison, "MEME_NIR");
        assert_eq!(first.suggestions[0].nir, DUPONT.0);
        let stored_refs = |list: Vec<siseri_domain::result::DoseResult>| -> Vec<String> {
            let mut v: Vec<String> = list
                .iter()
                .map(|x| x.reference.as_str().to_owned())
                .collect();
            v.sort();
            v
        };
        assert_eq!(
            stored_refs(r.store().results(&dupont).await.unwrap()),
            ["R-2"]
        );

        // Refused decisions change nothing.
        let no_reason = queue::resolve(
            r.store(),
            first.id,
            &Decision::Reject(" ".into()),
            "admin",
            today(),
        )
        .await;
        assert!(
            matches!(no_reason, Err(QueueError::ReasonRequired)),
            "{no_reason:?}"
        );
        let unknown = queue::resolve(
            r.store(),
            first.id,
            &Decision::Attach(nir_value(NEWCOMER.0)),
            "admin",
            today(),
        )
        .await;
        assert!(
            matches!(unknown, Err(QueueError::UnknownWorker)),
            "{unknown:?}"
        );
        let missing = queue::resolve(
            r.store(),
            9999,
            &Decision::Reject("x".into()),
            "admin",
            today(),
        )
        .await;
        assert!(matches!(missing, Err(QueueError::NotFound)), "{missing:?}");

        // Attached: the result is stored and the original report updated.
        let attached = queue::resolve(
            r.store(),
            first.id,
            &Decision::Attach(dupont.clone()),
            "admin",
            today(),
        )
        .await
        .unwrap();
        assert_eq!(
            (attached.status.as_str(), attached.codes.len()),
            ("ACCEPTE", 0),
            "[{e}] {attached:?}"
        );
        assert_eq!(
            stored_refs(r.store().results(&dupont).await.unwrap()),
            ["R-1", "R-2"]
        );
        let march: i64 = r
            .store()
            .monthly_doses(&dupont)
            .await
            .unwrap()
            .iter()
            .filter(|(m, s, _, _)| m.label() == "2026-03" && *s == Series::EExternal)
            .map(|(_, _, d, _)| d)
            .sum();
        assert_eq!(march, 500, "[{e}] the attached result counts");
        let again = queue::resolve(
            r.store(),
            first.id,
            &Decision::Attach(dupont.clone()),
            "admin",
            today(),
        )
        .await;
        assert!(
            matches!(again, Err(QueueError::Resolved)),
            "[{e}] {again:?}"
        );

        // Rejected by the administrator.
        let rejected = queue::resolve(
            r.store(),
            second.id,
            &Decision::Reject("homonyme, à vérifier auprès de l'organisme".into()),
            "admin",
            today(),
        )
        .await
        .unwrap();
        assert_eq!(rejected.status, "REJETE");
        assert_eq!(rejected.codes, ["REJET_GESTIONNAIRE"]);
        assert!(rejected.messages[0].contains("homonyme"));
        let again = queue::resolve(
            r.store(),
            second.id,
            &Decision::Reject("x".into()),
            "admin",
            today(),
        )
        .await;
        assert!(
            matches!(again, Err(QueueError::Resolved)),
            "[{e}] {again:?}"
        );
        assert_eq!(
            stored_refs(r.store().results(&dupont).await.unwrap()),
            ["R-1", "R-2"]
        );

        let stored = r.stored_report(id).await;
        let t = &stored.totals;
        assert_eq!(
            (t.lines, t.accepted, t.on_hold, t.rejected),
            (3, 2, 0, 1),
            "[{e}] {t:?}"
        );
        assert_eq!(outcome(&stored, 2), owned("ACCEPTE", &[]), "[{e}]");
        assert_eq!(
            outcome(&stored, 4),
            owned("REJETE", &["REJET_GESTIONNAIRE"]),
            "[{e}]"
        );
        let all = queue::list(r.store(), false).await.unwrap();
        assert_eq!(
            all.iter()
                .map(|p| p.resolution.as_deref())
                .collect::<Vec<_>>(),
            [Some("ACCEPTE"), Some("REJETE")]
        );
        assert!(
            all.iter()
                .all(|p| p.resolue_par.as_deref() == Some("admin"))
        );

        // A held `travailleurs` line attached: the attachment gets its new version.
        let sent = r
            .send(&r.employer, TransmissionFormat::Workers, &workers)
            .await;
        assert_eq!(
            outcome(&sent, 2),
            owned("EN_ATTENTE", &["IDENTITE_INCOHERENTE"]),
            "[{e}]"
        );
        let held = queue::list(r.store(), true).await.unwrap();
        assert_eq!(held.len(), 1);
        let done = queue::resolve(
            r.store(),
            held[0].id,
            &Decision::Attach(dupont.clone()),
            "admin",
            today(),
        )
        .await
        .unwrap();
        assert_eq!(done.status, "ACCEPTE", "[{e}] {done:?}");
        let a = r.store().attachments(&dupont).await.unwrap();
        assert_eq!(a[0].versions.len(), 2, "[{e}]");
        assert_eq!(a[0].current().unwrap().quotite_milliemes, 1000);
        // The registry's identity is unchanged.
        assert_eq!(
            r.store().worker(&dupont).await.unwrap().unwrap().prenom,
            "Marie"
        );
        let stored = r.stored_report(sent.transmission.unwrap()).await;
        assert_eq!(
            (stored.totals.accepted, stored.totals.on_hold),
            (1, 0),
            "[{e}]"
        );
        r.verify_journal().await;
    }
}

/// The same records as JSON give the same report as CSV.
#[tokio::test]
async fn json_gives_the_same_report_as_csv() {
    let t = &RESULTS;
    let lines = vec![
        t.line(&[]),
        t.line(&[]),
        t.line(&[("REFERENCE", "R-2"), ("CLE", "00"), ("VALEUR", "x")]),
        t.line(&[("REFERENCE", "R-3"), ("PRENOM", "Maria")]),
        t.line(&[("REFERENCE", "R-4"), ("VALEUR", "0,0001")]),
    ];
    for r in registries().await {
        let e = r.engine();
        let csv = r
            .try_send(&r.lab, t.format, t.file(&lines).as_bytes(), false, true)
            .await
            .unwrap();
        let json = r
            .try_send(&r.lab, t.format, t.json(&lines).as_bytes(), true, true)
            .await
            .unwrap();
        assert_eq!(json.totals, csv.totals, "[{e}]");
        assert_eq!(json.lines, csv.lines, "[{e}]");
        assert_eq!(csv.totals.duplicates, 1);
        r.verify_journal().await;
    }
}

/// A line number is the physical line where the record starts (header = 1, empty lines
/// skipped but counted, a quoted value may span lines), in both forms of the report.
#[tokio::test]
async fn line_numbers_are_physical_in_both_reports() {
    let t = &RESULTS;
    let body = format!(
        "{}\r\n\r\n{}\n{}\n{}\r\n{}\n",
        t.header(),
        t.line(&[("VALEUR", "x")]),
        t.line(&[("REFERENCE", "R-2"), ("NOM", "Du\npont")]),
        t.line(&[("REFERENCE", "R-3"), ("CLE", "00")]),
        t.line(&[("REFERENCE", "R-4")]),
    );
    for r in registries().await {
        let e = r.engine();
        let report = r.send(&r.lab, TransmissionFormat::Results, &body).await;
        let listed: Vec<(i64, &str, Vec<String>)> = report
            .lines
            .iter()
            .map(|l| (l.line, l.status.as_str(), l.codes.clone()))
            .collect();
        assert_eq!(
            listed,
            [
                (3, "REJETE", vec!["VALEUR_FORMAT".to_owned()]),
                (4, "REJETE", vec!["NOM_FORMAT".to_owned()]),
                (6, "REJETE", vec!["NIR_CLE".to_owned()]),
            ],
            "[{e}]"
        );
        assert_eq!(report.totals.accepted, 1);
        let csv = write_csv(
            TransmissionFormat::Results,
            false,
            body.as_bytes(),
            &report,
            &report.lines,
            Vec::new(),
        )
        .unwrap();
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(b';')
            .from_reader(csv.as_slice());
        let width = RESULTS.fields.len();
        let rows: Vec<(String, String, String)> = reader
            .records()
            .map(|r| {
                let r = r.unwrap();
                (
                    r[0].trim_start_matches('\u{feff}').to_owned(),
                    r[width].to_owned(),
                    r[width + 1].to_owned(),
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                ("R-1".into(), "REJETE".into(), "VALEUR_FORMAT".into()),
                ("R-2".into(), "REJETE".into(), "NOM_FORMAT".into()),
                ("R-3".into(), "REJETE".into(), "NIR_CLE".into()),
                ("R-4".into(), "ACCEPTE".into(), String::new()),
            ],
            "[{e}]"
        );
        r.verify_journal().await;
    }
}

/// Corrections of results created earlier in the same file take the superseded version out
/// of the monthly sums, whichever result it is.
#[tokio::test]
async fn corrections_in_one_file_keep_the_monthly_sums_right() {
    let t = &RESULTS;
    let mut lines: Vec<String> = (1..=5)
        .map(|i| t.line(&[("REFERENCE", &format!("R-{i}"))]))
        .collect();
    lines.push(t.line(&[("REFERENCE", "R-6"), ("STATUT", "ABSENCE"), ("VALEUR", "")]));
    lines.push(t.line(&[
        ("REFERENCE", "R-6"),
        ("VALEUR", "0,1"),
        ("CODE_METROLOGIE", "C"),
    ]));
    lines.push(t.line(&[
        ("REFERENCE", "R-3"),
        ("VALEUR", "0,05"),
        ("CODE_METROLOGIE", "C"),
    ]));
    for r in registries().await {
        let e = r.engine();
        let report = r
            .send(&r.lab, TransmissionFormat::Results, &t.file(&lines))
            .await;
        assert!(report.lines.is_empty(), "[{e}] {:?}", report.lines);
        let sums = r.store().monthly_doses(&nir_value(DUPONT.0)).await.unwrap();
        let march: Vec<(i64, i64)> = sums
            .iter()
            .filter(|(m, s, _, _)| m.label() == "2026-03" && *s == Series::EExternal)
            .map(|(_, _, d, a)| (*d, *a))
            .collect();
        // 4 × 0.25 + 0.05 (R-3 corrected) + 0.1 (R-6, absence completed); no absence left.
        assert_eq!(march, [(1150, 0)], "[{e}]");
        r.verify_journal().await;
    }
}

/// A held result attached by an administrator to another worker (the same identity under
/// another NIR) counts with that worker's stored doses for the classification advisory.
#[tokio::test]
async fn a_line_attached_to_another_worker_counts_with_his_doses() {
    let t = &RESULTS;
    let martin = [
        ("NOM", "Martin"),
        ("PRENOM", "Jean-Luc"),
        ("DATENAISSANCE", "03/05/1985"),
        ("SEXE", "M"),
    ];
    let mut first = vec![("NIR", MARTIN.0), ("CLE", MARTIN.1), ("VALEUR", "5")];
    first.extend(martin);
    let mut held = vec![
        ("REFERENCE", "R-2"),
        ("NIR", COLIN.0),
        ("CLE", COLIN.1),
        ("DATE_DEBUT", "01/04/2026"),
        ("DATE_FIN", "30/04/2026"),
        ("VALEUR", "2"),
    ];
    held.extend(martin);
    for r in registries().await {
        let e = r.engine();
        let sent = r
            .send(
                &r.lab,
                TransmissionFormat::Results,
                &t.file(&[t.line(&first)]),
            )
            .await;
        assert!(sent.lines.is_empty(), "[{e}] {:?}", sent.lines);
        let sent = r
            .send(
                &r.lab,
                TransmissionFormat::Results,
                &t.file(&[t.line(&held)]),
            )
            .await;
        assert_eq!(
            outcome(&sent, 2),
            owned(
                "EN_ATTENTE",
                &[
                    "IDENTITE_INCOHERENTE",
                    "NIR_NAISSANCE_INCOHERENTE",
                    "NIR_SEXE_INCOHERENT"
                ]
            ),
            "[{e}]"
        );
        let pending = queue::list(r.store(), true).await.unwrap();
        let suggested: Vec<(&str, &str)> = pending[0]
            .suggestions
            .iter()
            .map(|s| (s.raison, s.nir.as_str()))
            .collect();
        assert_eq!(
            suggested,
            [("MEME_NIR", COLIN.0), ("MEME_IDENTITE", MARTIN.0)],
            "[{e}]"
        );
        let done = queue::resolve(
            r.store(),
            pending[0].id,
            &Decision::Attach(nir_value(MARTIN.0)),
            "admin",
            today(),
        )
        .await
        .unwrap();
        assert_eq!(
            (done.status.as_str(), done.codes.clone()),
            (
                "ACCEPTE",
                vec![
                    "NIR_NAISSANCE_INCOHERENTE".to_owned(),
                    "NIR_SEXE_INCOHERENT".to_owned(),
                    "CLASSEMENT_A_REVOIR".to_owned()
                ]
            ),
            "[{e}]"
        );
        let refs: Vec<String> = r
            .store()
            .results(&nir_value(MARTIN.0))
            .await
            .unwrap()
            .iter()
            .map(|x| x.reference.as_str().to_owned())
            .collect();
        assert_eq!(refs.len(), 2, "[{e}] {refs:?}");
        assert!(
            r.store()
                .results(&nir_value(COLIN.0))
                .await
                .unwrap()
                .is_empty()
        );
        let stored = r.stored_report(sent.transmission.unwrap()).await;
        assert_eq!((stored.totals.accepted, stored.totals.warnings), (1, 1));
        r.verify_journal().await;
    }
}

/// Files longer than one chunk: what earlier chunks stored counts for the later ones exactly
/// as within a chunk.
#[tokio::test]
async fn earlier_chunks_count_as_stored() {
    let t = &RESULTS;
    let (n10, k10) = nir(10);
    let newcomer = [
        ("NIR", n10.as_str()),
        ("CLE", k10.as_str()),
        ("NOM", "Petit"),
        ("PRENOM", "Julie"),
        ("DATENAISSANCE", "04/04/1990"),
    ];
    let mut created = vec![("REFERENCE", "R-N1")];
    created.extend(newcomer);
    let mut conflicting = vec![("REFERENCE", "R-N2")];
    conflicting.extend(newcomer);
    conflicting.push(("NOM", "Grand"));
    let mut cases = vec![
        case("first chunk", t.line(&[]), "ACCEPTE", &[]),
        case(
            "creates a worker",
            t.line(&created),
            "ACCEPTE",
            &["RATTACHEMENT_ABSENT"],
        ),
        case(
            "category B, 3 mSv",
            martin_result("R-M1", "3"),
            "ACCEPTE",
            &[],
        ),
    ];
    let chunk = siseri_import::CHUNK_RECORDS;
    for i in 0..chunk - 3 {
        let reference = format!("R-F{i}");
        cases.push(case(
            "filler",
            t.line(&[("REFERENCE", &reference), ("VALEUR", "0")]),
            "ACCEPTE",
            &[],
        ));
    }
    cases.extend([
        case("second chunk: same as line 2", t.line(&[]), "DOUBLON", &[]),
        case(
            "correction of line 2",
            t.line(&[("VALEUR", "0,5"), ("CODE_METROLOGIE", "C")]),
            "ACCEPTE",
            &[],
        ),
        case(
            "other name for the created worker",
            t.line(&conflicting),
            "EN_ATTENTE",
            &["IDENTITE_INCOHERENTE"],
        ),
        case(
            "category B, 3.5 mSv more",
            martin_result("R-M2", "3,5"),
            "ACCEPTE",
            &["CLASSEMENT_A_REVOIR"],
        ),
    ]);
    assert_eq!(cases[chunk].what, "second chunk: same as line 2");

    let o = &OPERATIONAL;
    let start = chrono::NaiveDate::from_ymd_opt(2026, 5, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    let mut readings = vec![case("first chunk", o.line(&[]), "ACCEPTE", &[])];
    for i in 0..chunk as i64 - 1 {
        let from = start + chrono::Duration::minutes(i);
        let to = from + chrono::Duration::minutes(30);
        let (from, to) = (from.format("%d/%m/%Y %H:%M"), to.format("%d/%m/%Y %H:%M"));
        readings.push(case(
            "filler",
            o.line(&[
                ("DATE_DEBUT_PORT", &from.to_string()),
                ("DATE_FIN_PORT", &to.to_string()),
            ]),
            "ACCEPTE",
            &[],
        ));
    }
    readings.extend([
        case("second chunk: same as line 2", o.line(&[]), "DOUBLON", &[]),
        case(
            "replaces line 2",
            o.line(&[("VALEUR", "1"), ("CODE_METROLOGIE", "C")]),
            "ACCEPTE",
            &[],
        ),
    ]);
    assert_eq!(readings[chunk].what, "second chunk: same as line 2");

    for r in registries().await {
        let e = r.engine();
        for (who, t, cases) in [(&r.lab, t, &cases), (&r.operator, o, &readings)] {
            let lines: Vec<String> = cases.iter().map(|c| c.line.clone()).collect();
            let report = r.send(who, t.format, &t.file(&lines)).await;
            check_cases(&e, &report, cases);
            assert_eq!(report.lignes_traitees, cases.len() as u64);
        }
        let readings = r.store().readings(&nir_value(DUPONT.0)).await.unwrap();
        assert_eq!(readings.len(), chunk, "[{e}]");
        r.verify_journal().await;
    }
}

/// A file of three chunks: each chunk is checked while the previous one
/// is being written and the next one read, yet every line sees what the lines before it
/// wrote, across the chunks' boundaries too — a correction right after its original, its
/// duplicate, a worker created by one chunk and named again by the next, a category-B
/// worker's 12-month dose crossing the advisory threshold over two chunks, and the original
/// values sent again once corrected.
#[tokio::test]
async fn a_large_file_reads_as_if_line_by_line_across_chunks() {
    let t = &RESULTS;
    let (n1, k1) = nir(11);
    let unknown = |reference: &str| {
        t.line(&[
            ("REFERENCE", reference),
            ("NIR", &n1),
            ("CLE", &k1),
            ("NOM", "Petit"),
            ("PRENOM", "Julie"),
            ("DATENAISSANCE", "04/04/1990"),
        ])
    };
    let filler = |i: usize| {
        case(
            "filler",
            t.line(&[
                ("REFERENCE", &format!("F-{i}")),
                ("DATE_DEBUT", "01/01/2026"),
                ("DATE_FIN", "31/01/2026"),
                ("VALEUR", "0,001"),
            ]),
            "ACCEPTE",
            &[],
        )
    };
    let chunk = siseri_import::CHUNK_RECORDS;
    let mut cases: Vec<Case> = (1..=chunk - 4).map(filler).collect();
    cases.push(case(
        "unknown NIR",
        unknown("N-1"),
        "ACCEPTE",
        &["RATTACHEMENT_ABSENT"],
    ));
    cases.push(case(
        "category B, 5 mSv",
        martin_result("B-1", "5"),
        "ACCEPTE",
        &[],
    ));
    cases.push(filler(chunk - 1));
    cases.push(case(
        "last of chunk 1",
        t.line(&[("REFERENCE", "P-1")]),
        "ACCEPTE",
        &[],
    ));
    let corrected = t.line(&[
        ("REFERENCE", "P-1"),
        ("VALEUR", "0,5"),
        ("CODE_METROLOGIE", "C"),
    ]);
    cases.push(case(
        "first of chunk 2: its correction",
        corrected.clone(),
        "ACCEPTE",
        &[],
    ));
    cases.push(case("the correction again", corrected, "DOUBLON", &[]));
    cases.push(case(
        "the worker chunk 1 created",
        unknown("N-2"),
        "ACCEPTE",
        &["RATTACHEMENT_ABSENT"],
    ));
    cases.push(case(
        "category B, 1.5 mSv more",
        martin_result("B-2", "1,5"),
        "ACCEPTE",
        &["CLASSEMENT_A_REVOIR"],
    ));
    cases.extend((chunk + 5..=2 * chunk).map(filler));
    cases.push(case(
        "first of chunk 3: the original again",
        t.line(&[("REFERENCE", "P-1")]),
        "REJETE",
        &["REFERENCE_CONFLIT"],
    ));
    let lines: Vec<String> = cases.iter().map(|c| c.line.clone()).collect();
    for r in registries().await {
        let e = r.engine();
        let report = r
            .send(&r.lab, TransmissionFormat::Results, &t.file(&lines))
            .await;
        check_cases(&e, &report, &cases);

        let sender = Sender::Organisation(Siren::parse(LAB_SIREN).unwrap());
        let p1 = r
            .store()
            .result_by_reference(&sender, &Reference::parse("P-1").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(p1.versions.len(), 2, "[{e}]");
        assert_eq!(p1.current().unwrap().values.dose_usv, Some(500), "[{e}]");
        let sums = r.store().monthly_doses(&nir_value(DUPONT.0)).await.unwrap();
        let month = |label: &str| -> i64 {
            sums.iter()
                .filter(|(m, s, _, _)| m.label() == label && *s == Series::EExternal)
                .map(|(_, _, d, _)| d)
                .sum()
        };
        let fillers = 2 * chunk as i64 - 7;
        assert_eq!(
            (month("2026-01"), month("2026-03")),
            (fillers, 500),
            "[{e}]"
        );
        let created = r.store().worker(&nir_value(&n1)).await.unwrap();
        assert!(created.is_some(), "[{e}] the unknown NIR's worker");
        let n2 = r
            .store()
            .result_by_reference(&sender, &Reference::parse("N-2").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(n2.nir, nir_value(&n1), "[{e}]");
        r.verify_journal().await;
    }
}

/// A file sent again byte for byte by the same organisation in the same format is answered
/// with its first report, marked `deja_recu`, and stores nothing new (exchange.md §6): no
/// second copy of the file, no `DOUBLON` lines. Its answer is journaled as a read of that
/// report. A dry run of it is checked as usual, and a file that differs by one byte is a new
/// file.
#[tokio::test]
async fn a_file_sent_again_is_answered_with_its_first_report() {
    let body = RESULTS.file(&[
        RESULTS.line(&[]),
        RESULTS.line(&[("REFERENCE", "R-2"), ("VALEUR", "x")]),
    ]);
    for r in registries().await {
        let e = r.engine();
        let first = r.send(&r.lab, TransmissionFormat::Results, &body).await;
        assert!(!first.deja_recu, "[{e}]");
        assert_eq!((first.totals.accepted, first.totals.rejected), (1, 1));
        let before = r.counts().await;
        // Another account of the same body: the same organisation.
        let again = r.send(&r.lab2, TransmissionFormat::Results, &body).await;
        assert!(again.deja_recu, "[{e}] {again:?}");
        assert_eq!(again.transmission, first.transmission, "[{e}]");
        assert_eq!(again.totals, first.totals, "[{e}]");
        assert_eq!(again.lines, first.lines, "[{e}]");
        let after = r.counts().await;
        for ((table, b), (_, a)) in before.iter().zip(&after) {
            let added = i64::from(*table == "journal");
            assert_eq!(a - b, added, "[{e}] {table}");
        }
        let last = r.store().journal_page(after[12].1 - 1, 1).await.unwrap();
        assert_eq!(
            (
                last[0].event.action.as_str(),
                last[0].event.data_kind.as_str()
            ),
            ("LECTURE", "RAPPORT"),
            "[{e}]"
        );
        assert_eq!(last[0].event.actor, "labo.bis");
        // A dry run is checked as usual.
        let dry = r
            .try_send(
                &r.lab,
                TransmissionFormat::Results,
                body.as_bytes(),
                false,
                true,
            )
            .await
            .unwrap();
        assert!(!dry.deja_recu, "[{e}]");
        assert_eq!(dry.totals.duplicates, 1, "[{e}]");
        // One more byte: another file, read line by line.
        let changed = format!("{body}\n");
        let third = r.send(&r.lab, TransmissionFormat::Results, &changed).await;
        assert!(!third.deja_recu, "[{e}]");
        assert_ne!(third.transmission, first.transmission);
        assert_eq!(third.totals.duplicates, 1, "[{e}]");
        r.verify_journal().await;
    }
}

/// The same bytes sent by another organisation, or in another format, are not the same
/// transmission.
#[tokio::test]
async fn a_file_already_received_is_only_the_same_organisations() {
    let body = WORKERS.file(&[WORKERS.line(&[])]);
    for r in registries().await {
        let e = r.engine();
        let first = r
            .send(&r.employer, TransmissionFormat::Workers, &body)
            .await;
        assert!(!first.deja_recu);
        // The operator belongs to the same company (ACME): the same organisation, but
        // sending this file as operational dosimetry is another format.
        let other_format = r
            .send(&r.operator, TransmissionFormat::OperationalDosimetry, &body)
            .await;
        assert!(!other_format.deja_recu, "[{e}]");
        let again = r
            .send(&r.employer_lyon, TransmissionFormat::Workers, &body)
            .await;
        assert!(again.deja_recu, "[{e}]");
        assert_eq!(again.transmission, first.transmission);
    }
}

/// A dry run is not an identity oracle (issue 12): for a NIR the sender never had in its
/// scope, a dry run does not compare the identity (a wrong name and the right one get the
/// same answer), and a real send holds the line without naming the fields that differ — the
/// administrators' queue still names them. For a worker the sender has, both name them.
#[tokio::test]
async fn a_dry_run_does_not_tell_whether_a_stranger_s_identity_matches() {
    for r in registries().await {
        let e = r.engine();
        // An employer of BETA, which never had DUPONT (attached to ACME Lyon).
        let mut spec =
            siseri_domain::NewAccount::new("employeur.beta", siseri_domain::Role::Employeur);
        spec.siren = Some(siseri_domain::Siret::parse(BETA).unwrap().siren());
        let account = r
            .store()
            .add_account(
                &spec,
                None,
                &siseri_domain::journal::JournalEvent::new(
                    chrono::Utc::now(),
                    "test",
                    "ECRITURE",
                    "COMPTE",
                ),
            )
            .await
            .unwrap();
        let mut person = siseri_domain::access::Person::new(siseri_domain::Role::Employeur);
        person.siren.clone_from(&account.spec.siren);
        let beta = siseri_import::SenderInfo { account, person };
        let line = |nom: &str| {
            WORKERS.line(&[
                ("NIR", DUPONT.0),
                ("CLE", DUPONT.1),
                ("NOM", nom),
                ("PRENOM", "Marie"),
                ("DATENAISSANCE", "12/10/1995"),
                ("SIRET", BETA),
            ])
        };
        let wrong = WORKERS.file(&[line("Durand")]);
        let right = WORKERS.file(&[line("Dupont")]);
        let mut dry = Vec::new();
        for body in [&wrong, &right] {
            let report = r
                .try_send(
                    &beta,
                    TransmissionFormat::Workers,
                    body.as_bytes(),
                    false,
                    true,
                )
                .await
                .unwrap();
            dry.push((outcome(&report, 2), report.totals.clone()));
        }
        assert_eq!(dry[0], dry[1], "[{e}] the dry run tells the two apart");
        assert_eq!(dry[0].0, owned("ACCEPTE", &[]), "[{e}]");

        let real = r.send(&beta, TransmissionFormat::Workers, &wrong).await;
        assert_eq!(
            outcome(&real, 2),
            owned("EN_ATTENTE", &["IDENTITE_INCOHERENTE"]),
            "[{e}]"
        );
        let messages = real.lines[0].messages.join(" ");
        for field in ["NOM", "PRENOM", "DATENAISSANCE"] {
            assert!(!messages.contains(field), "[{e}] {messages}");
        }
        let held = queue::list(r.store(), true).await.unwrap();
        let mine = held
            .iter()
            .find(|h| Some(h.transmission) == real.transmission)
            .unwrap();
        assert_eq!(mine.conflits, vec!["NOM".to_owned()], "[{e}]");

        // ACME's employer has DUPONT: its dry run names the differing field.
        let own = WORKERS.file(&[WORKERS.line(&[
            ("NIR", DUPONT.0),
            ("CLE", DUPONT.1),
            ("NOM", "Durand"),
            ("PRENOM", "Marie"),
            ("DATENAISSANCE", "12/10/1995"),
        ])]);
        let report = r
            .try_send(
                &r.employer,
                TransmissionFormat::Workers,
                own.as_bytes(),
                false,
                true,
            )
            .await
            .unwrap();
        assert_eq!(
            outcome(&report, 2),
            owned("EN_ATTENTE", &["IDENTITE_INCOHERENTE"])
        );
        assert!(report.lines[0].messages.join(" ").contains("NOM"), "[{e}]");
        r.verify_journal().await;
    }
}

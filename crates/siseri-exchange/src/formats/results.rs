//! Format `resultats` (exchange.md §4): one result of individual monitoring, sent by an
//! accredited body.

use chrono::NaiveDate;
use siseri_domain::codes::{Nature, Position, Quantity, ResultStatus, Sex};
use siseri_domain::result::{PositionRule, Reference, ResultValues, period_within_months};
use siseri_domain::{Nir, Siret};

use super::{Checked, Keys, Line, read_error};
use crate::records::{Column, LineCode, Record, Requirement};

const REFERENCE: usize = 0;
const NIR: usize = 1;
const CLE: usize = 2;
const NOM: usize = 3;
const PRENOM: usize = 4;
const DATENAISSANCE: usize = 5;
const SEXE: usize = 6;
const SIRET: usize = 7;
const NATURE: usize = 8;
const GRANDEUR: usize = 9;
const POSITION: usize = 10;
const DATE_DEBUT: usize = 11;
const DATE_FIN: usize = 12;
const STATUT: usize = 13;
const VALEUR: usize = 14;
const SEUIL: usize = 15;
const CODE_METROLOGIE: usize = 16;

/// The columns of `resultats`, in the spec's order.
pub const COLUMNS: &[Column] = &[
    Column::new("REFERENCE", Requirement::Mandatory),
    Column::new("NIR", Requirement::Mandatory),
    Column::new("CLE", Requirement::Mandatory),
    Column::new("NOM", Requirement::Mandatory),
    Column::new("PRENOM", Requirement::Mandatory),
    Column::new("DATENAISSANCE", Requirement::Mandatory),
    Column::new("SEXE", Requirement::Mandatory),
    Column::new("SIRET", Requirement::Mandatory),
    Column::new("NATURE", Requirement::Mandatory),
    Column::new("GRANDEUR", Requirement::Mandatory),
    Column::new("POSITION", Requirement::Conditional),
    Column::new("DATE_DEBUT", Requirement::Mandatory),
    Column::new("DATE_FIN", Requirement::Mandatory),
    Column::new("STATUT", Requirement::Mandatory),
    Column::new("VALEUR", Requirement::Conditional),
    Column::new("SEUIL", Requirement::Optional),
    Column::new("CODE_METROLOGIE", Requirement::Optional),
];

/// A valid `resultats` line, before the registry's checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultLine {
    /// The sender's reference of the result.
    pub reference: Reference,
    /// The worker.
    pub nir: Nir,
    /// The NIR key as sent (checked).
    pub key: u8,
    /// Birth name as sent (trimmed); normalised only to compare.
    pub nom: String,
    /// First name as sent (trimmed).
    pub prenom: String,
    /// Date of birth.
    pub date_naissance: NaiveDate,
    /// Sex.
    pub sexe: Sex,
    /// Establishment the worker is monitored for.
    pub siret: Siret,
    /// Kind of monitoring.
    pub nature: Nature,
    /// Quantity.
    pub quantity: Quantity,
    /// Where the dosimeter was worn.
    pub position: Option<Position>,
    /// Period, status, dose and threshold.
    pub values: ResultValues,
    /// `CODE_METROLOGIE = C`: a new version of the result with the same reference.
    pub correction: bool,
}

/// The natures of this format: physicians' `ESTIMATION_MDT` is entered through their own
/// path, not sent by bodies, so it is outside this column's list.
fn parse_nature(v: &str) -> Option<Nature> {
    Nature::parse(v).filter(|n| n.is_accreditable())
}

/// `ANNULE` only arises from a correction written through the API, never from a file.
fn parse_status(v: &str) -> Option<ResultStatus> {
    ResultStatus::parse(v).filter(|s| *s != ResultStatus::Cancelled)
}

/// Runs every registry-free check of a `resultats` line (`today`: reception day, Paris).
pub fn check(record: &Record, today: NaiveDate) -> Checked<ResultLine> {
    if let Some(c) = read_error(record) {
        return c;
    }
    let mut l = Line::new(record, COLUMNS);

    let reference = l.required(REFERENCE).and_then(|v| {
        let r = Reference::parse(v).ok();
        if r.is_none() {
            l.push(
                REFERENCE,
                LineCode::ReferenceFormat,
                "1 à 64 caractères parmi lettres, chiffres, « . », « _ », « / » et « - »",
            );
        }
        r
    });
    let nir = l.nir(NIR);
    let key = l.nir_key(CLE, nir.as_ref());
    let nom = l.person_name(NOM, LineCode::NomFormat);
    let prenom = l.person_name(PRENOM, LineCode::PrenomFormat);
    let date_naissance = l.date(DATENAISSANCE);
    let sexe = l.sex(SEXE);
    l.identity_warnings(nir.as_ref(), (DATENAISSANCE, date_naissance), (SEXE, sexe));
    let siret = l.siret(SIRET);

    let nature = l.code(
        NATURE,
        parse_nature,
        "EXTERNE, INTERNE_VIVO, INTERNE_VITRO, RADON, COSMIQUE",
    );
    let quantity = l.code(
        GRANDEUR,
        Quantity::parse,
        "HP10, HP10_NEUTRON, HP007, HP3, HP007_EXTREMITE, E50, E",
    );
    if let (Some(n), Some(q)) = (nature, quantity)
        && !n.admits(q)
    {
        l.push(
            GRANDEUR,
            LineCode::NatureGrandeurIncoherente,
            format_args!("grandeur non admise pour la nature {n}"),
        );
    }
    let position = l.optional_code(
        POSITION,
        Position::parse,
        "OEIL_GAUCHE, OEIL_DROIT, MAIN_GAUCHE, MAIN_DROITE, POIGNET_GAUCHE, POIGNET_DROIT, \
         PIED_GAUCHE, PIED_DROIT ou vide",
    );
    if let (Some(q), Some(p)) = (quantity, position)
        && !q.admits(p)
    {
        let detail = match q.position_rule() {
            PositionRule::None => {
                format!("vide attendu pour la grandeur {q}")
            }
            PositionRule::OptionalEye => {
                format!("OEIL_GAUCHE, OEIL_DROIT ou vide attendu pour la grandeur {q}")
            }
            PositionRule::RequiredExtremity => format!(
                "main, poignet ou pied (MAIN_GAUCHE … PIED_DROIT) obligatoire pour la grandeur {q}"
            ),
        };
        l.push(POSITION, LineCode::PositionInvalide, detail);
    }

    let date_debut = l.date(DATE_DEBUT);
    let date_fin = l.date(DATE_FIN);
    if let (Some(start), Some(end)) = (date_debut, date_fin) {
        if end < start {
            l.push(
                DATE_FIN,
                LineCode::PeriodeInversee,
                "date postérieure ou égale à DATE_DEBUT attendue",
            );
        } else if let Some(months) = nature.and_then(Nature::longest_period_months)
            && !period_within_months(start, end, months)
        {
            l.push(
                DATE_FIN,
                LineCode::PeriodeTropLongue,
                format_args!("période de {months} mois au plus pour cette nature"),
            );
        }
    }
    l.not_future(DATE_FIN, date_fin, today);

    let statut = l.code(STATUT, parse_status, "MESURE, INF_SEUIL, ABSENCE");
    let dose_usv = check_value(&mut l, statut);
    let seuil_usv = match l.optional(SEUIL) {
        None => Some(None),
        Some(v) => l
            .dose(
                SEUIL,
                v,
                1,
                "nombre de mSv supérieur à 0 et au plus 100000 attendu",
            )
            .map(Some),
    };
    let correction = l.correction(CODE_METROLOGIE);

    let keys = Keys {
        nir: nir.clone().filter(|_| key.is_some()),
        nom: nom.clone(),
        prenom: prenom.clone(),
        date_naissance,
        siret: siret.clone(),
        nature,
        reference: reference.clone(),
        correction,
    };
    let value = (|| {
        let values = ResultValues {
            date_debut: date_debut?,
            date_fin: date_fin?,
            statut: statut?,
            dose_usv: dose_usv?,
            seuil_usv: seuil_usv?,
        };
        Some(ResultLine {
            reference: reference?,
            nir: nir?,
            key: key?,
            nom: nom?,
            prenom: prenom?,
            date_naissance: date_naissance?,
            sexe: sexe?,
            siret: siret?,
            nature: nature?,
            quantity: quantity?,
            position: position?,
            values,
            correction: correction?,
        })
    })();
    l.finish(value, keys)
}

/// VALEUR according to STATUT: mandatory with `MESURE`, empty or 0 with `INF_SEUIL`, empty
/// with `ABSENCE`. `Some(dose)` when acceptable. Without a valid STATUT only the value's own
/// form and bounds are checked.
fn check_value(l: &mut Line<'_>, statut: Option<ResultStatus>) -> Option<Option<i64>> {
    const BOUNDS: &str = "nombre de mSv entre 0 et 100000 attendu";
    let Some(v) = l.optional(VALEUR) else {
        if statut == Some(ResultStatus::Measured) {
            l.push(
                VALEUR,
                LineCode::ValeurManquante,
                "valeur obligatoire avec STATUT MESURE",
            );
            return None;
        }
        return Some(None);
    };
    if statut == Some(ResultStatus::Absent) {
        // The value itself is not examined: none may be given at all.
        l.push(
            VALEUR,
            LineCode::ValeurInattendue,
            "vide attendu avec STATUT ABSENCE",
        );
        return None;
    }
    let dose = l.dose(VALEUR, v, 0, BOUNDS)?;
    if statut == Some(ResultStatus::BelowThreshold) && dose != 0 {
        l.push(
            VALEUR,
            LineCode::ValeurInattendue,
            "vide ou 0 attendu avec STATUT INF_SEUIL",
        );
        return None;
    }
    Some(Some(dose))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::formats::test_support::{codes, one, quoted_line, read, today};
    use proptest::prelude::*;

    const HEADER: &str = "REFERENCE;NIR;CLE;NOM;PRENOM;DATENAISSANCE;SEXE;SIRET;NATURE;GRANDEUR;\
                          POSITION;DATE_DEBUT;DATE_FIN;STATUT;VALEUR;SEUIL;CODE_METROLOGIE";

    const VALID: [&str; 17] = [
        "OA-2025/001",
        "2951099126111",
        "93",
        "Dupont",
        "Marie",
        "12/10/1995",
        "F",
        "73282932000074",
        "EXTERNE",
        "HP10",
        "",
        "01/01/2025",
        "31/03/2025",
        "MESURE",
        "0,25",
        "0,05",
        "",
    ];

    /// The valid line with some fields replaced, checked.
    fn with(changes: &[(usize, &str)]) -> Checked<ResultLine> {
        let mut f = VALID;
        for (i, v) in changes {
            f[*i] = v;
        }
        check(&one(COLUMNS, HEADER, &f.join(";")), today())
    }

    fn codes_of(changes: &[(usize, &str)]) -> Vec<&'static str> {
        codes(&with(changes).messages)
    }

    #[test]
    fn valid_line_gives_the_typed_value() {
        let c = with(&[]);
        assert_eq!(c.line, 2);
        assert!(c.messages.is_empty(), "{:?}", c.messages);
        let v = c.value.unwrap();
        assert_eq!(v.reference.as_str(), "OA-2025/001");
        assert_eq!(v.nir.as_str(), "2951099126111");
        assert_eq!(v.key, 93);
        assert_eq!((v.nom.as_str(), v.prenom.as_str()), ("Dupont", "Marie"));
        assert_eq!(
            v.date_naissance,
            NaiveDate::from_ymd_opt(1995, 10, 12).unwrap()
        );
        assert_eq!(v.sexe, Sex::F);
        assert_eq!(v.siret.as_str(), "73282932000074");
        assert_eq!(
            (v.nature, v.quantity, v.position),
            (Nature::External, Quantity::Hp10, None)
        );
        assert_eq!(v.values.statut, ResultStatus::Measured);
        assert_eq!(v.values.dose_usv, Some(250));
        assert_eq!(v.values.seuil_usv, Some(50));
        assert_eq!(
            v.values.date_fin,
            NaiveDate::from_ymd_opt(2025, 3, 31).unwrap()
        );
        assert!(!v.correction);
    }

    #[test]
    fn closed_lists_ignore_case_and_keep_canonical_spelling() {
        let c = with(&[
            (SEXE, "f"),
            (NATURE, "externe"),
            (GRANDEUR, "hp3"),
            (POSITION, "oeil_droit"),
            (STATUT, "mesure"),
            (CODE_METROLOGIE, "c"),
        ]);
        let v = c.value.unwrap();
        assert_eq!(v.quantity, Quantity::Hp3);
        assert_eq!(v.position, Some(Position::RightEye));
        assert!(v.correction);
    }

    #[test]
    fn corsican_and_lower_case_nirs() {
        for (nir, key, canonical) in [
            ("253072a073004", "43", "253072A073004"),
            ("253072A073004", "43", "253072A073004"),
            ("253072b073004", "70", "253072B073004"),
        ] {
            let c = with(&[(NIR, nir), (CLE, key), (DATENAISSANCE, "01/07/1953")]);
            assert!(c.messages.is_empty(), "{nir}: {:?}", c.messages);
            assert_eq!(c.value.unwrap().nir.as_str(), canonical);
        }
        let c = with(&[
            (NIR, "1850578006084"),
            (CLE, "91"),
            (DATENAISSANCE, "03/05/1985"),
            (SEXE, "M"),
        ]);
        assert!(c.messages.is_empty(), "{:?}", c.messages);
        // The key of 2A is not the key of 2B: the letters matter.
        assert_eq!(
            codes_of(&[
                (NIR, "253072B073004"),
                (CLE, "43"),
                (DATENAISSANCE, "01/07/1953")
            ]),
            ["NIR_CLE"]
        );
    }

    #[test]
    fn nir_key_errors_and_skips() {
        let c = with(&[(CLE, "94")]);
        assert_eq!(codes(&c.messages), ["NIR_CLE"]);
        assert_eq!(c.messages[0].message, "CLE : la clé du NIR devrait être 93");
        assert_eq!(c.messages[0].field, Some("CLE"));
        assert!(c.value.is_none());
        assert_eq!(codes_of(&[(CLE, "9a")]), ["NIR_CLE"]);
        assert_eq!(codes_of(&[(CLE, "093")]), ["NIR_CLE"]);
        // No key check, and no identity warning, after a NIR format error.
        let c = with(&[(NIR, "595109912611"), (CLE, "00"), (SEXE, "M")]);
        assert_eq!(codes(&c.messages), ["NIR_FORMAT"]);
        assert_eq!(c.messages[0].field, Some("NIR"));
        assert_eq!(codes_of(&[(NIR, "2951099126111X")]), ["NIR_FORMAT"]);
        assert_eq!(
            codes_of(&[(NIR, "2951099126111"), (CLE, "")]),
            ["CHAMP_OBLIGATOIRE"]
        );
    }

    #[test]
    fn mandatory_fields() {
        for col in [
            REFERENCE,
            NIR,
            CLE,
            NOM,
            PRENOM,
            DATENAISSANCE,
            SEXE,
            SIRET,
            NATURE,
            GRANDEUR,
            DATE_DEBUT,
            DATE_FIN,
            STATUT,
        ] {
            let c = with(&[(col, "  ")]);
            assert_eq!(
                codes(&c.messages),
                ["CHAMP_OBLIGATOIRE"],
                "{}",
                COLUMNS[col].name
            );
            assert_eq!(c.messages[0].field, Some(COLUMNS[col].name));
        }
    }

    #[test]
    fn names() {
        // Up to 100 characters, the SISERI 2 template's limit (exchange.md §2).
        let long = "A".repeat(101);
        assert_eq!(codes_of(&[(NOM, &long)]), ["TEXTE_TROP_LONG"]);
        assert!(with(&[(NOM, &"A".repeat(100))]).value.is_some());
        assert!(with(&[(PRENOM, &"É".repeat(100))]).value.is_some());
        assert_eq!(codes_of(&[(NOM, "Dup0nt")]), ["NOM_FORMAT"]);
        assert_eq!(codes_of(&[(PRENOM, "Marie!")]), ["PRENOM_FORMAT"]);
        assert_eq!(codes_of(&[(PRENOM, &long)]), ["TEXTE_TROP_LONG"]);
        assert!(
            with(&[(NOM, "d’Aboville-Saint Jean"), (PRENOM, "Zoë")])
                .value
                .is_some()
        );
    }

    #[test]
    fn dates_sex_siret_reference() {
        assert_eq!(codes_of(&[(DATENAISSANCE, "1995-10-12")]), ["DATE_FORMAT"]);
        assert_eq!(codes_of(&[(DATE_DEBUT, "30/02/2025")]), ["DATE_FORMAT"]);
        assert_eq!(codes_of(&[(SEXE, "X")]), ["SEXE_INVALIDE"]);
        assert_eq!(codes_of(&[(SIRET, "7328293200007")]), ["SIRET_FORMAT"]);
        assert_eq!(codes_of(&[(SIRET, "73282932000079")]), ["SIRET_CLE"]);
        assert_eq!(codes_of(&[(REFERENCE, "ref 1")]), ["REFERENCE_FORMAT"]);
        assert_eq!(
            codes_of(&[(REFERENCE, &"r".repeat(65))]),
            ["REFERENCE_FORMAT"]
        );
    }

    #[test]
    fn closed_list_codes() {
        assert_eq!(codes_of(&[(NATURE, "EXTERN")]), ["CODE_INCONNU"]);
        assert_eq!(codes_of(&[(NATURE, "ESTIMATION_MDT")]), ["CODE_INCONNU"]);
        assert_eq!(codes_of(&[(GRANDEUR, "HP11")]), ["CODE_INCONNU"]);
        assert_eq!(codes_of(&[(POSITION, "GENOU")]), ["CODE_INCONNU"]);
        assert_eq!(codes_of(&[(STATUT, "ANNULE")]), ["CODE_INCONNU"]);
        assert_eq!(codes_of(&[(CODE_METROLOGIE, "X")]), ["CODE_INCONNU"]);
        let c = with(&[(NATURE, "EXTERN")]);
        assert!(
            c.messages[0]
                .message
                .starts_with("NATURE : valeurs admises : EXTERNE")
        );
    }

    #[test]
    fn nature_quantity_position_table() {
        assert_eq!(
            codes_of(&[(GRANDEUR, "E")]),
            ["NATURE_GRANDEUR_INCOHERENTE"]
        );
        assert_eq!(
            codes_of(&[(NATURE, "RADON"), (GRANDEUR, "HP10")]),
            ["NATURE_GRANDEUR_INCOHERENTE"]
        );
        assert_eq!(
            codes_of(&[(NATURE, "INTERNE_VITRO"), (GRANDEUR, "E")]),
            ["NATURE_GRANDEUR_INCOHERENTE"]
        );
        assert!(with(&[(NATURE, "RADON"), (GRANDEUR, "E")]).value.is_some());
        assert!(
            with(&[(NATURE, "INTERNE_VIVO"), (GRANDEUR, "E50")])
                .value
                .is_some()
        );
        assert_eq!(
            codes_of(&[(POSITION, "OEIL_GAUCHE")]),
            ["POSITION_INVALIDE"]
        );
        assert_eq!(
            codes_of(&[(GRANDEUR, "HP007_EXTREMITE")]),
            ["POSITION_INVALIDE"]
        );
        assert_eq!(
            codes_of(&[(GRANDEUR, "HP3"), (POSITION, "MAIN_GAUCHE")]),
            ["POSITION_INVALIDE"]
        );
        assert_eq!(
            codes_of(&[(GRANDEUR, "HP007_EXTREMITE"), (POSITION, "OEIL_DROIT")]),
            ["POSITION_INVALIDE"]
        );
        assert!(with(&[(GRANDEUR, "HP3")]).value.is_some());
        let v = with(&[(GRANDEUR, "HP007_EXTREMITE"), (POSITION, "PIED_DROIT")])
            .value
            .unwrap();
        assert_eq!(v.position, Some(Position::RightFoot));
    }

    #[test]
    fn periods_of_the_spec() {
        let period = |nature, quantity, start, end| {
            codes_of(&[
                (NATURE, nature),
                (GRANDEUR, quantity),
                (DATE_DEBUT, start),
                (DATE_FIN, end),
            ])
        };
        assert!(period("EXTERNE", "HP10", "01/01/2025", "31/03/2025").is_empty());
        assert!(period("EXTERNE", "HP10", "31/01/2025", "30/04/2025").is_empty());
        assert_eq!(
            period("EXTERNE", "HP10", "01/01/2025", "01/04/2025"),
            ["PERIODE_TROP_LONGUE"]
        );
        assert_eq!(
            period("RADON", "E", "01/01/2025", "01/04/2025"),
            ["PERIODE_TROP_LONGUE"]
        );
        assert!(period("COSMIQUE", "E", "01/01/2025", "31/01/2025").is_empty());
        assert_eq!(
            period("COSMIQUE", "E", "01/01/2025", "01/02/2025"),
            ["PERIODE_TROP_LONGUE"]
        );
        assert!(period("INTERNE_VIVO", "E50", "01/01/2015", "15/06/2025").is_empty());
        assert!(period("INTERNE_VITRO", "E50", "01/01/2015", "15/06/2025").is_empty());
        assert!(period("EXTERNE", "HP10", "15/06/2025", "15/06/2025").is_empty());
        assert_eq!(
            period("EXTERNE", "HP10", "02/03/2025", "01/03/2025"),
            ["PERIODE_INVERSEE"]
        );
        // Without a valid nature the length cannot be judged; the inversion still can.
        assert_eq!(
            period("X", "HP10", "01/01/2020", "01/04/2025"),
            ["CODE_INCONNU"]
        );
    }

    #[test]
    fn end_in_the_future() {
        assert_eq!(
            codes_of(&[(DATE_DEBUT, "01/06/2025"), (DATE_FIN, "16/06/2025")]),
            ["DATE_FUTURE"]
        );
        assert!(
            with(&[(DATE_DEBUT, "01/06/2025"), (DATE_FIN, "15/06/2025")])
                .value
                .is_some()
        );
        // Inverted and future: both, in the code list's order.
        assert_eq!(
            codes_of(&[(DATE_DEBUT, "30/06/2025"), (DATE_FIN, "20/06/2025")]),
            ["PERIODE_INVERSEE", "DATE_FUTURE"]
        );
    }

    #[test]
    fn values_by_status() {
        assert_eq!(codes_of(&[(VALEUR, "")]), ["VALEUR_MANQUANTE"]);
        assert_eq!(codes_of(&[(VALEUR, "abc")]), ["VALEUR_FORMAT"]);
        assert_eq!(codes_of(&[(VALEUR, "-1")]), ["VALEUR_FORMAT"]);
        assert_eq!(codes_of(&[(VALEUR, "1e3")]), ["VALEUR_FORMAT"]);
        assert_eq!(codes_of(&[(VALEUR, "100001")]), ["VALEUR_HORS_BORNES"]);
        assert_eq!(
            codes_of(&[(VALEUR, &"9".repeat(40))]),
            ["VALEUR_HORS_BORNES"]
        );
        // Bounds after rounding: 100000.0004 rounds down into the bounds, .0005 up out of them.
        let c = with(&[(VALEUR, "100000,0004")]);
        assert_eq!(codes(&c.messages), ["VALEUR_ARRONDIE"]);
        assert_eq!(c.value.unwrap().values.dose_usv, Some(100_000_000));
        assert_eq!(
            codes_of(&[(VALEUR, "100000.0005")]),
            ["VALEUR_HORS_BORNES", "VALEUR_ARRONDIE"]
        );
        let c = with(&[(VALEUR, "0,2505")]);
        assert_eq!(codes(&c.messages), ["VALEUR_ARRONDIE"]);
        assert_eq!(c.value.unwrap().values.dose_usv, Some(251));
        assert!(with(&[(VALEUR, "0")]).value.is_some());

        let below = |v| with(&[(STATUT, "INF_SEUIL"), (VALEUR, v)]);
        assert_eq!(below("").value.unwrap().values.dose_usv, None);
        assert_eq!(below("0").value.unwrap().values.dose_usv, Some(0));
        assert_eq!(below("0,000").value.unwrap().values.dose_usv, Some(0));
        assert_eq!(codes(&below("0,05").messages), ["VALEUR_INATTENDUE"]);
        assert_eq!(codes(&below("x").messages), ["VALEUR_FORMAT"]);

        let absent = |v| with(&[(STATUT, "ABSENCE"), (VALEUR, v)]);
        let v = absent("").value.unwrap();
        assert_eq!(
            (v.values.statut, v.values.dose_usv),
            (ResultStatus::Absent, None)
        );
        assert_eq!(codes(&absent("0").messages), ["VALEUR_INATTENDUE"]);
        assert_eq!(codes(&absent("1,5").messages), ["VALEUR_INATTENDUE"]);

        // With an unknown status the value's own form is still checked.
        assert_eq!(
            codes_of(&[(STATUT, "?"), (VALEUR, "x")]),
            ["CODE_INCONNU", "VALEUR_FORMAT"]
        );
    }

    #[test]
    fn threshold() {
        assert!(
            with(&[(SEUIL, "")])
                .value
                .unwrap()
                .values
                .seuil_usv
                .is_none()
        );
        assert_eq!(codes_of(&[(SEUIL, "0")]), ["VALEUR_HORS_BORNES"]);
        assert_eq!(
            codes_of(&[(SEUIL, "0,0004")]),
            ["VALEUR_HORS_BORNES", "VALEUR_ARRONDIE"]
        );
        assert_eq!(codes_of(&[(SEUIL, "0,1x")]), ["VALEUR_FORMAT"]);
    }

    #[test]
    fn identity_warnings_keep_the_value() {
        let c = with(&[(SEXE, "M"), (DATENAISSANCE, "12/10/1996")]);
        assert_eq!(
            codes(&c.messages),
            ["NIR_NAISSANCE_INCOHERENTE", "NIR_SEXE_INCOHERENT"]
        );
        assert!(!c.has_errors());
        assert_eq!(c.reported().len(), 2);
        assert!(c.value.is_some());
        // A rejected line does not list its warnings.
        let c = with(&[(SEXE, "M"), (VALEUR, "x,5")]);
        assert_eq!(codes(&c.messages), ["NIR_SEXE_INCOHERENT", "VALEUR_FORMAT"]);
        let reported: Vec<_> = c.reported().iter().map(|m| m.code.code()).collect();
        assert_eq!(reported, ["VALEUR_FORMAT"]);
        assert!(c.value.is_none());
        // A temporary number (NIA) follows the same digit rule: 7 is a man.
        let c = with(&[(NIR, "7951099126111"), (CLE, "x")]);
        assert_eq!(codes(&c.messages), ["NIR_CLE", "NIR_SEXE_INCOHERENT"]);
    }

    #[test]
    fn several_codes_in_column_then_code_order() {
        let c = with(&[
            (REFERENCE, "a b"),
            (NIR, "2951099126111"),
            (CLE, "12"),
            (NOM, "Dup0nt"),
            (SEXE, "M"),
            (SIRET, "73282932000079"),
            (GRANDEUR, "E50"),
            (POSITION, "MAIN_GAUCHE"),
            (DATE_DEBUT, "01/05/2025"),
            (DATE_FIN, "01/04/2025"),
            (VALEUR, "abc"),
            (CODE_METROLOGIE, "D"),
        ]);
        assert_eq!(
            codes(&c.messages),
            [
                "REFERENCE_FORMAT",
                "NIR_CLE",
                "NOM_FORMAT",
                "NIR_SEXE_INCOHERENT",
                "SIRET_CLE",
                "NATURE_GRANDEUR_INCOHERENTE",
                "POSITION_INVALIDE",
                "PERIODE_INVERSEE",
                "VALEUR_FORMAT",
                "CODE_INCONNU",
            ]
        );
        assert!(c.value.is_none());
        let fields: Vec<_> = c.messages.iter().map(|m| m.field.unwrap()).collect();
        assert_eq!(fields[0], "REFERENCE");
        assert_eq!(fields[9], "CODE_METROLOGIE");
        // Messages name the field and the expected form, never the value sent.
        for m in &c.messages {
            assert!(m.message.starts_with(m.field.unwrap()), "{}", m.message);
            for sent in ["a b", "Dup0nt", "73282932000079", "abc"] {
                assert!(!m.message.contains(sent), "{}", m.message);
            }
        }
    }

    #[test]
    fn header_order_is_free_codes_follow_the_format_order() {
        let header = "valeur;statut;nir;cle;nom;prenom;datenaissance;sexe;siret;nature;grandeur;\
                      position;date_debut;date_fin;reference";
        let line = "x;MESURE;2951099126111;94;Dupont;Marie;12/10/1995;F;73282932000074;EXTERNE;\
                    HP10;;01/01/2025;31/03/2025;R1";
        let c = check(&one(COLUMNS, header, line), today());
        assert_eq!(codes(&c.messages), ["NIR_CLE", "VALEUR_FORMAT"]);
        let ok = "1;MESURE;2951099126111;93;Dupont;Marie;12/10/1995;F;73282932000074;EXTERNE;\
                  HP10;;01/01/2025;31/03/2025;R1";
        let v = check(&one(COLUMNS, header, ok), today()).value.unwrap();
        assert_eq!(
            (v.values.dose_usv, v.values.seuil_usv, v.correction),
            (Some(1000), None, false)
        );
    }

    #[test]
    fn wrong_field_count_is_nb_colonnes_alone() {
        let records = read(COLUMNS, HEADER, &["R1;2951099126111;99", &VALID.join(";")]);
        let c = check(&records[0], today());
        assert_eq!(codes(&c.messages), ["NB_COLONNES"]);
        assert!(c.value.is_none());
        let c = check(&records[1], today());
        assert_eq!(c.line, 3);
        assert!(c.value.is_some());
    }

    proptest! {
        #[test]
        fn check_never_panics(fields in proptest::collection::vec(
            prop_oneof![".{0,20}", "[0-9,./ A-Za-z_-]{0,16}", Just(String::new())], 17)) {
            let text = format!("{HEADER}\n{}\n", quoted_line(&fields));
            if let Ok(reader) = crate::records::CsvRecords::new(text.as_bytes(), COLUMNS) {
                for record in reader.flatten() {
                    let c = check(&record, today());
                    prop_assert_eq!(c.value.is_some(), !c.has_errors());
                }
            }
        }

        #[test]
        fn check_never_panics_near_valid(i in 0usize..17, v in ".{0,70}") {
            let mut f: Vec<String> = VALID.iter().map(|s| s.to_string()).collect();
            f[i] = v;
            let text = format!("{HEADER}\n{}\n", quoted_line(&f));
            let record = crate::records::CsvRecords::new(text.as_bytes(), COLUMNS)
                .unwrap().next().unwrap().unwrap();
            let c = check(&record, today());
            prop_assert_eq!(c.value.is_some(), !c.has_errors());
        }
    }
}

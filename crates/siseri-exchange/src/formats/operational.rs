//! Format `dosimetrie-operationnelle` (exchange.md §3): one operational-dosimeter reading
//! (an entry into a controlled area), sent for an INB.

use chrono::{Duration, NaiveDate};
use siseri_domain::codes::{DosimeterType, OperationalQuantity};
use siseri_domain::result::{ReadingKey, ReadingValues};

use super::{Checked, Keys, Line, read_error};
use crate::records::{Column, LineCode, Record, Requirement};

const NIR: usize = 0;
const SIRET: usize = 1;
const LIEU: usize = 2;
const ZONE: usize = 3;
const TYPE_MESURE: usize = 4;
const TYPE_DOSIMETRE: usize = 5;
const DATE_DEBUT_PORT: usize = 6;
const DATE_FIN_PORT: usize = 7;
const VALEUR: usize = 8;
const ACTIVITE: usize = 9;
const CODE_METROLOGIE: usize = 10;

/// The longest wear: 31 × 24 h.
const MAX_WEAR_DAYS: i64 = 31;

/// The columns of `dosimetrie-operationnelle`, in the SISERI 2 template's order.
pub const COLUMNS: &[Column] = &[
    Column::new("NIR", Requirement::Mandatory),
    Column::new("SIRET", Requirement::Mandatory),
    Column::new("LIEU", Requirement::Mandatory),
    Column::new("ZONE", Requirement::Mandatory),
    Column::new("TYPE_MESURE", Requirement::Mandatory),
    Column::new("TYPE_DOSIMETRE", Requirement::Mandatory),
    Column::new("DATE_DEBUT_PORT", Requirement::Mandatory),
    Column::new("DATE_FIN_PORT", Requirement::Mandatory),
    Column::new("VALEUR", Requirement::Mandatory),
    Column::new("ACTIVITE", Requirement::Mandatory),
    Column::new("CODE_METROLOGIE", Requirement::Optional),
];

/// A valid `dosimetrie-operationnelle` line, before the registry's checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationalLine {
    /// The reading's identity (NIR, SIRET, TYPE_MESURE, start, end).
    pub key: ReadingKey,
    /// Place, zone, device, dose and activity.
    pub values: ReadingValues,
    /// `CODE_METROLOGIE = C`: replaces the earlier reading with the same key.
    pub correction: bool,
}

/// Runs every registry-free check of an operational-dosimetry line (`today`: reception day,
/// Paris). The template has no key nor identity, so there is no `NIR_CLE` and no §5 warning.
pub fn check(record: &Record, today: NaiveDate) -> Checked<OperationalLine> {
    if let Some(c) = read_error(record) {
        return c;
    }
    let mut l = Line::new(record, COLUMNS);

    let nir = l.nir(NIR);
    let siret = l.siret(SIRET);
    let lieu = l.required(LIEU).and_then(|v| l.text(LIEU, v, 100));
    let zone = l.required(ZONE).and_then(|v| l.text(ZONE, v, 50));
    let type_mesure = l.code(
        TYPE_MESURE,
        OperationalQuantity::parse,
        "OPE-HP10-PHO, OPE-HP10-NEURAP, OPE-HP007",
    );
    let type_dosimetre = l.code(
        TYPE_DOSIMETRE,
        DosimeterType::parse,
        "DOSICARD, EPD, EPD MK3, EPD N2, Saphydose Gamma I, DMC 2000 GN, DMC 3000, DMC, \
         DMC 2000, DMC 2000 S, DMC 2000 X, DMC 2000 XB, DMX 100, DMX 90",
    );
    let debut = l.datetime(DATE_DEBUT_PORT);
    let fin = l.datetime(DATE_FIN_PORT);
    if let (Some(start), Some(end)) = (debut, fin) {
        if end <= start {
            l.push(
                DATE_FIN_PORT,
                LineCode::PeriodeInversee,
                "date et heure strictement postérieures à DATE_DEBUT_PORT attendues",
            );
        } else if end - start > Duration::days(MAX_WEAR_DAYS) {
            l.push(
                DATE_FIN_PORT,
                LineCode::PeriodeTropLongue,
                "port de 31 × 24 heures au plus",
            );
        }
    }
    // Only the day is known of "now" here: a wear ending later today is accepted.
    l.not_future(DATE_FIN_PORT, fin.map(|f| f.date()), today);
    let dose = l
        .required(VALEUR)
        .and_then(|v| l.dose(VALEUR, v, 0, "nombre de mSv entre 0 et 100000 attendu"));
    let activite = l.required(ACTIVITE).and_then(|v| l.text(ACTIVITE, v, 100));
    let correction = l.correction(CODE_METROLOGIE);

    let keys = Keys {
        nir: nir.clone(),
        siret: siret.clone(),
        correction,
        ..Keys::default()
    };
    let value = (|| {
        Some(OperationalLine {
            key: ReadingKey {
                nir: nir?,
                siret: siret?,
                type_mesure: type_mesure?,
                debut_port: debut?,
                fin_port: fin?,
            },
            values: ReadingValues {
                lieu: lieu?,
                zone: zone?,
                type_dosimetre: type_dosimetre?,
                dose_usv: dose?,
                activite: activite?,
            },
            correction: correction?,
        })
    })();
    l.finish(value, keys)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::formats::test_support::{codes, one, quoted_line, today};
    use proptest::prelude::*;

    const HEADER: &str = "NIR;SIRET;LIEU;ZONE;TYPE_MESURE;TYPE_DOSIMETRE;DATE_DEBUT_PORT;\
                          DATE_FIN_PORT;VALEUR;ACTIVITE;CODE_METROLOGIE";

    const VALID: [&str; 11] = [
        "2951099126111",
        "73282932000074",
        "Bâtiment réacteur 2",
        "Zone orange",
        "OPE-HP10-PHO",
        "EPD MK3",
        "02/06/2025 08:00",
        "02/06/2025 12:30",
        "0,012",
        "Maintenance robinetterie",
        "",
    ];

    fn with(changes: &[(usize, &str)]) -> Checked<OperationalLine> {
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
        assert!(c.messages.is_empty(), "{:?}", c.messages);
        let v = c.value.unwrap();
        assert_eq!(v.key.nir.as_str(), "2951099126111");
        assert_eq!(v.key.siret.as_str(), "73282932000074");
        assert_eq!(v.key.type_mesure, OperationalQuantity::Hp10Photon);
        assert_eq!(v.key.debut_port.to_string(), "2025-06-02 08:00:00");
        assert_eq!(v.key.fin_port.to_string(), "2025-06-02 12:30:00");
        assert_eq!(v.values.lieu, "Bâtiment réacteur 2");
        assert_eq!(v.values.zone, "Zone orange");
        assert_eq!(v.values.type_dosimetre, DosimeterType::EpdMk3);
        assert_eq!(v.values.dose_usv, 12);
        assert_eq!(v.values.activite, "Maintenance robinetterie");
        assert!(!v.correction);
    }

    #[test]
    fn canonical_spellings() {
        let c = with(&[
            (NIR, "253072a073004"),
            (TYPE_MESURE, "ope-hp007"),
            (TYPE_DOSIMETRE, "saphydose gamma i"),
            (CODE_METROLOGIE, "c"),
        ]);
        let v = c.value.unwrap();
        assert_eq!(v.key.nir.as_str(), "253072A073004");
        assert_eq!(v.key.type_mesure, OperationalQuantity::Hp007);
        assert_eq!(v.values.type_dosimetre.code(), "Saphydose Gamma I");
        assert!(v.correction);
    }

    #[test]
    fn field_codes() {
        for (col, c) in COLUMNS.iter().enumerate().take(ACTIVITE + 1) {
            assert_eq!(codes_of(&[(col, "")]), ["CHAMP_OBLIGATOIRE"], "{}", c.name);
        }
        assert_eq!(codes_of(&[(NIR, "2951099126111 93")]), ["NIR_FORMAT"]);
        assert_eq!(codes_of(&[(NIR, "5951099126111")]), ["NIR_FORMAT"]);
        assert_eq!(codes_of(&[(SIRET, "732829320")]), ["SIRET_FORMAT"]);
        assert_eq!(codes_of(&[(SIRET, "73282932000079")]), ["SIRET_CLE"]);
        assert_eq!(codes_of(&[(LIEU, &"L".repeat(101))]), ["TEXTE_TROP_LONG"]);
        assert_eq!(codes_of(&[(LIEU, "Salle\u{0}1")]), ["VALEUR_FORMAT"]);
        assert!(with(&[(LIEU, &"é".repeat(100))]).value.is_some());
        assert_eq!(codes_of(&[(ZONE, &"Z".repeat(51))]), ["TEXTE_TROP_LONG"]);
        assert_eq!(
            codes_of(&[(ACTIVITE, &"A".repeat(101))]),
            ["TEXTE_TROP_LONG"]
        );
        assert_eq!(codes_of(&[(TYPE_MESURE, "HP10")]), ["CODE_INCONNU"]);
        assert_eq!(codes_of(&[(TYPE_DOSIMETRE, "EPD MK4")]), ["CODE_INCONNU"]);
        assert_eq!(codes_of(&[(CODE_METROLOGIE, "CC")]), ["CODE_INCONNU"]);
        assert_eq!(
            codes_of(&[(DATE_DEBUT_PORT, "02/06/2025")]),
            ["DATE_FORMAT"]
        );
        assert_eq!(
            codes_of(&[(DATE_FIN_PORT, "02/06/2025 24:00")]),
            ["DATE_FORMAT"]
        );
    }

    #[test]
    fn wear_period() {
        let wear = |start, end| codes_of(&[(DATE_DEBUT_PORT, start), (DATE_FIN_PORT, end)]);
        assert_eq!(
            wear("02/06/2025 08:00", "02/06/2025 08:00"),
            ["PERIODE_INVERSEE"]
        );
        assert_eq!(
            wear("02/06/2025 08:00", "02/06/2025 07:59"),
            ["PERIODE_INVERSEE"]
        );
        assert!(wear("01/05/2025 08:00", "01/06/2025 08:00").is_empty());
        assert_eq!(
            wear("01/05/2025 08:00", "01/06/2025 08:01"),
            ["PERIODE_TROP_LONGUE"]
        );
        assert!(wear("15/06/2025 08:00", "15/06/2025 23:59").is_empty());
        assert_eq!(
            wear("15/06/2025 08:00", "16/06/2025 00:00"),
            ["DATE_FUTURE"]
        );
        assert_eq!(
            wear("20/06/2025 08:00", "16/06/2025 00:00"),
            ["PERIODE_INVERSEE", "DATE_FUTURE"]
        );
    }

    #[test]
    fn dose_values() {
        assert_eq!(codes_of(&[(VALEUR, "1,5 mSv")]), ["VALEUR_FORMAT"]);
        assert_eq!(codes_of(&[(VALEUR, "100000,1")]), ["VALEUR_HORS_BORNES"]);
        let c = with(&[(VALEUR, "0,0125")]);
        assert_eq!(codes(&c.messages), ["VALEUR_ARRONDIE"]);
        assert_eq!(c.value.unwrap().values.dose_usv, 13);
        assert_eq!(with(&[(VALEUR, "0")]).value.unwrap().values.dose_usv, 0);
    }

    #[test]
    fn several_codes_in_column_then_code_order() {
        let c = with(&[
            (NIR, "2951099126111"),
            (SIRET, "73282932000079"),
            (ZONE, ""),
            (TYPE_DOSIMETRE, "X"),
            (DATE_FIN_PORT, "01/01/2025 00:00"),
            (VALEUR, "1,00001"),
            (CODE_METROLOGIE, "D"),
        ]);
        assert_eq!(
            codes(&c.messages),
            [
                "SIRET_CLE",
                "CHAMP_OBLIGATOIRE",
                "CODE_INCONNU",
                "PERIODE_INVERSEE",
                "VALEUR_ARRONDIE",
                "CODE_INCONNU",
            ]
        );
        // The warning is kept in `messages`, but a rejected line does not report it.
        assert!(
            c.reported()
                .iter()
                .all(|m| m.code != LineCode::ValeurArrondie)
        );
        assert!(c.value.is_none());
    }

    #[test]
    fn wrong_field_count_is_nb_colonnes_alone() {
        let c = check(&one(COLUMNS, HEADER, "a;b;c;d;e;f;g;h;i;j;k;l;m"), today());
        assert_eq!(codes(&c.messages), ["NB_COLONNES"]);
    }

    proptest! {
        #[test]
        fn check_never_panics(fields in proptest::collection::vec(
            prop_oneof![".{0,20}", "[0-9,./: A-Za-z_-]{0,17}", Just(String::new())], 11)) {
            let text = format!("{HEADER}\n{}\n", quoted_line(&fields));
            if let Ok(reader) = crate::records::CsvRecords::new(text.as_bytes(), COLUMNS) {
                for record in reader.flatten() {
                    let c = check(&record, today());
                    prop_assert_eq!(c.value.is_some(), !c.has_errors());
                }
            }
        }

        #[test]
        fn check_never_panics_near_valid(i in 0usize..11, v in ".{0,120}") {
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

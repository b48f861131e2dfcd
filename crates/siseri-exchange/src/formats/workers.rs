//! Format `travailleurs` (exchange.md §2): one line declares or updates one exposed worker's
//! attachment to one establishment of the sender's company.

use chrono::NaiveDate;
use siseri_domain::Nomenclature;
use siseri_domain::Siret;
use siseri_domain::codes::{
    ActivityCharacter, Classification, ContractType, Nuisance, OtherExposure,
};
use siseri_domain::nomenclature::NomenclatureError;
use siseri_domain::worker::{AttachmentTerms, NewWorker};

use super::{Checked, Keys, Line, read_error};
use crate::records::{Column, LineCode, Record, Requirement};

const NIR: usize = 0;
const CLE: usize = 1;
const NOM: usize = 2;
const PRENOM: usize = 3;
const DATENAISSANCE: usize = 4;
const SEXE: usize = 5;
const SIRET: usize = 6;
const GROUPE: usize = 7;
const CLASSEMENT: usize = 8;
const AUTREEXPOSITION: usize = 9;
const CARACTERE: usize = 10;
const DOMAINE: usize = 11;
const SECTEUR: usize = 12;
const NUISANCE: usize = 13;
const CONTRAT: usize = 14;
const METIER: usize = 15;
const QUOTITE: usize = 16;
const DATEDEBUT: usize = 17;
const DATEFIN: usize = 18;

/// The columns of `travailleurs`, in the SISERI 2 template's order and spellings.
pub const COLUMNS: &[Column] = &[
    Column::new("NIR", Requirement::Mandatory),
    Column::new("CLE", Requirement::Mandatory),
    Column::new("NOM", Requirement::Mandatory),
    Column::new("PRENOM", Requirement::Mandatory),
    Column::new("DATENAISSANCE", Requirement::Mandatory),
    Column::new("SEXE", Requirement::Mandatory),
    Column::new("SIRET", Requirement::Mandatory),
    Column::new("GROUPE", Requirement::Optional),
    Column::new("CLASSEMENT", Requirement::Conditional),
    Column::new("AUTREEXPOSITION", Requirement::Conditional),
    Column::new("caractereActivite", Requirement::Mandatory),
    Column::new("codeDomaineActivite", Requirement::Mandatory),
    Column::new("codeSecteurActivite", Requirement::Mandatory),
    Column::new("codeNuisanceRadiologique", Requirement::Mandatory),
    Column::new("codeTypeContrat", Requirement::Mandatory),
    Column::new("CodeMetier", Requirement::Mandatory),
    Column::new("QUOTITE", Requirement::Mandatory),
    Column::new("DATEDEBUT", Requirement::Mandatory),
    Column::new("DATEFIN", Requirement::Optional),
];

/// A valid `travailleurs` line, before the registry's checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerLine {
    /// The worker's identity as sent (names trimmed, not normalised).
    pub worker: NewWorker,
    /// The NIR key as sent (checked).
    pub key: u8,
    /// The establishment of attachment.
    pub siret: Siret,
    /// The attachment's terms (job code in its canonical spelling).
    pub terms: AttachmentTerms,
}

/// Runs every registry-free check of a `travailleurs` line (`today`: reception day, Paris).
pub fn check(record: &Record, today: NaiveDate) -> Checked<WorkerLine> {
    if let Some(c) = read_error(record) {
        return c;
    }
    let mut l = Line::new(record, COLUMNS);

    let nir = l.nir(NIR);
    let key = l.nir_key(CLE, nir.as_ref());
    let nom = l.person_name(NOM, LineCode::NomFormat);
    let prenom = l.person_name(PRENOM, LineCode::PrenomFormat);
    let date_naissance = l.date(DATENAISSANCE);
    l.not_future(DATENAISSANCE, date_naissance, today);
    let sexe = l.sex(SEXE);
    l.identity_warnings(nir.as_ref(), (DATENAISSANCE, date_naissance), (SEXE, sexe));
    let siret = l.siret(SIRET);
    let groupe = match l.optional(GROUPE) {
        None => Some(None),
        Some(v) => l.text(GROUPE, v, 50).map(Some),
    };

    let classement = l.optional_code(CLASSEMENT, Classification::parse, "A, B ou vide");
    let autre_exposition = l.optional_code(
        AUTREEXPOSITION,
        OtherExposure::parse,
        "RADON, RAY_COS, SUR_GRP_1, SUR_GRP_2 ou vide",
    );
    // Only judged when both parsed: an unknown AUTREEXPOSITION is not an empty one.
    if let (Some(None), Some(None)) = (classement, autre_exposition) {
        l.push(
            CLASSEMENT,
            LineCode::ClassementManquant,
            "A ou B attendu, vide seulement avec AUTREEXPOSITION renseignée",
        );
    }
    let caractere = l.code(CARACTERE, ActivityCharacter::parse, "Civil, Militaire");
    let domaine = l.required(DOMAINE);
    let secteur = l.required(SECTEUR);
    let nuisance = l.code(NUISANCE, Nuisance::parse, "EXT, INT, EXTINT");
    let contrat = l.code(
        CONTRAT,
        ContractType::parse,
        "CDI, CDD, CTT, STG, CAP, TFP, TVI",
    );
    let metier = l.required(METIER);
    let code_metier = nomenclature(&mut l, domaine, secteur, metier);
    let quotite = l.fraction(QUOTITE);
    let date_debut = l.date(DATEDEBUT);
    l.not_future(DATEDEBUT, date_debut, today);
    let date_fin = match l.optional(DATEFIN) {
        None => Some(None),
        Some(v) => l.date_value(DATEFIN, v).map(Some),
    };
    if let (Some(start), Some(Some(end))) = (date_debut, date_fin)
        && end < start
    {
        l.push(
            DATEFIN,
            LineCode::PeriodeInversee,
            "date postérieure ou égale à DATEDEBUT attendue",
        );
    }

    let keys = Keys {
        nir: nir.clone().filter(|_| key.is_some()),
        nom: nom.clone(),
        prenom: prenom.clone(),
        date_naissance,
        siret: siret.clone(),
        ..Keys::default()
    };
    let value = (|| {
        Some(WorkerLine {
            worker: NewWorker {
                nir: nir?,
                nom: nom?,
                prenom: prenom?,
                date_naissance: date_naissance?,
                sexe: sexe?,
            },
            key: key?,
            siret: siret?,
            terms: AttachmentTerms {
                date_debut: date_debut?,
                date_fin: date_fin?,
                classement: classement?,
                autre_exposition: autre_exposition?,
                caractere_activite: caractere?,
                code_domaine: domaine?.to_owned(),
                code_secteur: secteur?.to_owned(),
                code_metier: code_metier?,
                nuisance: nuisance?,
                type_contrat: contrat?,
                quotite_milliemes: quotite?,
                groupe: groupe?,
            },
        })
    })();
    l.finish(value, keys)
}

/// The nomenclature codes: `CODE_INCONNU` on each code that does not exist (all are
/// reported, not only the first), then `NOMENCLATURE_INCOHERENTE` on `CodeMetier` when the
/// three exist but form no row. Returns the canonical job code.
fn nomenclature(
    l: &mut Line<'_>,
    domaine: Option<&str>,
    secteur: Option<&str>,
    metier: Option<&str>,
) -> Option<String> {
    let n = Nomenclature::official();
    let unknown = "code absent de la nomenclature SISERI";
    let domain_ok = domaine.map(|d| n.domain_label(d).is_some());
    let sector_ok = secteur.map(|s| n.sector_label(s).is_some());
    // Jobs are compared ignoring case, as `Nomenclature::check` does.
    let job_ok = metier.map(|j| n.triples().any(|(_, _, k)| k.eq_ignore_ascii_case(j)));
    for (col, ok) in [(DOMAINE, domain_ok), (SECTEUR, sector_ok), (METIER, job_ok)] {
        if ok == Some(false) {
            l.push(col, LineCode::CodeInconnu, unknown);
        }
    }
    if domain_ok != Some(true) || sector_ok != Some(true) || job_ok != Some(true) {
        return None;
    }
    match n.check(domaine?, secteur?, metier?) {
        Ok(job) => Some(job),
        Err(NomenclatureError::Inconsistent) => {
            l.push(
                METIER,
                LineCode::NomenclatureIncoherente,
                "codeDomaineActivite, codeSecteurActivite et CodeMetier ne forment pas une \
                 ligne de la nomenclature SISERI",
            );
            None
        }
        Err(NomenclatureError::UnknownCode { field }) => {
            // Unreachable after the checks above; reported rather than assumed.
            let col = COLUMNS
                .iter()
                .position(|c| c.name == field)
                .unwrap_or(METIER);
            l.push(col, LineCode::CodeInconnu, unknown);
            None
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::formats::test_support::{codes, one, quoted_line, read, today};
    use proptest::prelude::*;
    use siseri_domain::codes::Sex;

    const HEADER: &str = "NIR;CLE;NOM;PRENOM;DATENAISSANCE;SEXE;SIRET;GROUPE;CLASSEMENT;\
                          AUTREEXPOSITION;caractereActivite;codeDomaineActivite;\
                          codeSecteurActivite;codeNuisanceRadiologique;codeTypeContrat;\
                          CodeMetier;QUOTITE;DATEDEBUT;DATEFIN";

    const VALID: [&str; 19] = [
        "1850578006084",
        "91",
        "Martin",
        "Jean-Luc",
        "03/05/1985",
        "M",
        "73282932000074",
        "Radiologie",
        "A",
        "",
        "Civil",
        "100000",
        "101000",
        "EXT",
        "CDI",
        "AS",
        "0,8",
        "01/01/2025",
        "",
    ];

    fn with(changes: &[(usize, &str)]) -> Checked<WorkerLine> {
        let mut f = VALID;
        for (i, v) in changes {
            f[*i] = v;
        }
        check(&one(COLUMNS, HEADER, &f.join(";")), today())
    }

    fn codes_of(changes: &[(usize, &str)]) -> Vec<&'static str> {
        codes(&with(changes).messages)
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn valid_line_gives_the_typed_value() {
        let c = with(&[]);
        assert!(c.messages.is_empty(), "{:?}", c.messages);
        let v = c.value.unwrap();
        assert_eq!(v.worker.nir.as_str(), "1850578006084");
        assert_eq!(v.key, 91);
        assert_eq!(
            (v.worker.nom.as_str(), v.worker.prenom.as_str()),
            ("Martin", "Jean-Luc")
        );
        assert_eq!(v.worker.date_naissance, d(1985, 5, 3));
        assert_eq!(v.worker.sexe, Sex::M);
        assert_eq!(v.siret.as_str(), "73282932000074");
        let t = v.terms;
        assert_eq!(t.classement, Some(Classification::A));
        assert_eq!(t.autre_exposition, None);
        assert_eq!(t.caractere_activite, ActivityCharacter::Civil);
        assert_eq!(
            (t.code_domaine.as_str(), t.code_secteur.as_str()),
            ("100000", "101000")
        );
        assert_eq!(t.code_metier, "AS");
        assert_eq!(
            (t.nuisance, t.type_contrat),
            (Nuisance::External, ContractType::Permanent)
        );
        assert_eq!(t.quotite_milliemes, 800);
        assert_eq!((t.date_debut, t.date_fin), (d(2025, 1, 1), None));
        assert_eq!(t.groupe.as_deref(), Some("Radiologie"));
        assert!(t.validate().is_ok());
    }

    #[test]
    fn canonical_spellings_and_optional_values() {
        let c = with(&[
            (NIR, "253072b073004"),
            (CLE, "70"),
            (DATENAISSANCE, "01/07/1953"),
            (SEXE, "f"),
            (GROUPE, ""),
            (CLASSEMENT, ""),
            (AUTREEXPOSITION, "sur_grp_1"),
            (CARACTERE, "MILITAIRE"),
            (NUISANCE, "extint"),
            (CONTRAT, "ctt"),
            (METIER, "as"),
            (QUOTITE, "1.0"),
            (DATEFIN, "31/12/2026"),
        ]);
        assert!(c.messages.is_empty(), "{:?}", c.messages);
        let v = c.value.unwrap();
        assert_eq!(v.worker.nir.as_str(), "253072B073004");
        let t = v.terms;
        assert_eq!(t.classement, None);
        assert_eq!(t.autre_exposition, Some(OtherExposure::EmergencyGroup1));
        assert_eq!(t.caractere_activite, ActivityCharacter::Military);
        assert_eq!(t.code_metier, "AS");
        assert_eq!(t.quotite_milliemes, 1000);
        // A planned end of attachment may be after today (the spec bounds only DATEDEBUT).
        assert_eq!(t.date_fin, Some(d(2026, 12, 31)));
        assert_eq!(t.groupe, None);
    }

    #[test]
    fn optional_columns_may_be_absent_from_the_header() {
        let header = HEADER.replace(";GROUPE", "").replace(";DATEFIN", "");
        let mut f: Vec<&str> = VALID.to_vec();
        f.remove(DATEFIN);
        f.remove(GROUPE);
        let records = read(COLUMNS, &header, &[&f.join(";")]);
        let c = check(&records[0], today());
        assert!(c.messages.is_empty(), "{:?}", c.messages);
        assert_eq!(c.value.unwrap().terms.groupe, None);
    }

    #[test]
    fn identity_codes() {
        assert_eq!(codes_of(&[(CLE, "90")]), ["NIR_CLE"]);
        assert_eq!(
            with(&[(CLE, "90")]).messages[0].message,
            "CLE : la clé du NIR devrait être 91"
        );
        assert_eq!(
            codes_of(&[(NIR, "9850578006084"), (CLE, "zz")]),
            ["NIR_FORMAT"]
        );
        assert_eq!(codes_of(&[(NOM, "Mart1n")]), ["NOM_FORMAT"]);
        assert_eq!(codes_of(&[(PRENOM, "J.")]), ["PRENOM_FORMAT"]);
        assert_eq!(codes_of(&[(NOM, &"é".repeat(101))]), ["TEXTE_TROP_LONG"]);
        assert_eq!(codes_of(&[(PRENOM, &"é".repeat(101))]), ["TEXTE_TROP_LONG"]);
        // 51 to 100 characters, which the SISERI 2 template allows (exchange.md §2).
        assert!(
            with(&[(NOM, &"É".repeat(100)), (PRENOM, &"a".repeat(100))])
                .value
                .is_some()
        );
        assert_eq!(codes_of(&[(DATENAISSANCE, "3/5/1985")]), ["DATE_FORMAT"]);
        assert_eq!(codes_of(&[(SEXE, "H")]), ["SEXE_INVALIDE"]);
        assert_eq!(codes_of(&[(SIRET, "7328293200007A")]), ["SIRET_FORMAT"]);
        assert_eq!(codes_of(&[(SIRET, "73282932000079")]), ["SIRET_CLE"]);
        assert_eq!(
            codes_of(&[(SEXE, "F"), (DATENAISSANCE, "03/05/1984")]),
            ["NIR_NAISSANCE_INCOHERENTE", "NIR_SEXE_INCOHERENT"]
        );
        assert!(with(&[(SEXE, "F")]).value.is_some());
    }

    #[test]
    fn dates_not_after_today() {
        // A birth in the future also contradicts the NIR's year: both codes, error first.
        assert_eq!(
            codes_of(&[(DATENAISSANCE, "16/06/2026")]),
            ["DATE_FUTURE", "NIR_NAISSANCE_INCOHERENTE"]
        );
        assert_eq!(codes_of(&[(DATEDEBUT, "16/06/2025")]), ["DATE_FUTURE"]);
        assert!(with(&[(DATEDEBUT, "15/06/2025")]).value.is_some());
        assert_eq!(codes_of(&[(DATEFIN, "31/12/2024")]), ["PERIODE_INVERSEE"]);
        assert!(with(&[(DATEFIN, "01/01/2025")]).value.is_some());
        assert_eq!(codes_of(&[(DATEFIN, "2025-12-31")]), ["DATE_FORMAT"]);
        // Start in the future and end before it: both on their own column.
        assert_eq!(
            codes_of(&[(DATEDEBUT, "01/07/2025"), (DATEFIN, "20/06/2025")]),
            ["DATE_FUTURE", "PERIODE_INVERSEE"]
        );
    }

    #[test]
    fn classification() {
        assert_eq!(codes_of(&[(CLASSEMENT, "")]), ["CLASSEMENT_MANQUANT"]);
        assert_eq!(codes_of(&[(CLASSEMENT, "C")]), ["CODE_INCONNU"]);
        assert_eq!(
            codes_of(&[(CLASSEMENT, ""), (AUTREEXPOSITION, "X")]),
            ["CODE_INCONNU"]
        );
        assert!(
            with(&[(CLASSEMENT, ""), (AUTREEXPOSITION, "RADON")])
                .value
                .is_some()
        );
        assert!(
            with(&[(CLASSEMENT, "b"), (AUTREEXPOSITION, "RAY_COS")])
                .value
                .is_some()
        );
    }

    #[test]
    fn closed_lists_and_texts() {
        assert_eq!(codes_of(&[(CARACTERE, "Civile")]), ["CODE_INCONNU"]);
        assert_eq!(codes_of(&[(NUISANCE, "EXTERNE")]), ["CODE_INCONNU"]);
        assert_eq!(codes_of(&[(CONTRAT, "CDX")]), ["CODE_INCONNU"]);
        assert_eq!(codes_of(&[(GROUPE, &"g".repeat(51))]), ["TEXTE_TROP_LONG"]);
        assert!(with(&[(GROUPE, &"g".repeat(50))]).value.is_some());
    }

    #[test]
    fn nomenclature_codes() {
        assert_eq!(codes_of(&[(DOMAINE, "999999")]), ["CODE_INCONNU"]);
        assert_eq!(codes_of(&[(SECTEUR, "999999")]), ["CODE_INCONNU"]);
        assert_eq!(codes_of(&[(METIER, "XYZ")]), ["CODE_INCONNU"]);
        let c = with(&[(DOMAINE, "9"), (METIER, "XYZ")]);
        assert_eq!(codes(&c.messages), ["CODE_INCONNU", "CODE_INCONNU"]);
        let fields: Vec<_> = c.messages.iter().map(|m| m.field.unwrap()).collect();
        assert_eq!(fields, ["codeDomaineActivite", "CodeMetier"]);
        assert_eq!(
            codes_of(&[(SECTEUR, "201000")]),
            ["NOMENCLATURE_INCOHERENTE"]
        );
        assert_eq!(
            codes_of(&[(METIER, "CHAUFMANUT")]),
            ["NOMENCLATURE_INCOHERENTE"]
        );
        assert_eq!(codes_of(&[(METIER, "")]), ["CHAMP_OBLIGATOIRE"]);
        assert!(
            with(&[
                (DOMAINE, "200000"),
                (SECTEUR, "201000"),
                (METIER, "chaufmanut")
            ])
            .value
            .is_some()
        );
    }

    #[test]
    fn work_time_fraction() {
        for bad in ["0,05", "1,1", "0,1234", "abc", "-0,5", "0", "1,"] {
            assert_eq!(codes_of(&[(QUOTITE, bad)]), ["QUOTITE_INVALIDE"], "{bad}");
        }
        for (good, m) in [("0,1", 100), ("1", 1000), ("0.125", 125), ("0,5000", 500)] {
            assert_eq!(
                with(&[(QUOTITE, good)])
                    .value
                    .unwrap()
                    .terms
                    .quotite_milliemes,
                m
            );
        }
        assert_eq!(codes_of(&[(QUOTITE, "")]), ["CHAMP_OBLIGATOIRE"]);
    }

    #[test]
    fn mandatory_fields() {
        for col in [
            NIR,
            CLE,
            NOM,
            PRENOM,
            DATENAISSANCE,
            SEXE,
            SIRET,
            CARACTERE,
            DOMAINE,
            SECTEUR,
            NUISANCE,
            CONTRAT,
            METIER,
            QUOTITE,
            DATEDEBUT,
        ] {
            let c = with(&[(col, "")]);
            assert_eq!(
                codes(&c.messages),
                ["CHAMP_OBLIGATOIRE"],
                "{}",
                COLUMNS[col].name
            );
        }
    }

    #[test]
    fn several_codes_in_column_then_code_order() {
        let c = with(&[
            (NIR, "1850578006084"),
            (CLE, "00"),
            (PRENOM, ""),
            (SEXE, "F"),
            (SIRET, "123"),
            (CLASSEMENT, ""),
            (CARACTERE, "X"),
            (SECTEUR, "201000"),
            (CONTRAT, "?"),
            (QUOTITE, "2"),
            (DATEDEBUT, "01/01/2030"),
            (DATEFIN, "01/01/2029"),
        ]);
        assert_eq!(
            codes(&c.messages),
            [
                "NIR_CLE",
                "CHAMP_OBLIGATOIRE",
                "NIR_SEXE_INCOHERENT",
                "SIRET_FORMAT",
                "CLASSEMENT_MANQUANT",
                "CODE_INCONNU",
                "CODE_INCONNU",
                "NOMENCLATURE_INCOHERENTE",
                "QUOTITE_INVALIDE",
                "DATE_FUTURE",
                "PERIODE_INVERSEE",
            ]
        );
        assert!(c.value.is_none());
    }

    #[test]
    fn wrong_field_count_is_nb_colonnes_alone() {
        let c = check(&one(COLUMNS, HEADER, "1;2;3"), today());
        assert_eq!(codes(&c.messages), ["NB_COLONNES"]);
        assert!(c.value.is_none());
    }

    proptest! {
        #[test]
        fn check_never_panics(fields in proptest::collection::vec(
            prop_oneof![".{0,20}", "[0-9,./ A-Za-z_-]{0,16}", Just(String::new())], 19)) {
            let text = format!("{HEADER}\n{}\n", quoted_line(&fields));
            if let Ok(reader) = crate::records::CsvRecords::new(text.as_bytes(), COLUMNS) {
                for record in reader.flatten() {
                    let c = check(&record, today());
                    prop_assert_eq!(c.value.is_some(), !c.has_errors());
                }
            }
        }

        #[test]
        fn check_never_panics_near_valid(i in 0usize..19, v in ".{0,70}") {
            let mut f: Vec<String> = VALID.iter().map(|s| s.to_string()).collect();
            f[i] = v;
            let text = format!("{HEADER}\n{}\n", quoted_line(&f));
            let record = crate::records::CsvRecords::new(text.as_bytes(), COLUMNS)
                .unwrap().next().unwrap().unwrap();
            let c = check(&record, today());
            prop_assert_eq!(c.value.is_some(), !c.has_errors());
            if let Some(v) = c.value {
                prop_assert!(v.terms.validate().is_ok());
            }
        }
    }
}

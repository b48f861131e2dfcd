//! Workers, companies, establishments, attachments (with versions) and the
//! designations of physicians and advisors on establishments.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::codes::{ActivityCharacter, Classification, ContractType, Nuisance, OtherExposure, Sex};
use crate::ids::{Nir, Siren, Siret};

/// An exposed worker's identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Worker {
    /// Surrogate id: the only way the journal and statistics name a worker.
    pub id: i64,
    /// NIR or NIA, without key.
    pub nir: Nir,
    /// Birth name, as received.
    pub nom: String,
    /// First name, as received.
    pub prenom: String,
    /// Date of birth.
    pub date_naissance: NaiveDate,
    /// Sex.
    pub sexe: Sex,
}

/// A worker's identity before it is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewWorker {
    /// NIR or NIA, without key.
    pub nir: Nir,
    /// Birth name.
    pub nom: String,
    /// First name.
    pub prenom: String,
    /// Date of birth.
    pub date_naissance: NaiveDate,
    /// Sex.
    pub sexe: Sex,
}

/// Age in whole years at `on` (a birthday on 29 February falls on 1 March otherwise).
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> i32 {
    use chrono::Datelike;
    let mut age = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

/// A company, identified by its SIREN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Company {
    /// SIREN.
    pub siren: Siren,
    /// Name.
    pub name: String,
}

/// An establishment of a company.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Establishment {
    /// Registry id.
    pub id: i64,
    /// SIRET (its first nine digits are the company's SIREN).
    pub siret: Siret,
    /// Name.
    pub name: String,
    /// Whether it holds a licensed nuclear installation (INB).
    pub inb: bool,
}

/// The terms of an attachment of a worker to an establishment, as one version holds them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentTerms {
    /// Start.
    pub date_debut: NaiveDate,
    /// End; `None` while ongoing.
    pub date_fin: Option<NaiveDate>,
    /// Category A or B; may be empty only with another exposure.
    pub classement: Option<Classification>,
    /// Other exposure making the worker "exposed".
    pub autre_exposition: Option<OtherExposure>,
    /// Civil or military.
    pub caractere_activite: ActivityCharacter,
    /// Domain code of the nomenclature.
    pub code_domaine: String,
    /// Sector code.
    pub code_secteur: String,
    /// Job code.
    pub code_metier: String,
    /// Kind of exposure.
    pub nuisance: Nuisance,
    /// Contract type.
    pub type_contrat: ContractType,
    /// Work-time fraction in thousandths (100 … 1000).
    pub quotite_milliemes: u32,
    /// Worker group inside the establishment.
    pub groupe: Option<String>,
}

/// Why attachment terms are not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TermsError {
    /// Neither a category nor another exposure.
    #[error("CLASSEMENT : A ou B attendu, vide seulement avec AUTREEXPOSITION renseignée")]
    MissingClassification,
    /// Work-time fraction outside 0.1 … 1.0.
    #[error("QUOTITE : nombre décimal entre 0,1 et 1,0 attendu")]
    WorkTime,
    /// End before start.
    #[error("DATEFIN : date postérieure ou égale à DATEDEBUT attendue")]
    Inverted,
}

impl AttachmentTerms {
    /// Checks the rules that hold between fields.
    pub fn validate(&self) -> Result<(), TermsError> {
        if self.classement.is_none() && self.autre_exposition.is_none() {
            return Err(TermsError::MissingClassification);
        }
        if !(100..=1000).contains(&self.quotite_milliemes) {
            return Err(TermsError::WorkTime);
        }
        if self.date_fin.is_some_and(|f| f < self.date_debut) {
            return Err(TermsError::Inverted);
        }
        Ok(())
    }

    /// Whether the attachment covers `day`.
    pub fn covers(&self, day: NaiveDate) -> bool {
        self.date_debut <= day && self.date_fin.is_none_or(|f| day <= f)
    }

    /// Whether two attachments' periods share at least one day.
    pub fn overlaps(&self, other: &AttachmentTerms) -> bool {
        let end_a = self.date_fin.unwrap_or(NaiveDate::MAX);
        let end_b = other.date_fin.unwrap_or(NaiveDate::MAX);
        self.date_debut <= end_b && other.date_debut <= end_a
    }
}

/// One version of an attachment, never modified once written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentVersion {
    /// 1, 2, 3…
    pub version: u32,
    /// The terms of this version.
    pub terms: AttachmentTerms,
    /// Login of the account that wrote it.
    pub author: String,
    /// When.
    pub recorded_at: DateTime<Utc>,
}

/// A worker's attachment to an establishment, with its history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// Registry id.
    pub id: i64,
    /// The worker.
    pub nir: Nir,
    /// The establishment.
    pub siret: Siret,
    /// Every version, oldest first; never empty.
    pub versions: Vec<AttachmentVersion>,
}

impl Attachment {
    /// The terms in force.
    pub fn current(&self) -> Option<&AttachmentTerms> {
        self.versions.last().map(|v| &v.terms)
    }
}

/// The two functions an employer designates on establishments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DesignationRole {
    /// Occupational physician (SIR).
    #[serde(rename = "MDT")]
    Physician,
    /// Radiation protection advisor.
    #[serde(rename = "CRP")]
    Advisor,
}

impl DesignationRole {
    /// `MDT` or `CRP`.
    pub fn code(self) -> &'static str {
        match self {
            DesignationRole::Physician => "MDT",
            DesignationRole::Advisor => "CRP",
        }
    }

    /// Parses `MDT` / `CRP`, ignoring case.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_uppercase().as_str() {
            "MDT" => Some(DesignationRole::Physician),
            "CRP" => Some(DesignationRole::Advisor),
            _ => None,
        }
    }
}

/// A designation of an account as MDT or CRP on an establishment, over a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Designation {
    /// Registry id.
    pub id: i64,
    /// The designated account's login.
    pub login: String,
    /// MDT or CRP.
    pub role: DesignationRole,
    /// The establishment.
    pub siret: Siret,
    /// First day.
    pub date_debut: NaiveDate,
    /// Last day; `None` while ongoing.
    pub date_fin: Option<NaiveDate>,
}

impl Designation {
    /// Whether the designation covers `day`.
    pub fn covers(&self, day: NaiveDate) -> bool {
        self.date_debut <= day && self.date_fin.is_none_or(|f| day <= f)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn terms() -> AttachmentTerms {
        AttachmentTerms {
            date_debut: d(2024, 1, 1),
            date_fin: None,
            classement: Some(Classification::A),
            autre_exposition: None,
            caractere_activite: ActivityCharacter::Civil,
            code_domaine: "100000".into(),
            code_secteur: "101000".into(),
            code_metier: "MANIP".into(),
            nuisance: Nuisance::External,
            type_contrat: ContractType::Permanent,
            quotite_milliemes: 1000,
            groupe: None,
        }
    }

    #[test]
    fn ages_at_boundaries() {
        assert_eq!(age_on(d(2007, 3, 15), d(2025, 3, 14)), 17);
        assert_eq!(age_on(d(2007, 3, 15), d(2025, 3, 15)), 18);
        assert_eq!(age_on(d(2008, 2, 29), d(2026, 2, 28)), 17);
        assert_eq!(age_on(d(2008, 2, 29), d(2026, 3, 1)), 18);
    }

    #[test]
    fn terms_rules() {
        let mut t = terms();
        assert!(t.validate().is_ok());
        t.classement = None;
        assert_eq!(t.validate(), Err(TermsError::MissingClassification));
        t.autre_exposition = Some(OtherExposure::Radon);
        assert!(t.validate().is_ok());
        t.quotite_milliemes = 99;
        assert_eq!(t.validate(), Err(TermsError::WorkTime));
        t.quotite_milliemes = 1001;
        assert_eq!(t.validate(), Err(TermsError::WorkTime));
        t.quotite_milliemes = 100;
        t.date_fin = Some(d(2023, 12, 31));
        assert_eq!(t.validate(), Err(TermsError::Inverted));
    }

    #[test]
    fn periods_cover_and_overlap() {
        let mut a = terms();
        a.date_fin = Some(d(2024, 6, 30));
        assert!(a.covers(d(2024, 6, 30)));
        assert!(!a.covers(d(2024, 7, 1)));
        assert!(!a.covers(d(2023, 12, 31)));
        let mut b = terms();
        b.date_debut = d(2024, 6, 30);
        assert!(a.overlaps(&b) && b.overlaps(&a));
        b.date_debut = d(2024, 7, 1);
        assert!(!a.overlaps(&b));
        assert!(terms().overlaps(&b));
    }

    #[test]
    fn designation_periods() {
        let des = Designation {
            id: 1,
            login: "mdt".into(),
            role: DesignationRole::Physician,
            siret: Siret::parse("73282932000074").unwrap(),
            date_debut: d(2025, 1, 1),
            date_fin: Some(d(2025, 12, 31)),
        };
        assert!(des.covers(d(2025, 1, 1)) && des.covers(d(2025, 12, 31)));
        assert!(!des.covers(d(2026, 1, 1)));
        assert_eq!(
            DesignationRole::parse("crp"),
            Some(DesignationRole::Advisor)
        );
        assert_eq!(DesignationRole::parse("X"), None);
    }
}

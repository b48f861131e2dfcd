//! A worker's identity and attachment terms as the forms type them, checked by the line
//! checks of the worker import (`siseri_exchange::formats::workers::check`): the form is
//! turned into one record of the `travailleurs` format, so that the rules are one.

use chrono::NaiveDate;
use serde::Deserialize;
use siseri_domain::Nomenclature;
use siseri_domain::ids::Siret;
use siseri_domain::worker::{AttachmentTerms, Worker};
use siseri_exchange::formats::workers::{COLUMNS, WorkerLine, check};
use siseri_exchange::records::{CodeClass, JsonRecords};

use super::{Choice, Errors};

/// The worker's identity, as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct IdentityInput {
    #[serde(default)]
    pub nir: String,
    #[serde(default)]
    pub cle: String,
    #[serde(default)]
    pub nom: String,
    #[serde(default)]
    pub prenom: String,
    #[serde(default)]
    pub date_naissance: String,
    #[serde(default)]
    pub sexe: String,
}

impl IdentityInput {
    /// The stored identity, as the checks read it.
    pub fn of(w: &Worker) -> Self {
        IdentityInput {
            nir: w.nir.to_string(),
            cle: format!("{:02}", w.nir.key()),
            nom: w.nom.clone(),
            prenom: w.prenom.clone(),
            date_naissance: w.date_naissance.format("%Y-%m-%d").to_string(),
            sexe: w.sexe.code().to_string(),
        }
    }
}

/// The attachment terms, as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TermsInput {
    #[serde(default)]
    pub siret: String,
    #[serde(default)]
    pub groupe: String,
    #[serde(default)]
    pub classement: String,
    #[serde(default)]
    pub autre_exposition: String,
    #[serde(default)]
    pub caractere: String,
    #[serde(default)]
    pub domaine: String,
    #[serde(default)]
    pub secteur: String,
    #[serde(default)]
    pub nuisance: String,
    #[serde(default)]
    pub contrat: String,
    #[serde(default)]
    pub metier: String,
    #[serde(default)]
    pub quotite: String,
    #[serde(default)]
    pub date_debut: String,
    #[serde(default)]
    pub date_fin: String,
}

/// A fraction in thousandths as a French decimal (800 → « 0,8 »).
fn fraction(thousandths: u32) -> String {
    let text = format!("{}.{:03}", thousandths / 1000, thousandths % 1000);
    text.trim_end_matches('0')
        .trim_end_matches('.')
        .replace('.', ",")
}

impl TermsInput {
    /// A new declaration's defaults.
    pub fn blank(today: NaiveDate) -> Self {
        TermsInput {
            caractere: "Civil".into(),
            nuisance: "EXT".into(),
            contrat: "CDI".into(),
            quotite: "1".into(),
            date_debut: today.format("%Y-%m-%d").to_string(),
            ..TermsInput::default()
        }
    }

    /// Stored terms, as a form shows them.
    pub fn of(siret: &Siret, t: &AttachmentTerms) -> Self {
        TermsInput {
            siret: siret.to_string(),
            groupe: t.groupe.clone().unwrap_or_default(),
            classement: t
                .classement
                .map(|c| c.code().to_string())
                .unwrap_or_default(),
            autre_exposition: t
                .autre_exposition
                .map(|c| c.code().to_string())
                .unwrap_or_default(),
            caractere: t.caractere_activite.code().to_string(),
            domaine: t.code_domaine.clone(),
            secteur: t.code_secteur.clone(),
            nuisance: t.nuisance.code().to_string(),
            contrat: t.type_contrat.code().to_string(),
            metier: t.code_metier.clone(),
            quotite: fraction(t.quotite_milliemes),
            date_debut: t.date_debut.format("%Y-%m-%d").to_string(),
            date_fin: t
                .date_fin
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
        }
    }
}

/// A date field (`AAAA-MM-JJ`) as the exchange format writes it (`JJ/MM/AAAA`); anything
/// else is left for the checks to refuse with their own message.
fn line_date(s: &str) -> String {
    let s = s.trim();
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map(|d| d.format("%d/%m/%Y").to_string())
        .unwrap_or_else(|_| s.to_string())
}

/// The form field of each column of the format.
const FIELDS: &[(&str, &str)] = &[
    ("NIR", "nir"),
    ("CLE", "cle"),
    ("NOM", "nom"),
    ("PRENOM", "prenom"),
    ("DATENAISSANCE", "date_naissance"),
    ("SEXE", "sexe"),
    ("SIRET", "siret"),
    ("GROUPE", "groupe"),
    ("CLASSEMENT", "classement"),
    ("AUTREEXPOSITION", "autre_exposition"),
    ("caractereActivite", "caractere"),
    ("codeDomaineActivite", "domaine"),
    ("codeSecteurActivite", "secteur"),
    ("codeNuisanceRadiologique", "nuisance"),
    ("codeTypeContrat", "contrat"),
    ("CodeMetier", "metier"),
    ("QUOTITE", "quotite"),
    ("DATEDEBUT", "date_debut"),
    ("DATEFIN", "date_fin"),
];

/// Runs the worker import's line checks on a form: the typed line, or the errors by field.
pub fn check_form(
    identity: &IdentityInput,
    terms: &TermsInput,
    today: NaiveDate,
) -> Result<WorkerLine, Errors> {
    let values = [
        identity
            .nir
            .split_whitespace()
            .collect::<String>()
            .to_uppercase(),
        identity.cle.trim().to_string(),
        identity.nom.clone(),
        identity.prenom.clone(),
        line_date(&identity.date_naissance),
        identity.sexe.clone(),
        terms.siret.split_whitespace().collect::<String>(),
        terms.groupe.clone(),
        terms.classement.clone(),
        terms.autre_exposition.clone(),
        terms.caractere.clone(),
        terms.domaine.clone(),
        terms.secteur.clone(),
        terms.nuisance.clone(),
        terms.contrat.clone(),
        terms.metier.clone(),
        terms.quotite.clone(),
        line_date(&terms.date_debut),
        line_date(&terms.date_fin),
    ];
    let record: serde_json::Map<String, serde_json::Value> = COLUMNS
        .iter()
        .zip(values)
        .map(|(c, v)| (c.name.to_string(), serde_json::Value::String(v)))
        .collect();
    let body = serde_json::Value::Array(vec![serde_json::Value::Object(record)]).to_string();
    let mut errors = Errors::default();
    let mut reader = JsonRecords::new(body.as_bytes(), COLUMNS);
    let record = match reader.next_record() {
        Ok(Some(r)) => r,
        _ => {
            errors.add(
                "nir",
                "Le formulaire n’a pas pu être lu : envoyez-le à nouveau.",
            );
            return Err(errors);
        }
    };
    let checked = check(&record, today);
    for m in checked
        .messages
        .iter()
        .filter(|m| m.code.class() == CodeClass::Error)
    {
        let column = m.field.unwrap_or("NIR");
        let field = FIELDS
            .iter()
            .find(|(c, _)| *c == column)
            .map_or("nir", |(_, f)| f);
        let text = m
            .message
            .strip_prefix(&format!("{column} : "))
            .unwrap_or(&m.message);
        errors.add(field, capitalised(&in_words(text)));
    }
    match checked.value {
        Some(line) if errors.is_empty() => Ok(line),
        _ => {
            if errors.is_empty() {
                errors.add("nir", "La déclaration n’est pas valide.");
            }
            Err(errors)
        }
    }
}

/// The import's messages name columns; a form names its fields.
fn in_words(text: &str) -> String {
    [
        (
            "codeDomaineActivite, codeSecteurActivite et CodeMetier",
            "le domaine, le secteur et le métier",
        ),
        ("AUTREEXPOSITION", "une autre exposition"),
        ("DATEDEBUT", "la date de début"),
        ("DATENAISSANCE", "la date de naissance"),
    ]
    .iter()
    .fold(text.to_string(), |t, (from, to)| t.replace(from, to))
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => format!(
            "{}{}.",
            c.to_uppercase(),
            chars.as_str().trim_end_matches('.')
        ),
        None => String::new(),
    }
}

/// The options of the form's selects.
pub struct Options {
    pub establishments: Vec<Choice>,
    pub sexes: Vec<Choice>,
    pub classements: Vec<Choice>,
    pub autres: Vec<Choice>,
    pub caracteres: Vec<Choice>,
    pub nuisances: Vec<Choice>,
    pub contrats: Vec<Choice>,
    pub domains: Vec<Choice>,
    /// Sectors grouped by domain label.
    pub sectors: Vec<(String, Vec<Choice>)>,
    pub jobs: Vec<Choice>,
}

fn choices(list: &[(&str, &str)]) -> Vec<Choice> {
    list.iter().map(|(v, l)| Choice::new(*v, *l)).collect()
}

impl Options {
    /// The options, with the employer's establishments.
    pub fn new(establishments: Vec<Choice>) -> Self {
        let n = Nomenclature::official();
        let mut domains: Vec<String> = n.triples().map(|(d, _, _)| d.to_string()).collect();
        domains.dedup();
        let mut sector_codes: Vec<(String, String)> = n
            .triples()
            .map(|(d, s, _)| (d.to_string(), s.to_string()))
            .collect();
        sector_codes.sort();
        sector_codes.dedup();
        let sectors = domains
            .iter()
            .map(|d| {
                let label = n.domain_label(d).unwrap_or(d).to_string();
                let list = sector_codes
                    .iter()
                    .filter(|(sd, _)| sd == d)
                    .map(|(_, s)| {
                        Choice::new(
                            s.as_str(),
                            format!("{s} — {}", n.sector_label(s).unwrap_or("")),
                        )
                    })
                    .collect();
                (label, list)
            })
            .collect();
        let mut jobs: Vec<Choice> = n
            .triples()
            .map(|(_, _, j)| j.to_string())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .map(|j| {
                let label = format!("{} ({j})", n.job_label(&j).unwrap_or(""));
                Choice::new(j, label)
            })
            .collect();
        jobs.sort_by(|a, b| a.label.cmp(&b.label));
        Options {
            establishments,
            sexes: choices(&[("F", "Femme"), ("M", "Homme")]),
            classements: choices(&[("A", "Catégorie A"), ("B", "Catégorie B")]),
            autres: choices(&[
                ("RADON", "Radon d’origine géologique"),
                ("RAY_COS", "Rayonnement cosmique (personnel navigant)"),
                ("SUR_GRP_1", "Situation d’urgence radiologique, groupe 1"),
                ("SUR_GRP_2", "Situation d’urgence radiologique, groupe 2"),
            ]),
            caracteres: choices(&[("Civil", "Civil"), ("Militaire", "Militaire")]),
            nuisances: choices(&[
                ("EXT", "Exposition externe"),
                ("INT", "Exposition interne"),
                ("EXTINT", "Exposition externe et interne"),
            ]),
            contrats: choices(CONTRACTS),
            domains: domains
                .iter()
                .map(|d| {
                    Choice::new(
                        d.as_str(),
                        format!("{d} — {}", n.domain_label(d).unwrap_or("")),
                    )
                })
                .collect(),
            sectors,
            jobs,
        }
    }
}

/// The French label of a classification, or « Non classé ».
pub fn classement_label(t: &AttachmentTerms) -> String {
    match (t.classement, t.autre_exposition) {
        (Some(c), _) => format!("Catégorie {}", c.code()),
        (None, Some(o)) => format!("Non classé ({})", o.code()),
        (None, None) => "Non classé".into(),
    }
}

/// The contract types and their French labels.
const CONTRACTS: &[(&str, &str)] = &[
    ("CDI", "Contrat à durée indéterminée (CDI)"),
    ("CDD", "Contrat à durée déterminée (CDD)"),
    ("CTT", "Contrat de travail temporaire (intérim)"),
    ("STG", "Stage"),
    ("CAP", "Apprentissage"),
    ("TFP", "Fonction publique"),
    ("TVI", "Travailleur indépendant"),
];

/// The French label of a contract type code.
pub fn contract_label(code: &str) -> &str {
    CONTRACTS
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(code, |(_, l)| l)
}

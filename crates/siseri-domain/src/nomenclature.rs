//! The SISERI 2 activity nomenclature: domain → sector → job, as the valid triples
//! of `data/nomenclature-domaine-secteur-metier.csv` (copied unchanged from the
//! shared reference data and compiled into the binary).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

/// The embedded file: `;`-separated, UTF-8 with a byte-order mark.
pub const OFFICIAL_CSV: &str = include_str!("../data/nomenclature-domaine-secteur-metier.csv");

/// The valid (domain, sector, job) triples and the labels of each code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Nomenclature {
    triples: BTreeSet<(String, String, String)>,
    domains: BTreeMap<String, String>,
    sectors: BTreeMap<String, String>,
    jobs: BTreeMap<String, String>,
}

/// Why a triple is refused (`exchange.md` §2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NomenclatureError {
    /// A code that is not in the nomenclature (`CODE_INCONNU`).
    #[error("{field} : code absent de la nomenclature SISERI")]
    UnknownCode {
        /// The column: `codeDomaineActivite`, `codeSecteurActivite` or `CodeMetier`.
        field: &'static str,
    },
    /// Existing codes that do not form a row (`NOMENCLATURE_INCOHERENTE`).
    #[error(
        "codeDomaineActivite, codeSecteurActivite, CodeMetier : combinaison absente de la nomenclature SISERI"
    )]
    Inconsistent,
}

/// A malformed nomenclature file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("nomenclature, ligne {line} : {reason}")]
pub struct NomenclatureFileError {
    /// Physical line (header = 1).
    pub line: usize,
    /// What is wrong.
    pub reason: &'static str,
}

const HEADER: &str =
    "code_domaine;libelle_domaine;code_secteur;libelle_secteur;code_metier;libelle_metier";

impl Nomenclature {
    /// The nomenclature compiled into the binary.
    pub fn official() -> &'static Nomenclature {
        static OFFICIAL: OnceLock<Nomenclature> = OnceLock::new();
        // The embedded file is checked by the tests; a failure cannot reach users.
        OFFICIAL.get_or_init(|| Nomenclature::parse(OFFICIAL_CSV).unwrap_or_default())
    }

    /// Parses the file format (the labels contain no `;` nor quotes).
    pub fn parse(text: &str) -> Result<Nomenclature, NomenclatureFileError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut lines = text.lines().enumerate();
        match lines.next() {
            Some((_, h)) if h.trim_end() == HEADER => {}
            _ => {
                return Err(NomenclatureFileError {
                    line: 1,
                    reason: "en-tête inattendu",
                });
            }
        }
        let mut n = Nomenclature::default();
        for (i, line) in lines {
            let line = line.trim_end();
            if line.is_empty() {
                continue;
            }
            let f: Vec<&str> = line.split(';').collect();
            let [dc, dl, sc, sl, jc, jl] = f.as_slice() else {
                return Err(NomenclatureFileError {
                    line: i + 1,
                    reason: "6 champs attendus",
                });
            };
            if dc.is_empty() || sc.is_empty() || jc.is_empty() {
                return Err(NomenclatureFileError {
                    line: i + 1,
                    reason: "code vide",
                });
            }
            n.domains.insert(dc.to_string(), dl.to_string());
            n.sectors.insert(sc.to_string(), sl.to_string());
            n.jobs.insert(jc.to_string(), jl.to_string());
            n.triples
                .insert((dc.to_string(), sc.to_string(), jc.to_string()));
        }
        Ok(n)
    }

    /// Checks a triple; codes are compared as written after trimming, jobs ignoring case.
    /// Returns the canonical job code.
    pub fn check(
        &self,
        domain: &str,
        sector: &str,
        job: &str,
    ) -> Result<String, NomenclatureError> {
        let (domain, sector) = (domain.trim(), sector.trim());
        if !self.domains.contains_key(domain) {
            return Err(NomenclatureError::UnknownCode {
                field: "codeDomaineActivite",
            });
        }
        if !self.sectors.contains_key(sector) {
            return Err(NomenclatureError::UnknownCode {
                field: "codeSecteurActivite",
            });
        }
        let Some(job) = self
            .jobs
            .keys()
            .find(|k| k.eq_ignore_ascii_case(job.trim()))
        else {
            return Err(NomenclatureError::UnknownCode {
                field: "CodeMetier",
            });
        };
        let key = (domain.to_string(), sector.to_string(), job.clone());
        if self.triples.contains(&key) {
            Ok(job.clone())
        } else {
            Err(NomenclatureError::Inconsistent)
        }
    }

    /// Number of valid triples.
    pub fn len(&self) -> usize {
        self.triples.len()
    }

    /// Whether there is no triple at all.
    pub fn is_empty(&self) -> bool {
        self.triples.is_empty()
    }

    /// Every valid triple, in code order.
    pub fn triples(&self) -> impl Iterator<Item = (&str, &str, &str)> {
        self.triples
            .iter()
            .map(|(d, s, j)| (d.as_str(), s.as_str(), j.as_str()))
    }

    /// The label of a domain code.
    pub fn domain_label(&self, code: &str) -> Option<&str> {
        self.domains.get(code).map(String::as_str)
    }

    /// The label of a sector code.
    pub fn sector_label(&self, code: &str) -> Option<&str> {
        self.sectors.get(code).map(String::as_str)
    }

    /// The label of a job code.
    pub fn job_label(&self, code: &str) -> Option<&str> {
        self.jobs.get(code).map(String::as_str)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn official_file_has_every_row() {
        let n = Nomenclature::parse(OFFICIAL_CSV).unwrap();
        // 1,896 lines: the header and 1,895 valid combinations (domain.md).
        assert_eq!(n.len(), 1895);
        assert_eq!(Nomenclature::official().len(), 1895);
        assert_eq!(n.domains.len(), 6);
        assert_eq!(
            n.domain_label("100000"),
            Some("Utilisations medicales et veterinaires")
        );
    }

    #[test]
    fn every_sector_starts_with_its_domain_digit() {
        for (d, s, _) in Nomenclature::official().triples() {
            assert_eq!(d.as_bytes()[0], s.as_bytes()[0], "{d} {s}");
        }
    }

    #[test]
    fn checks_codes_then_consistency() {
        let n = Nomenclature::official();
        assert_eq!(n.check("100000", "101000", "manip").unwrap(), "MANIP");
        assert_eq!(
            n.check("999999", "101000", "MANIP"),
            Err(NomenclatureError::UnknownCode {
                field: "codeDomaineActivite"
            })
        );
        assert_eq!(
            n.check("100000", "101999", "MANIP"),
            Err(NomenclatureError::UnknownCode {
                field: "codeSecteurActivite"
            })
        );
        assert_eq!(
            n.check("100000", "101000", "NOPE"),
            Err(NomenclatureError::UnknownCode {
                field: "CodeMetier"
            })
        );
        assert_eq!(
            n.check("500000", "101000", "MANIP"),
            Err(NomenclatureError::Inconsistent)
        );
    }

    #[test]
    fn malformed_files_are_refused_with_a_line() {
        assert_eq!(Nomenclature::parse("x").unwrap_err().line, 1);
        let bad = format!("{HEADER}\n1;a;2;b\n");
        assert_eq!(Nomenclature::parse(&bad).unwrap_err().line, 2);
    }
}

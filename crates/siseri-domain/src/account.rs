//! Accounts, roles and the scope that ties each account to organisations or a worker
//! (`access.md`, "Roles and scopes").

use serde::{Deserialize, Serialize};

use crate::codes::Nature;
use crate::ids::{Nir, Rpps, Siren, Siret};

/// The roles of `access.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    /// The exposed worker.
    Travailleur,
    /// A doctor designated by the worker or his heirs.
    MedecinDesigne,
    /// Occupational physician (SIR).
    Mdt,
    /// Health professional delegated by an MDT.
    ProfessionnelSante,
    /// Radiation protection advisor.
    Crp,
    /// Employer or its correspondent.
    Employeur,
    /// Accredited dosimetry body.
    Organisme,
    /// INB operator.
    ExploitantInb,
    /// Inspector.
    AgentControle,
    /// Registry manager.
    Admin,
    /// Labour ministry.
    Ministere,
    /// Researcher under agreement.
    Chercheur,
}

impl Role {
    /// Every role, in the order of `access.md`.
    pub const ALL: &'static [Role] = &[
        Role::Travailleur,
        Role::MedecinDesigne,
        Role::Mdt,
        Role::ProfessionnelSante,
        Role::Crp,
        Role::Employeur,
        Role::Organisme,
        Role::ExploitantInb,
        Role::AgentControle,
        Role::Admin,
        Role::Ministere,
        Role::Chercheur,
    ];

    /// The role's code, as users see it.
    pub fn code(self) -> &'static str {
        match self {
            Role::Travailleur => "TRAVAILLEUR",
            Role::MedecinDesigne => "MEDECIN_DESIGNE",
            Role::Mdt => "MDT",
            Role::ProfessionnelSante => "PROFESSIONNEL_SANTE",
            Role::Crp => "CRP",
            Role::Employeur => "EMPLOYEUR",
            Role::Organisme => "ORGANISME",
            Role::ExploitantInb => "EXPLOITANT_INB",
            Role::AgentControle => "AGENT_CONTROLE",
            Role::Admin => "ADMIN",
            Role::Ministere => "MINISTERE",
            Role::Chercheur => "CHERCHEUR",
        }
    }

    /// A French label for pages.
    pub fn label(self) -> &'static str {
        match self {
            Role::Travailleur => "Travailleur",
            Role::MedecinDesigne => "Médecin désigné",
            Role::Mdt => "Médecin du travail",
            Role::ProfessionnelSante => "Professionnel de santé",
            Role::Crp => "Conseiller en radioprotection",
            Role::Employeur => "Employeur",
            Role::Organisme => "Organisme accrédité",
            Role::ExploitantInb => "Exploitant INB",
            Role::AgentControle => "Agent de contrôle",
            Role::Admin => "Gestionnaire du registre",
            Role::Ministere => "Ministère du travail",
            Role::Chercheur => "Chercheur",
        }
    }

    /// Parses a role code, ignoring case.
    pub fn parse(s: &str) -> Option<Role> {
        let s = s.trim();
        Role::ALL
            .iter()
            .copied()
            .find(|r| r.code().eq_ignore_ascii_case(s))
    }

    /// Whether a second factor (TOTP) is mandatory (`access.md`, "Authentication").
    pub fn requires_second_factor(self) -> bool {
        matches!(
            self,
            Role::Mdt
                | Role::ProfessionnelSante
                | Role::MedecinDesigne
                | Role::Crp
                | Role::AgentControle
                | Role::Admin
        )
    }

    /// The shortest password admitted for this role.
    pub fn min_password_len(self) -> usize {
        if self.requires_second_factor() {
            15
        } else {
            12
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// An account as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Registry id.
    pub id: i64,
    /// The account's scope and identity.
    #[serde(flatten)]
    pub spec: NewAccount,
}

/// An account's login, role and scope, as given when it is created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAccount {
    /// Login: 3–64 of lower-case letters, digits, `.`, `_`, `-`, `@`.
    pub login: String,
    /// Role.
    pub role: Role,
    /// Organisation (EMPLOYEUR, ORGANISME, EXPLOITANT_INB; optional for a CRP's employer).
    pub siren: Option<Siren>,
    /// Establishments the account is limited to (an employer's scope), or its INB site.
    pub sirets: Vec<Siret>,
    /// Health professional number (MDT, health professionals, designated doctors).
    pub rpps: Option<Rpps>,
    /// The worker a TRAVAILLEUR account belongs to.
    pub nir: Option<Nir>,
    /// Natures an ORGANISME is accredited for.
    pub natures: Vec<Nature>,
    /// Where notifications go.
    pub email: Option<String>,
    /// An employer's correspondent: may declare, may not designate.
    pub correspondent: bool,
}

/// Why an account cannot be created as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    /// Login outside its alphabet.
    #[error(
        "identifiant : 3 à 64 caractères parmi minuscules, chiffres, « . », « _ », « - » et « @ »"
    )]
    Login,
    /// The role needs a SIREN.
    #[error("le rôle {0} exige --siren")]
    SirenRequired(Role),
    /// The role needs an RPPS.
    #[error("le rôle {0} exige --rpps")]
    RppsRequired(Role),
    /// A scope field that the role does not take.
    #[error("le rôle {role} n'accepte pas {field}")]
    NotForRole {
        /// The role.
        role: Role,
        /// The option given.
        field: &'static str,
    },
    /// An establishment outside the account's company.
    #[error("SIRET {0} : n'appartient pas à l'entreprise (SIREN) du compte")]
    SiretOutsideCompany(Siret),
    /// A nature that cannot be accredited.
    #[error(
        "nature {0} : une accréditation ne peut porter que sur EXTERNE, INTERNE_VIVO, INTERNE_VITRO, RADON ou COSMIQUE"
    )]
    Nature(Nature),
    /// An e-mail address without the basic shape.
    #[error("adresse électronique invalide")]
    Email,
}

impl NewAccount {
    /// A bare account of `role`; fill the scope fields before validating.
    pub fn new(login: impl Into<String>, role: Role) -> Self {
        NewAccount {
            login: login.into(),
            role,
            siren: None,
            sirets: Vec::new(),
            rpps: None,
            nir: None,
            natures: Vec::new(),
            email: None,
            correspondent: false,
        }
    }

    /// Checks the scope rules of each role.
    pub fn validate(&self) -> Result<(), AccountError> {
        let login_ok = (3..=64).contains(&self.login.len())
            && self
                .login
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-@".contains(&b));
        if !login_ok {
            return Err(AccountError::Login);
        }
        let role = self.role;
        let needs_siren = matches!(
            role,
            Role::Employeur | Role::Organisme | Role::ExploitantInb
        );
        if needs_siren && self.siren.is_none() {
            return Err(AccountError::SirenRequired(role));
        }
        if role == Role::Mdt && self.rpps.is_none() {
            return Err(AccountError::RppsRequired(role));
        }
        let not_for = |field| Err(AccountError::NotForRole { role, field });
        let takes_siren = needs_siren || role == Role::Crp;
        if self.siren.is_some() && !takes_siren {
            return not_for("--siren");
        }
        if !self.sirets.is_empty() && !needs_siren {
            return not_for("--siret");
        }
        let takes_rpps = matches!(
            role,
            Role::Mdt | Role::ProfessionnelSante | Role::MedecinDesigne
        );
        if self.rpps.is_some() && !takes_rpps {
            return not_for("--rpps");
        }
        if self.nir.is_some() && role != Role::Travailleur {
            return not_for("--nir");
        }
        if !self.natures.is_empty() && role != Role::Organisme {
            return not_for("--natures");
        }
        if self.correspondent && role != Role::Employeur {
            return not_for("--correspondant");
        }
        if let Some(n) = self.natures.iter().find(|n| !n.is_accreditable()) {
            return Err(AccountError::Nature(*n));
        }
        if let Some(siren) = &self.siren
            && let Some(s) = self.sirets.iter().find(|s| &s.siren() != siren)
        {
            return Err(AccountError::SiretOutsideCompany(s.clone()));
        }
        if let Some(e) = &self.email {
            let ok = e.len() <= 254
                && e.split_once('@')
                    .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.starts_with('.'))
                && !e.chars().any(char::is_whitespace);
            if !ok {
                return Err(AccountError::Email);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn siren() -> Siren {
        Siren::parse("732829320").unwrap()
    }

    #[test]
    fn roles_round_trip_and_factor_rules() {
        for r in Role::ALL {
            assert_eq!(Role::parse(&r.code().to_lowercase()), Some(*r));
        }
        assert_eq!(Role::ALL.len(), 12);
        assert!(Role::Mdt.requires_second_factor());
        // access.md: designated doctors read full records, so they need one too.
        assert!(Role::MedecinDesigne.requires_second_factor());
        assert_eq!(Role::MedecinDesigne.min_password_len(), 15);
        assert!(!Role::Travailleur.requires_second_factor());
        assert_eq!(Role::Admin.min_password_len(), 15);
        assert_eq!(Role::Employeur.min_password_len(), 12);
    }

    #[test]
    fn employer_needs_a_siren_and_sirets_of_it() {
        let mut a = NewAccount::new("rh.acme", Role::Employeur);
        assert_eq!(
            a.validate(),
            Err(AccountError::SirenRequired(Role::Employeur))
        );
        a.siren = Some(siren());
        assert!(a.validate().is_ok());
        a.sirets.push(Siret::parse("73282932000074").unwrap());
        assert!(a.validate().is_ok());
        a.sirets.push(Siret::parse("44306184100047").unwrap());
        assert!(matches!(
            a.validate(),
            Err(AccountError::SiretOutsideCompany(_))
        ));
    }

    #[test]
    fn mdt_needs_rpps_and_fields_are_role_bound() {
        let mut a = NewAccount::new("dr.martin", Role::Mdt);
        assert_eq!(a.validate(), Err(AccountError::RppsRequired(Role::Mdt)));
        let mut w = NewAccount::new("worker", Role::Travailleur);
        w.siren = Some(siren());
        assert!(matches!(
            w.validate(),
            Err(AccountError::NotForRole {
                field: "--siren",
                ..
            })
        ));
        a.correspondent = true;
        a.rpps = None;
        assert!(a.validate().is_err());
    }

    #[test]
    fn natures_only_for_bodies_and_never_estimates() {
        let mut o = NewAccount::new("labo", Role::Organisme);
        o.siren = Some(siren());
        o.natures = vec![Nature::External, Nature::Radon];
        assert!(o.validate().is_ok());
        o.natures.push(Nature::PhysicianEstimate);
        assert_eq!(
            o.validate(),
            Err(AccountError::Nature(Nature::PhysicianEstimate))
        );
    }

    #[test]
    fn logins_and_emails() {
        let mut a = NewAccount::new("AB", Role::Admin);
        assert_eq!(a.validate(), Err(AccountError::Login));
        a.login = "admin".into();
        assert!(a.validate().is_ok());
        a.email = Some("not-an-email".into());
        assert_eq!(a.validate(), Err(AccountError::Email));
        a.email = Some("admin@asnr.example.fr".into());
        assert!(a.validate().is_ok());
    }
}

//! The French messages of an alert, per kind of recipient (rules.md §5):
//!
//! - physicians (MDT) and advisors (CRP): the worker's identity, the kind of limit, the
//!   months and the dose (mSv, two decimals);
//! - employers: the worker's identity and the kind of limit, never a number with a dose unit;
//! - the ministry: the kind of limit, the sector, the months and the dose, without the
//!   worker's identity (no name, no NIR, no establishment).
//!
//! Those are the inbox items, read inside the registry after login. E-mails leave the
//! registry: the ones to people ([`render_email`]) carry only what is needed to act — the kind
//! of alert and the link to log in — never a name, a NIR or a dose.
//!
//! Each message has a Message-ID that depends only on the alert and the recipient, so that
//! a retry or a recomputation never makes a second one.

use siseri_domain::ids::{Nir, Siret};
use siseri_domain::limits::LimitKind;
use siseri_domain::totals::Month;
use siseri_storage::RecipientKind;

/// The worker an alert is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerIdentity {
    /// Family name.
    pub nom: String,
    /// First name.
    pub prenom: String,
    /// NIR.
    pub nir: Nir,
}

/// The establishment whose designated people and employers are notified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EstablishmentRef {
    /// Name.
    pub name: String,
    /// SIRET.
    pub siret: Siret,
}

/// What an alert's notifications say: one notice per establishment concerned (a recipient
/// shared by two establishments is notified once: same Message-ID).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertNotice {
    /// The alert.
    pub alert_id: i64,
    /// The kind of limit exceeded.
    pub kind: LimitKind,
    /// First month of the exceedance.
    pub first_month: Month,
    /// Last month of the exceedance (the first one when it lasts a month).
    pub last_month: Month,
    /// The dose that exceeds the limit, in µSv.
    pub dose_usv: i64,
    /// The worker.
    pub worker: WorkerIdentity,
    /// Sector of activity code (`CODE_SECTEUR`).
    pub sector_code: String,
    /// Its label, if known.
    pub sector_label: Option<String>,
    /// The establishment (none when the worker has no attachment at the alert's first
    /// month: then only the ministry is told).
    pub establishment: Option<EstablishmentRef>,
    /// The registry's public address (`SISERI_PUBLIC_URL`, e.g. `https://siseri.example`),
    /// empty when not configured: e-mails then give the page's path only.
    pub public_url: String,
}

/// A message's subject and plain-text body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// Subject.
    pub subject: String,
    /// Body.
    pub body: String,
}

/// The Message-ID of an alert's message to a recipient, angle brackets included:
/// `<alerte-{alerte}-{mdt|crp|employeur}-{compte}@siseri>`, or `<alerte-{alerte}-ministere@siseri>`.
pub fn message_id(alert_id: i64, kind: RecipientKind, account_id: Option<i64>) -> String {
    match (kind, account_id) {
        (RecipientKind::Ministere, _) => format!("<alerte-{alert_id}-ministere@siseri>"),
        (kind, Some(account)) => format!(
            "<alerte-{alert_id}-{}-{account}@siseri>",
            kind.code().to_ascii_lowercase()
        ),
        (kind, None) => format!(
            "<alerte-{alert_id}-{}@siseri>",
            kind.code().to_ascii_lowercase()
        ),
    }
}

/// A dose in µSv as mSv with two decimals and a decimal comma: `21345` → `21,35`
/// (rounded half away from zero).
pub fn format_msv(usv: i64) -> String {
    let sign = if usv < 0 { "-" } else { "" };
    let hundredths = (usv.unsigned_abs() + 5) / 10;
    format!("{sign}{},{:02}", hundredths / 100, hundredths % 100)
}

/// The kind of limit in a few words (subjects).
pub fn kind_short(kind: LimitKind) -> &'static str {
    match kind {
        LimitKind::E => "dose efficace",
        LimitKind::Cristallin => "cristallin",
        LimitKind::Peau => "peau",
        LimitKind::Extremites => "extrémités",
        LimitKind::EnfantANaitre => "enfant à naître",
        LimitKind::VieEntiere => "vie entière",
    }
}

/// The kind of limit in full, without its value.
pub fn kind_label(kind: LimitKind) -> &'static str {
    match kind {
        LimitKind::E => "dose efficace (E) sur 12 mois glissants",
        LimitKind::Cristallin => "dose équivalente au cristallin sur 12 mois glissants",
        LimitKind::Peau => "dose équivalente à la peau sur 12 mois glissants",
        LimitKind::Extremites => "dose équivalente aux extrémités sur 12 mois glissants",
        LimitKind::EnfantANaitre => {
            "enfant à naître (dose efficace depuis la déclaration de grossesse)"
        }
        LimitKind::VieEntiere => {
            "dose efficace sur la vie entière (intervention en situation d'urgence)"
        }
    }
}

fn period(notice: &AlertNotice) -> String {
    if notice.last_month == notice.first_month {
        format!("Mois du dépassement : {}", notice.first_month.label())
    } else {
        format!(
            "Période du dépassement : de {} à {}",
            notice.first_month.label(),
            notice.last_month.label()
        )
    }
}

fn sector(notice: &AlertNotice) -> String {
    match notice.sector_label.as_deref().map(str::trim) {
        Some(label) if !label.is_empty() => {
            format!("Secteur d'activité : {} — {label}", notice.sector_code)
        }
        _ if notice.sector_code.trim().is_empty() => {
            "Secteur d'activité : non renseigné".to_owned()
        }
        _ => format!("Secteur d'activité : {}", notice.sector_code),
    }
}

fn identity(notice: &AlertNotice) -> String {
    let establishment = match &notice.establishment {
        Some(e) => format!("{} (SIRET {})", e.name, e.siret.as_str()),
        None => "aucun rattachement au premier mois du dépassement".to_owned(),
    };
    format!(
        "Travailleur : {} {}\nNIR : {}\nÉtablissement : {establishment}",
        notice.worker.nom.to_uppercase(),
        notice.worker.prenom,
        notice.worker.nir.as_str(),
    )
}

/// The e-mail of `notice` to a recipient of `kind`. To people (physicians, advisors,
/// employers): the kind of limit and where to read the alert after logging in, nothing that
/// identifies the worker or gives a dose. To the ministry: the inbox text, which already
/// leaves the worker's identity out (rules.md §5).
pub fn render_email(notice: &AlertNotice, kind: RecipientKind) -> Rendered {
    if kind == RecipientKind::Ministere {
        return render(notice, kind);
    }
    let subject = format!(
        "[SISERI] Alerte n° {} : dépassement de limite ({})",
        notice.alert_id,
        kind_short(notice.kind)
    );
    let whom = match kind {
        RecipientKind::Employeur => "un travailleur de votre entreprise",
        _ => "un travailleur que vous suivez",
    };
    let link = format!("{}/boite", notice.public_url.trim_end_matches('/'));
    let body = format!(
        "{GREETING}\n\n\
         Le registre SISERI a enregistré un dépassement de limite réglementaire de dose pour \
         {whom}.\n\n\
         Alerte n° {}\nLimite dépassée : {}\n\n\
         Pour en prendre connaissance, connectez-vous à SISERI : {link}\n\n\
         Ce message ne contient volontairement ni nom, ni numéro d'inscription, ni dose : ces \
         informations restent dans le registre, où seules les personnes autorisées les lisent.\n\n\
         {FOOTER}\n",
        notice.alert_id,
        kind_label(notice.kind),
    );
    Rendered { subject, body }
}

const GREETING: &str = "Bonjour,";
const FOOTER: &str =
    "Ce message est envoyé automatiquement par SISERI ; merci de ne pas y répondre.";

/// The subject and body of `notice` for a recipient of `kind`.
pub fn render(notice: &AlertNotice, kind: RecipientKind) -> Rendered {
    let subject = format!(
        "[SISERI] Alerte n° {} : dépassement de limite ({})",
        notice.alert_id,
        kind_short(notice.kind)
    );
    let head = format!(
        "Alerte n° {}\nLimite dépassée : {}\n{}",
        notice.alert_id,
        kind_label(notice.kind),
        period(notice)
    );
    let dose = format!("Dose : {} mSv", format_msv(notice.dose_usv));
    let body = match kind {
        RecipientKind::Mdt | RecipientKind::Crp => {
            let role = if kind == RecipientKind::Mdt {
                "médecin du travail"
            } else {
                "conseiller en radioprotection"
            };
            format!(
                "{GREETING}\n\n\
                 Le registre SISERI a enregistré un dépassement de limite réglementaire de dose.\n\n\
                 {head}\n{dose}\n\n{}\n{}\n\n\
                 Vous recevez ce message en tant que {role} désigné pour cet établissement. \
                 L'alerte et son suivi sont consultables dans SISERI.\n\n{FOOTER}\n",
                identity(notice),
                sector(notice),
            )
        }
        RecipientKind::Employeur => format!(
            "{GREETING}\n\n\
             Le registre SISERI a enregistré un dépassement de limite réglementaire de dose \
             pour un travailleur de votre entreprise.\n\n\
             {head}\n\n{}\n\n\
             La dose n'est communiquée qu'au médecin du travail et au conseiller en \
             radioprotection : rapprochez-vous d'eux pour les mesures à prendre.\n\n{FOOTER}\n",
            identity(notice),
        ),
        RecipientKind::Ministere => format!(
            "{GREETING}\n\n\
             Le registre SISERI a enregistré un dépassement de limite réglementaire de dose \
             (information transmise sans l'identité du travailleur).\n\n\
             {head}\n{}\n{dose}\n\n{FOOTER}\n",
            sector(notice),
        ),
    };
    Rendered { subject, body }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    pub(crate) fn notice(kind: LimitKind) -> AlertNotice {
        AlertNotice {
            alert_id: 42,
            kind,
            first_month: Month::parse("2025-01").unwrap(),
            last_month: Month::parse("2025-03").unwrap(),
            dose_usv: 21_345,
            worker: WorkerIdentity {
                nom: "Durand".into(),
                prenom: "Camille".into(),
                nir: Nir::parse("2951075120005").unwrap(),
            },
            sector_code: "101000".into(),
            sector_label: Some("Radiodiagnostic".into()),
            establishment: Some(EstablishmentRef {
                name: "Centre hospitalier de Valence".into(),
                siret: Siret::parse("73282932000074").unwrap(),
            }),
            public_url: "https://siseri.example".into(),
        }
    }

    #[test]
    fn e_mails_to_people_carry_neither_identity_nor_dose() {
        for kind in [
            RecipientKind::Mdt,
            RecipientKind::Crp,
            RecipientKind::Employeur,
        ] {
            for limit in LimitKind::ALL {
                let r = render_email(&notice(*limit), kind);
                let text = format!("{}\n{}", r.subject, r.body);
                for secret in [
                    "Durand",
                    "DURAND",
                    "Camille",
                    "2951075120005",
                    "Sv",
                    "21,35",
                    "21345",
                    "Centre hospitalier",
                    "73282932000074",
                ] {
                    assert!(!text.contains(secret), "{kind} {secret}: {text}");
                }
                assert!(text.contains(kind_label(*limit)), "{text}");
                assert!(text.contains("https://siseri.example/boite"), "{text}");
                assert!(text.contains("Alerte n° 42"), "{text}");
            }
        }
    }

    #[test]
    fn an_alert_without_attachment_still_reads() {
        let mut n = notice(LimitKind::E);
        n.establishment = None;
        let r = render(&n, RecipientKind::Mdt);
        assert!(r.body.contains("aucun rattachement"), "{}", r.body);
    }

    #[test]
    fn doses_are_shown_in_msv_with_two_decimals() {
        assert_eq!(format_msv(21_345), "21,35");
        assert_eq!(format_msv(21_344), "21,34");
        assert_eq!(format_msv(0), "0,00");
        assert_eq!(format_msv(5), "0,01");
        assert_eq!(format_msv(4), "0,00");
        assert_eq!(format_msv(1_000_000), "1000,00");
        assert_eq!(format_msv(-21_345), "-21,35");
    }

    #[test]
    fn message_ids_depend_on_the_alert_and_the_recipient_only() {
        assert_eq!(
            message_id(42, RecipientKind::Mdt, Some(7)),
            "<alerte-42-mdt-7@siseri>"
        );
        assert_eq!(
            message_id(42, RecipientKind::Employeur, Some(9)),
            "<alerte-42-employeur-9@siseri>"
        );
        assert_eq!(
            message_id(42, RecipientKind::Ministere, None),
            "<alerte-42-ministere@siseri>"
        );
        assert_ne!(
            message_id(42, RecipientKind::Mdt, Some(7)),
            message_id(43, RecipientKind::Mdt, Some(7))
        );
    }

    #[test]
    fn physicians_and_advisors_get_identity_and_dose() {
        for kind in [RecipientKind::Mdt, RecipientKind::Crp] {
            let r = render(&notice(LimitKind::E), kind);
            for needle in [
                "DURAND Camille",
                "2951075120005",
                "21,35 mSv",
                "2025-01",
                "2025-03",
                "dose efficace (E)",
                "Centre hospitalier de Valence",
            ] {
                assert!(r.body.contains(needle), "{kind}: {needle}\n{}", r.body);
            }
            assert!(!r.subject.contains("Durand") && !r.subject.contains("DURAND"));
        }
    }

    #[test]
    fn employers_never_get_a_dose() {
        for kind in LimitKind::ALL {
            let r = render(&notice(*kind), RecipientKind::Employeur);
            let text = format!("{}\n{}", r.subject, r.body);
            assert!(!text.contains("Sv"), "{text}");
            for figure in ["21,35", "21.35", "21345", "21 345", "21,345"] {
                assert!(!text.contains(figure), "{text}");
            }
            assert!(text.contains("DURAND Camille") && text.contains(kind_label(*kind)));
        }
    }

    #[test]
    fn the_ministry_never_gets_the_identity() {
        for kind in LimitKind::ALL {
            let r = render(&notice(*kind), RecipientKind::Ministere);
            let text = format!("{}\n{}", r.subject, r.body);
            for secret in [
                "Durand",
                "DURAND",
                "Camille",
                "2951075120005",
                "Centre hospitalier",
                "73282932000074",
            ] {
                assert!(!text.contains(secret), "{secret}: {text}");
            }
            for needle in [
                "21,35 mSv",
                "101000 — Radiodiagnostic",
                "2025-01",
                "2025-03",
            ] {
                assert!(text.contains(needle), "{needle}: {text}");
            }
        }
    }

    #[test]
    fn a_single_month_is_named_once() {
        let mut n = notice(LimitKind::Peau);
        n.last_month = n.first_month;
        let r = render(&n, RecipientKind::Mdt);
        assert!(
            r.body.contains("Mois du dépassement : 2025-01"),
            "{}",
            r.body
        );
    }
}

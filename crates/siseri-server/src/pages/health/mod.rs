//! The space of occupational physicians (`MDT`), their delegated health professionals,
//! designated doctors and radiation protection advisors (`CRP`): the workers they follow,
//! a worker's full record, the physicians' writes (estimates and internal doses, new
//! versions of results, pregnancies), alerts and their lifecycle, and delegations.
//!
//! Who sees what is never decided here: every read goes through the access policy
//! (`siseri_domain::access`, `crate::records::read_worker_at`) and every write through
//! the functions the API uses (`siseri_import::physician`, `crate::api_people`), which
//! journal them.

mod alerts;
mod delegations;
mod followed;
mod forms;
mod record;

use std::collections::{BTreeMap, BTreeSet};

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{NaiveDate, Utc};
use siseri_domain::access::{Person, ReadDecision, ReadKind, WorkerFacts, can_read};
use siseri_domain::account::Role;
use siseri_domain::ids::{Nir, Siret};
use siseri_domain::worker::{Attachment, Worker};
use siseri_storage::{Store, StoreError};

use super::format;
use super::{Layout, PageError};
use crate::caller::worker_facts;
use crate::{ApiError, AppState};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/suivi", get(followed::page))
        .route("/travailleurs/{nir}", get(record::page))
        .route(
            "/travailleurs/{nir}/resultats/nouveau",
            get(forms::new_result).post(forms::add_result),
        )
        .route(
            "/resultats/{id}/version",
            get(forms::version_form).post(forms::add_version),
        )
        .route(
            "/travailleurs/{nir}/grossesse",
            get(forms::pregnancy_form).post(forms::pregnancy),
        )
        .route("/alertes", get(alerts::list))
        .route("/alertes/{id}", get(alerts::page))
        .route("/alertes/{id}/etapes", post(alerts::step))
        .route(
            "/delegations",
            get(delegations::page).post(delegations::create),
        )
        .route("/delegations/{id}/revocation", post(delegations::revoke))
}

/// The roles of this space's lists (followed workers, alerts).
fn follows_workers(role: Role) -> bool {
    matches!(
        role,
        Role::Mdt | Role::ProfessionnelSante | Role::MedecinDesigne | Role::Crp
    )
}

/// The refusal of a list page to a role that follows nobody.
fn not_for_role() -> PageError {
    PageError(ApiError::Forbidden(
        "ROLE_NON_AUTORISE",
        "Cette page est réservée aux médecins du travail, aux professionnels de santé délégués, aux médecins désignés et aux conseillers en radioprotection.",
    ))
}

/// A worker the caller may read, with what the lists need to know of him.
pub(super) struct Candidate {
    /// The worker.
    pub worker: Worker,
    /// His attachments (current terms of each).
    pub attachments: Vec<Attachment>,
    /// The policy's view of him.
    pub facts: WorkerFacts,
}

/// The establishments through which the caller follows workers today: his own
/// designations, and those of the physicians who delegated to him.
fn followed_establishments(person: &Person, today: NaiveDate) -> BTreeSet<Siret> {
    let own = person
        .designations
        .iter()
        .filter(|d| d.period.covers(today))
        .map(|d| d.siret.clone());
    let delegated = person
        .delegations
        .iter()
        .filter(|d| !d.revoked)
        .flat_map(|d| d.mdt_designations.iter())
        .filter(|d| d.period.covers(today))
        .map(|d| d.siret.clone());
    own.chain(delegated).collect()
}

/// The workers the caller may read: the candidates are the workers attached to the
/// establishments he follows (or, for a designated doctor, those of his grants), and the
/// access policy keeps those it lets him read. `chosen` narrows to one establishment.
pub(super) async fn candidates(
    store: &dyn Store,
    person: &Person,
    chosen: Option<&Siret>,
    today: NaiveDate,
) -> Result<Vec<Candidate>, StoreError> {
    let mut workers: BTreeMap<String, Worker> = BTreeMap::new();
    for siret in followed_establishments(person, today) {
        if chosen.is_some_and(|c| *c != siret) {
            continue;
        }
        for w in store.workers_of(&siret).await? {
            workers.insert(w.nir.to_string(), w);
        }
    }
    for g in person.grants.iter().filter(|g| !g.revoked) {
        if let Some(w) = store.worker(&g.nir).await? {
            workers.insert(w.nir.to_string(), w);
        }
    }
    let mut out = Vec::new();
    for (_, worker) in workers {
        let attachments = store.attachments(&worker.nir).await?;
        if chosen.is_some_and(|c| !attachments.iter().any(|a| a.siret == *c)) {
            continue;
        }
        let facts = worker_facts(&worker.nir, &attachments);
        if readable(&can_read(person, &facts, ReadKind::Identity, today)) {
            out.push(Candidate {
                worker,
                attachments,
                facts,
            });
        }
    }
    out.sort_by(|a, b| {
        (&a.worker.nom, &a.worker.prenom, a.worker.nir.as_str()).cmp(&(
            &b.worker.nom,
            &b.worker.prenom,
            b.worker.nir.as_str(),
        ))
    });
    Ok(out)
}

/// Whether a decision lets the caller see something.
fn readable(d: &ReadDecision) -> bool {
    !matches!(d, ReadDecision::Denied | ReadDecision::MissionRequired)
}

/// Journals one nominative read of a list page (the workers of the rows shown).
async fn journal_list(
    store: &dyn Store,
    caller: &crate::caller::Caller,
    data_kind: &str,
    worker_ids: Vec<i64>,
) -> Result<(), StoreError> {
    if worker_ids.is_empty() {
        return Ok(());
    }
    let mut event = caller.event(Utc::now(), "LECTURE", data_kind);
    event.worker_ids = worker_ids;
    store.append_journal(&[event]).await
}

/// Parses a NIR of a path; a malformed one is answered like an unknown worker.
fn path_nir(s: &str) -> Result<Nir, PageError> {
    Nir::parse(s.trim()).map_err(|_| PageError(ApiError::NotFound))
}

/// The establishments' names by SIRET.
async fn establishment_names(store: &dyn Store) -> Result<BTreeMap<String, String>, StoreError> {
    Ok(store
        .establishments()
        .await?
        .into_iter()
        .map(|e| (e.siret.to_string(), e.name))
        .collect())
}

/// The page shown to an inspector who has not stated his mission yet.
#[derive(Template, WebTemplate)]
#[template(path = "health/mission.html")]
struct MissionPage {
    layout: Layout,
}

/// 403 with the way to state a mission (`access.md`: "an inspector states a mission
/// reference before any consultation").
fn mission_required(layout: Layout) -> Response {
    (StatusCode::FORBIDDEN, MissionPage { layout }).into_response()
}

/// A value typed in a form and its error message, if any.
#[derive(Debug, Clone, Default)]
pub(super) struct Field {
    /// What was typed (shown again after an error).
    pub value: String,
    /// The message of the error on this field.
    pub error: Option<String>,
}

impl Field {
    /// Whether the field is in error (DSFR error state).
    pub fn bad(&self) -> bool {
        self.error.is_some()
    }
}

/// An option of a select.
#[derive(Debug, Clone)]
pub(super) struct Opt {
    /// The code sent.
    pub value: &'static str,
    /// What it says.
    pub label: &'static str,
    /// Whether it is the one chosen.
    pub selected: bool,
}

/// The options of a select, `chosen` selected.
fn options(list: &[(&'static str, &'static str)], chosen: &str) -> Vec<Opt> {
    list.iter()
        .map(|(value, label)| Opt {
            value,
            label,
            selected: value.eq_ignore_ascii_case(chosen.trim()),
        })
        .collect()
}

/// The fixed success notices (`?ok=…`): the query text itself is never shown.
fn notice(code: Option<&str>) -> Option<&'static str> {
    Some(match code? {
        "resultat" => {
            "Le résultat a été enregistré ; les totaux et les alertes du travailleur ont été recalculés."
        }
        "version" => {
            "La nouvelle version du résultat a été enregistrée ; l’ancienne reste consultable dans l’historique."
        }
        "grossesse" => "La déclaration de grossesse a été enregistrée.",
        "fin-grossesse" => "La fin de grossesse a été enregistrée.",
        "etape" => "L’alerte a changé de statut ; l’étape figure dans son historique.",
        "delegation" => "La délégation a été enregistrée.",
        "revocation" => {
            "La délégation a été révoquée ; elle cesse de produire effet immédiatement."
        }
        _ => return None,
    })
}

/// A dose in µSv as typed in a form, in mSv with a decimal comma (`16,8`).
fn msv_input(usv: i64) -> String {
    let whole = usv / 1000;
    let frac = (usv % 1000).abs();
    if frac == 0 {
        return whole.to_string();
    }
    let digits = format!("{frac:03}");
    format!("{whole},{}", digits.trim_end_matches('0'))
}

/// French labels of the codes the pages show.
pub(super) mod labels {
    /// NATURE.
    pub fn nature(code: &str) -> &'static str {
        match code {
            "EXTERNE" => "Externe",
            "INTERNE_VIVO" => "Interne (in vivo)",
            "INTERNE_VITRO" => "Interne (in vitro)",
            "RADON" => "Radon",
            "COSMIQUE" => "Rayonnement cosmique",
            "ESTIMATION_MDT" => "Estimation du médecin",
            _ => "Autre",
        }
    }

    /// GRANDEUR.
    pub fn quantity(code: &str) -> &'static str {
        match code {
            "HP10" => "Hp(10) corps entier",
            "HP10_NEUTRON" => "Hp(10) neutrons",
            "HP007" => "Hp(0,07) peau",
            "HP3" => "Hp(3) cristallin",
            "HP007_EXTREMITE" => "Hp(0,07) extrémités",
            "E50" => "E(50) dose engagée",
            "E" => "E dose efficace",
            _ => "Autre",
        }
    }

    /// POSITION.
    pub fn position(code: &str) -> &'static str {
        match code {
            "OEIL_GAUCHE" => "œil gauche",
            "OEIL_DROIT" => "œil droit",
            "MAIN_GAUCHE" => "main gauche",
            "MAIN_DROITE" => "main droite",
            "POIGNET_GAUCHE" => "poignet gauche",
            "POIGNET_DROIT" => "poignet droit",
            "PIED_GAUCHE" => "pied gauche",
            "PIED_DROIT" => "pied droit",
            _ => "autre",
        }
    }

    /// STATUT of a result.
    pub fn status(code: &str) -> &'static str {
        match code {
            "MESURE" => "Mesuré",
            "INF_SEUIL" => "Inférieur au seuil",
            "ABSENCE" => "Résultat manquant",
            "ANNULE" => "Annulé",
            _ => "Autre",
        }
    }

    /// The kind of limit of an alert.
    pub fn limit(code: &str) -> &'static str {
        match code {
            "E" => "Dose efficace sur 12 mois",
            "CRISTALLIN" => "Cristallin sur 12 mois",
            "PEAU" => "Peau sur 12 mois",
            "EXTREMITES" => "Extrémités sur 12 mois",
            "ENFANT_A_NAITRE" => "Enfant à naître",
            "VIE_ENTIERE" => "Vie entière (groupes d’intervention)",
            _ => "Autre limite",
        }
    }

    /// An alert's status.
    pub fn alert_status(code: &str) -> &'static str {
        match code {
            "OUVERTE" => "Ouverte",
            "EN_ANALYSE" => "En analyse",
            "CONFIRMEE" => "Confirmée",
            "CORRIGEE" => "Corrigée",
            "ANNULEE" => "Annulée",
            _ => "Note",
        }
    }

    /// The DSFR badge variant of an alert's status (the text always says it too).
    pub fn alert_badge(code: &str) -> &'static str {
        match code {
            "OUVERTE" => "fr-badge--error",
            "EN_ANALYSE" => "fr-badge--warning",
            "CONFIRMEE" => "fr-badge--info",
            _ => "fr-badge--success",
        }
    }

    /// An indicator.
    pub fn indicator(code: &str) -> &'static str {
        match code {
            "CLASSEMENT_A_REVOIR" => "Classement à revoir",
            "ECART_PASSIF_OPERATIONNEL" => "Écart entre dosimétrie passive et opérationnelle",
            _ => "Indicateur",
        }
    }

    /// TYPE_CONTRAT.
    pub fn contract(code: &str) -> &'static str {
        match code {
            "CDI" => "CDI",
            "CDD" => "CDD",
            "CTT" => "Intérim",
            "STG" => "Stage",
            "CAP" => "Apprentissage",
            "TFP" => "Fonction publique",
            "TVI" => "Indépendant",
            _ => "Autre",
        }
    }
}

/// How much of a limit is left, as a page shows it.
#[derive(Debug, Clone)]
pub(super) struct LimitLeft {
    /// Which limit.
    pub label: &'static str,
    /// The limit, e.g. `20,00 mSv`.
    pub limit: String,
    /// The total it applies to.
    pub total: String,
    /// `reste 3,20 mSv (16 %)`, or `dépassée de 1,00 mSv`.
    pub text: String,
    /// Whether it is exceeded (reached, for the unborn child).
    pub exceeded: bool,
    /// Whether the figure differs from the adults' (under 18, unborn child): then the
    /// lists say it.
    pub special: bool,
}

impl LimitLeft {
    /// A limit exceeded when the total is greater than it.
    fn over(label: &'static str, total: i64, limit: i64, adult: i64) -> Self {
        Self::make(label, total, limit, total > limit, limit != adult)
    }

    /// The lifetime limit of emergency responders: the career total stays at or below 1 Sv.
    fn lifetime(career: i64) -> Self {
        let limit = siseri_domain::limits::LIFETIME_LIMIT_USV;
        Self::make(
            "Vie entière (groupes d’intervention)",
            career,
            limit,
            career > limit,
            true,
        )
    }

    /// The unborn child's limit, reached at 1 mSv (`rules.md` §4).
    fn reached(label: &'static str, total: i64, limit: i64) -> Self {
        Self::make(label, total, limit, total >= limit, true)
    }

    fn make(label: &'static str, total: i64, limit: i64, exceeded: bool, special: bool) -> Self {
        let left = (limit - total).max(0);
        let text = if exceeded && total > limit {
            format!("dépassée de {}", format::msv(total - limit))
        } else if exceeded {
            "atteinte".to_string()
        } else {
            format!(
                "reste {} ({})",
                format::msv(left),
                format::percent(left, limit)
            )
        };
        LimitLeft {
            label,
            limit: format::msv(limit),
            total: format::msv(total),
            text,
            exceeded,
            special,
        }
    }
}

/// The four rolling limits of a worker at `au` (`siseri_domain::limits`: adults, or under
/// 18 — apprentices included — on the last day of the month) against his totals.
fn rolling_limits_left(birth: NaiveDate, totals: &siseri_domain::totals::Totals) -> Vec<LimitLeft> {
    let l = siseri_domain::limits::rolling_limits_at(birth, totals.au);
    let a = siseri_domain::limits::RollingLimits::ADULT;
    vec![
        LimitLeft::over("Dose efficace", totals.e_12_mois_usv, l.e_usv, a.e_usv),
        LimitLeft::over(
            "Cristallin",
            totals.cristallin_12_mois_usv,
            l.cristallin_usv,
            a.cristallin_usv,
        ),
        LimitLeft::over("Peau", totals.peau_12_mois_usv, l.peau_usv, a.peau_usv),
        LimitLeft::over(
            "Extrémités",
            totals.extremites_12_mois_usv,
            l.extremites_usv,
            a.extremites_usv,
        ),
    ]
}

/// The unborn child's limit of the pregnancy in progress, if any, from the worker's
/// results (a pregnancy starts and ends on a day, not a month).
async fn pregnancy_left(
    store: &dyn Store,
    worker: &Worker,
    au: siseri_domain::totals::Month,
    today: NaiveDate,
) -> Result<Option<LimitLeft>, StoreError> {
    use siseri_domain::limits::{Pregnancy, UNBORN_CHILD_LIMIT_USV, effective_dose_item};
    if worker.sexe != siseri_domain::codes::Sex::F {
        return Ok(None);
    }
    let pregnancies = store.pregnancies(worker.id).await?;
    let Some(p) = pregnancies
        .iter()
        .filter(|p| p.declared_on <= today && p.ended_on.is_none_or(|e| e >= today))
        .max_by_key(|p| p.declared_on)
    else {
        return Ok(None);
    };
    let items: Vec<(NaiveDate, i64)> = store
        .results(&worker.nir)
        .await?
        .iter()
        .filter_map(|r| {
            let v = r.current()?;
            effective_dose_item(r.nature, r.quantity, r.position, &v.values)
        })
        .collect();
    let pregnancy = Pregnancy {
        declared_on: p.declared_on,
        ended_on: p.ended_on,
    };
    Ok(Some(LimitLeft::reached(
        "Enfant à naître",
        pregnancy.total_at(&items, au),
        UNBORN_CHILD_LIMIT_USV,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doses_are_typed_back_in_millisievert() {
        assert_eq!(msv_input(16_800), "16,8");
        assert_eq!(msv_input(120), "0,12");
        assert_eq!(msv_input(5), "0,005");
        assert_eq!(msv_input(0), "0");
        assert_eq!(msv_input(20_000), "20");
    }

    #[test]
    fn limits_left_say_what_remains_or_by_how_much_it_is_exceeded() {
        let l = LimitLeft::over("E", 16_800, 20_000, 20_000);
        assert_eq!(l.text, "reste 3,20\u{a0}mSv (16\u{a0}%)");
        assert!(!l.exceeded && !l.special);
        let l = LimitLeft::over("E", 21_000, 20_000, 20_000);
        assert_eq!(l.text, "dépassée de 1,00\u{a0}mSv");
        assert!(l.exceeded);
        let l = LimitLeft::reached("Enfant", 1_000, 1_000);
        assert!(l.exceeded);
        assert_eq!(l.text, "atteinte");
    }

    #[test]
    fn notices_are_fixed_texts() {
        assert!(notice(Some("version")).is_some());
        assert_eq!(notice(Some("<script>")), None);
        assert_eq!(notice(None), None);
    }
}

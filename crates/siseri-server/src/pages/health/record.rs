//! `GET /travailleurs/{nir}[?au=AAAA-MM]`: a worker's full record as the caller may see it
//! (`crate::records::read_worker_at` applies the policy and journals the read; a refusal
//! is the same page as an unknown NIR), with the physicians' actions when they may write.

use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::Deserialize;
use siseri_domain::access::{
    Person, ReadDecision, ReadKind, WorkerFacts, WriteAction, can_read, can_write,
};
use siseri_domain::account::Role;
use siseri_domain::ids::Nir;
use siseri_domain::totals::{Month, Totals};
use siseri_storage::PregnancyRow;

use super::super::{Layout, PageError, PageResult};
use super::{LimitLeft, format, labels, mission_required, notice, path_nir, rolling_limits_left};
use crate::caller::{Caller, person, worker_facts};
use crate::extract::{PagePath, PageQuery};
use crate::login::PageCaller;
use crate::records::{Refusal, read_worker_at};
use crate::{ApiError, AppState};

// The record as `read_worker_at` gives it (its JSON form, `api.md`): a field the caller
// may not see is absent.

#[derive(Debug, Deserialize)]
pub(super) struct RecordData {
    pub nir: String,
    pub nom: String,
    pub prenom: String,
    pub date_naissance: NaiveDate,
    pub sexe: String,
    #[serde(default)]
    pub rattachements: Vec<AttachmentData>,
    pub resultats: Option<Vec<ResultData>>,
    pub dosimetrie_operationnelle: Option<Vec<ReadingData>>,
    pub totaux: Option<Totals>,
    pub alertes: Option<Vec<AlertData>>,
    pub indicateurs: Option<Vec<IndicatorData>>,
}

#[derive(Debug, Deserialize)]
pub(super) struct AttachmentData {
    pub siret: String,
    pub date_debut: NaiveDate,
    pub date_fin: Option<NaiveDate>,
    pub classement: Option<String>,
    pub autre_exposition: Option<String>,
    pub code_secteur: String,
    pub code_metier: String,
    pub type_contrat: String,
    pub quotite: f64,
}

#[derive(Debug, Clone, Deserialize)]
pub(super) struct ResultData {
    pub id: i64,
    pub reference: String,
    pub emetteur: String,
    pub nature: String,
    pub grandeur: String,
    pub position: Option<String>,
    pub date_debut: NaiveDate,
    pub date_fin: NaiveDate,
    pub statut: String,
    pub dose_usv: Option<i64>,
    pub seuil_usv: Option<i64>,
    pub version: u32,
    pub versions: Option<Vec<VersionData>>,
}

#[derive(Debug, Clone, Deserialize)]
pub(super) struct VersionData {
    pub version: u32,
    pub statut: String,
    pub dose_usv: Option<i64>,
    pub auteur: String,
    pub date: DateTime<Utc>,
    pub justification: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ReadingData {
    pub siret: String,
    pub site_inb: String,
    pub lieu: String,
    pub zone: String,
    pub type_mesure: String,
    pub type_dosimetre: String,
    pub date_debut_port: NaiveDateTime,
    pub date_fin_port: NaiveDateTime,
    pub dose_usv: i64,
    pub activite: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct AlertData {
    pub id: i64,
    pub limite: String,
    pub premier_mois: String,
    pub dernier_mois: String,
    pub dose_usv: Option<i64>,
    pub statut: String,
    pub etapes: Option<Vec<StepData>>,
}

#[derive(Debug, Deserialize)]
pub(super) struct StepData {
    pub statut: String,
    pub date: DateTime<Utc>,
    pub auteur: String,
    pub texte: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct IndicatorData {
    pub code: String,
    pub mois: String,
    pub siret: Option<String>,
}

/// A worker's record read through the policy, with what the pages need besides.
pub(super) struct Readable {
    pub data: RecordData,
    pub person: Person,
    pub facts: WorkerFacts,
    /// Every version of the attachments (the lifetime limit looks at all of them).
    pub attachments: Vec<siseri_domain::worker::Attachment>,
}

/// Reads `nir`'s record as the caller may see it (journaled by `read_worker_at`):
/// `Ok(Err(page))` is the page to answer instead (404 as for an unknown NIR, 403 for an
/// inspector without a mission).
pub(super) async fn read(
    state: &AppState,
    caller: &Caller,
    layout: &Layout,
    nir: &Nir,
    au: Month,
) -> Result<Result<Readable, Response>, PageError> {
    let store = state.store.as_ref();
    let record = match read_worker_at(store, state.clock, caller, nir, au).await? {
        Ok(r) => r,
        Err(Refusal::MissionRequired) => return Ok(Err(mission_required(layout.clone()))),
        Err(Refusal::NotFound) => return Err(PageError(ApiError::NotFound)),
    };
    let data: RecordData = serde_json::to_value(&record)
        .and_then(serde_json::from_value)
        .map_err(|e| ApiError::Internal(format!("dossier : {e}")))?;
    let person = person(store, caller).await?;
    let attachments = store.attachments(nir).await?;
    Ok(Ok(Readable {
        data,
        person,
        facts: worker_facts(nir, &attachments),
        attachments,
    }))
}

/// Whether the caller may write `action` on this worker: the physicians' roles, through
/// the policy exactly as `siseri_import::physician` checks it.
pub(super) fn may_write(r: &Readable, action: &WriteAction, today: NaiveDate) -> bool {
    matches!(r.person.role, Role::Mdt | Role::ProfessionnelSante)
        && can_write(&r.person, Some(&r.facts), action, today)
}

/// An attachment as shown.
struct AttachmentRow {
    establishment: String,
    period: String,
    category: String,
    other: String,
    job: String,
    contract: &'static str,
    fraction: String,
}

/// A version of a result as shown.
pub(super) struct VersionRow {
    pub version: u32,
    pub status: &'static str,
    pub dose: String,
    pub author: String,
    pub date: String,
    pub justification: String,
}

/// A result as shown.
pub(super) struct ResultRow {
    pub id: i64,
    pub reference: String,
    pub sender: String,
    pub nature: &'static str,
    pub quantity: String,
    pub period: String,
    pub status: &'static str,
    pub dose: String,
    pub version: u32,
    pub cancelled: bool,
    pub versions: Vec<VersionRow>,
}

/// Who sent a result: an accredited body by its SIREN, a physician by his RPPS.
fn sender_label(key: &str) -> String {
    if let Some(siren) = key.strip_prefix("SIREN:") {
        format!("Organisme (SIREN {siren})")
    } else if let Some(rpps) = key.strip_prefix("RPPS:") {
        format!("Médecin (RPPS {rpps})")
    } else {
        key.to_string()
    }
}

/// The dose of a version as read: a value, "< seuil", "manquant" or "annulé".
fn dose_text(statut: &str, dose: Option<i64>, threshold: Option<i64>) -> String {
    match (statut, dose) {
        ("MESURE", Some(d)) => format::msv(d),
        ("INF_SEUIL", _) => match threshold {
            Some(t) => format!("inférieure au seuil ({})", format::msv(t)),
            None => "inférieure au seuil".into(),
        },
        ("ABSENCE", _) => "résultat manquant".into(),
        ("ANNULE", _) => "annulé".into(),
        (_, Some(d)) => format::msv(d),
        _ => "—".into(),
    }
}

impl ResultRow {
    pub(super) fn of(r: &ResultData) -> Self {
        ResultRow {
            id: r.id,
            reference: r.reference.clone(),
            sender: sender_label(&r.emetteur),
            nature: labels::nature(&r.nature),
            quantity: match &r.position {
                Some(p) => format!(
                    "{} ({})",
                    labels::quantity(&r.grandeur),
                    labels::position(p)
                ),
                None => labels::quantity(&r.grandeur).to_string(),
            },
            period: format!(
                "du {} au {}",
                format::date(r.date_debut),
                format::date(r.date_fin)
            ),
            status: labels::status(&r.statut),
            dose: dose_text(&r.statut, r.dose_usv, r.seuil_usv),
            version: r.version,
            cancelled: r.statut == "ANNULE",
            versions: r
                .versions
                .iter()
                .flatten()
                .rev()
                .map(|v| VersionRow {
                    version: v.version,
                    status: labels::status(&v.statut),
                    dose: dose_text(&v.statut, v.dose_usv, None),
                    author: v.auteur.clone(),
                    date: format::date_time(v.date),
                    justification: v.justification.clone().unwrap_or_default(),
                })
                .collect(),
        }
    }
}

/// An operational reading as shown.
struct ReadingRow {
    period: String,
    site: String,
    place: String,
    quantity: String,
    dosimeter: String,
    dose: String,
    activity: String,
}

fn date_hour(t: NaiveDateTime) -> String {
    format!("{} {}", format::date(t.date()), t.format("%H:%M"))
}

/// A step of an alert as shown.
pub(super) struct StepRow {
    pub status: &'static str,
    pub date: String,
    pub author: String,
    pub text: String,
}

/// An alert as shown.
struct AlertRow {
    id: i64,
    limit: &'static str,
    months: String,
    dose: String,
    status: &'static str,
    badge: &'static str,
    steps: Vec<StepRow>,
}

/// A line of the totals table.
struct TotalLine {
    label: String,
    value: String,
}

/// A pregnancy as shown.
struct PregnancyLine {
    declared: String,
    ended: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "health/record.html")]
struct RecordPage {
    layout: Layout,
    notice: Option<&'static str>,
    nir: String,
    name: String,
    birth: String,
    sex: &'static str,
    au: String,
    au_value: String,
    attachments: Vec<AttachmentRow>,
    results: Option<Vec<ResultRow>>,
    readings: Option<Vec<ReadingRow>>,
    totals: Vec<TotalLine>,
    incomplete: bool,
    limits: Vec<LimitLeft>,
    alerts: Option<Vec<AlertRow>>,
    indicators: Option<Vec<String>>,
    pregnancies: Option<Vec<PregnancyLine>>,
    advisor: bool,
    can_add: bool,
    can_correct: bool,
    can_pregnancy: bool,
}

/// The query of the record page.
#[derive(Debug, Default, Deserialize)]
pub(super) struct RecordQuery {
    #[serde(default)]
    au: Option<String>,
    #[serde(default)]
    ok: Option<String>,
}

pub(super) async fn page(
    State(state): State<AppState>,
    caller: PageCaller,
    headers: HeaderMap,
    PagePath(n): PagePath<String>,
    PageQuery(query): PageQuery<RecordQuery>,
) -> PageResult {
    let nir = path_nir(&n)?;
    let path = format!("/travailleurs/{nir}");
    let layout = Layout::of(&state, &caller, &headers, &path).await?;
    let today = state.clock.today();
    let au = match query.au.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Month::of(today),
        Some(s) => Month::parse(s).ok_or_else(|| {
            PageError(ApiError::BadRequest(
                "au : mois au format AAAA-MM attendu (par exemple 2025-03).".into(),
            ))
        })?,
    };
    let r = match read(&state, &caller.0, &layout, &nir, au).await? {
        Ok(r) => r,
        Err(page) => return Ok(page),
    };
    let store = state.store.as_ref();
    let names = super::establishment_names(store).await?;
    let site = |s: &str| match names.get(s) {
        Some(n) => format!("{n} ({s})"),
        None => s.to_string(),
    };
    let d = &r.data;
    let medical =
        can_read(&r.person, &r.facts, ReadKind::InternalResults, today) == ReadDecision::Full;
    let worker = store.worker(&nir).await?;
    let (pregnancies, pregnancy_limit) = match (&worker, medical && d.sexe == "F") {
        (Some(w), true) => {
            let rows: Vec<PregnancyRow> = store.pregnancies(w.id).await?;
            let lines = rows
                .iter()
                .map(|p| PregnancyLine {
                    declared: format::date(p.declared_on),
                    ended: p.ended_on.map_or_else(|| "en cours".into(), format::date),
                })
                .collect();
            (
                Some(lines),
                super::pregnancy_left(store, w, au, today).await?,
            )
        }
        _ => (None, None),
    };
    let mut limits = d
        .totaux
        .as_ref()
        .map(|t| rolling_limits_left(d.date_naissance, t))
        .unwrap_or_default();
    limits.extend(pregnancy_limit);
    // Emergency responders (`SUR_GRP_1`, `SUR_GRP_2`) at any time: 1 Sv over the career.
    let lifetime = siseri_domain::limits::lifetime_limit_applies(
        r.attachments
            .iter()
            .flat_map(|a| a.versions.iter().map(|v| &v.terms)),
    );
    if let (true, Some(t)) = (lifetime, &d.totaux) {
        limits.push(LimitLeft::lifetime(t.e_carriere_usv));
    }
    let results: Option<Vec<ResultRow>> = d.resultats.as_ref().map(|rs| {
        let mut sorted: Vec<&ResultData> = rs.iter().collect();
        sorted.sort_by_key(|r| std::cmp::Reverse((r.date_fin, r.id)));
        sorted.into_iter().map(ResultRow::of).collect()
    });
    Ok(RecordPage {
        notice: notice(query.ok.as_deref()),
        nir: d.nir.clone(),
        name: format!("{} {}", d.nom, d.prenom),
        birth: format::date(d.date_naissance),
        sex: if d.sexe == "F" {
            "féminin"
        } else {
            "masculin"
        },
        au: format::month(au),
        au_value: au.label(),
        attachments: d
            .rattachements
            .iter()
            .map(|a| AttachmentRow {
                establishment: site(&a.siret),
                period: match a.date_fin {
                    Some(f) => format!("du {} au {}", format::date(a.date_debut), format::date(f)),
                    None => format!("depuis le {}", format::date(a.date_debut)),
                },
                category: a.classement.clone().unwrap_or_else(|| "non classé".into()),
                other: a.autre_exposition.clone().unwrap_or_else(|| "—".into()),
                job: format!("{} (secteur {})", a.code_metier, a.code_secteur),
                contract: labels::contract(&a.type_contrat),
                fraction: format!("{} %", (a.quotite * 100.0).round()),
            })
            .collect(),
        results,
        readings: d.dosimetrie_operationnelle.as_ref().map(|rs| {
            let mut sorted: Vec<&ReadingData> = rs.iter().collect();
            sorted.sort_by_key(|r| std::cmp::Reverse(r.date_fin_port));
            sorted
                .into_iter()
                .map(|x| ReadingRow {
                    period: format!(
                        "du {} au {}",
                        date_hour(x.date_debut_port),
                        date_hour(x.date_fin_port)
                    ),
                    site: if x.site_inb == x.siret {
                        site(&x.siret)
                    } else {
                        format!("{} — {}", site(&x.site_inb), site(&x.siret))
                    },
                    place: format!("{} (zone {})", x.lieu, x.zone),
                    quantity: x.type_mesure.clone(),
                    dosimeter: x.type_dosimetre.clone(),
                    dose: format::msv(x.dose_usv),
                    activity: x.activite.clone(),
                })
                .collect()
        }),
        totals: d.totaux.as_ref().map(total_lines).unwrap_or_default(),
        incomplete: d.totaux.as_ref().is_some_and(|t| !t.complet),
        limits,
        alerts: d.alertes.as_ref().map(|als| {
            als.iter()
                .rev()
                .map(|a| AlertRow {
                    id: a.id,
                    limit: labels::limit(&a.limite),
                    months: months_text(&a.premier_mois, &a.dernier_mois),
                    dose: a.dose_usv.map_or_else(|| "—".into(), format::msv),
                    status: labels::alert_status(&a.statut),
                    badge: labels::alert_badge(&a.statut),
                    steps: a
                        .etapes
                        .iter()
                        .flatten()
                        .map(|s| StepRow {
                            status: labels::alert_status(&s.statut),
                            date: format::date_time(s.date),
                            author: s.auteur.clone(),
                            text: s.texte.clone(),
                        })
                        .collect(),
                })
                .collect()
        }),
        indicators: d.indicateurs.as_ref().map(|is| {
            is.iter()
                .map(|i| {
                    let month = Month::parse(&i.mois).map_or_else(|| i.mois.clone(), format::month);
                    match &i.siret {
                        Some(s) => {
                            format!("{} — {month} — {}", labels::indicator(&i.code), site(s))
                        }
                        None => format!("{} — {month}", labels::indicator(&i.code)),
                    }
                })
                .collect()
        }),
        pregnancies,
        advisor: r.person.role == Role::Crp,
        can_add: may_write(&r, &WriteAction::AddResult, today),
        can_correct: may_write(&r, &WriteAction::CorrectResult, today),
        can_pregnancy: d.sexe == "F" && may_write(&r, &WriteAction::Pregnancy, today),
        layout,
    }
    .into_response())
}

/// `de 03/2025 à 05/2025`, or `03/2025` for one month.
pub(super) fn months_text(first: &str, last: &str) -> String {
    let f = Month::parse(first).map_or_else(|| first.to_string(), format::month);
    let l = Month::parse(last).map_or_else(|| last.to_string(), format::month);
    if f == l { f } else { format!("de {f} à {l}") }
}

fn total_lines(t: &Totals) -> Vec<TotalLine> {
    let line = |label: &str, usv: i64| TotalLine {
        label: label.to_string(),
        value: format::msv(usv),
    };
    let mut out = vec![
        line("Dose efficace sur 12 mois glissants", t.e_12_mois_usv),
        line(
            "Dose efficace de l’année civile (janvier au mois affiché)",
            t.e_annee_usv,
        ),
        line("Dose efficace de toute la carrière", t.e_carriere_usv),
        line(
            "Cristallin sur 12 mois (œil le plus exposé)",
            t.cristallin_12_mois_usv,
        ),
    ];
    let by_eye: BTreeMap<String, i64> = t
        .cristallin_par_oeil
        .iter()
        .map(|(p, v)| (labels::position(p.code()).to_string(), *v))
        .collect();
    for (eye, v) in by_eye {
        out.push(line(&format!("Cristallin sur 12 mois, {eye}"), v));
    }
    out.push(line("Peau sur 12 mois", t.peau_12_mois_usv));
    out.push(line(
        "Extrémités sur 12 mois (position la plus exposée)",
        t.extremites_12_mois_usv,
    ));
    for (p, v) in &t.extremites_par_position {
        out.push(line(
            &format!("Extrémités sur 12 mois, {}", labels::position(p.code())),
            *v,
        ));
    }
    if let Some(o) = t.autres_contributions_usv {
        out.push(line(
            "dont autres contributions de vos périodes (internes et estimations)",
            o,
        ));
    }
    out
}

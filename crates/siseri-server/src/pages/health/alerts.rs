//! `GET /alertes`: the alerts of the workers the caller follows; `GET /alertes/{id}`: one
//! alert with its steps, and `POST /alertes/{id}/etapes`: moving it along its lifecycle
//! (`rules.md` §5), through `siseri_import::physician::alert_step` as for the API. Only the
//! transitions this actor may make are offered.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect};
use chrono::Utc;
use serde::Deserialize;
use siseri_domain::access::{AlertStep, ReadDecision, ReadKind, WriteAction, can_read, can_write};
use siseri_domain::alerts::{AlertActor, AlertStatus, transition};
use siseri_domain::totals::Month;
use siseri_domain::worker::Worker;

use super::super::paging::{ListQuery, Paged, matches};
use super::super::{Layout, PageError, PageResult, chosen_establishment};
use super::forms::Errors;
use super::record::{StepRow, months_text};
use super::{
    Field, Opt, follows_workers, format, journal_list, labels, mission_required, not_for_role,
    notice, options,
};
use crate::caller::{person, worker_facts};
use crate::extract::{PageForm, PagePath, PageQuery};
use crate::login::PageCaller;
use crate::transmissions::sender_info;
use crate::{ApiError, AppState};

const STATUSES: &[(&str, &str)] = &[
    ("OUVERTE", "Ouverte"),
    ("EN_ANALYSE", "En analyse"),
    ("CONFIRMEE", "Confirmée"),
    ("CORRIGEE", "Corrigée"),
    ("ANNULEE", "Annulée"),
];

/// The query of the alerts list.
#[derive(Debug, Default, Deserialize)]
pub(super) struct AlertsQuery {
    #[serde(default)]
    page: Option<usize>,
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    statut: Option<String>,
}

/// A row of the alerts list.
struct AlertLine {
    id: i64,
    worker_id: i64,
    nir: String,
    name: String,
    limit: &'static str,
    months: String,
    dose: String,
    status: &'static str,
    badge: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "health/alerts.html")]
struct AlertsPage {
    layout: Layout,
    list: Paged<AlertLine>,
    search: String,
    statuses: Vec<Opt>,
}

pub(super) async fn list(
    State(state): State<AppState>,
    caller: PageCaller,
    headers: HeaderMap,
    PageQuery(query): PageQuery<AlertsQuery>,
) -> PageResult {
    let layout = Layout::of(&state, &caller, &headers, "/alertes").await?;
    if !follows_workers(caller.0.account.spec.role) {
        return Err(not_for_role());
    }
    let store = state.store.as_ref();
    let today = state.clock.today();
    let me = person(store, &caller.0).await?;
    let chosen = chosen_establishment(&headers);
    let needle = ListQuery {
        page: None,
        q: query.q.clone(),
    }
    .needle();
    let status = query
        .statut
        .as_deref()
        .and_then(AlertStatus::parse)
        .map(|s| s.code().to_string())
        .unwrap_or_default();
    let mut workers: BTreeMap<i64, Option<Worker>> = BTreeMap::new();
    let mut lines = Vec::new();
    for a in store.all_alerts().await? {
        if !status.is_empty() && a.status != status {
            continue;
        }
        // Each worker once: is he followed (the policy lets the caller read his alerts with
        // the dose), and under the chosen establishment?
        let seen = match workers.entry(a.worker_id) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => {
                let seen = match store.worker_by_id(a.worker_id).await? {
                    Some(w) => {
                        let attachments = store.attachments(&w.nir).await?;
                        let facts = worker_facts(&w.nir, &attachments);
                        let full =
                            can_read(&me, &facts, ReadKind::Alerts, today) == ReadDecision::Full;
                        let here = chosen
                            .as_ref()
                            .is_none_or(|c| attachments.iter().any(|x| x.siret == *c));
                        (full && here).then_some(w)
                    }
                    None => None,
                };
                e.insert(seen)
            }
        };
        let Some(w) = seen.as_ref() else {
            continue;
        };
        let name = format!("{} {}", w.nom, w.prenom);
        let limit = labels::limit(&a.kind);
        if !matches(&needle, &[&name, w.nir.as_str(), limit, &a.kind]) {
            continue;
        }
        lines.push((
            AlertStatus::parse(&a.status).is_some_and(|s| s.is_closed()),
            AlertLine {
                id: a.id,
                worker_id: w.id,
                nir: w.nir.to_string(),
                name,
                limit,
                months: months_text(&Month(a.first_month).label(), &Month(a.last_month).label()),
                dose: format::msv(a.dose_usv),
                status: labels::alert_status(&a.status),
                badge: labels::alert_badge(&a.status),
            },
        ));
    }
    // Those to deal with first, then the newest.
    lines.sort_by(|(ca, a), (cb, b)| ca.cmp(cb).then(b.id.cmp(&a.id)));
    let list = Paged::of(
        lines.into_iter().map(|(_, l)| l).collect(),
        query.page,
        &[
            ("q", query.q.clone().unwrap_or_default()),
            ("statut", status.clone()),
        ],
    );
    let mut ids: Vec<i64> = list.rows.iter().map(|l| l.worker_id).collect();
    ids.sort_unstable();
    ids.dedup();
    journal_list(store, &caller.0, "ALERTES", ids).await?;
    Ok(AlertsPage {
        layout,
        list,
        search: query.q.clone().unwrap_or_default(),
        statuses: options(STATUSES, &status),
    }
    .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "health/alert.html")]
struct AlertPage {
    layout: Layout,
    notice: Option<&'static str>,
    id: i64,
    nir: String,
    name: String,
    limit: &'static str,
    months: String,
    dose: Option<String>,
    limit_value: Option<String>,
    status: &'static str,
    badge: &'static str,
    raised: String,
    steps: Vec<StepRow>,
    errors: Vec<super::forms::Problem>,
    moves: Vec<Opt>,
    move_error: Option<String>,
    text: Field,
    delegate: bool,
    /// Whether the caller has the alerts list (the roles that follow workers).
    listed: bool,
}

/// The query of the alert page.
#[derive(Debug, Default, Deserialize)]
pub(super) struct AlertQuery {
    #[serde(default)]
    ok: Option<String>,
}

pub(super) async fn page(
    State(state): State<AppState>,
    caller: PageCaller,
    headers: HeaderMap,
    PagePath(id): PagePath<i64>,
    PageQuery(query): PageQuery<AlertQuery>,
) -> PageResult {
    show(
        &state,
        &caller,
        &headers,
        id,
        notice(query.ok.as_deref()),
        None,
        &Errors::default(),
    )
    .await
}

/// The alert page; `typed` is the step form as typed when it was refused.
async fn show(
    state: &AppState,
    caller: &PageCaller,
    headers: &HeaderMap,
    id: i64,
    notice: Option<&'static str>,
    typed: Option<&StepForm>,
    errors: &Errors,
) -> PageResult {
    let layout = Layout::of(state, caller, headers, &format!("/alertes/{id}")).await?;
    let store = state.store.as_ref();
    let today = state.clock.today();
    let alert = store.alert(id).await?;
    let worker = match &alert {
        Some(a) => store.worker_by_id(a.worker_id).await?,
        None => None,
    };
    let attachments = match &worker {
        Some(w) => store.attachments(&w.nir).await?,
        None => Vec::new(),
    };
    let me = person(store, &caller.0).await?;
    let decision = worker.as_ref().map(|w| {
        let facts = worker_facts(&w.nir, &attachments);
        (can_read(&me, &facts, ReadKind::Alerts, today), facts)
    });
    // The read, or its refusal, is journaled before the answer (`access.md`).
    let mut event = caller.0.event(Utc::now(), "LECTURE", "ALERTE");
    event.worker_ids = worker.iter().map(|w| w.id).collect();
    let full = match (&alert, &worker, &decision) {
        (Some(_), Some(_), Some((ReadDecision::Full, _))) => true,
        (Some(_), Some(_), Some((ReadDecision::FactOnly, _))) => false,
        (_, _, Some((ReadDecision::MissionRequired, _))) => {
            event.action = "LECTURE_REFUSEE".into();
            event.outcome = "REFUSE".into();
            store.append_journal(&[event]).await?;
            return Ok(mission_required(layout));
        }
        _ => {
            event.action = "LECTURE_REFUSEE".into();
            event.outcome = "REFUSE".into();
            store.append_journal(&[event]).await?;
            return Err(PageError(ApiError::NotFound));
        }
    };
    store.append_journal(&[event]).await?;
    let (Some(alert), Some(worker), Some((_, facts))) = (alert, worker, decision) else {
        return Err(PageError(ApiError::NotFound));
    };
    // The moves this actor may make from the alert's status (rules.md §5, access.md).
    let from = AlertStatus::parse(&alert.status);
    let actor = AlertActor::of_role(me.role);
    let moves: Vec<(&'static str, &'static str)> = match (from, actor, full) {
        (Some(from), Some(actor), true) => AlertStep::ALL
            .iter()
            .filter(|step| transition(from, **step, actor).is_ok())
            .filter(|step| {
                can_write(
                    &me,
                    Some(&facts),
                    &WriteAction::MoveAlert { to: **step },
                    today,
                )
            })
            .map(|step| (step.code(), labels::alert_status(step.code())))
            .collect(),
        _ => Vec::new(),
    };
    let chosen = typed.map_or("", |t| t.statut.as_str());
    let kind = siseri_domain::limits::LimitKind::parse(&alert.kind);
    let page = AlertPage {
        notice,
        id,
        nir: worker.nir.to_string(),
        name: format!("{} {}", worker.nom, worker.prenom),
        limit: labels::limit(&alert.kind),
        months: months_text(
            &Month(alert.first_month).label(),
            &Month(alert.last_month).label(),
        ),
        dose: full.then(|| format::msv(alert.dose_usv)),
        limit_value: kind.filter(|_| full).map(|k| {
            format::msv(siseri_domain::limits::limit_usv(
                k,
                worker.date_naissance,
                Month(alert.last_month),
            ))
        }),
        status: labels::alert_status(&alert.status),
        badge: labels::alert_badge(&alert.status),
        raised: format::date_time(alert.created_at),
        steps: if full {
            alert
                .steps
                .iter()
                .map(|s| StepRow {
                    status: labels::alert_status(&s.status),
                    date: format::date_time(s.at),
                    author: s.author.clone(),
                    text: s.text.clone(),
                })
                .collect()
        } else {
            Vec::new()
        },
        errors: errors.all(),
        moves: options(&moves, chosen),
        move_error: errors.on("statut"),
        text: Field {
            value: typed.map(|t| t.texte.clone()).unwrap_or_default(),
            error: errors.on("texte"),
        },
        delegate: me.role == siseri_domain::account::Role::ProfessionnelSante,
        listed: follows_workers(me.role),
        layout,
    };
    Ok((errors.status(), page).into_response())
}

/// The step form.
#[derive(Debug, Default, Deserialize)]
pub(super) struct StepForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    statut: String,
    #[serde(default)]
    texte: String,
}

pub(super) async fn step(
    State(state): State<AppState>,
    caller: PageCaller,
    headers: HeaderMap,
    PagePath(id): PagePath<i64>,
    PageForm(form): PageForm<StepForm>,
) -> PageResult {
    if let Some(refused) = caller.forged(&form.csrf) {
        return Ok(refused);
    }
    let store = state.store.as_ref();
    let mut errors = Errors::default();
    let sender = sender_info(store, &caller.0).await?;
    match siseri_import::physician::alert_step(
        store,
        &sender,
        id,
        &form.statut,
        &form.texte,
        state.clock.today(),
    )
    .await
    {
        Ok(_) => {
            return Ok(Redirect::to(&format!("/alertes/{id}?ok=etape")).into_response());
        }
        Err(e) => errors.absorb(e, "")?,
    }
    show(&state, &caller, &headers, id, None, Some(&form), &errors).await
}

//! The overview of every alert: worker, limit, months, dose and status, with counts per
//! status and filters. Administrators see everything (access.md); the workers shown are
//! journaled as read.

use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::{Router, routing::get};
use chrono::Utc;
use serde::Deserialize;
use siseri_domain::alerts::AlertStatus;
use siseri_domain::limits::LimitKind;
use siseri_domain::totals::Month;
use siseri_domain::worker::Worker;

use super::{Choice, admin_only};
use crate::AppState;
use crate::extract::PageQuery;
use crate::login::PageCaller;
use crate::pages::paging::{Paged, matches};
use crate::pages::{Layout, PageResult, format};

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/admin/alertes", get(list))
}

/// An alert as the overview shows it.
pub struct AlertRow {
    id: i64,
    nir: String,
    name: String,
    kind: String,
    months: String,
    dose: String,
    status: &'static str,
    status_badge: &'static str,
    raised: String,
}

/// How many alerts have a status.
pub struct StatusCount {
    label: &'static str,
    count: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/alerts.html")]
struct ListPage {
    layout: Layout,
    list: Paged<AlertRow>,
    search: String,
    statuses: Vec<Choice>,
    kinds: Vec<Choice>,
    counts: Vec<StatusCount>,
    total: String,
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    #[serde(default)]
    page: Option<usize>,
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    statut: Option<String>,
    #[serde(default)]
    limite: Option<String>,
}

fn status_label(s: AlertStatus) -> &'static str {
    match s {
        AlertStatus::Ouverte => "Ouverte",
        AlertStatus::EnAnalyse => "En analyse",
        AlertStatus::Confirmee => "Confirmée",
        AlertStatus::Corrigee => "Corrigée",
        AlertStatus::Annulee => "Annulée",
    }
}

fn status_badge(s: AlertStatus) -> &'static str {
    match s {
        AlertStatus::Ouverte => "fr-badge--error",
        AlertStatus::EnAnalyse => "fr-badge--warning",
        AlertStatus::Confirmee => "fr-badge--info",
        AlertStatus::Corrigee | AlertStatus::Annulee => "fr-badge--success",
    }
}

fn kind_label(code: &str) -> String {
    LimitKind::parse(code).map_or_else(
        || code.to_string(),
        |k| siseri_notify::kind_label(k).to_string(),
    )
}

fn months(first: i32, last: i32) -> String {
    if first == last {
        format::month(Month(first))
    } else {
        format!(
            "{} à {}",
            format::month(Month(first)),
            format::month(Month(last))
        )
    }
}

async fn list(
    State(state): State<AppState>,
    caller: PageCaller,
    headers: HeaderMap,
    PageQuery(q): PageQuery<ListQuery>,
) -> PageResult {
    admin_only(&caller)?;
    let layout = Layout::of(&state, &caller, &headers, "/admin/alertes").await?;
    let status = q.statut.as_deref().and_then(AlertStatus::parse);
    let kind = q.limite.as_deref().and_then(LimitKind::parse);
    let text = q.q.clone().unwrap_or_default();
    let needle = Some(text.trim().to_lowercase()).filter(|t| !t.is_empty());
    let mut alerts = state.store.all_alerts().await?;
    // Newest first.
    alerts.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    let mut workers: BTreeMap<i64, Option<Worker>> = BTreeMap::new();
    for a in &alerts {
        if let std::collections::btree_map::Entry::Vacant(slot) = workers.entry(a.worker_id) {
            slot.insert(state.store.worker_by_id(a.worker_id).await?);
        }
    }
    // The counts follow the limit and text filters, not the status filter: they are the
    // tabs one chooses a status from.
    let mut counts: BTreeMap<&str, i64> = BTreeMap::new();
    let mut rows = Vec::new();
    for a in alerts {
        let Some(w) = workers.get(&a.worker_id).and_then(Option::as_ref) else {
            continue;
        };
        let name = format!("{} {}", w.prenom, w.nom);
        if kind.is_some_and(|k| k.code() != a.kind)
            || !matches(&needle, &[w.nir.as_str(), &name, &a.kind])
        {
            continue;
        }
        *counts.entry(status_code(&a.status)).or_default() += 1;
        if status.is_some_and(|s| s.code() != a.status) {
            continue;
        }
        let st = AlertStatus::parse(&a.status);
        rows.push((
            a.worker_id,
            AlertRow {
                id: a.id,
                nir: w.nir.as_str().to_string(),
                name,
                kind: kind_label(&a.kind),
                months: months(a.first_month, a.last_month),
                dose: format::msv(a.dose_usv),
                status: st.map_or("Inconnu", status_label),
                status_badge: st.map_or("", status_badge),
                raised: format::date_time(a.created_at),
            },
        ));
    }
    let list = Paged::of(
        rows,
        q.page,
        &[
            ("q", text.clone()),
            (
                "statut",
                status.map(|s| s.code().to_string()).unwrap_or_default(),
            ),
            (
                "limite",
                kind.map(|k| k.code().to_string()).unwrap_or_default(),
            ),
        ],
    );
    // The workers shown, with their dose: a nominative read, journaled.
    let mut ids: Vec<i64> = list.rows.iter().map(|(id, _)| *id).collect();
    ids.sort_unstable();
    ids.dedup();
    if !ids.is_empty() {
        let mut event = caller.0.event(Utc::now(), "LECTURE", "ALERTES");
        event.worker_ids = ids;
        event.detail = Some(format!("vue d'ensemble des alertes, page {}", list.page));
        state.store.append_journal(&[event]).await?;
    }
    let total: i64 = counts.values().sum();
    let list = Paged {
        rows: list.rows.into_iter().map(|(_, r)| r).collect(),
        page: list.page,
        pages: list.pages,
        total: list.total,
        keep: list.keep,
    };
    Ok(ListPage {
        layout,
        list,
        search: text,
        statuses: AlertStatus::ALL
            .iter()
            .map(|s| Choice::new(s.code(), status_label(*s), Some(*s) == status))
            .collect(),
        kinds: LimitKind::ALL
            .iter()
            .map(|k| Choice::new(k.code(), siseri_notify::kind_short(*k), Some(*k) == kind))
            .collect(),
        counts: AlertStatus::ALL
            .iter()
            .map(|s| StatusCount {
                label: status_label(*s),
                count: format::integer(counts.get(s.code()).copied().unwrap_or(0)),
            })
            .collect(),
        total: format::integer(total),
    }
    .into_response())
}

/// The stored status as one of the known codes (an unknown one counts apart).
fn status_code(s: &str) -> &'static str {
    AlertStatus::parse(s).map_or("?", AlertStatus::code)
}

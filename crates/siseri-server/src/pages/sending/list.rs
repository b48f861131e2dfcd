//! `GET /transmissions`: the caller's organisation's transmissions (administrators: all),
//! those in progress first, as the API lists them; counts per state; the upload form.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use siseri_domain::Role;
use siseri_domain::codes::TransmissionFormat;
use siseri_import::Report;
use siseri_import::report::IN_PROGRESS;
use siseri_storage::TransmissionFilter;

use super::super::paging::{Paged, matches};
use super::super::{Layout, PageError, PageResult};
use super::codes::format_label;
use super::{count, received, sendable};
use crate::extract::PageQuery;
use crate::login::PageCaller;
use crate::transmissions;
use crate::{ApiError, AppState};

/// How many stored transmissions the page reads (newest first).
const LIMIT: i64 = 5000;

/// The query of the list: page, search text and state filter.
#[derive(Debug, Default, Deserialize)]
pub struct ListFilter {
    /// The page, from 1.
    #[serde(default)]
    pub page: Option<usize>,
    /// Searched in the id, the format and the sender's login.
    #[serde(default)]
    pub q: Option<String>,
    /// One of [`STATES`]' keys.
    #[serde(default)]
    pub etat: Option<String>,
}

/// The states of a transmission as the list shows them: key, label, badge.
const STATES: &[(&str, &str, &str)] = &[
    ("en-cours", "En cours", "fr-badge--info"),
    ("refusee", "Fichier refusé", "fr-badge--error"),
    ("anomalies", "Avec anomalies", "fr-badge--warning"),
    ("traitee", "Traitée sans anomalie", "fr-badge--success"),
];

fn state_of(r: &Report) -> &'static (&'static str, &'static str, &'static str) {
    let i = if r.etat == IN_PROGRESS {
        0
    } else if r.refusal().is_some() {
        1
    } else if r.totals.rejected > 0 || r.totals.on_hold > 0 {
        2
    } else {
        3
    };
    &STATES[i]
}

/// A transmission as a row of the list.
pub struct Row {
    id: i64,
    received: String,
    format: String,
    login: String,
    state: &'static str,
    badge: &'static str,
    in_progress: bool,
    processed: String,
    lines: String,
    accepted: String,
    rejected: String,
    on_hold: String,
    duplicates: String,
}

/// A state with its count, a link filtering the list on it.
pub struct StateCount {
    key: &'static str,
    label: &'static str,
    count: String,
    current: bool,
}

/// A format of the upload form.
pub struct FormatChoice {
    code: &'static str,
    label: &'static str,
    selected: bool,
}

/// What the upload form shows after a refused attempt.
#[derive(Debug, Default)]
pub struct FormState {
    /// The format chosen.
    pub format: Option<TransmissionFormat>,
    /// A message about the whole form (format refused…).
    pub error: Option<String>,
    /// A message about the file field.
    pub file_error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "sending/list.html")]
pub struct ListPage {
    layout: Layout,
    list: Paged<Row>,
    search: String,
    etat: String,
    states: Vec<StateCount>,
    total: String,
    formats: Vec<FormatChoice>,
    admin: bool,
    upload_path: &'static str,
    form: FormState,
}

pub(super) async fn page(
    State(state): State<AppState>,
    caller: PageCaller,
    headers: HeaderMap,
    PageQuery(filter): PageQuery<ListFilter>,
) -> PageResult {
    Ok(
        build(&state, &caller, &headers, &filter, FormState::default())
            .await?
            .into_response(),
    )
}

/// The page answered with `status` (a refused upload shows the list again with its error).
pub(super) async fn with_error(
    state: &AppState,
    caller: &PageCaller,
    headers: &HeaderMap,
    status: StatusCode,
    form: FormState,
) -> Result<Response, PageError> {
    let page = build(state, caller, headers, &ListFilter::default(), form).await?;
    Ok((status, page).into_response())
}

async fn build(
    state: &AppState,
    caller: &PageCaller,
    headers: &HeaderMap,
    filter: &ListFilter,
    form: FormState,
) -> Result<ListPage, PageError> {
    let c = &caller.0;
    let role = c.account.spec.role;
    let formats = sendable(role);
    let admin = role == Role::Admin;
    if formats.is_empty() && !admin {
        return Err(PageError(ApiError::Forbidden(
            "ROLE_NON_AUTORISE",
            "Votre rôle n’envoie pas de fichiers au registre.",
        )));
    }
    let layout = Layout::of(state, caller, headers, "/transmissions").await?;
    let reports = reports_of(state, c).await?;

    let mut states: Vec<StateCount> = STATES
        .iter()
        .map(|(key, label, _)| StateCount {
            key,
            label,
            count: String::new(),
            current: filter.etat.as_deref() == Some(*key),
        })
        .collect();
    let mut counts = [0u64; 4];
    for r in &reports {
        if let Some(i) = STATES.iter().position(|s| s == state_of(r)) {
            counts[i] += 1;
        }
    }
    for (s, n) in states.iter_mut().zip(counts) {
        s.count = count(n);
    }

    let needle = filter
        .q
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(str::to_lowercase);
    let etat = filter.etat.clone().unwrap_or_default();
    let total = count(reports.len() as u64);
    let rows = reports
        .iter()
        .filter(|r| etat.is_empty() || state_of(r).0 == etat)
        .filter(|r| {
            let id = r.transmission.unwrap_or(0).to_string();
            // A number is a transmission's id (the formats' labels hold digits too).
            if let Some(n) = needle
                .as_deref()
                .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
            {
                return id == n;
            }
            let label = super::codes::format_label_of(&r.format);
            matches(&needle, &[&r.format, &label, &r.sender.login])
        })
        .map(row)
        .collect();
    let chosen = form.format.or_else(|| formats.first().copied());
    let search = filter.q.clone().unwrap_or_default();
    Ok(ListPage {
        layout,
        list: Paged::of(
            rows,
            filter.page,
            &[("q", search.clone()), ("etat", etat.clone())],
        ),
        search,
        etat,
        states,
        total,
        formats: formats
            .iter()
            .map(|f| FormatChoice {
                code: f.code(),
                label: format_label(*f),
                selected: Some(*f) == chosen,
            })
            .collect(),
        admin,
        upload_path: super::super::PAGE_UPLOAD_PATH,
        form,
    })
}

/// The transmissions as the API lists them: those in progress, then the stored ones,
/// newest first.
async fn reports_of(state: &AppState, c: &crate::caller::Caller) -> Result<Vec<Report>, PageError> {
    let filter = if c.account.spec.role == Role::Admin {
        TransmissionFilter::All
    } else {
        match &c.account.spec.siren {
            Some(s) => TransmissionFilter::Organisation(s.clone()),
            None => TransmissionFilter::Login(c.login().to_owned()),
        }
    };
    let mut out = transmissions::running_for(state, c);
    for row in state.store.transmissions(&filter, LIMIT).await? {
        // An import that ended between the two reads would be listed twice.
        if out.iter().any(|r| r.transmission == Some(row.id)) {
            continue;
        }
        out.push(transmissions::summary(&row)?);
    }
    Ok(out)
}

fn row(r: &Report) -> Row {
    let (_, label, badge) = state_of(r);
    let t = &r.totals;
    Row {
        id: r.transmission.unwrap_or(0),
        received: received(&r.received_at),
        format: super::codes::format_label_of(&r.format),
        login: r.sender.login.clone(),
        state: label,
        badge,
        in_progress: r.etat == IN_PROGRESS,
        processed: count(r.lignes_traitees),
        lines: count(t.lines),
        accepted: count(t.accepted),
        rejected: count(t.rejected),
        on_hold: count(t.on_hold),
        duplicates: count(t.duplicates),
    }
}

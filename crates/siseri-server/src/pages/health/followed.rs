//! `GET /suivi`: the workers the caller follows, with their rolling totals and how much
//! of each limit is left; for an advisor, what he may see (his periods) and the flags
//! `CLASSEMENT_A_REVOIR` and `ECART_PASSIF_OPERATIONNEL`.
//!
//! The lists are filtered and cut to a page first; totals are then computed for the rows
//! shown only, from the same sources as the worker's record (the stored monthly sums, or
//! for an advisor the results of his periods), so that both always agree.

use std::collections::{BTreeMap, BTreeSet};

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use serde::Deserialize;
use siseri_domain::access::{Person, ReadDecision, ReadKind, can_read};
use siseri_domain::account::Role;
use siseri_domain::codes::Classification;
use siseri_domain::totals::{Month, MonthlySums, Totals};
use siseri_storage::{Store, StoreError};

use super::super::paging::{Paged, matches};
use super::super::{Layout, PageResult, chosen_establishment};
use super::{
    Candidate, LimitLeft, Opt, candidates, establishment_names, follows_workers, format,
    journal_list, labels, not_for_role, options, pregnancy_left, rolling_limits_left,
};
use crate::AppState;
use crate::caller::person;
use crate::extract::PageQuery;
use crate::login::PageCaller;

/// The query of the list: search, page and its filters.
#[derive(Debug, Default, Deserialize)]
pub(super) struct FollowedQuery {
    #[serde(default)]
    page: Option<usize>,
    #[serde(default)]
    q: Option<String>,
    /// `oui`: only the workers with an open alert.
    #[serde(default)]
    alerte: Option<String>,
    /// `A` or `B`.
    #[serde(default)]
    categorie: Option<String>,
    /// A SIRET.
    #[serde(default)]
    etablissement: Option<String>,
}

fn text(v: &Option<String>) -> String {
    v.as_deref().map(str::trim).unwrap_or_default().to_string()
}

/// A row of the list.
pub(super) struct Row {
    worker_id: i64,
    nir: String,
    name: String,
    establishments: Vec<String>,
    category: &'static str,
    e12: String,
    others: Option<String>,
    complete: bool,
    limits: Vec<LimitLeft>,
    pregnancy: Option<LimitLeft>,
    open_alerts: usize,
    flags: Vec<&'static str>,
}

#[derive(Template, WebTemplate)]
#[template(path = "health/followed.html")]
struct FollowedPage {
    layout: Layout,
    advisor: bool,
    month: String,
    list: Paged<Row>,
    search: String,
    search_label: &'static str,
    alert_only: bool,
    categories: Vec<Opt>,
    sites: Vec<SiteOpt>,
}

/// An establishment of the filter.
struct SiteOpt {
    siret: String,
    label: String,
    selected: bool,
}

/// What the filters need to know of a candidate, before any dose is read.
struct Entry {
    candidate: Candidate,
    sites: Vec<String>,
    category: &'static str,
    open_alerts: usize,
}

/// The establishments a candidate is shown under: his attachments in force today to the
/// establishments the caller follows (or, failing that, to any).
fn sites_of(c: &Candidate, followed: &BTreeSet<String>, today: chrono::NaiveDate) -> Vec<String> {
    let in_force = |followed_only: bool| -> Vec<String> {
        let mut out: Vec<String> = c
            .attachments
            .iter()
            .filter(|a| a.current().is_some_and(|t| t.covers(today)))
            .map(|a| a.siret.to_string())
            .filter(|s| !followed_only || followed.contains(s))
            .collect();
        out.dedup();
        out
    };
    let mine = in_force(true);
    if mine.is_empty() {
        in_force(false)
    } else {
        mine
    }
}

/// The classification in force today: A when any attachment says A.
fn category_of(c: &Candidate, today: chrono::NaiveDate) -> &'static str {
    let classes: Vec<Classification> = c
        .attachments
        .iter()
        .filter_map(|a| a.current())
        .filter(|t| t.covers(today))
        .filter_map(|t| t.classement)
        .collect();
    if classes.contains(&Classification::A) {
        "A"
    } else if classes.contains(&Classification::B) {
        "B"
    } else {
        "non classé"
    }
}

pub(super) async fn page(
    State(state): State<AppState>,
    caller: PageCaller,
    headers: HeaderMap,
    PageQuery(query): PageQuery<FollowedQuery>,
) -> PageResult {
    let layout = Layout::of(&state, &caller, &headers, "/suivi").await?;
    let role = caller.0.account.spec.role;
    if !follows_workers(role) {
        return Err(not_for_role());
    }
    let store = state.store.as_ref();
    let today = state.clock.today();
    let month = Month::of(today);
    let me = person(store, &caller.0).await?;
    let chosen = chosen_establishment(&headers);
    let followed: BTreeSet<String> = super::followed_establishments(&me, today)
        .iter()
        .map(ToString::to_string)
        .collect();
    let names = establishment_names(store).await?;
    let mut open: BTreeMap<i64, usize> = BTreeMap::new();
    for a in store.all_alerts().await? {
        let closed =
            siseri_domain::alerts::AlertStatus::parse(&a.status).is_some_and(|s| s.is_closed());
        if !closed {
            *open.entry(a.worker_id).or_default() += 1;
        }
    }

    let needle = super::super::paging::ListQuery {
        page: None,
        q: query.q.clone(),
    }
    .needle();
    let alert_only = text(&query.alerte) == "oui";
    let category = text(&query.categorie).to_uppercase();
    let site = text(&query.etablissement);
    let mut entries = Vec::new();
    let mut all_sites: BTreeSet<String> = BTreeSet::new();
    for candidate in candidates(store, &me, chosen.as_ref(), today).await? {
        let sites = sites_of(&candidate, &followed, today);
        all_sites.extend(sites.iter().cloned());
        let entry = Entry {
            category: category_of(&candidate, today),
            open_alerts: open.get(&candidate.worker.id).copied().unwrap_or(0),
            sites,
            candidate,
        };
        let w = &entry.candidate.worker;
        let name = format!("{} {}", w.nom, w.prenom);
        let keep = matches(&needle, &[&name, w.nir.as_str()])
            && (!alert_only || entry.open_alerts > 0)
            && (category.is_empty() || entry.category == category)
            && (site.is_empty() || entry.sites.contains(&site));
        if keep {
            entries.push(entry);
        }
    }
    let advisor = role == Role::Crp;
    let paged = Paged::of(
        entries,
        query.page,
        &[
            ("q", text(&query.q)),
            (
                "alerte",
                if alert_only {
                    "oui".into()
                } else {
                    String::new()
                },
            ),
            ("categorie", category.clone()),
            ("etablissement", site.clone()),
        ],
    );
    let mut rows = Vec::new();
    for e in &paged.rows {
        rows.push(row(store, &me, e, &names, month, today).await?);
    }
    journal_list(
        store,
        &caller.0,
        "LISTE_SUIVI",
        rows.iter().map(|r| r.worker_id).collect(),
    )
    .await?;
    let list = Paged {
        rows,
        page: paged.page,
        pages: paged.pages,
        total: paged.total,
        keep: paged.keep,
    };
    Ok(FollowedPage {
        layout,
        advisor,
        month: format::month(month),
        list,
        search: text(&query.q),
        search_label: "Rechercher par nom ou NIR",
        alert_only,
        categories: options(&[("A", "Catégorie A"), ("B", "Catégorie B")], &category),
        sites: all_sites
            .into_iter()
            .map(|s| SiteOpt {
                label: format!(
                    "{} ({s})",
                    names.get(&s).map_or("Établissement", String::as_str)
                ),
                selected: s == site,
                siret: s,
            })
            .collect(),
    }
    .into_response())
}

/// The worker's totals at `au` as his record gives them to this caller.
pub(super) async fn totals_for(
    store: &dyn Store,
    me: &Person,
    c: &Candidate,
    au: Month,
    today: chrono::NaiveDate,
) -> Result<Option<Totals>, StoreError> {
    Ok(
        match can_read(me, &c.facts, ReadKind::EffectiveDoseTotals, today) {
            // The registry's monthly sums, as the record reads them...
            ReadDecision::Full | ReadDecision::TotalsWithoutDetail => Some(
                MonthlySums::from_rows(store.monthly_doses(&c.worker.nir).await?).totals_at(au),
            ),
            // ...and for an advisor, the results of his periods.
            other => {
                let results = store.results(&c.worker.nir).await?;
                crate::records::totals(&results, &other, au)
            }
        },
    )
}

/// The indicators' codes the caller may see (an advisor: codes and months only).
async fn flags_for(
    store: &dyn Store,
    me: &Person,
    c: &Candidate,
    today: chrono::NaiveDate,
) -> Result<Vec<&'static str>, StoreError> {
    let decision = can_read(me, &c.facts, ReadKind::Indicators, today);
    if !super::readable(&decision) {
        return Ok(Vec::new());
    }
    let results = store.results(&c.worker.nir).await?;
    let readings = store.readings(&c.worker.nir).await?;
    let found = crate::records::indicators(&results, &readings, &c.attachments, &decision)
        .unwrap_or_default();
    let mut flags = Vec::new();
    for code in ["CLASSEMENT_A_REVOIR", "ECART_PASSIF_OPERATIONNEL"] {
        let present = found.iter().any(|i| {
            serde_json::to_value(i)
                .is_ok_and(|v| v.get("code").and_then(|c| c.as_str()) == Some(code))
        });
        if present {
            flags.push(labels::indicator(code));
        }
    }
    Ok(flags)
}

async fn row(
    store: &dyn Store,
    me: &Person,
    e: &Entry,
    names: &BTreeMap<String, String>,
    month: Month,
    today: chrono::NaiveDate,
) -> Result<Row, StoreError> {
    let c = &e.candidate;
    let totals = totals_for(store, me, c, month, today).await?;
    let limits = totals
        .as_ref()
        .map(|t| rolling_limits_left(c.worker.date_naissance, t))
        .unwrap_or_default();
    // The unborn child's limit is medical: shown to those who read the medical record.
    let medical = can_read(me, &c.facts, ReadKind::InternalResults, today) == ReadDecision::Full;
    let pregnancy = if medical {
        pregnancy_left(store, &c.worker, month, today).await?
    } else {
        None
    };
    let flags = if me.role == Role::Crp {
        flags_for(store, me, c, today).await?
    } else {
        Vec::new()
    };
    Ok(Row {
        worker_id: c.worker.id,
        nir: c.worker.nir.to_string(),
        name: format!("{} {}", c.worker.nom, c.worker.prenom),
        establishments: e
            .sites
            .iter()
            .map(|s| names.get(s).cloned().unwrap_or_else(|| s.clone()))
            .collect(),
        category: e.category,
        e12: totals
            .as_ref()
            .map_or_else(|| "—".to_string(), |t| format::msv(t.e_12_mois_usv)),
        others: totals
            .as_ref()
            .and_then(|t| t.autres_contributions_usv)
            .map(format::msv),
        complete: totals.as_ref().is_none_or(|t| t.complet),
        limits,
        pregnancy,
        open_alerts: e.open_alerts,
        flags,
    })
}

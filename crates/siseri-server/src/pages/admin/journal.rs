//! The journal: a search over every entry (actor, worker, action, kind of data, dates),
//! newest first with each entry's hash, and the verification of the hash chain.
//!
//! The store reads the journal only in sequence order, page by page: the search walks it
//! once and keeps just the entries of the page asked for, so that memory stays flat
//! however long the journal grows.

use std::collections::VecDeque;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::{Router, routing::get};
use chrono::{NaiveDate, Utc};
use serde::Deserialize;
use siseri_domain::ids::Nir;
use siseri_domain::journal::JournalEntry;
use siseri_storage::{Store, StoreError};

use super::{Input, admin_only, paged};
use crate::extract::{PageForm, PageQuery};
use crate::login::PageCaller;
use crate::pages::paging::{PER_PAGE, Paged};
use crate::pages::{Layout, PageResult, format};
use crate::{ApiError, AppState};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/journal", get(search))
        .route("/admin/journal/verification", axum::routing::post(verify))
}

/// Entries read from the store at a time.
const CHUNK: i64 = 5_000;

/// Calls `f` on every entry, in sequence order.
pub(super) async fn scan(
    store: &dyn Store,
    mut f: impl FnMut(&JournalEntry),
) -> Result<(), StoreError> {
    let mut after = 0;
    loop {
        let page = store.journal_page(after, CHUNK).await?;
        for e in &page {
            f(e);
        }
        match page.last() {
            Some(last) if page.len() as i64 == CHUNK => after = last.seq,
            _ => return Ok(()),
        }
    }
}

/// The workers of an entry: a transmission may touch thousands, the page shows the
/// first few and the count.
fn workers(ids: &[i64]) -> String {
    const SHOWN: usize = 8;
    let first: Vec<String> = ids.iter().take(SHOWN).map(i64::to_string).collect();
    if ids.len() > SHOWN {
        format!(
            "{}… ({} travailleurs)",
            first.join(", "),
            format::integer(ids.len() as i64)
        )
    } else {
        first.join(", ")
    }
}

/// A hash cut in groups of 16 characters.
fn groups(hash: &str) -> Vec<String> {
    hash.chars()
        .collect::<Vec<_>>()
        .chunks(16)
        .map(|c| c.iter().collect())
        .collect()
}

/// The search, as typed.
#[derive(Debug, Default, Deserialize)]
struct SearchQuery {
    #[serde(default)]
    page: Option<usize>,
    #[serde(default)]
    acteur: Option<String>,
    #[serde(default)]
    nir: Option<String>,
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    donnees: Option<String>,
    #[serde(default)]
    du: Option<String>,
    #[serde(default)]
    au: Option<String>,
}

fn trimmed(s: &Option<String>) -> String {
    s.as_deref().map(str::trim).unwrap_or_default().to_string()
}

/// The search once checked: what to keep.
#[derive(Debug, Default)]
struct Filter {
    actor: String,
    /// The worker's surrogate id; `Some(None)` for a NIR the registry does not know.
    worker: Option<Option<i64>>,
    action: String,
    data_kind: String,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

impl Filter {
    fn keeps(&self, e: &JournalEntry) -> bool {
        let ev = &e.event;
        let day = ev
            .at
            .with_timezone(&siseri_domain::clock::paris_offset(ev.at))
            .date_naive();
        (self.actor.is_empty() || ev.actor.to_lowercase().contains(&self.actor.to_lowercase()))
            && match self.worker {
                None => true,
                Some(None) => false,
                Some(Some(id)) => ev.worker_ids.contains(&id),
            }
            && (self.action.is_empty() || ev.action.eq_ignore_ascii_case(&self.action))
            && (self.data_kind.is_empty() || ev.data_kind.eq_ignore_ascii_case(&self.data_kind))
            && self.from.is_none_or(|f| day >= f)
            && self.to.is_none_or(|t| day <= t)
    }
}

/// An entry as the page shows it.
pub struct EntryRow {
    seq: i64,
    at: String,
    actor: String,
    role: String,
    action: String,
    data_kind: String,
    workers: String,
    outcome: String,
    mission: String,
    detail: String,
    /// The hash in groups of 16, so that it may wrap on a narrow screen.
    hash: Vec<String>,
}

impl From<&JournalEntry> for EntryRow {
    fn from(e: &JournalEntry) -> Self {
        let ev = &e.event;
        EntryRow {
            seq: e.seq,
            at: format::date_time(ev.at),
            actor: ev.actor.clone(),
            role: ev.role.clone().unwrap_or_default(),
            action: ev.action.clone(),
            data_kind: ev.data_kind.clone(),
            workers: workers(&ev.worker_ids),
            outcome: ev.outcome.clone(),
            mission: ev.mission.clone().unwrap_or_default(),
            detail: ev.detail.clone().unwrap_or_default(),
            hash: groups(&e.hash),
        }
    }
}

/// The result of a verification.
pub struct Verification {
    intact: bool,
    message: String,
    head: Vec<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/journal.html")]
struct JournalPage {
    layout: Layout,
    actor: Input,
    nir: Input,
    action: Input,
    data_kind: Input,
    from: Input,
    to: Input,
    unknown_worker: bool,
    list: Paged<EntryRow>,
    verification: Option<Verification>,
}

/// Checks the typed search, putting each refusal on its field.
async fn filter_of(
    state: &AppState,
    q: &SearchQuery,
    page: &mut JournalPage,
) -> Result<Filter, StoreError> {
    let mut f = Filter {
        actor: trimmed(&q.acteur),
        action: trimmed(&q.action),
        data_kind: trimmed(&q.donnees),
        ..Filter::default()
    };
    let nir = trimmed(&q.nir);
    if !nir.is_empty() {
        match Nir::parse(&nir) {
            Ok(n) => {
                let id = state.store.worker(&n).await?.map(|w| w.id);
                page.unknown_worker = id.is_none();
                f.worker = Some(id);
            }
            Err(e) => page.nir.error = Some(format!("NIR invalide : {e}.")),
        }
    }
    let date = |s: &Option<String>, input: &mut Input| {
        let t = trimmed(s);
        if t.is_empty() {
            return None;
        }
        let parsed = NaiveDate::parse_from_str(&t, "%Y-%m-%d")
            .or_else(|_| NaiveDate::parse_from_str(&t, "%d/%m/%Y"));
        match parsed {
            Ok(d) => Some(d),
            Err(_) => {
                input.error = Some("Date invalide : JJ/MM/AAAA attendu.".into());
                None
            }
        }
    };
    f.from = date(&q.du, &mut page.from);
    f.to = date(&q.au, &mut page.to);
    Ok(f)
}

/// Walks the journal once, keeping the matching entries of page `page` (newest first).
async fn entries(
    store: &dyn Store,
    filter: &Filter,
    page: usize,
) -> Result<(Vec<EntryRow>, usize, usize), StoreError> {
    let page = page.max(1);
    let want = page.saturating_mul(PER_PAGE);
    let mut last: VecDeque<JournalEntry> = VecDeque::new();
    let mut total = 0usize;
    scan(store, |e| {
        if filter.keeps(e) {
            total += 1;
            if last.len() == want {
                last.pop_front();
            }
            last.push_back(e.clone());
        }
    })
    .await?;
    let pages = total.div_ceil(PER_PAGE).max(1);
    let page = page.min(pages);
    // Newest first: the i-th newest is `last[len - 1 - i]`.
    let len = last.len();
    let rows = ((page - 1) * PER_PAGE..(page * PER_PAGE).min(total))
        .filter_map(|i| len.checked_sub(i + 1).and_then(|j| last.get(j)))
        .map(EntryRow::from)
        .collect();
    Ok((rows, page, total))
}

async fn render(
    state: &AppState,
    caller: &PageCaller,
    headers: &HeaderMap,
    q: SearchQuery,
    verification: Option<Verification>,
) -> PageResult {
    admin_only(caller)?;
    let layout = Layout::of(state, caller, headers, "/admin/journal").await?;
    let input = |name, label, hint, value: &Option<String>| {
        super::Input::text(name, label, hint).with(&trimmed(value))
    };
    let mut page = JournalPage {
        layout,
        actor: input(
            "acteur",
            "Acteur (identifiant)",
            "Tout ou partie de l’identifiant.",
            &q.acteur,
        ),
        nir: input(
            "nir",
            "NIR du travailleur",
            "13 caractères, sans la clé.",
            &q.nir,
        ),
        action: input(
            "action",
            "Action",
            "Par exemple LECTURE, LECTURE_REFUSEE, ECRITURE, CONNEXION.",
            &q.action,
        ),
        data_kind: input(
            "donnees",
            "Nature des données",
            "Par exemple DOSSIER, COMPTE, TRANSMISSION, FILE_ATTENTE.",
            &q.donnees,
        ),
        from: input("du", "Du", "", &q.du).kind("date", "off"),
        to: input("au", "Au", "", &q.au).kind("date", "off"),
        unknown_worker: false,
        list: paged(Vec::new(), 1, 0, &[]),
        verification,
    };
    let filter = filter_of(state, &q, &mut page).await?;
    let (rows, number, total) = entries(state.store.as_ref(), &filter, q.page.unwrap_or(1)).await?;
    page.list = paged(
        rows,
        number,
        total,
        &[
            ("acteur", trimmed(&q.acteur)),
            ("nir", trimmed(&q.nir)),
            ("action", trimmed(&q.action)),
            ("donnees", trimmed(&q.donnees)),
            ("du", trimmed(&q.du)),
            ("au", trimmed(&q.au)),
        ],
    );
    // Consulting the journal is itself journaled: about the worker searched for, if any,
    // so that he sees it among the reads of his record.
    let mut event = caller.0.event(Utc::now(), "LECTURE", "JOURNAL");
    event.worker_ids = filter.worker.flatten().into_iter().collect();
    event.detail = Some(format!(
        "recherche dans le journal : {} entrée(s), page {}",
        total, page.list.page
    ));
    state.store.append_journal(&[event]).await?;
    Ok(page.into_response())
}

async fn search(
    State(state): State<AppState>,
    caller: PageCaller,
    headers: HeaderMap,
    PageQuery(q): PageQuery<SearchQuery>,
) -> PageResult {
    render(&state, &caller, &headers, q, None).await
}

#[derive(Deserialize)]
struct VerifyForm {
    #[serde(default)]
    csrf: String,
}

async fn verify(
    State(state): State<AppState>,
    caller: PageCaller,
    headers: HeaderMap,
    PageForm(form): PageForm<VerifyForm>,
) -> PageResult {
    admin_only(&caller)?;
    if let Some(r) = caller.forged(&form.csrf) {
        return Ok(r);
    }
    let store = state.store.as_ref();
    let outcome = siseri_storage::journal::verify(store)
        .await
        .map_err(ApiError::from)?;
    let (_, head) = store.journal_head().await?;
    let verification = match outcome {
        Ok(n) => Verification {
            intact: true,
            message: format!(
                "Journal intègre : {} entrées vérifiées, chaînage et tête conservée à part concordants.",
                format::integer(n)
            ),
            head: groups(&head),
        },
        Err(b) => Verification {
            intact: false,
            message: format!(
                "Journal altéré à partir de l’entrée n° {} : {b}.",
                b.first_broken()
            ),
            head: groups(&head),
        },
    };
    render(
        &state,
        &caller,
        &headers,
        SearchQuery::default(),
        Some(verification),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_worker_lists_are_cut() {
        assert_eq!(workers(&[3, 1]), "3, 1");
        let many: Vec<i64> = (1..=1200).collect();
        assert_eq!(
            workers(&many),
            "1, 2, 3, 4, 5, 6, 7, 8… (1\u{202f}200 travailleurs)"
        );
        assert_eq!(groups(&"a".repeat(40)).len(), 3);
    }
}

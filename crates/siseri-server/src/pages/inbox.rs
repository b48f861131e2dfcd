//! The inbox: the notices of alerts addressed to the connected person (the same texts
//! as the e-mails), newest first, each marked read on demand.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect};
use chrono::Utc;
use serde::Deserialize;

use super::paging::{ListQuery, Paged, matches};
use super::{Layout, PageError, PageResult, format};
use crate::extract::{PageForm, PagePath, PageQuery};
use crate::login::PageCaller;
use crate::{ApiError, AppState};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/boite", axum::routing::get(inbox))
        .route("/boite/{id}/lu", axum::routing::post(mark_read))
}

/// A message as the page shows it.
pub struct Message {
    id: i64,
    subject: String,
    body: Vec<String>,
    date: String,
    read: bool,
    alert: Option<i64>,
}

#[derive(Template, WebTemplate)]
#[template(path = "common/inbox.html")]
struct InboxPage {
    layout: Layout,
    list: Paged<Message>,
    search: String,
    search_label: &'static str,
}

async fn inbox(
    State(state): State<AppState>,
    caller: PageCaller,
    headers: HeaderMap,
    PageQuery(query): PageQuery<ListQuery>,
) -> PageResult {
    let layout = Layout::of(&state, &caller, &headers, "/boite").await?;
    let needle = query.needle();
    let rows = state
        .store
        .outbox()
        .inbox_of(caller.0.account.id, false, 5000)
        .await?
        .into_iter()
        .filter(|r| matches(&needle, &[&r.subject, &r.body]))
        .map(|r| Message {
            id: r.id,
            body: r.body.lines().map(str::to_string).collect(),
            subject: r.subject,
            date: format::date_time(r.created_at),
            read: r.read_at.is_some(),
            alert: r.alert_id,
        })
        .collect();
    Ok(InboxPage {
        layout,
        list: Paged::of(rows, query.page, &[("q", query.text())]),
        search: query.text(),
        search_label: "Rechercher dans mes messages",
    }
    .into_response())
}

#[derive(Deserialize)]
struct ReadForm {
    csrf: String,
}

async fn mark_read(
    State(state): State<AppState>,
    caller: PageCaller,
    PagePath(id): PagePath<i64>,
    PageForm(form): PageForm<ReadForm>,
) -> PageResult {
    if let Some(refused) = caller.forged(&form.csrf) {
        return Ok(refused);
    }
    if !state
        .store
        .outbox()
        .mark_inbox_read(caller.0.account.id, id, Utc::now())
        .await?
    {
        return Err(PageError(ApiError::NotFound));
    }
    Ok(Redirect::to("/boite").into_response())
}

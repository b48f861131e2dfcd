//! Sending files and reading their execution reports (exchange.md): the organisation's
//! transmissions with an upload form ([`list`]), the upload itself ([`upload`]), and the
//! report of one transmission with its progress while it runs ([`report`]).
//!
//! Everything goes through the API's code: the same import (`siseri_import::import` with
//! the same request and sender), the same list of imports in progress, the same rule of
//! who may read a report (`transmissions::visible`).

mod codes;
mod list;
mod report;
mod upload;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use siseri_domain::Role;
use siseri_domain::access::may_send;
use siseri_domain::codes::TransmissionFormat;

use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/transmissions", axum::routing::get(list::page))
        .route(
            super::PAGE_UPLOAD_PATH,
            // The handler counts the bytes itself (2 GiB, like the API): axum's 2 MB default
            // limit of multipart bodies must not apply.
            axum::routing::post(upload::upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/transmissions/{id}", axum::routing::get(report::page))
}

/// The formats a role may send (the access policy decides: `may_send`).
fn sendable(role: Role) -> Vec<TransmissionFormat> {
    TransmissionFormat::ALL
        .iter()
        .copied()
        .filter(|f| may_send(role, *f))
        .collect()
}

/// A reception date (RFC 3339, as reports keep it) shown the French way.
fn received(at: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(at)
        .map(|t| super::format::date_time(t.with_timezone(&chrono::Utc)))
        .unwrap_or_else(|_| at.to_string())
}

/// A count shown the French way.
fn count(n: u64) -> String {
    super::format::integer(i64::try_from(n).unwrap_or(i64::MAX))
}

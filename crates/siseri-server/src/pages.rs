//! Server-rendered pages in French (askama templates compiled into the binary).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::{ApiError, AppState};

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/", axum::routing::get(home))
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
struct Home {
    workers: String,
    establishments: String,
    results: String,
    nomenclature: String,
}

async fn home(State(state): State<AppState>) -> Result<Home, ApiError> {
    let workers = state.store.worker_count().await?;
    let establishments = state.store.establishments().await?.len();
    let results = state.store.result_version_count().await?;
    Ok(Home {
        workers: french_integer(workers),
        establishments: french_integer(establishments as i64),
        results: french_integer(results),
        nomenclature: french_integer(siseri_domain::Nomenclature::official().len() as i64),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "not_found.html")]
struct NotFound;

pub(crate) fn not_found_page() -> Response {
    (StatusCode::NOT_FOUND, NotFound).into_response()
}

/// An integer as written in French: groups of three digits separated by a narrow
/// no-break space (`12 345`).
pub fn french_integer(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

#[cfg(test)]
mod tests {
    use super::french_integer;

    #[test]
    fn integers_in_french() {
        assert_eq!(french_integer(0), "0");
        assert_eq!(french_integer(999), "999");
        assert_eq!(french_integer(1000), "1\u{202f}000");
        assert_eq!(french_integer(1_234_567), "1\u{202f}234\u{202f}567");
        assert_eq!(french_integer(-12_000), "-12\u{202f}000");
    }
}

//! Static assets compiled into the binary: the DSFR (npm `@gouvfr/dsfr`) and htmx,
//! vendored by `scripts/vendor-dsfr.sh`.

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

use crate::AppState;
use crate::extract::PagePath;

#[derive(RustEmbed)]
#[folder = "assets/"]
struct Assets;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/static/{*path}", axum::routing::get(asset))
}

async fn asset(PagePath(path): PagePath<String>) -> Response {
    let Some(file) = Assets::get(&path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mime = content_type(&path);
    (
        [
            (header::CONTENT_TYPE, mime),
            // Assets change only with the binary: a day is safe and keeps pages fast.
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        file.data,
    )
        .into_response()
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "woff2" => "font/woff2",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "webmanifest" => "application/manifest+json",
        "md" | "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `/static/…` URL the layout references is compiled into the binary.
    #[test]
    fn layout_references_only_embedded_assets() {
        let layout = include_str!("../templates/base.html");
        let mut count = 0;
        for part in layout.split("\"/static/").skip(1) {
            let path = part.split('"').next().unwrap_or_default();
            assert!(Assets::get(path).is_some(), "missing asset {path}");
            count += 1;
        }
        assert!(count >= 6, "{count}");
    }

    #[test]
    fn content_types() {
        assert_eq!(content_type("dsfr/dsfr.min.css"), "text/css; charset=utf-8");
        assert_eq!(content_type("dsfr/fonts/Marianne-Bold.woff2"), "font/woff2");
        assert_eq!(content_type("x"), "application/octet-stream");
    }
}

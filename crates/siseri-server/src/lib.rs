//! The HTTP server: French pages in the State design system (DSFR), the JSON API
//! under `/api/v1` with its OpenAPI document, and the static assets, all served by
//! the one binary.
//!
//! Handlers never touch SQL: they go through the [`siseri_storage::Store`] interface.

mod api;
mod api_doc;
mod api_people;
pub mod api_physicians;
mod api_workers;
mod assets;
pub mod auth;
pub mod caller;
pub mod client;
mod error;
pub mod extract;
pub mod federation;
mod login;
pub mod notifications;
pub mod oidc;
pub mod pages;
pub mod records;
pub mod redirect;
mod reset;
mod state;
pub mod transmissions;

pub use api::openapi_document;
pub use error::ApiError;
pub use state::{AppState, Instants};

use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

/// The request-id header users can quote to support.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Content-Security-Policy: nothing from elsewhere, no inline script.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
                   frame-ancestors 'none'";

/// Refuses cross-site writes made with the session cookie (defence in depth beside the
/// forms' anti-forgery tokens): `Sec-Fetch-Site` must not be `cross-site`, and an
/// `Origin`, when sent, must be this server's.
async fn same_origin_writes(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let h = request.headers();
    let unsafe_method = !matches!(
        *request.method(),
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    );
    let with_cookie = h.contains_key(header::COOKIE) && !h.contains_key(header::AUTHORIZATION);
    if unsafe_method && with_cookie {
        let cross_site = h.get("sec-fetch-site").is_some_and(|v| v == "cross-site");
        let host = h.get(header::HOST).and_then(|v| v.to_str().ok());
        let foreign_origin = h
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|o| {
                o == "null"
                    || host
                        .is_none_or(|host| o.split_once("://").map(|(_, rest)| rest) != Some(host))
            });
        if cross_site || foreign_origin {
            return ApiError::Forbidden("CSRF", "Requête d'un autre site refusée.").into_response();
        }
    }
    next.run(request).await
}

/// `Cache-Control: no-store` on every answer to an authenticated request (a session cookie
/// or a bearer token: `access.md`), and on every answer that sets a cookie, so that the back
/// button after logging out shows nothing; public static assets keep their own (`public`)
/// caching, since they hold nothing personal. `Strict-Transport-Security` when a trusted
/// proxy says the client came over HTTPS (the server itself speaks plain HTTP).
async fn private_responses(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let h = request.headers();
    let authenticated = caller::cookie(h, caller::SESSION_COOKIE).is_some()
        || h.contains_key(header::AUTHORIZATION);
    let https = state
        .trusted_proxies
        .forwarded_https(client::peer(request.extensions()), h);
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let public = headers
        .get(header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("public"));
    if (authenticated && !public) || headers.contains_key(header::SET_COOKIE) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        );
    }
    response
}

/// Every request gets a 1 MiB body limit and a 30-second timeout (api.md), except the
/// upload of a transmission, by the API or by the page (2 GiB, counted by its handler;
/// no timeout).
async fn limits(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    const MAX: usize = 1024 * 1024;
    if request.method() == axum::http::Method::POST
        && (request.uri().path() == transmissions::UPLOAD_PATH
            || request.uri().path() == pages::PAGE_UPLOAD_PATH)
    {
        return next.run(request).await;
    }
    let api = request.uri().path().starts_with("/api/");
    let refuse = |error: ApiError| {
        if api {
            error.into_response()
        } else {
            pages::PageError(error).into_response()
        }
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX) {
        return refuse(ApiError::TooLarge);
    }
    let request = request.map(|b| axum::body::Body::new(http_body_util::Limited::new(b, MAX)));
    match tokio::time::timeout(Duration::from_secs(30), next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            let message = "La requête a dépassé le délai de 30 secondes.";
            if api {
                (
                    axum::http::StatusCode::REQUEST_TIMEOUT,
                    axum::Json(error::ErrorBody {
                        code: "DELAI_DEPASSE".into(),
                        message: message.into(),
                    }),
                )
                    .into_response()
            } else {
                pages::error_page(
                    axum::http::StatusCode::REQUEST_TIMEOUT,
                    "Délai dépassé",
                    message.into(),
                )
            }
        }
    }
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    let security = tower::ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ));
    Router::new()
        .merge(api::routes())
        .merge(pages::routes())
        .merge(login::routes())
        .merge(reset::routes())
        .merge(federation::routes())
        .merge(assets::routes())
        .fallback(error::not_found)
        .layer(axum::middleware::from_fn(same_origin_writes))
        .layer(axum::middleware::from_fn(error::plain_text_errors))
        // Outside the error mapping: an authenticated error page is not kept either.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            private_responses,
        ))
        .layer(security)
        .layer(axum::middleware::from_fn(limits))
        .layer(TraceLayer::new_for_http())
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state)
}

/// Serves `state` on `listener` until `shutdown` resolves, then lets requests in
/// flight finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The peer's address reaches the handlers: the login throttle counts per client.
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

//! Errors at the edge: a stable code and a French message, never an internal detail.

use axum::Json;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use siseri_storage::StoreError;

/// The JSON error body of `api.md`: `{"code", "message"}` (plus the request id for 500).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable code, e.g. `INTROUVABLE`.
    pub code: String,
    /// French message.
    pub message: String,
}

/// An error answered to a client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 `REQUETE_INVALIDE`.
    #[error("{0}")]
    BadRequest(String),
    /// 413 `REQUETE_TROP_GRANDE`: a body over the 1 MiB limit (api.md), declared or not.
    #[error("corps de requête trop grand")]
    TooLarge,
    /// 401 `NON_AUTHENTIFIE`: no valid credentials.
    #[error("authentification requise")]
    Unauthenticated,
    /// 403 with a code: known caller, not allowed to do this kind of thing at all.
    #[error("{1}")]
    Forbidden(&'static str, &'static str),
    /// 404 `INTROUVABLE`: unknown, or not visible to the caller (same body).
    #[error("ressource introuvable")]
    NotFound,
    /// 409 `CONFLIT`.
    #[error("{0}")]
    Conflict(String),
    /// 409 `TRANSITION_INVALIDE`.
    #[error("{0}")]
    Transition(String),
    /// 422 `NON_TRAITABLE`: well-formed, but not applicable to this resource.
    #[error("{0}")]
    Unprocessable(String),
    /// 500 `ERREUR_INTERNE`: logged, never detailed to the client.
    #[error("erreur interne")]
    Internal(String),
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(_) => ApiError::NotFound,
            StoreError::Conflict(m) => ApiError::Conflict(m),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message) = match &self {
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, "REQUETE_INVALIDE", m.clone()),
            ApiError::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "REQUETE_TROP_GRANDE",
                "Corps de requête limité à 1 Mio.".to_string(),
            ),
            ApiError::Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                "NON_AUTHENTIFIE",
                "Authentification requise : jeton d'API (Authorization: Bearer) ou session."
                    .to_string(),
            ),
            ApiError::Forbidden(code, m) => (StatusCode::FORBIDDEN, *code, (*m).to_string()),
            ApiError::NotFound => (
                StatusCode::NOT_FOUND,
                "INTROUVABLE",
                "Ressource introuvable.".to_string(),
            ),
            ApiError::Conflict(m) => (StatusCode::CONFLICT, "CONFLIT", m.clone()),
            ApiError::Transition(m) => (StatusCode::CONFLICT, "TRANSITION_INVALIDE", m.clone()),
            ApiError::Unprocessable(m) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "NON_TRAITABLE", m.clone())
            }
            ApiError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "ERREUR_INTERNE",
                    "Une erreur interne est survenue ; communiquez l'identifiant de requête (en-tête x-request-id) au support.".to_string(),
                )
            }
        };
        (
            status,
            Json(ErrorBody {
                code: code.to_string(),
                message,
            }),
        )
            .into_response()
    }
}

/// The fallback: JSON under `/api`, a French page elsewhere.
pub async fn not_found(uri: Uri) -> Response {
    if uri.path().starts_with("/api/") {
        ApiError::NotFound.into_response()
    } else {
        crate::pages::not_found_page()
    }
}

/// A safety net behind our extractors: an error answer without a body, or in plain text
/// (axum's rejections, its 405, a layer's refusal), becomes the JSON body of `api.md`
/// under `/api/`, and a French page elsewhere. The status is kept, except the 415 and 422
/// of a malformed request, which `api.md` answers 400.
pub async fn plain_text_errors(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    let status = response.status();
    let plain = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.starts_with("text/plain"));
    if !status.is_client_error() && !status.is_server_error() || !plain {
        return response;
    }
    let allow = response.headers().get(axum::http::header::ALLOW).cloned();
    let error = match status {
        StatusCode::BAD_REQUEST
        | StatusCode::UNSUPPORTED_MEDIA_TYPE
        | StatusCode::UNPROCESSABLE_ENTITY => {
            ApiError::BadRequest("Requête mal formée.".to_string())
        }
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge,
        StatusCode::NOT_FOUND => ApiError::NotFound,
        StatusCode::UNAUTHORIZED => ApiError::Unauthenticated,
        _ => {
            let (code, message) = match status {
                StatusCode::METHOD_NOT_ALLOWED => (
                    "METHODE_NON_AUTORISEE",
                    "Méthode HTTP non prise en charge à cette adresse.",
                ),
                StatusCode::REQUEST_TIMEOUT => (
                    "DELAI_DEPASSE",
                    "La requête a dépassé le délai de 30 secondes.",
                ),
                s if s.is_server_error() => (
                    "ERREUR_INTERNE",
                    "Une erreur interne est survenue ; communiquez l'identifiant de requête (en-tête x-request-id) au support.",
                ),
                _ => ("REQUETE_REFUSEE", "Requête refusée."),
            };
            let mut out = if api {
                (
                    status,
                    Json(ErrorBody {
                        code: code.to_string(),
                        message: message.to_string(),
                    }),
                )
                    .into_response()
            } else {
                crate::pages::error_page(status, "Demande impossible", message.to_string())
            };
            if let Some(allow) = allow {
                out.headers_mut().insert(axum::http::header::ALLOW, allow);
            }
            return out;
        }
    };
    if api {
        error.into_response()
    } else {
        crate::pages::PageError(error).into_response()
    }
}

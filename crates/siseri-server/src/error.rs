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

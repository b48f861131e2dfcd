//! The JSON API under `/api/v1`, and its OpenAPI 3.1 document generated from the
//! handlers themselves (so the document cannot drift from the code).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde::Serialize;
use siseri_domain::Nomenclature;
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::ErrorBody;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "SISERI — API du registre",
        description = "Registre national de la surveillance de l'exposition des travailleurs aux \
                       rayonnements ionisants. Doses en µSv entières, dates ISO 8601, messages en français.",
        license(name = "EUPL-1.2")
    ),
    components(schemas(ErrorBody)),
    modifiers(&Security),
    tags(
        (name = "exploitation", description = "État du service"),
        (name = "référentiels", description = "Nomenclatures publiques"),
        (name = "travailleurs", description = "Dossiers des travailleurs, selon les droits de chacun"),
        (name = "comptes", description = "Jetons, désignations, délégations"),
        (name = "administration", description = "Réservé au gestionnaire du registre"),
    )
)]
struct ApiDoc;

/// Declares the two ways to authenticate: a bearer token, or the pages' session cookie.
struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "jeton",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::caller::SESSION_COOKIE,
            ))),
        );
    }
}

/// The API routes, plus `/api/v1/openapi.json` and `/healthz`.
pub(crate) fn routes() -> Router<AppState> {
    let (router, doc) = router_and_document();
    let json = doc.to_pretty_json().unwrap_or_else(|_| "{}".to_string());
    router.route(
        "/api/v1/openapi.json",
        axum::routing::get(move || {
            let json = json.clone();
            async move {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    json,
                )
            }
        }),
    )
}

fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(healthz))
        .routes(routes!(nomenclature))
        .merge(crate::api_workers::router())
        .merge(crate::api_people::router())
        .merge(crate::transmissions::router())
        .merge(crate::api_physicians::router())
}

/// The routes and their document, completed with the answers every operation of a kind
/// can give (`api_doc`).
fn router_and_document() -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut doc) = api_router().split_for_parts();
    crate::api_doc::complete(&mut doc);
    (router, doc)
}

/// The OpenAPI document, as served at `/api/v1/openapi.json`.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    router_and_document().1
}

/// The service's state.
#[derive(Debug, Serialize, ToSchema)]
struct Health {
    /// `ok` when the database answers, `indisponible` otherwise.
    statut: &'static str,
    /// `sqlite` or `postgresql`.
    base: &'static str,
}

/// Whether the service and its database answer.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "exploitation",
    responses(
        (status = 200, description = "Service opérationnel", body = Health),
        (status = 503, description = "Base de données injoignable", body = Health)
    )
)]
async fn healthz(State(state): State<AppState>) -> Response {
    let base = match state.store.engine() {
        siseri_storage::Engine::Sqlite => "sqlite",
        siseri_storage::Engine::Postgres => "postgresql",
    };
    match state.store.ping().await {
        Ok(()) => Json(Health { statut: "ok", base }).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Health {
                    statut: "indisponible",
                    base,
                }),
            )
                .into_response()
        }
    }
}

/// One valid (domain, sector, job) combination with its labels.
#[derive(Debug, Serialize, ToSchema)]
struct NomenclatureEntry {
    code_domaine: String,
    libelle_domaine: String,
    code_secteur: String,
    libelle_secteur: String,
    code_metier: String,
    libelle_metier: String,
}

/// The SISERI 2 domain / sector / job nomenclature (public reference data).
#[utoipa::path(
    get,
    path = "/api/v1/nomenclature",
    tag = "référentiels",
    responses((status = 200, description = "Les 1 895 combinaisons valides", body = [NomenclatureEntry]))
)]
async fn nomenclature() -> Json<Vec<NomenclatureEntry>> {
    let n = Nomenclature::official();
    let label = |l: Option<&str>| l.unwrap_or_default().to_string();
    Json(
        n.triples()
            .map(|(d, s, j)| NomenclatureEntry {
                code_domaine: d.to_string(),
                libelle_domaine: label(n.domain_label(d)),
                code_secteur: s.to_string(),
                libelle_secteur: label(n.sector_label(s)),
                code_metier: j.to_string(),
                libelle_metier: label(n.job_label(j)),
            })
            .collect(),
    )
}

//! The worker record through the access policy (identity and attachments for now),
//! and a worker's view of who read his record.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::Serialize;
use siseri_domain::Role;
use siseri_domain::ids::Nir;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::caller::Caller;
use crate::extract::{ApiPath, ApiQuery};
use crate::records::{Refusal, WorkerRecord, read_worker_at};
use crate::{ApiError, AppState};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(worker_record))
        .routes(routes!(my_journal))
}

/// The record of a worker, as the caller may see it. An unknown NIR and a worker the
/// caller may not see get the same answer (404 `INTROUVABLE`); every read and every
/// refusal is journaled before the answer.
#[utoipa::path(
    get,
    path = "/api/v1/travailleurs/{nir}",
    tag = "travailleurs",
    params(
        ("nir" = String, Path, description = "NIR ou NIA, 13 caractères, sans clé (exchange.md §2)", pattern = r"^[1-478][0-9]{4}(2A|2B|[0-9]{2})[0-9]{6}$"),
        ("au" = Option<String>, Query, description = "Mois des totaux, AAAA-MM (par défaut le mois courant)", pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])$"),
        ("X-Mission" = Option<String>, Header, description = "Référence de mission (agents de contrôle)")
    ),
    responses(
        (status = 200, description = "Le dossier", body = WorkerRecord),
        (status = 400, description = "NIR mal formé", body = crate::error::ErrorBody),
        (status = 401, description = "Non authentifié", body = crate::error::ErrorBody),
        (status = 403, description = "Mission requise", body = crate::error::ErrorBody),
        (status = 404, description = "Inconnu ou non visible", body = crate::error::ErrorBody)
    ),
    security(("jeton" = []))
)]
async fn worker_record(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(nir): ApiPath<String>,
    ApiQuery(q): ApiQuery<AtMonth>,
) -> Result<Json<WorkerRecord>, ApiError> {
    let nir = Nir::parse(nir.trim()).map_err(|_| {
        ApiError::BadRequest("nir : 13 caractères attendus (NIR ou NIA sans clé)".into())
    })?;
    let au = match q.au.as_deref().map(str::trim) {
        None | Some("") => siseri_domain::totals::Month::of(state.clock.today()),
        Some(m) => siseri_domain::totals::Month::parse(m)
            .ok_or_else(|| ApiError::BadRequest("au : mois AAAA-MM attendu".into()))?,
    };
    match read_worker_at(state.store.as_ref(), state.clock, &caller, &nir, au).await? {
        Ok(record) => Ok(Json(record)),
        Err(Refusal::MissionRequired) => Err(ApiError::Forbidden(
            "MISSION_REQUISE",
            "Indiquez la référence de votre mission (en-tête X-Mission) avant toute consultation.",
        )),
        Err(Refusal::NotFound) => Err(ApiError::NotFound),
    }
}

/// The month of the totals.
#[derive(Debug, serde::Deserialize)]
pub struct AtMonth {
    au: Option<String>,
}

/// One read of the worker's record.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadView {
    /// When.
    date: DateTime<Utc>,
    /// Who (login).
    qui: String,
    /// The reader's role.
    role: Option<String>,
    /// What was read.
    donnees: String,
}

/// Who read my record (refused reads are not shown).
#[utoipa::path(
    get,
    path = "/api/v1/moi/journal",
    tag = "travailleurs",
    responses(
        (status = 200, description = "Les lectures de mon dossier, les plus récentes d'abord", body = [ReadView]),
        (status = 401, description = "Non authentifié", body = crate::error::ErrorBody),
        (status = 403, description = "Réservé aux travailleurs", body = crate::error::ErrorBody)
    ),
    security(("jeton" = []))
)]
async fn my_journal(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<ReadView>>, ApiError> {
    if caller.account.spec.role != Role::Travailleur {
        return Err(ApiError::Forbidden(
            "ROLE_NON_AUTORISE",
            "Réservé aux travailleurs : le journal de leur propre dossier.",
        ));
    }
    let store = state.store.as_ref();
    let worker = match &caller.account.spec.nir {
        Some(nir) => store.worker(nir).await?,
        None => None,
    };
    let Some(worker) = worker else {
        return Ok(Json(Vec::new()));
    };
    let entries = store.journal_of_worker(worker.id, 1000).await?;
    let mut event = caller.event(Utc::now(), "LECTURE", "JOURNAL");
    event.worker_ids = vec![worker.id];
    store.append_journal(&[event]).await?;
    Ok(Json(
        entries
            .into_iter()
            .filter(|e| e.event.action == "LECTURE" && e.event.outcome == "OK")
            .map(|e| ReadView {
                date: e.event.at,
                qui: e.event.actor,
                role: e.event.role,
                donnees: e.event.data_kind,
            })
            .collect(),
    ))
}

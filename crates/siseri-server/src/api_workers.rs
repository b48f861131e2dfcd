//! The worker record through the access policy (identity and attachments for now),
//! and a worker's view of who read his record.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use siseri_domain::Role;
use siseri_domain::access::{ReadDecision, ReadKind, can_read};
use siseri_domain::ids::{Nir, Siret};
use siseri_domain::worker::{Attachment, Worker};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::caller::{Caller, person, worker_facts};
use crate::{ApiError, AppState};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(worker_record))
        .routes(routes!(my_journal))
}

/// An attachment as the caller may see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentView {
    siret: String,
    date_debut: NaiveDate,
    #[serde(skip_serializing_if = "Option::is_none")]
    date_fin: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    classement: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    autre_exposition: Option<String>,
    code_domaine: String,
    code_secteur: String,
    code_metier: String,
    type_contrat: String,
    /// Work-time fraction, 0.1 … 1.0.
    quotite: f64,
}

/// A worker's record as the caller may see it (the results, totals and alerts come
/// with the consolidation work; fields the caller may not see are absent).
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkerRecord {
    nir: String,
    nom: String,
    prenom: String,
    date_naissance: NaiveDate,
    sexe: String,
    rattachements: Vec<AttachmentView>,
}

fn record(w: &Worker, attachments: &[Attachment], scope: Option<&[Siret]>) -> WorkerRecord {
    let rattachements = attachments
        .iter()
        .filter(|a| scope.is_none_or(|s| s.contains(&a.siret)))
        .filter_map(|a| {
            a.current().map(|t| AttachmentView {
                siret: a.siret.to_string(),
                date_debut: t.date_debut,
                date_fin: t.date_fin,
                classement: t.classement.map(|c| c.code().to_string()),
                autre_exposition: t.autre_exposition.map(|c| c.code().to_string()),
                code_domaine: t.code_domaine.clone(),
                code_secteur: t.code_secteur.clone(),
                code_metier: t.code_metier.clone(),
                type_contrat: t.type_contrat.code().to_string(),
                quotite: f64::from(t.quotite_milliemes) / 1000.0,
            })
        })
        .collect();
    WorkerRecord {
        nir: w.nir.to_string(),
        nom: w.nom.clone(),
        prenom: w.prenom.clone(),
        date_naissance: w.date_naissance,
        sexe: w.sexe.code().to_string(),
        rattachements,
    }
}

/// The record of a worker, as the caller may see it. An unknown NIR and a worker the
/// caller may not see get the same answer (404 `INTROUVABLE`); every read and every
/// refusal is journaled before the answer.
#[utoipa::path(
    get,
    path = "/api/v1/travailleurs/{nir}",
    tag = "travailleurs",
    params(
        ("nir" = String, Path, description = "NIR ou NIA, 13 caractères, sans clé"),
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
    Path(nir): Path<String>,
) -> Result<Json<WorkerRecord>, ApiError> {
    let nir = Nir::parse(nir.trim()).map_err(|_| {
        ApiError::BadRequest("nir : 13 caractères attendus (NIR ou NIA sans clé)".into())
    })?;
    let store = state.store.as_ref();
    let now = Utc::now();
    let person = person(store, &caller).await?;
    let worker = store.worker(&nir).await?;
    // The same work whether the worker exists or not: a refusal must not be told apart.
    let attachments = store.attachments(&nir).await?;
    let decision = can_read(
        &person,
        &worker_facts(&nir, &attachments),
        ReadKind::Identity,
        state.clock.today(),
    );
    let mut event = caller.event(now, "LECTURE", "IDENTITE");
    event.worker_ids = worker.iter().map(|w| w.id).collect();
    let answer = match (&worker, &decision) {
        (Some(w), ReadDecision::Full) => Ok(record(w, &attachments, None)),
        (Some(w), ReadDecision::AttachmentsInScope(scope)) => {
            Ok(record(w, &attachments, Some(scope)))
        }
        (_, ReadDecision::MissionRequired) => Err(ApiError::Forbidden(
            "MISSION_REQUISE",
            "Indiquez la référence de votre mission (en-tête X-Mission) avant toute consultation.",
        )),
        _ => Err(ApiError::NotFound),
    };
    if answer.is_err() {
        event.action = "LECTURE_REFUSEE".into();
        event.outcome = "REFUSE".into();
    }
    store.append_journal(&[event]).await?;
    answer.map(Json)
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

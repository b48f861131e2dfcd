//! Physicians' writes (api.md): results they enter, new versions, pregnancies, alert steps.
//! Each is one transaction with its totals, alerts and journal entry
//! (`siseri_import::physician`, shared with the command line).

use axum::Json;
use axum::extract::State;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use siseri_domain::codes::{Nature, Position, Quantity, ResultStatus};
use siseri_domain::ids::Nir;
use siseri_domain::result::ResultValues;
use siseri_import::physician::{self, NewEntry, NewVersion, WriteError};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::caller::Caller;
use crate::extract::{ApiJson, ApiPath};
use crate::transmissions::sender_info;
use crate::{ApiError, AppState};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(add_result))
        .routes(routes!(add_version))
        .routes(routes!(declare_pregnancy))
        .routes(routes!(end_pregnancy))
        .routes(routes!(alert_step))
        .routes(routes!(inbox))
        .routes(routes!(inbox_read))
}

/// An item of the in-app inbox.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboxItem {
    id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    alerte: Option<i64>,
    objet: String,
    texte: String,
    date: chrono::DateTime<chrono::Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lu_le: Option<chrono::DateTime<chrono::Utc>>,
}

/// The caller's inbox: the notices of alerts (the same texts as the e-mails), newest first.
#[utoipa::path(
    get,
    path = "/api/v1/moi/boite",
    tag = "comptes",
    responses(
        (status = 200, description = "Les messages", body = Vec<InboxItem>),
        (status = 401, description = "Non authentifié", body = crate::error::ErrorBody)
    ),
    security(("jeton" = []))
)]
async fn inbox(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<InboxItem>>, ApiError> {
    let rows = state
        .store
        .outbox()
        .inbox_of(caller.account.id, false, 500)
        .await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| InboxItem {
                id: r.id,
                alerte: r.alert_id,
                objet: r.subject,
                texte: r.body,
                date: r.created_at,
                lu_le: r.read_at,
            })
            .collect(),
    ))
}

/// Marks an item of the caller's inbox as read.
#[utoipa::path(
    post,
    path = "/api/v1/moi/boite/{id}/lu",
    tag = "comptes",
    params(("id" = i64, Path, description = "Identifiant du message")),
    responses(
        (status = 200, description = "Lu", body = InboxRead),
        (status = 404, description = "Inconnu", body = crate::error::ErrorBody)
    ),
    security(("jeton" = []))
)]
async fn inbox_read(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<InboxRead>, ApiError> {
    if state
        .store
        .outbox()
        .mark_inbox_read(caller.account.id, id, chrono::Utc::now())
        .await?
    {
        Ok(Json(InboxRead { id, lu: true }))
    } else {
        Err(ApiError::NotFound)
    }
}

/// The edge's answer to a write error.
pub fn write_error(e: WriteError) -> ApiError {
    match e {
        WriteError::NotFound => ApiError::NotFound,
        WriteError::Forbidden(m) => ApiError::Forbidden("ROLE_NON_AUTORISE", m),
        WriteError::Invalid(m) => ApiError::BadRequest(m),
        WriteError::Unprocessable(m) => ApiError::Unprocessable(m),
        WriteError::Transition(m) => ApiError::Transition(m),
        WriteError::Store(s) => ApiError::from(s),
    }
}

fn nir(s: &str) -> Result<Nir, ApiError> {
    Nir::parse(s.trim()).map_err(|_| {
        ApiError::BadRequest("nir : 13 caractères attendus (NIR ou NIA sans clé)".into())
    })
}

fn code<T>(field: &str, v: &str, parse: fn(&str) -> Option<T>) -> Result<T, ApiError> {
    parse(v.trim())
        .ok_or_else(|| ApiError::BadRequest(format!("{field} : valeur inconnue « {} »", v.trim())))
}

/// A result entered by a physician.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryBody {
    #[schema(pattern = r"^(ESTIMATION_MDT|INTERNE_VIVO|INTERNE_VITRO)$")]
    nature: String,
    #[schema(pattern = r"^(HP10|HP10_NEUTRON|HP007|HP3|HP007_EXTREMITE|E50|E)$")]
    grandeur: String,
    #[schema(
        pattern = r"^(OEIL_GAUCHE|OEIL_DROIT|MAIN_GAUCHE|MAIN_DROITE|POIGNET_GAUCHE|POIGNET_DROIT|PIED_GAUCHE|PIED_DROIT)?$"
    )]
    position: Option<String>,
    date_debut: NaiveDate,
    date_fin: NaiveDate,
    #[schema(pattern = r"^(MESURE|INF_SEUIL|ABSENCE|ANNULE)$")]
    statut: String,
    #[schema(minimum = 0, maximum = 100_000_000)]
    dose_usv: Option<i64>,
    justification: String,
}

/// A message marked as read.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboxRead {
    id: i64,
    lu: bool,
}

/// A result's new version.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionCreated {
    /// The result.
    id: i64,
    /// Its new version number.
    version: u32,
}

/// A pregnancy's end, recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct PregnancyEnded {
    id: i64,
    date_fin: NaiveDate,
}

/// An alert's new status.
#[derive(Debug, Serialize, ToSchema)]
pub struct StepDone {
    id: i64,
    statut: String,
}

/// What a write created.
#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    reference: Option<String>,
}

/// Adds an estimate (`ESTIMATION_MDT`) or an internal dose to a worker's record.
#[utoipa::path(
    post,
    path = "/api/v1/travailleurs/{nir}/resultats",
    tag = "médecins",
    params(("nir" = String, Path, description = "NIR ou NIA, 13 caractères, sans clé (exchange.md §2)", pattern = r"^[1-478][0-9]{4}(2A|2B|[0-9]{2})[0-9]{6}$")),
    request_body = EntryBody,
    responses(
        (status = 200, description = "Résultat enregistré", body = Created),
        (status = 400, description = "Valeur invalide", body = crate::error::ErrorBody),
        (status = 403, description = "ROLE_NON_AUTORISE", body = crate::error::ErrorBody),
        (status = 404, description = "Inconnu ou non accessible", body = crate::error::ErrorBody),
        (status = 422, description = "Aucun rattachement à la date de fin", body = crate::error::ErrorBody)
    ),
    security(("jeton" = []))
)]
async fn add_result(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(n): ApiPath<String>,
    ApiJson(b): ApiJson<EntryBody>,
) -> Result<Json<Created>, ApiError> {
    let nir = nir(&n)?;
    let entry = NewEntry {
        nature: code("nature", &b.nature, Nature::parse)?,
        quantity: code("grandeur", &b.grandeur, Quantity::parse)?,
        position: match b.position.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(p) => Some(code("position", p, Position::parse)?),
        },
        values: ResultValues {
            date_debut: b.date_debut,
            date_fin: b.date_fin,
            statut: code("statut", &b.statut, ResultStatus::parse)?,
            dose_usv: b.dose_usv,
            seuil_usv: None,
        },
        justification: b.justification,
    };
    let sender = sender_info(state.store.as_ref(), &caller).await?;
    let (id, reference) = physician::add_result(
        state.store.as_ref(),
        &sender,
        &nir,
        &entry,
        state.clock.today(),
    )
    .await
    .map_err(write_error)?;
    crate::notifications::sweep_now(state.store.as_ref(), &state.public_url).await;
    Ok(Json(Created {
        id,
        reference: Some(reference),
    }))
}

/// A new version of a result.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionBody {
    #[schema(pattern = r"^(MESURE|INF_SEUIL|ABSENCE|ANNULE)$")]
    statut: String,
    #[schema(minimum = 0, maximum = 100_000_000)]
    dose_usv: Option<i64>,
    date_debut: Option<NaiveDate>,
    date_fin: Option<NaiveDate>,
    justification: String,
}

/// Corrects, completes or cancels (`ANNULE`) a result: a new version, the old ones kept.
#[utoipa::path(
    post,
    path = "/api/v1/resultats/{id}/versions",
    tag = "médecins",
    params(("id" = i64, Path, description = "Identifiant du résultat")),
    request_body = VersionBody,
    responses(
        (status = 200, description = "Version enregistrée", body = VersionCreated),
        (status = 400, description = "Valeur invalide", body = crate::error::ErrorBody),
        (status = 403, description = "ROLE_NON_AUTORISE", body = crate::error::ErrorBody),
        (status = 404, description = "Inconnu ou non accessible", body = crate::error::ErrorBody),
        (status = 409, description = "CONFLIT", body = crate::error::ErrorBody),
        (status = 422, description = "Non applicable à ce résultat", body = crate::error::ErrorBody)
    ),
    security(("jeton" = []))
)]
async fn add_version(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<VersionBody>,
) -> Result<Json<VersionCreated>, ApiError> {
    let v = NewVersion {
        statut: code("statut", &b.statut, ResultStatus::parse)?,
        dose_usv: b.dose_usv,
        date_debut: b.date_debut,
        date_fin: b.date_fin,
        justification: b.justification,
    };
    let sender = sender_info(state.store.as_ref(), &caller).await?;
    let version =
        physician::add_version(state.store.as_ref(), &sender, id, &v, state.clock.today())
            .await
            .map_err(write_error)?;
    crate::notifications::sweep_now(state.store.as_ref(), &state.public_url).await;
    Ok(Json(VersionCreated { id, version }))
}

/// A pregnancy's declaration.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PregnancyBody {
    date_declaration: NaiveDate,
    justification: String,
}

/// Declares a pregnancy (the unborn child's limit applies from that date).
#[utoipa::path(
    post,
    path = "/api/v1/travailleurs/{nir}/grossesses",
    tag = "médecins",
    params(("nir" = String, Path, description = "NIR ou NIA, 13 caractères, sans clé (exchange.md §2)", pattern = r"^[1-478][0-9]{4}(2A|2B|[0-9]{2})[0-9]{6}$")),
    request_body = PregnancyBody,
    responses(
        (status = 200, description = "Grossesse déclarée", body = Created),
        (status = 403, description = "ROLE_NON_AUTORISE", body = crate::error::ErrorBody),
        (status = 404, description = "Inconnu ou non accessible", body = crate::error::ErrorBody),
        (status = 422, description = "Travailleur qui n'est pas de sexe F", body = crate::error::ErrorBody)
    ),
    security(("jeton" = []))
)]
async fn declare_pregnancy(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(n): ApiPath<String>,
    ApiJson(b): ApiJson<PregnancyBody>,
) -> Result<Json<Created>, ApiError> {
    let nir = nir(&n)?;
    let sender = sender_info(state.store.as_ref(), &caller).await?;
    let id = physician::declare_pregnancy(
        state.store.as_ref(),
        &sender,
        &nir,
        b.date_declaration,
        &b.justification,
        state.clock.today(),
    )
    .await
    .map_err(write_error)?;
    crate::notifications::sweep_now(state.store.as_ref(), &state.public_url).await;
    Ok(Json(Created {
        id,
        reference: None,
    }))
}

/// A pregnancy's end.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PregnancyEndBody {
    date_fin: NaiveDate,
    justification: String,
}

/// Declares the end of a pregnancy.
#[utoipa::path(
    post,
    path = "/api/v1/grossesses/{id}/fin",
    tag = "médecins",
    params(("id" = i64, Path, description = "Identifiant de la grossesse")),
    request_body = PregnancyEndBody,
    responses(
        (status = 200, description = "Fin enregistrée", body = PregnancyEnded),
        (status = 403, description = "ROLE_NON_AUTORISE : réservé aux médecins", body = crate::error::ErrorBody),
        (status = 404, description = "Inconnue ou non accessible", body = crate::error::ErrorBody),
        (status = 409, description = "Déjà terminée", body = crate::error::ErrorBody),
        (status = 422, description = "Non applicable à cette grossesse", body = crate::error::ErrorBody)
    ),
    security(("jeton" = []))
)]
async fn end_pregnancy(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<PregnancyEndBody>,
) -> Result<Json<PregnancyEnded>, ApiError> {
    let sender = sender_info(state.store.as_ref(), &caller).await?;
    physician::end_pregnancy(
        state.store.as_ref(),
        &sender,
        id,
        b.date_fin,
        &b.justification,
        state.clock.today(),
    )
    .await
    .map_err(write_error)?;
    crate::notifications::sweep_now(state.store.as_ref(), &state.public_url).await;
    Ok(Json(PregnancyEnded {
        id,
        date_fin: b.date_fin,
    }))
}

/// A step of an alert.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepBody {
    #[schema(pattern = r"^(EN_ANALYSE|CONFIRMEE|CORRIGEE|ANNULEE)$")]
    statut: String,
    texte: String,
}

/// Moves an alert through its lifecycle (409 `TRANSITION_INVALIDE` otherwise).
#[utoipa::path(
    post,
    path = "/api/v1/alertes/{id}/etapes",
    tag = "médecins",
    params(("id" = i64, Path, description = "Identifiant de l'alerte")),
    request_body = StepBody,
    responses(
        (status = 200, description = "Nouveau statut", body = StepDone),
        (status = 403, description = "ROLE_NON_AUTORISE : rôle sans étape d'alerte", body = crate::error::ErrorBody),
        (status = 404, description = "Inconnue ou non accessible", body = crate::error::ErrorBody),
        (status = 409, description = "TRANSITION_INVALIDE", body = crate::error::ErrorBody)
    ),
    security(("jeton" = []))
)]
async fn alert_step(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<StepBody>,
) -> Result<Json<StepDone>, ApiError> {
    let sender = sender_info(state.store.as_ref(), &caller).await?;
    let status = physician::alert_step(
        state.store.as_ref(),
        &sender,
        id,
        &b.statut,
        &b.texte,
        state.clock.today(),
    )
    .await
    .map_err(write_error)?;
    Ok(Json(StepDone { id, statut: status }))
}

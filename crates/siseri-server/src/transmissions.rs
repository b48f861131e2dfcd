//! Transmissions through the API (api.md): sending a file, its report (JSON and CSV), the
//! sender's list, and the administrators' reconciliation queue.

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde::Deserialize;
use siseri_domain::codes::TransmissionFormat;
use siseri_domain::{Nir, Role};
use siseri_exchange::records::FileCode;
use siseri_import::queue::{Decision, PendingView, QueueError};
use siseri_import::report::{FileError, Report, ReportSender, Totals};
use siseri_import::{CsvEncoding, ImportError, Progress, Request, SenderInfo};
use siseri_storage::{Store, StoreError, TransmissionFilter, TransmissionRow};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::caller::{Caller, person};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::{ApiError, AppState};

/// The largest body `POST /api/v1/transmissions` reads (2 GiB).
pub const MAX_BODY: u64 = 2 * 1024 * 1024 * 1024;

/// The path whose POST is exempt from the 1 MiB limit and the 30-second timeout.
pub const UPLOAD_PATH: &str = "/api/v1/transmissions";

/// Imports in progress, for their senders to follow.
#[derive(Debug, Default)]
pub struct Running {
    pub(crate) imports: Mutex<Vec<(Owner, Arc<Progress>, Report)>>,
}

/// Who may see a transmission: its organisation, or its account when it has none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Owner {
    Organisation(String),
    Login(String),
}

pub(crate) fn owner_of(caller: &Caller) -> Owner {
    match &caller.account.spec.siren {
        Some(s) => Owner::Organisation(s.as_str().to_owned()),
        None => Owner::Login(caller.login().to_owned()),
    }
}

fn may_see(caller: &Caller, row: &TransmissionRow) -> bool {
    if caller.account.spec.role == Role::Admin {
        return true;
    }
    match (&caller.account.spec.siren, &row.sender_siren) {
        (Some(mine), Some(theirs)) => mine == theirs,
        (None, _) => row.login == caller.login(),
        (Some(_), None) => false,
    }
}

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(send, list))
        .routes(routes!(get_report))
        .routes(routes!(csv_report))
        .routes(routes!(pending_list))
        .routes(routes!(pending_resolve))
}

/// What a sender gives with its file.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SendQuery {
    /// `travailleurs`, `resultats` or `dosimetrie-operationnelle`.
    #[param(pattern = r"^(travailleurs|resultats|dosimetrie-operationnelle)$")]
    format: String,
    /// Validate only, store nothing.
    #[serde(default)]
    #[param(pattern = r"^(true|false|1|0)$")]
    dry_run: Option<String>,
    /// How a CSV file's bytes are read: `utf-8` or `windows-1252` (any case). Without it,
    /// UTF-8, or Windows-1252 (with the warning `ENCODAGE_WINDOWS_1252`) when the file is
    /// not UTF-8. JSON bodies are UTF-8 only.
    #[serde(default)]
    #[param(value_type = Option<String>, pattern = "^([Uu][Tt][Ff]-8|[Ww][Ii][Nn][Dd][Oo][Ww][Ss]-1252)$")]
    encodage: Option<String>,
}

/// The sender's facts for the import: its account and its access-policy person.
///
/// # Errors
/// Storage errors.
pub async fn sender_info(store: &dyn Store, caller: &Caller) -> Result<SenderInfo, StoreError> {
    Ok(SenderInfo {
        account: caller.account.clone(),
        person: person(store, caller).await?,
    })
}

/// The status a report is answered with (api.md).
pub fn report_status(report: &Report) -> StatusCode {
    match report.refusal() {
        None => StatusCode::OK,
        Some(FileCode::FichierTropGrand) => StatusCode::PAYLOAD_TOO_LARGE,
        Some(_) => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

fn import_error(e: ImportError) -> ApiError {
    match e {
        ImportError::Forbidden(_) => ApiError::Forbidden(
            "FORMAT_NON_AUTORISE",
            "Ce compte ne peut pas envoyer ce format de transmission.",
        ),
        ImportError::Store(s) => ApiError::from(s),
        ImportError::Io(e) => ApiError::BadRequest(format!("corps de requête illisible : {e}")),
    }
}

/// Sends a file: the body is the CSV file (`text/csv`) or its records as a JSON array
/// (`application/json`). The answer is the execution report, also when lines are rejected.
#[utoipa::path(
    post,
    path = "/api/v1/transmissions",
    tag = "transmissions",
    params(SendQuery),
    request_body(content = String, description = "Le fichier CSV (text/csv) ou le tableau JSON des enregistrements (application/json)"),
    responses(
        (status = 200, description = "Fichier lu : rapport d'exécution", body = Object),
        (status = 400, description = "Requête invalide", body = crate::error::ErrorBody),
        (status = 401, description = "Non authentifié", body = crate::error::ErrorBody),
        (status = 403, description = "FORMAT_NON_AUTORISE", body = crate::error::ErrorBody),
        (status = 413, description = "FICHIER_TROP_GRAND, avec le rapport", body = Object),
        (status = 422, description = "Fichier refusé (encodage, en-tête, JSON, vide), avec le rapport", body = Object)
    ),
    security(("jeton" = []))
)]
async fn send(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<SendQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let format = TransmissionFormat::parse(q.format.trim()).ok_or_else(|| {
        ApiError::BadRequest(
            "format : travailleurs, resultats ou dosimetrie-operationnelle attendu".into(),
        )
    })?;
    let dry_run = match q.dry_run.as_deref().map(str::trim) {
        None | Some("false") | Some("0") => false,
        Some("true") | Some("1") => true,
        Some(_) => {
            return Err(ApiError::BadRequest(
                "dry_run : true ou false attendu".into(),
            ));
        }
    };
    let encoding = match q.encodage.as_deref().map(str::trim) {
        None | Some("") => CsvEncoding::Auto,
        Some(e) => CsvEncoding::parse(e).ok_or_else(|| {
            ApiError::BadRequest("encodage : utf-8 ou windows-1252 attendu".into())
        })?,
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let json = if content_type.starts_with("application/json") {
        true
    } else if content_type.starts_with("text/csv") || content_type.starts_with("text/plain") {
        false
    } else {
        return Err(ApiError::BadRequest(
            "Content-Type : text/csv ou application/json attendu".into(),
        ));
    };
    if json && encoding == CsvEncoding::Windows1252 {
        return Err(ApiError::BadRequest(
            "encodage : un corps JSON est toujours en UTF-8".into(),
        ));
    }
    let now = chrono::Utc::now();
    let request = Request {
        format,
        json,
        encoding,
        dry_run,
        received_at: now,
        today: state.clock.today(),
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY) {
        return Ok(too_large(&caller, &request));
    }
    let sender = sender_info(state.store.as_ref(), &caller).await?;
    if !siseri_domain::access::may_send(caller.account.spec.role, format) {
        return Err(import_error(ImportError::Forbidden(String::new())));
    }
    // The body goes to a temporary file first: the import reads it at its own pace, and a
    // refused file can be kept whole.
    let spool = tempfile::NamedTempFile::new()
        .map_err(|e| ApiError::Internal(format!("fichier temporaire : {e}")))?;
    let mut file = tokio::fs::File::from_std(
        spool
            .reopen()
            .map_err(|e| ApiError::Internal(format!("fichier temporaire : {e}")))?,
    );
    let mut stream = body.into_data_stream();
    let mut received: u64 = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("corps interrompu : {e}")))?;
        received += chunk.len() as u64;
        if received > MAX_BODY {
            return Ok(too_large(&caller, &request));
        }
        file.write_all(&chunk)
            .await
            .map_err(|e| ApiError::Internal(format!("fichier temporaire : {e}")))?;
    }
    file.flush()
        .await
        .map_err(|e| ApiError::Internal(format!("fichier temporaire : {e}")))?;
    drop(file);

    let progress = Arc::new(Progress::default());
    let placeholder = placeholder_report(&caller, &request);
    if let Ok(mut l) = state.running.imports.lock() {
        l.push((owner_of(&caller), progress.clone(), placeholder));
    }
    let result = siseri_import::import(
        state.store.as_ref(),
        spool.path(),
        &request,
        &sender,
        progress.clone(),
    )
    .await;
    if let Ok(mut l) = state.running.imports.lock() {
        l.retain(|(_, p, _)| !Arc::ptr_eq(p, &progress));
    }
    let report = result.map_err(import_error)?;
    if !dry_run {
        crate::notifications::sweep_now(state.store.as_ref(), &state.public_url).await;
    }
    Ok((report_status(&report), Json(report)).into_response())
}

pub(crate) fn placeholder_report(caller: &Caller, request: &Request) -> Report {
    Report {
        transmission: None,
        format: request.format.code().to_owned(),
        sender: ReportSender {
            siren: caller
                .account
                .spec
                .siren
                .as_ref()
                .map(|s| s.as_str().to_owned()),
            login: caller.login().to_owned(),
        },
        received_at: request
            .received_at
            .with_timezone(&siseri_domain::clock::paris_offset(request.received_at))
            .to_rfc3339(),
        dry_run: request.dry_run,
        etat: siseri_import::report::IN_PROGRESS.to_owned(),
        lignes_traitees: 0,
        file_errors: Vec::new(),
        totals: Totals::default(),
        lines: Vec::new(),
        deja_recu: false,
    }
}

/// A body over 2 GiB: refused before reading (nothing stored).
fn too_large(caller: &Caller, request: &Request) -> Response {
    let mut report = placeholder_report(caller, request);
    report.etat = siseri_import::report::DONE.to_owned();
    report.file_errors.push(FileError {
        code: FileCode::FichierTropGrand.code().to_owned(),
        message: "le fichier dépasse 2 Gio ; découpez-le en plusieurs envois".to_owned(),
    });
    (StatusCode::PAYLOAD_TOO_LARGE, Json(report)).into_response()
}

/// The reports of the caller's organisation (administrators: every one), newest first,
/// without their lines; those still being processed come first with `etat` `EN_COURS`.
#[utoipa::path(
    get,
    path = "/api/v1/transmissions",
    tag = "transmissions",
    responses(
        (status = 200, description = "Les transmissions", body = Vec<Object>),
        (status = 401, description = "Non authentifié", body = crate::error::ErrorBody)
    ),
    security(("jeton" = []))
)]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<Report>>, ApiError> {
    let filter = if caller.account.spec.role == Role::Admin {
        TransmissionFilter::All
    } else {
        match &caller.account.spec.siren {
            Some(s) => TransmissionFilter::Organisation(s.clone()),
            None => TransmissionFilter::Login(caller.login().to_owned()),
        }
    };
    let mut out = running_for(&state, &caller);
    for row in state.store.transmissions(&filter, 500).await? {
        out.push(summary(&row)?);
    }
    Ok(Json(out))
}

pub(crate) fn running_for(state: &AppState, caller: &Caller) -> Vec<Report> {
    let owner = owner_of(caller);
    let admin = caller.account.spec.role == Role::Admin;
    state.running.imports.lock().map_or(Vec::new(), |l| {
        l.iter()
            .filter(|(o, p, _)| {
                (admin || *o == owner)
                    && p.transmission.load(std::sync::atomic::Ordering::Relaxed) > 0
            })
            .map(|(_, p, r)| live(p, r))
            .collect()
    })
}

fn live(p: &Progress, r: &Report) -> Report {
    let mut r = r.clone();
    r.transmission = Some(p.transmission.load(std::sync::atomic::Ordering::Relaxed));
    r.lignes_traitees = p.lines.load(std::sync::atomic::Ordering::Relaxed);
    r
}

pub(crate) fn summary(row: &TransmissionRow) -> Result<Report, ApiError> {
    Report::from_stored(&row.report, Vec::new())
        .map_err(|e| ApiError::Internal(format!("rapport {} illisible : {e}", row.id)))
}

/// One report with its lines (`EN_COURS` with the lines processed so far while it runs).
#[utoipa::path(
    get,
    path = "/api/v1/transmissions/{id}",
    tag = "transmissions",
    params(("id" = i64, Path, description = "Identifiant de la transmission")),
    responses(
        (status = 200, description = "Le rapport d'exécution", body = Object),
        (status = 401, description = "Non authentifié", body = crate::error::ErrorBody),
        (status = 404, description = "Inconnue ou d'une autre organisation", body = crate::error::ErrorBody)
    ),
    security(("jeton" = []))
)]
async fn get_report(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Report>, ApiError> {
    if let Some(r) = running_for(&state, &caller)
        .into_iter()
        .find(|r| r.transmission == Some(id))
    {
        return Ok(Json(r));
    }
    Ok(Json(read_report(&state, &caller, id).await?))
}

/// A stored report with its lines, as `caller` may see it; the read (or its refusal) is
/// journaled, since a report's lines and CSV name the people of the file (access.md).
pub(crate) async fn read_report(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<Report, ApiError> {
    let row = visible_journaled(state, caller, id, "RAPPORT").await?;
    let lines = state.store.transmission_lines(id).await?;
    Report::from_stored(&row.report, lines)
        .map_err(|e| ApiError::Internal(format!("rapport {id} illisible : {e}")))
}

/// [`visible`], journaling the read of the report (`kind`: `RAPPORT` or `RAPPORT_CSV`) or
/// its refusal before anything is answered.
pub(crate) async fn visible_journaled(
    state: &AppState,
    caller: &Caller,
    id: i64,
    kind: &str,
) -> Result<TransmissionRow, ApiError> {
    let found = visible(state, caller, id).await;
    let mut event = caller.event(chrono::Utc::now(), "LECTURE", kind);
    event.detail = Some(format!("transmission {id}"));
    if found.is_err() {
        event.action = "LECTURE_REFUSEE".into();
        event.outcome = "REFUSE".into();
    }
    state.store.append_journal(&[event]).await?;
    found
}

pub(crate) async fn visible(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<TransmissionRow, ApiError> {
    match state.store.transmission(id).await? {
        Some(row) if may_see(caller, &row) => Ok(row),
        _ => Err(ApiError::NotFound),
    }
}

/// The CSV report: the sender's records in the format's column order with `STATUT_LIGNE`,
/// `CODE_ERREUR` and `MESSAGE`, ready to be corrected and sent again (cells a spreadsheet
/// would run as formulas begin with `'`, taken off when the report is sent back).
#[utoipa::path(
    get,
    path = "/api/v1/transmissions/{id}/rapport.csv",
    tag = "transmissions",
    params(("id" = i64, Path, description = "Identifiant de la transmission")),
    responses(
        (status = 200, description = "Le rapport CSV", content_type = "text/csv"),
        (status = 404, description = "Inconnue ou d'une autre organisation", body = crate::error::ErrorBody)
    ),
    security(("jeton" = []))
)]
async fn csv_report(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    let row = visible_journaled(&state, &caller, id, "RAPPORT_CSV").await?;
    let path = write_csv_report(state.store.as_ref(), &row).await?;
    let file = tokio::fs::File::open(&*path)
        .await
        .map_err(|e| ApiError::Internal(format!("rapport CSV : {e}")))?;
    // The temporary file is removed once the stream ends (it owns `path`).
    let stream = futures_util::stream::unfold((file, path), |(mut f, p)| async move {
        let mut buf = vec![0u8; 64 * 1024];
        match f.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(Bytes::from(buf)), (f, p)))
            }
            Err(e) => Some((Err(e), (f, p))),
        }
    });
    let name = format!("attachment; filename=\"rapport-{id}.csv\"");
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, name),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

/// Writes a transmission's CSV report to a temporary file: the kept file is copied out of
/// the database part by part, then read again beside the stored outcomes.
pub async fn write_csv_report(
    store: &dyn Store,
    row: &TransmissionRow,
) -> Result<tempfile::TempPath, ApiError> {
    let internal = |e: std::io::Error| ApiError::Internal(format!("rapport CSV : {e}"));
    let kept = tempfile::NamedTempFile::new().map_err(internal)?;
    let mut f = tokio::fs::File::from_std(kept.reopen().map_err(internal)?);
    let mut part = 0;
    while let Some(bytes) = store.transmission_file_part(row.id, part).await? {
        f.write_all(&bytes).await.map_err(internal)?;
        part += 1;
    }
    f.flush().await.map_err(internal)?;
    drop(f);
    let report = summary(row)?;
    let lines: Vec<_> = store
        .transmission_lines(row.id)
        .await?
        .into_iter()
        .map(siseri_import::report::ReportLine::from)
        .collect();
    let out = tempfile::NamedTempFile::new().map_err(internal)?;
    let out_path = out.into_temp_path();
    let target = out_path.to_path_buf();
    let format = row.format;
    let json = row.media == "json";
    let kept_path = kept.into_temp_path();
    tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        let input = std::io::BufReader::new(std::fs::File::open(&kept_path)?);
        let output = std::io::BufWriter::new(std::fs::File::create(&target)?);
        let mut w = siseri_import::report::write_csv(format, json, input, &report, &lines, output)?;
        std::io::Write::flush(&mut w)?;
        Ok(())
    })
    .await
    .map_err(|e| ApiError::Internal(format!("rapport CSV : {e}")))?
    .map_err(internal)?;
    Ok(out_path)
}

/// The reconciliation queue, with suggested matches (administrators).
#[utoipa::path(
    get,
    path = "/api/v1/admin/en-attente",
    tag = "administration",
    params(("toutes" = Option<bool>, Query, description = "Aussi les lignes déjà traitées")),
    responses(
        (status = 200, description = "Lignes en attente", body = Vec<Object>),
        (status = 403, description = "ROLE_NON_AUTORISE", body = crate::error::ErrorBody)
    ),
    security(("jeton" = []))
)]
async fn pending_list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<PendingQuery>,
) -> Result<Json<Vec<PendingView>>, ApiError> {
    admin_only(&caller)?;
    let all = q.toutes.unwrap_or(false);
    let views = siseri_import::queue::list(state.store.as_ref(), !all).await?;
    // The held lines and the suggested workers' identities are nominative.
    let mut event = caller.event(chrono::Utc::now(), "LECTURE", "FILE_ATTENTE");
    event.worker_ids = siseri_import::queue::shown_workers(&views);
    event.detail = Some(format!("{} lignes de la file d'attente", views.len()));
    state.store.append_journal(&[event]).await?;
    Ok(Json(views))
}

/// Query of the queue.
#[derive(Debug, Deserialize)]
struct PendingQuery {
    toutes: Option<bool>,
}

fn admin_only(caller: &Caller) -> Result<(), ApiError> {
    if caller.account.spec.role == Role::Admin {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "ROLE_NON_AUTORISE",
            "Réservé aux gestionnaires du registre.",
        ))
    }
}

/// An administrator's decision on a held line.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Resolution {
    /// `rattacher` or `rejeter`.
    #[schema(pattern = r"^(rattacher|rejeter)$")]
    action: String,
    /// The worker to attach to (`rattacher`).
    #[schema(pattern = r"^[1-478][0-9]{4}(2A|2B|[0-9]{2})[0-9]{6}$")]
    nir: Option<String>,
    /// The reason (`rejeter`).
    motif: Option<String>,
    /// Also correct the worker's identity to the line's (`rattacher`).
    #[serde(default)]
    corriger_identite: bool,
}

/// Resolves a held line: attach it to a worker, or reject it (`REJET_GESTIONNAIRE`). The
/// sender's report shows the new outcome.
#[utoipa::path(
    post,
    path = "/api/v1/admin/en-attente/{id}",
    tag = "administration",
    params(("id" = i64, Path, description = "Identifiant de la ligne en attente")),
    request_body = Resolution,
    responses(
        (status = 200, description = "Nouvelle issue de la ligne", body = Object),
        (status = 400, description = "Requête invalide", body = crate::error::ErrorBody),
        (status = 403, description = "ROLE_NON_AUTORISE", body = crate::error::ErrorBody),
        (status = 404, description = "Inconnue", body = crate::error::ErrorBody),
        (status = 409, description = "Déjà traitée", body = crate::error::ErrorBody)
    ),
    security(("jeton" = []))
)]
async fn pending_resolve(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(r): ApiJson<Resolution>,
) -> Result<Json<siseri_import::report::ReportLine>, ApiError> {
    admin_only(&caller)?;
    let decision = match r.action.trim() {
        "rattacher" => {
            let nir = r.nir.as_deref().map(str::trim).unwrap_or_default();
            let nir = Nir::parse(nir).map_err(|_| {
                ApiError::BadRequest("nir : 13 caractères attendus (NIR ou NIA sans clé)".into())
            })?;
            if r.corriger_identite {
                Decision::AttachAndCorrect(nir)
            } else {
                Decision::Attach(nir)
            }
        }
        "rejeter" => Decision::Reject(r.motif.unwrap_or_default()),
        _ => {
            return Err(ApiError::BadRequest(
                "action : rattacher ou rejeter attendu".into(),
            ));
        }
    };
    let outcome = siseri_import::queue::resolve(
        state.store.as_ref(),
        id,
        &decision,
        caller.login(),
        state.clock.today(),
    )
    .await
    .map_err(|e| match e {
        QueueError::NotFound => ApiError::NotFound,
        QueueError::Resolved => ApiError::Conflict(e.to_string()),
        QueueError::UnknownWorker | QueueError::ReasonRequired | QueueError::NoIdentity => {
            ApiError::BadRequest(e.to_string())
        }
        QueueError::Store(s) => ApiError::from(s),
    })?;
    Ok(Json(outcome))
}

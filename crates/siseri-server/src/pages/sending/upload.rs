//! `POST /transmissions/envoi`: the upload form (multipart). The anti-forgery token must
//! be the first part, so that a forged request is refused before its file is read; the file
//! part is streamed to a temporary file (never held in memory, 2 GiB at most like the API),
//! then imported exactly as the API does it.
//!
//! A dry run is imported at once and its report shown (it has no id). A real send runs in
//! a background task registered among the imports in progress: the handler waits only
//! until the transmission has its id (its row is created before the first line is read),
//! then redirects to its report page, which shows the progress while it runs. The import
//! goes on even if the browser leaves.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::State;
use axum::extract::multipart::{Field, Multipart};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use siseri_domain::access::may_send;
use siseri_domain::codes::TransmissionFormat;
use siseri_exchange::records::FileCode;
use siseri_import::report::{DONE, FileError};
use siseri_import::{ImportError, Progress, Request};
use tokio::io::AsyncWriteExt;

use super::super::{PageError, PageResult};
use super::codes::format_label;
use super::list::{FormState, with_error};
use super::report;
use crate::login::PageCaller;
use crate::transmissions::{self, MAX_BODY, Running};
use crate::{ApiError, AppState};

/// The longest value of a small form field (token, format, button).
const SMALL_FIELD: usize = 256;

/// What the form sent besides its token.
#[derive(Default)]
struct Sent {
    format: Option<String>,
    dry_run: bool,
    file: Option<Spooled>,
    too_large: bool,
}

/// The file part, written to a temporary file.
struct Spooled {
    file: tempfile::NamedTempFile,
    name: String,
    json: bool,
    bytes: u64,
    /// Line ends seen: the progress bar's estimate of the records to process.
    newlines: u64,
}

fn bad(e: impl std::fmt::Display) -> PageError {
    PageError(ApiError::BadRequest(format!(
        "Le formulaire d’envoi n’a pas pu être lu ({e}) : réessayez."
    )))
}

fn internal(e: impl std::fmt::Display) -> PageError {
    PageError(ApiError::Internal(format!("envoi par la page : {e}")))
}

pub(super) async fn upload(
    State(state): State<AppState>,
    caller: PageCaller,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> PageResult {
    // The token first: nothing else is read from a forged form.
    let token = match multipart.next_field().await.map_err(bad)? {
        Some(f) if f.name() == Some("csrf") => small_text(f).await.unwrap_or_default(),
        _ => String::new(),
    };
    if let Some(refused) = caller.forged(&token) {
        return Ok(refused);
    }
    let role = caller.0.account.spec.role;
    let mut sent = Sent::default();
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        match field.name().unwrap_or_default() {
            "format" => sent.format = Some(small_text(field).await?),
            "action" => sent.dry_run = small_text(field).await? != "envoyer",
            "fichier" => {
                // A format the role may not send is refused before its file is read.
                if let Some(f) = sent.format.as_deref().and_then(TransmissionFormat::parse)
                    && !may_send(role, f)
                {
                    return refuse_format(&state, &caller, &headers, f).await;
                }
                match spool(field).await? {
                    Some(s) => sent.file = Some(s),
                    None => {
                        sent.too_large = true;
                        break;
                    }
                }
            }
            _ => {}
        }
    }

    let Some(format) = sent.format.as_deref().and_then(TransmissionFormat::parse) else {
        let form = FormState {
            error: Some("Choisissez le format du fichier dans la liste.".into()),
            ..FormState::default()
        };
        return with_error(&state, &caller, &headers, StatusCode::BAD_REQUEST, form).await;
    };
    if !may_send(role, format) {
        return refuse_format(&state, &caller, &headers, format).await;
    }
    let request = Request {
        format,
        json: sent.file.as_ref().is_some_and(|f| f.json),
        // The page reads UTF-8, or Windows-1252 when the file is not UTF-8 (exchange.md §1).
        encoding: Default::default(),
        dry_run: sent.dry_run,
        received_at: chrono::Utc::now(),
        today: state.clock.today(),
    };
    if sent.too_large {
        return Ok(report::dry(
            &state,
            &caller,
            &headers,
            too_large(&caller, &request),
            None,
        )
        .await?
        .into_response());
    }
    let Some(file) = sent.file.filter(|f| !f.name.is_empty() || f.bytes > 0) else {
        let form = FormState {
            format: Some(format),
            file_error: Some("Choisissez le fichier à envoyer.".into()),
            ..FormState::default()
        };
        return with_error(&state, &caller, &headers, StatusCode::BAD_REQUEST, form).await;
    };
    let sender = transmissions::sender_info(state.store.as_ref(), &caller.0).await?;
    if request.dry_run {
        let progress = Arc::new(Progress::default());
        let result = siseri_import::import(
            state.store.as_ref(),
            file.file.path(),
            &request,
            &sender,
            progress,
        )
        .await;
        return match result {
            Ok(r) => Ok(report::dry(&state, &caller, &headers, r, Some(file.name))
                .await?
                .into_response()),
            Err(e) => import_failed(&state, &caller, &headers, format, e).await,
        };
    }
    send(state, caller, headers, request, sender, file).await
}

/// Starts the import in the background and redirects to its report as soon as it has an id.
async fn send(
    state: AppState,
    caller: PageCaller,
    headers: HeaderMap,
    request: Request,
    sender: siseri_import::SenderInfo,
    file: Spooled,
) -> PageResult {
    let format = request.format;
    let progress = Arc::new(Progress::default());
    let registered = Registered::new(&state.running, &caller, &request, &progress, &file);
    let task = {
        let state = state.clone();
        let progress = progress.clone();
        tokio::spawn(async move {
            let result = siseri_import::import(
                state.store.as_ref(),
                file.file.path(),
                &request,
                &sender,
                progress,
            )
            .await;
            // Off the list of imports in progress once stored (or failed), as the API does.
            drop(registered);
            if result.is_ok() {
                crate::notifications::sweep_now(state.store.as_ref(), &state.public_url).await;
            }
            drop(file);
            result
        })
    };
    loop {
        let id = progress.transmission.load(Ordering::Relaxed);
        if id > 0 {
            return Ok(Redirect::to(&format!("/transmissions/{id}")).into_response());
        }
        if task.is_finished() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    match task.await.map_err(internal)? {
        Ok(r) => match r.transmission {
            Some(id) if r.deja_recu => {
                Ok(Redirect::to(&format!("/transmissions/{id}?deja=1")).into_response())
            }
            Some(id) => Ok(Redirect::to(&format!("/transmissions/{id}")).into_response()),
            None => Ok(report::dry(&state, &caller, &headers, r, None)
                .await?
                .into_response()),
        },
        Err(e) => import_failed(&state, &caller, &headers, format, e).await,
    }
}

/// An import that could not be carried out: the role's refusal shown on the form, or an
/// error page.
async fn import_failed(
    state: &AppState,
    caller: &PageCaller,
    headers: &HeaderMap,
    format: TransmissionFormat,
    e: ImportError,
) -> PageResult {
    match e {
        ImportError::Forbidden(why) => {
            let form = FormState {
                format: Some(format),
                error: Some(format!("Ce compte ne peut pas envoyer ce fichier : {why}.")),
                ..FormState::default()
            };
            with_error(state, caller, headers, StatusCode::FORBIDDEN, form).await
        }
        ImportError::Store(s) => Err(PageError::from(s)),
        ImportError::Io(e) => Err(bad(e)),
    }
}

async fn refuse_format(
    state: &AppState,
    caller: &PageCaller,
    headers: &HeaderMap,
    format: TransmissionFormat,
) -> PageResult {
    let form = FormState {
        error: Some(format!(
            "Votre rôle ({}) ne peut pas envoyer le format « {} ». Choisissez un des formats proposés.",
            caller.0.account.spec.role.label(),
            format_label(format)
        )),
        ..FormState::default()
    };
    with_error(state, caller, headers, StatusCode::FORBIDDEN, form).await
}

/// A file over 2 GiB: refused without reading the rest and nothing stored, as the API does.
fn too_large(caller: &PageCaller, request: &Request) -> siseri_import::Report {
    let mut report = transmissions::placeholder_report(&caller.0, request);
    report.dry_run = request.dry_run;
    report.etat = DONE.to_owned();
    report.file_errors.push(FileError {
        code: FileCode::FichierTropGrand.code().to_owned(),
        message: "le fichier dépasse 2 Gio ; découpez-le en plusieurs envois".to_owned(),
    });
    report
}

/// Reads a small field whole (at most [`SMALL_FIELD`] bytes).
async fn small_text(mut field: Field<'_>) -> Result<String, PageError> {
    let mut out = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(bad)? {
        out.extend_from_slice(&chunk);
        if out.len() > SMALL_FIELD {
            return Err(bad("champ trop long"));
        }
    }
    Ok(String::from_utf8_lossy(&out).trim().to_string())
}

/// Streams the file part to a temporary file; `None` when it goes over 2 GiB.
async fn spool(mut field: Field<'_>) -> Result<Option<Spooled>, PageError> {
    let name = field.file_name().unwrap_or_default().to_string();
    let json = field
        .content_type()
        .is_some_and(|t| t.starts_with("application/json"))
        || name.to_ascii_lowercase().ends_with(".json");
    let temp = tempfile::NamedTempFile::new().map_err(internal)?;
    let mut out = tokio::fs::File::from_std(temp.reopen().map_err(internal)?);
    let (mut bytes, mut newlines) = (0u64, 0u64);
    let mut last = b'\n';
    while let Some(chunk) = field.chunk().await.map_err(bad)? {
        bytes += chunk.len() as u64;
        if bytes > MAX_BODY {
            return Ok(None);
        }
        newlines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
        if let Some(b) = chunk.last() {
            last = *b;
        }
        out.write_all(&chunk).await.map_err(internal)?;
    }
    out.flush().await.map_err(internal)?;
    if last != b'\n' {
        newlines += 1;
    }
    Ok(Some(Spooled {
        file: temp,
        name,
        json,
        bytes,
        newlines,
    }))
}

/// An import listed among those in progress (so that its report page and the API show
/// its progress), taken off the list when dropped — also if the import panics.
struct Registered {
    running: Arc<Running>,
    progress: Arc<Progress>,
}

impl Registered {
    fn new(
        running: &Arc<Running>,
        caller: &PageCaller,
        request: &Request,
        progress: &Arc<Progress>,
        file: &Spooled,
    ) -> Self {
        let placeholder = transmissions::placeholder_report(&caller.0, request);
        if let Ok(mut l) = running.imports.lock() {
            l.push((
                transmissions::owner_of(&caller.0),
                progress.clone(),
                placeholder,
            ));
        }
        // The header is not a record; JSON bodies give no estimate.
        let estimate = if file.json {
            0
        } else {
            file.newlines.saturating_sub(1)
        };
        report::estimates::set(progress, estimate);
        Registered {
            running: running.clone(),
            progress: progress.clone(),
        }
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        if let Ok(mut l) = self.running.imports.lock() {
            l.retain(|(_, p, _)| !Arc::ptr_eq(p, &self.progress));
        }
        report::estimates::remove(&self.progress);
    }
}

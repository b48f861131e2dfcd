//! The reconciliation queue (exchange.md): the held lines, one held line with the
//! workers the registry suggests for it (differences side by side), and its resolution —
//! attach (optionally correcting the identity) or reject — by `siseri_import::queue`,
//! which also updates the sender's report.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use axum::{Router, routing::get};
use chrono::Utc;
use serde::Deserialize;
use siseri_domain::codes::TransmissionFormat;
use siseri_domain::ids::Nir;
use siseri_exchange::values::normalize_name;
use siseri_import::queue::{Decision, PendingView, QueueError};
use siseri_import::report::columns;
use siseri_storage::PendingRow;

use super::{Input, admin_only, field};
use crate::extract::{PageForm, PagePath, PageQuery};
use crate::login::PageCaller;
use crate::pages::paging::{Paged, matches};
use crate::pages::{Layout, PageError, PageResult, format};
use crate::{ApiError, AppState};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/en-attente", get(list))
        .route("/admin/en-attente/{id}", get(detail).post(resolve))
}

/// A held line as the list shows it (no identity: the fields that conflicted only).
pub struct HeldRow {
    id: i64,
    transmission: i64,
    line: i64,
    format: String,
    sender: String,
    codes: String,
    conflicts: String,
    received: String,
    resolution: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/queue.html")]
struct ListPage {
    layout: Layout,
    list: Paged<HeldRow>,
    search: String,
    include_resolved: bool,
    notice: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    #[serde(default)]
    page: Option<usize>,
    #[serde(default)]
    q: Option<String>,
    /// `toutes`: the resolved lines too.
    #[serde(default)]
    etat: Option<String>,
    /// The line just resolved, for the notice.
    #[serde(default)]
    traitee: Option<i64>,
}

fn sender(p: &PendingRow) -> String {
    match &p.sender_siren {
        Some(s) => format!("{} (SIREN {s})", p.login),
        None => p.login.clone(),
    }
}

fn outcome_label(code: &str) -> &'static str {
    match code {
        "ACCEPTE" => "acceptée",
        "DOUBLON" => "doublon (déjà enregistrée)",
        "REJETE" => "rejetée",
        "EN_ATTENTE" => "toujours en attente",
        _ => "traitée",
    }
}

/// The notice after a resolution, read back from the queue.
async fn notice(state: &AppState, id: i64) -> Result<Option<String>, PageError> {
    let Some(p) = state.store.pending_line(id).await? else {
        return Ok(None);
    };
    let Some(resolution) = p.resolution.as_deref() else {
        return Ok(None);
    };
    let mut text = format!(
        "Ligne {} de la transmission n° {} traitée : {}.",
        p.line,
        p.transmission_id,
        outcome_label(resolution)
    );
    if let Some(reason) = p.reason.as_deref().filter(|r| !r.is_empty()) {
        text.push_str(&format!(" Motif : {reason}."));
    }
    text.push_str(" Le compte rendu de l’émetteur est mis à jour.");
    Ok(Some(text))
}

async fn list(
    State(state): State<AppState>,
    caller: PageCaller,
    headers: HeaderMap,
    PageQuery(q): PageQuery<ListQuery>,
) -> PageResult {
    admin_only(&caller)?;
    let layout = Layout::of(&state, &caller, &headers, "/admin/en-attente").await?;
    let include_resolved = q.etat.as_deref() == Some("toutes");
    let text = q.q.clone().unwrap_or_default();
    let needle = Some(text.trim().to_lowercase()).filter(|t| !t.is_empty());
    // The rows of the store directly: the suggestions are computed on the detail page only.
    let held = state.store.pending_lines(!include_resolved).await?;
    // The lines as sent name people: the read is journaled (the detail page names the
    // registered workers it suggests).
    let mut event = caller.0.event(Utc::now(), "LECTURE", "FILE_ATTENTE");
    event.detail = Some(format!(
        "liste de la file d'attente ({} lignes)",
        held.len()
    ));
    state.store.append_journal(&[event]).await?;
    let rows: Vec<HeldRow> = held
        .into_iter()
        .filter(|p| {
            matches(
                &needle,
                &[
                    &sender(p),
                    &p.codes.join(" "),
                    &p.conflicts.join(" "),
                    &p.transmission_id.to_string(),
                    p.format.code(),
                ],
            )
        })
        .map(|p| HeldRow {
            id: p.id,
            transmission: p.transmission_id,
            line: p.line,
            format: p.format.code().to_string(),
            sender: sender(&p),
            codes: p.codes.join(", "),
            conflicts: p.conflicts.join(", "),
            received: format::date_time(p.created_at),
            resolution: p
                .resolution
                .as_deref()
                .map(|r| outcome_label(r).to_string()),
        })
        .collect();
    let notice = match q.traitee {
        Some(id) => notice(&state, id).await?,
        None => None,
    };
    let etat = if include_resolved { "toutes" } else { "" };
    Ok(ListPage {
        layout,
        list: Paged::of(rows, q.page, &[("q", text.clone()), ("etat", etat.into())]),
        search: text,
        include_resolved,
        notice,
    }
    .into_response())
}

/// One field compared between the line and a worker of the registry.
pub struct Compared {
    label: &'static str,
    line: String,
    registry: String,
    differs: bool,
}

/// A worker suggested for the line.
pub struct Suggested {
    reason: &'static str,
    explanation: &'static str,
    nir: String,
    name: String,
    fields: Vec<Compared>,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/queue_line.html")]
struct DetailPage {
    layout: Layout,
    id: i64,
    transmission: i64,
    line: i64,
    format: String,
    sender: String,
    received: String,
    codes: Vec<String>,
    conflicts: String,
    /// The line as sent: column, value.
    record: Vec<(String, String)>,
    suggestions: Vec<Suggested>,
    resolution: Option<String>,
    error: Option<String>,
    nir: Input,
    correct: bool,
    reason: Input,
}

fn value_of(record: &serde_json::Value, key: &str) -> String {
    record
        .get(key)
        .and_then(|v| v.as_str())
        .map(str::trim)
        .unwrap_or_default()
        .to_string()
}

/// The line's date of birth in French, when it is one.
fn french_date(s: &str) -> String {
    siseri_exchange::values::parse_date(s).map_or_else(|_| s.to_string(), format::date)
}

/// The line as sent, column by column in the format's order (then any other key).
fn record_fields(view: &PendingView) -> Vec<(String, String)> {
    let serde_json::Value::Object(map) = &view.ligne_recue else {
        return Vec::new();
    };
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    };
    let order: Vec<&str> = TransmissionFormat::parse(&view.format)
        .map(|f| columns(f).iter().map(|c| c.name).collect())
        .unwrap_or_default();
    let mut out: Vec<(String, String)> = order
        .iter()
        .filter_map(|name| map.get(*name).map(|v| ((*name).to_string(), text(v))))
        .collect();
    for (k, v) in map {
        if !order.contains(&k.as_str()) {
            out.push((k.clone(), text(v)));
        }
    }
    out
}

async fn suggested(
    state: &AppState,
    view: &PendingView,
) -> Result<(Vec<Suggested>, Vec<i64>), PageError> {
    let record = &view.ligne_recue;
    let mut out = Vec::new();
    let mut ids = Vec::new();
    for s in &view.suggestions {
        let Ok(nir) = Nir::parse(&s.nir) else {
            continue;
        };
        let Some(w) = state.store.worker(&nir).await? else {
            continue;
        };
        ids.push(w.id);
        let same_name = |a: &str, b: &str| normalize_name(a) == normalize_name(b);
        let line_nir = value_of(record, "NIR");
        let line_nom = value_of(record, "NOM");
        let line_prenom = value_of(record, "PRENOM");
        let line_birth = value_of(record, "DATENAISSANCE");
        let line_sex = value_of(record, "SEXE");
        let fields = vec![
            Compared {
                label: "NIR",
                differs: line_nir != s.nir,
                line: line_nir,
                registry: s.nir.clone(),
            },
            Compared {
                label: "Nom de naissance",
                differs: !same_name(&line_nom, &w.nom),
                line: line_nom,
                registry: w.nom.clone(),
            },
            Compared {
                label: "Prénom",
                differs: !same_name(&line_prenom, &w.prenom),
                line: line_prenom,
                registry: w.prenom.clone(),
            },
            Compared {
                label: "Date de naissance",
                differs: siseri_exchange::values::parse_date(&line_birth).ok()
                    != Some(w.date_naissance),
                line: french_date(&line_birth),
                registry: format::date(w.date_naissance),
            },
            Compared {
                label: "Sexe",
                differs: !line_sex.eq_ignore_ascii_case(w.sexe.code()),
                line: line_sex,
                registry: w.sexe.code().to_string(),
            },
        ];
        let (reason, explanation) = match s.raison {
            "MEME_NIR" => (
                "Même NIR",
                "Le travailleur du registre qui porte le NIR de la ligne ; son identité diffère.",
            ),
            _ => (
                "Même identité",
                "Un travailleur du registre de mêmes nom, prénom et date de naissance, sous un autre NIR.",
            ),
        };
        out.push(Suggested {
            reason,
            explanation,
            name: format!("{} {}", w.prenom, w.nom),
            nir: s.nir.clone(),
            fields,
        });
    }
    Ok((out, ids))
}

/// Builds the page of held line `id`, journaling the read of the suggested workers'
/// identities.
async fn detail_page(
    state: &AppState,
    caller: &PageCaller,
    headers: &HeaderMap,
    id: i64,
) -> Result<DetailPage, PageError> {
    let view = siseri_import::queue::get(state.store.as_ref(), id)
        .await?
        .ok_or(PageError(ApiError::NotFound))?;
    let layout = Layout::of(state, caller, headers, "/admin/en-attente").await?;
    let (suggestions, ids) = if view.resolution.is_none() {
        suggested(state, &view).await?
    } else {
        (Vec::new(), Vec::new())
    };
    let mut event = caller.0.event(Utc::now(), "LECTURE", "FILE_ATTENTE");
    event.worker_ids = ids;
    event.detail = Some(format!(
        "ligne {} de la transmission {} (file d'attente n° {id})",
        view.ligne, view.transmission
    ));
    state.store.append_journal(&[event]).await?;
    let record = record_fields(&view);
    let first = view
        .suggestions
        .first()
        .map(|s| s.nir.clone())
        .unwrap_or_default();
    Ok(DetailPage {
        layout,
        id: view.id,
        transmission: view.transmission,
        line: view.ligne,
        format: view.format.clone(),
        sender: match &view.emetteur {
            Some(s) => format!("{} (SIREN {s})", view.login),
            None => view.login.clone(),
        },
        received: format::date_time(view.recue_le),
        codes: view.codes.clone(),
        conflicts: view.conflits.join(", "),
        record,
        suggestions,
        resolution: view
            .resolution
            .as_deref()
            .map(|r| outcome_label(r).to_string()),
        error: None,
        nir: Input::text(
            "nir",
            "NIR du travailleur auquel rattacher la ligne",
            "13 caractères, sans la clé ; le travailleur doit être déclaré au registre.",
        )
        .required()
        .with(&first),
        correct: false,
        reason: Input::text(
            "motif",
            "Motif du rejet",
            "Il figure dans le compte rendu de l’émetteur (REJET_GESTIONNAIRE).",
        )
        .required(),
    })
}

async fn detail(
    State(state): State<AppState>,
    caller: PageCaller,
    headers: HeaderMap,
    PagePath(id): PagePath<i64>,
) -> PageResult {
    admin_only(&caller)?;
    Ok(detail_page(&state, &caller, &headers, id)
        .await?
        .into_response())
}

async fn resolve(
    State(state): State<AppState>,
    caller: PageCaller,
    headers: HeaderMap,
    PagePath(id): PagePath<i64>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> PageResult {
    admin_only(&caller)?;
    if let Some(r) = caller.forged(&field(&pairs, "csrf")) {
        return Ok(r);
    }
    let action = field(&pairs, "action");
    let nir_text = field(&pairs, "nir");
    let reason = field(&pairs, "motif");
    let correct = !field(&pairs, "corriger").is_empty();
    // A refusal shows the line again, with what was typed and the error on its field.
    let refuse = |mut page: DetailPage, on_nir: Option<String>, on_reason: Option<String>| {
        page.nir.value.clone_from(&nir_text);
        page.nir.error = on_nir;
        page.reason.value.clone_from(&reason);
        page.reason.error = on_reason;
        page.correct = correct;
        page.error = Some("La ligne n’a pas été traitée : corrigez le champ signalé.".into());
        Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
    };
    let decision = match action.as_str() {
        "rattacher" => match Nir::parse(&nir_text) {
            Ok(nir) if correct => Decision::AttachAndCorrect(nir),
            Ok(nir) => Decision::Attach(nir),
            Err(_) => {
                let page = detail_page(&state, &caller, &headers, id).await?;
                return refuse(
                    page,
                    Some("NIR invalide : 13 caractères attendus (NIR ou NIA sans clé).".into()),
                    None,
                );
            }
        },
        "rejeter" => Decision::Reject(reason.clone()),
        _ => {
            return Err(PageError(ApiError::BadRequest(
                "Action inconnue : rattacher ou rejeter.".into(),
            )));
        }
    };
    let outcome = siseri_import::queue::resolve(
        state.store.as_ref(),
        id,
        &decision,
        caller.0.login(),
        state.clock.today(),
    )
    .await;
    match outcome {
        Ok(_) => Ok(Redirect::to(&format!("/admin/en-attente?traitee={id}")).into_response()),
        Err(QueueError::NotFound) => Err(PageError(ApiError::NotFound)),
        Err(e @ QueueError::Resolved) => Err(PageError(ApiError::Conflict(format!(
            "{} : rechargez la file d’attente.",
            capitalised(&e.to_string())
        )))),
        Err(e @ (QueueError::UnknownWorker | QueueError::NoIdentity)) => {
            let page = detail_page(&state, &caller, &headers, id).await?;
            refuse(
                page,
                Some(format!("{}.", capitalised(&e.to_string()))),
                None,
            )
        }
        Err(e @ QueueError::ReasonRequired) => {
            let page = detail_page(&state, &caller, &headers, id).await?;
            refuse(
                page,
                None,
                Some(format!("{}.", capitalised(&e.to_string()))),
            )
        }
        Err(QueueError::Store(s)) => Err(s.into()),
    }
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map_or_else(String::new, |c| {
        format!("{}{}", c.to_uppercase(), chars.as_str())
    })
}

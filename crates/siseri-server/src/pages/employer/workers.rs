//! The employer's workers: the list (past and present attachments to its establishments),
//! a declaration (identity and attachment), a worker's administrative record with the
//! versions of his attachments, a new version of an attachment's terms, and its end.
//!
//! Declarations go through the worker import's line checks ([`super::terms`]) and the same
//! writes (`EnsureWorker`, `AddAttachment`, `AddAttachmentVersion`). A worker's record is
//! read through `read_worker_at` (access policy and journal); an employer never sees a dose,
//! and of an alert only the fact and the kind of limit.

use std::collections::{BTreeMap, BTreeSet};

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use chrono::{NaiveDate, Utc};
use serde::Deserialize;
use siseri_domain::access::{ReadDecision, ReadKind, WriteAction, can_read, can_write};
use siseri_domain::account::Role;
use siseri_domain::ids::Nir;
use siseri_domain::totals::Month;
use siseri_domain::worker::{Attachment, AttachmentTerms, Worker};
use siseri_exchange::values::normalize_name;
use siseri_storage::{WriteBatch, WriteOp};

use super::super::paging::{Paged, matches};
use super::super::{Layout, PageError, PageResult, format};
use super::terms::{
    IdentityInput, Options, TermsInput, check_form, classement_label, contract_label,
};
use super::{Errors, establishment_choices, only, scope, shown, typed_date};
use crate::caller::{person, worker_facts};
use crate::extract::{PageForm, PagePath, PageQuery};
use crate::login::PageCaller;
use crate::records::{Refusal, read_worker_at};
use crate::{ApiError, AppState};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/employeur/travailleurs", axum::routing::get(list))
        .route(
            "/employeur/travailleurs/nouveau",
            axum::routing::get(new_form).post(declare),
        )
        .route("/employeur/travailleurs/{nir}", axum::routing::get(record))
        .route(
            "/employeur/travailleurs/{nir}/rattachements/{id}",
            axum::routing::get(edit_form).post(edit),
        )
        .route(
            "/employeur/travailleurs/{nir}/rattachements/{id}/fin",
            axum::routing::post(end),
        )
}

// --- the list ---

/// A worker as the list shows him.
pub struct Row {
    nir: String,
    name: String,
    birth: String,
    establishments: String,
    classement: String,
    since: String,
    until: String,
    current: bool,
    id: i64,
}

#[derive(Template, WebTemplate)]
#[template(path = "employer/travailleurs.html")]
struct ListPage {
    layout: Layout,
    list: Paged<Row>,
    search: String,
    search_label: &'static str,
    etat: String,
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    #[serde(default)]
    page: Option<usize>,
    #[serde(default)]
    q: Option<String>,
    /// `en-cours`, `termines` or empty (all).
    #[serde(default)]
    etat: Option<String>,
}

/// The workers attached (at any time) to the establishments shown, each with his
/// attachments to them.
async fn attached(
    state: &AppState,
    sirets: &BTreeSet<siseri_domain::ids::Siret>,
) -> Result<Vec<(Worker, Vec<Attachment>)>, PageError> {
    let mut workers = BTreeMap::new();
    for s in sirets {
        for w in state.store.workers_of(s).await? {
            workers.entry(w.nir.clone()).or_insert(w);
        }
    }
    let mut out = Vec::with_capacity(workers.len());
    for (nir, w) in workers {
        let attachments: Vec<Attachment> = state
            .store
            .attachments(&nir)
            .await?
            .into_iter()
            .filter(|a| sirets.contains(&a.siret))
            .collect();
        out.push((w, attachments));
    }
    Ok(out)
}

async fn list(
    State(state): State<AppState>,
    caller: PageCaller,
    headers: HeaderMap,
    PageQuery(query): PageQuery<ListQuery>,
) -> PageResult {
    only(&caller, Role::Employeur)?;
    let layout = Layout::of(&state, &caller, &headers, "/employeur/travailleurs").await?;
    let establishments = shown(&state, &caller, &headers).await?;
    let names: BTreeMap<_, _> = establishments
        .iter()
        .map(|e| (e.siret.clone(), e.name.clone()))
        .collect();
    let sirets: BTreeSet<_> = names.keys().cloned().collect();
    let today = state.clock.today();
    let text = query.q.clone().unwrap_or_default();
    let needle = Some(text.trim().to_lowercase()).filter(|t| !t.is_empty());
    let etat = query.etat.clone().unwrap_or_default();
    let mut rows = Vec::new();
    for (w, attachments) in attached(&state, &sirets).await? {
        let current = attachments
            .iter()
            .any(|a| a.current().is_some_and(|t| t.covers(today)));
        let wanted = match etat.as_str() {
            "en-cours" => current,
            "termines" => !current,
            _ => true,
        };
        let name = format!("{} {}", w.nom, w.prenom);
        if !wanted || !matches(&needle, &[w.nir.as_str(), &name]) {
            continue;
        }
        let latest = attachments
            .iter()
            .filter_map(|a| a.current().map(|t| (t, a)))
            .max_by_key(|(t, _)| t.date_debut);
        let mut places: Vec<&str> = attachments
            .iter()
            .filter_map(|a| names.get(&a.siret).map(String::as_str))
            .collect();
        places.dedup();
        rows.push(Row {
            nir: w.nir.to_string(),
            birth: format::date(w.date_naissance),
            establishments: places.join(", "),
            classement: latest.map(|(t, _)| classement_label(t)).unwrap_or_default(),
            since: latest
                .map(|(t, _)| format::date(t.date_debut))
                .unwrap_or_default(),
            until: latest
                .and_then(|(t, _)| t.date_fin)
                .map(format::date)
                .unwrap_or_default(),
            current,
            id: w.id,
            name,
        });
    }
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    let list = Paged::of(
        rows,
        query.page,
        &[("q", text.clone()), ("etat", etat.clone())],
    );
    // Names and NIRs are nominative: the page read is journaled, with the workers shown.
    let mut event = caller.0.event(Utc::now(), "LECTURE", "LISTE_TRAVAILLEURS");
    event.worker_ids = list.rows.iter().map(|r| r.id).collect();
    state.store.append_journal(&[event]).await?;
    Ok(ListPage {
        layout,
        list,
        search: text,
        search_label: "Rechercher un travailleur (nom, prénom ou NIR)",
        etat,
    }
    .into_response())
}

// --- declaration ---

#[derive(Template, WebTemplate)]
#[template(path = "employer/nouveau.html")]
struct NewPage {
    layout: Layout,
    identity: IdentityInput,
    terms: TermsInput,
    options: Options,
    errors: Errors,
}

async fn new_form(
    State(state): State<AppState>,
    caller: PageCaller,
    headers: HeaderMap,
) -> PageResult {
    only(&caller, Role::Employeur)?;
    let layout = Layout::of(&state, &caller, &headers, "/employeur/travailleurs/nouveau").await?;
    let establishments = scope(&state, &caller).await?;
    let mut terms = TermsInput::blank(state.clock.today());
    if let Some(first) = shown(&state, &caller, &headers).await?.first() {
        terms.siret = first.siret.to_string();
    }
    Ok(NewPage {
        layout,
        identity: IdentityInput::default(),
        terms,
        options: Options::new(establishment_choices(&establishments)),
        errors: Errors::default(),
    }
    .into_response())
}

#[derive(Deserialize)]
struct DeclareForm {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    identity: IdentityInput,
    #[serde(flatten)]
    terms: TermsInput,
}

/// Whether the stored identity differs from the typed one (as the import compares them).
fn identity_differs(w: &Worker, nom: &str, prenom: &str, born: NaiveDate) -> bool {
    normalize_name(nom) != normalize_name(&w.nom)
        || normalize_name(prenom) != normalize_name(&w.prenom)
        || born != w.date_naissance
}

/// Another attachment of the worker to the same establishment whose period overlaps.
fn overlapping<'a>(
    attachments: &'a [Attachment],
    siret: &siseri_domain::ids::Siret,
    terms: &AttachmentTerms,
    except: Option<i64>,
) -> Option<&'a Attachment> {
    attachments.iter().find(|a| {
        Some(a.id) != except && a.siret == *siret && a.current().is_some_and(|t| t.overlaps(terms))
    })
}

async fn declare(
    State(state): State<AppState>,
    caller: PageCaller,
    headers: HeaderMap,
    PageForm(form): PageForm<DeclareForm>,
) -> PageResult {
    only(&caller, Role::Employeur)?;
    if let Some(r) = caller.forged(&form.csrf) {
        return Ok(r);
    }
    let today = state.clock.today();
    let establishments = scope(&state, &caller).await?;
    let checked = check_form(&form.identity, &form.terms, today);
    let mut errors = Errors::default();
    if let Ok(line) = &checked {
        let p = person(state.store.as_ref(), &caller.0).await?;
        let action = WriteAction::DeclareWorker {
            siret: line.siret.clone(),
        };
        if !establishments.iter().any(|e| e.siret == line.siret)
            || !can_write(&p, None, &action, today)
        {
            errors.add("siret", "Choisissez un de vos établissements.");
        }
        let nir = &line.worker.nir;
        if let Some(w) = state.store.worker(nir).await?
            && identity_differs(
                &w,
                &line.worker.nom,
                &line.worker.prenom,
                line.worker.date_naissance,
            )
        {
            errors.add(
                "nom",
                "Ce NIR est connu du registre sous une autre identité (nom, prénom ou date de naissance) : vérifiez la saisie ; une correction d’identité se demande au gestionnaire du registre.",
            );
        }
        let attachments = state.store.attachments(nir).await?;
        if overlapping(&attachments, &line.siret, &line.terms, None).is_some() {
            errors.add(
                "date_debut",
                "Ce travailleur est déjà rattaché à cet établissement sur cette période : modifiez ce rattachement depuis sa fiche.",
            );
        }
    }
    let line = match checked {
        Ok(line) if errors.is_empty() => line,
        Ok(_) | Err(_) => {
            if let Err(e) = checked {
                errors = e;
            }
            let layout =
                Layout::of(&state, &caller, &headers, "/employeur/travailleurs/nouveau").await?;
            let page = NewPage {
                layout,
                identity: form.identity,
                terms: form.terms,
                options: Options::new(establishment_choices(&establishments)),
                errors,
            };
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let now = Utc::now();
    let mut batch = WriteBatch::new(caller.0.login(), now);
    batch.event = caller.0.event(now, "ECRITURE", "RATTACHEMENT");
    batch.event.detail = Some(format!("déclaration d'un rattachement à {}", line.siret));
    batch.ops = vec![
        WriteOp::EnsureWorker(line.worker.clone()),
        WriteOp::AddAttachment {
            nir: line.worker.nir.clone(),
            siret: line.siret.clone(),
            terms: line.terms,
        },
    ];
    state.store.commit(&batch).await?;
    Ok(Redirect::to(&format!("/employeur/travailleurs/{}", line.worker.nir)).into_response())
}

// --- a worker's record ---

/// One version of an attachment, as the record shows it.
pub struct VersionRow {
    version: u32,
    period: String,
    classement: String,
    activity: String,
    contract: String,
    quotite: String,
    group: String,
    author: String,
    recorded: String,
}

/// An attachment in the employer's scope.
pub struct AttachmentBlock {
    id: i64,
    establishment: String,
    current: bool,
    ended: bool,
    versions: Vec<VersionRow>,
    end_default: String,
}

/// An alert: the fact and the kind of limit, never a dose.
pub struct AlertFact {
    kind: String,
    months: String,
    status: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "employer/travailleur.html")]
struct RecordPage {
    layout: Layout,
    nir: String,
    name: String,
    birth: String,
    sex: &'static str,
    attachments: Vec<AttachmentBlock>,
    alerts: Vec<AlertFact>,
}

fn limit_label(kind: &str) -> String {
    match kind {
        "E" => "Dose efficace",
        "CRISTALLIN" => "Cristallin",
        "PEAU" => "Peau",
        "EXTREMITES" => "Extrémités",
        "ENFANT_A_NAITRE" => "Enfant à naître",
        other => other,
    }
    .to_string()
}

fn version_row(v: &siseri_domain::worker::AttachmentVersion) -> VersionRow {
    let t = &v.terms;
    let n = siseri_domain::Nomenclature::official();
    VersionRow {
        version: v.version,
        period: match t.date_fin {
            Some(f) => format!("du {} au {}", format::date(t.date_debut), format::date(f)),
            None => format!("depuis le {}", format::date(t.date_debut)),
        },
        classement: classement_label(t),
        activity: format!(
            "{} / {} / {}",
            n.domain_label(&t.code_domaine).unwrap_or(&t.code_domaine),
            n.sector_label(&t.code_secteur).unwrap_or(&t.code_secteur),
            n.job_label(&t.code_metier).unwrap_or(&t.code_metier)
        ),
        contract: contract_label(t.type_contrat.code()).to_string(),
        quotite: format!("{} %", t.quotite_milliemes / 10),
        group: t.groupe.clone().unwrap_or_default(),
        author: v.author.clone(),
        recorded: format::date_time(v.recorded_at),
    }
}

/// The worker and his attachments in the caller's scope, through the access policy, the
/// read journaled; `NotFound` exactly as for an unknown NIR.
async fn visible(
    state: &AppState,
    caller: &PageCaller,
    nir: &str,
) -> Result<(Worker, Vec<Attachment>, ReadDecision), PageError> {
    let nir = Nir::parse(nir.trim()).map_err(|_| ApiError::NotFound)?;
    let store = state.store.as_ref();
    match read_worker_at(
        store,
        state.clock,
        &caller.0,
        &nir,
        Month::of(state.clock.today()),
    )
    .await?
    {
        Ok(_) => {}
        Err(Refusal::NotFound | Refusal::MissionRequired) => return Err(ApiError::NotFound.into()),
    }
    let worker = store.worker(&nir).await?.ok_or(ApiError::NotFound)?;
    let attachments = store.attachments(&nir).await?;
    let p = person(store, &caller.0).await?;
    let facts = worker_facts(&nir, &attachments);
    let today = state.clock.today();
    let ReadDecision::AttachmentsInScope(sirets) = can_read(&p, &facts, ReadKind::Identity, today)
    else {
        return Err(ApiError::NotFound.into());
    };
    let alerts = can_read(&p, &facts, ReadKind::Alerts, today);
    let mine = attachments
        .into_iter()
        .filter(|a| sirets.contains(&a.siret))
        .collect();
    Ok((worker, mine, alerts))
}

async fn record(
    State(state): State<AppState>,
    caller: PageCaller,
    headers: HeaderMap,
    PagePath(nir): PagePath<String>,
) -> PageResult {
    only(&caller, Role::Employeur)?;
    let layout = Layout::of(&state, &caller, &headers, "/employeur/travailleurs").await?;
    let (worker, attachments, alert_decision) = visible(&state, &caller, &nir).await?;
    let today = state.clock.today();
    let mut blocks = Vec::new();
    for a in &attachments {
        let name = state
            .store
            .establishment(&a.siret)
            .await?
            .map(|e| e.name)
            .unwrap_or_default();
        let current = a.current();
        blocks.push(AttachmentBlock {
            id: a.id,
            establishment: format!("{name} ({})", a.siret),
            current: current.is_some_and(|t| t.covers(today)),
            ended: current.is_some_and(|t| t.date_fin.is_some_and(|f| f < today)),
            versions: a.versions.iter().map(version_row).collect(),
            end_default: current
                .map(|t| t.date_fin.unwrap_or(today).max(t.date_debut))
                .unwrap_or(today)
                .format("%Y-%m-%d")
                .to_string(),
        });
    }
    // The policy gives an employer the fact and the kind of limit of an alert only.
    let alerts = if alert_decision == ReadDecision::FactOnly {
        state
            .store
            .alerts(worker.id)
            .await?
            .iter()
            .map(|a| AlertFact {
                kind: limit_label(&a.kind),
                months: format!(
                    "{} à {}",
                    format::month(Month(a.first_month)),
                    format::month(Month(a.last_month))
                ),
                status: a.status.replace('_', " ").to_lowercase(),
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(RecordPage {
        layout,
        nir: worker.nir.to_string(),
        name: format!("{} {}", worker.nom, worker.prenom),
        birth: format::date(worker.date_naissance),
        sex: if worker.sexe.code() == "F" {
            "Femme"
        } else {
            "Homme"
        },
        attachments: blocks,
        alerts,
    }
    .into_response())
}

// --- an attachment's new terms, and its end ---

#[derive(Template, WebTemplate)]
#[template(path = "employer/rattachement.html")]
struct EditPage {
    layout: Layout,
    nir: String,
    name: String,
    id: i64,
    establishment: String,
    terms: TermsInput,
    options: Options,
    errors: Errors,
}

/// The attachment `id` of the worker, in the caller's scope and writable by him.
async fn writable(
    state: &AppState,
    caller: &PageCaller,
    nir: &str,
    id: i64,
) -> Result<(Worker, Attachment, Vec<Attachment>), PageError> {
    let (worker, mine, _) = visible(state, caller, nir).await?;
    let a = mine
        .iter()
        .find(|a| a.id == id)
        .cloned()
        .ok_or(ApiError::NotFound)?;
    let p = person(state.store.as_ref(), &caller.0).await?;
    let action = WriteAction::DeclareWorker {
        siret: a.siret.clone(),
    };
    if !can_write(&p, None, &action, state.clock.today()) {
        return Err(ApiError::NotFound.into());
    }
    Ok((worker, a, mine))
}

async fn edit_page(
    state: &AppState,
    caller: &PageCaller,
    headers: &HeaderMap,
    worker: &Worker,
    a: &Attachment,
    terms: TermsInput,
    errors: Errors,
) -> Result<EditPage, PageError> {
    let layout = Layout::of(state, caller, headers, "/employeur/travailleurs").await?;
    let name = state
        .store
        .establishment(&a.siret)
        .await?
        .map(|e| e.name)
        .unwrap_or_default();
    Ok(EditPage {
        layout,
        nir: worker.nir.to_string(),
        name: format!("{} {}", worker.nom, worker.prenom),
        id: a.id,
        establishment: format!("{name} ({})", a.siret),
        terms,
        options: Options::new(Vec::new()),
        errors,
    })
}

async fn edit_form(
    State(state): State<AppState>,
    caller: PageCaller,
    headers: HeaderMap,
    PagePath((nir, id)): PagePath<(String, i64)>,
) -> PageResult {
    only(&caller, Role::Employeur)?;
    let (worker, a, _) = writable(&state, &caller, &nir, id).await?;
    let terms = a
        .current()
        .map(|t| TermsInput::of(&a.siret, t))
        .unwrap_or_default();
    Ok(edit_page(
        &state,
        &caller,
        &headers,
        &worker,
        &a,
        terms,
        Errors::default(),
    )
    .await?
    .into_response())
}

#[derive(Deserialize)]
struct EditForm {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    terms: TermsInput,
}

/// Checks new terms of attachment `a` and writes them as its next version.
async fn new_version(
    state: &AppState,
    caller: &PageCaller,
    worker: &Worker,
    a: &Attachment,
    others: &[Attachment],
    mut terms: TermsInput,
    what: &str,
) -> Result<Result<(), Errors>, PageError> {
    // The establishment of an attachment does not change.
    terms.siret = a.siret.to_string();
    let line = match check_form(&IdentityInput::of(worker), &terms, state.clock.today()) {
        Ok(line) => line,
        Err(errors) => return Ok(Err(errors)),
    };
    if overlapping(others, &a.siret, &line.terms, Some(a.id)).is_some() {
        let mut errors = Errors::default();
        errors.add(
            "date_debut",
            "Cette période chevauche un autre rattachement du travailleur à cet établissement.",
        );
        return Ok(Err(errors));
    }
    let now = Utc::now();
    let mut batch = WriteBatch::new(caller.0.login(), now);
    batch.event = caller.0.event(now, "ECRITURE", "RATTACHEMENT");
    batch.event.detail = Some(format!("{what} du rattachement {} à {}", a.id, a.siret));
    batch.ops = vec![WriteOp::AddAttachmentVersion {
        attachment_id: a.id,
        after_version: a.versions.last().map_or(1, |v| v.version),
        terms: line.terms,
    }];
    state.store.commit(&batch).await?;
    Ok(Ok(()))
}

async fn edit(
    State(state): State<AppState>,
    caller: PageCaller,
    headers: HeaderMap,
    PagePath((nir, id)): PagePath<(String, i64)>,
    PageForm(form): PageForm<EditForm>,
) -> PageResult {
    only(&caller, Role::Employeur)?;
    if let Some(r) = caller.forged(&form.csrf) {
        return Ok(r);
    }
    let (worker, a, others) = writable(&state, &caller, &nir, id).await?;
    match new_version(
        &state,
        &caller,
        &worker,
        &a,
        &others,
        form.terms.clone(),
        "modification",
    )
    .await?
    {
        Ok(()) => {
            Ok(Redirect::to(&format!("/employeur/travailleurs/{}", worker.nir)).into_response())
        }
        Err(errors) => {
            let page =
                edit_page(&state, &caller, &headers, &worker, &a, form.terms, errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

#[derive(Deserialize)]
struct EndForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    date_fin: String,
}

async fn end(
    State(state): State<AppState>,
    caller: PageCaller,
    PagePath((nir, id)): PagePath<(String, i64)>,
    PageForm(form): PageForm<EndForm>,
) -> PageResult {
    only(&caller, Role::Employeur)?;
    if let Some(r) = caller.forged(&form.csrf) {
        return Ok(r);
    }
    let (worker, a, others) = writable(&state, &caller, &nir, id).await?;
    let Some(date_fin) = typed_date(&form.date_fin) else {
        return Err(ApiError::Unprocessable(
            "Indiquez la date de fin du rattachement (JJ/MM/AAAA).".into(),
        )
        .into());
    };
    let Some(current) = a.current() else {
        return Err(ApiError::NotFound.into());
    };
    let mut terms = TermsInput::of(&a.siret, current);
    terms.date_fin = date_fin.format("%Y-%m-%d").to_string();
    match new_version(&state, &caller, &worker, &a, &others, terms, "fin").await? {
        Ok(()) => {
            Ok(Redirect::to(&format!("/employeur/travailleurs/{}", worker.nir)).into_response())
        }
        Err(errors) => {
            let message = errors
                .all()
                .into_iter()
                .map(|(_, m)| m.to_string())
                .collect::<Vec<_>>()
                .join(" ");
            Err(ApiError::Unprocessable(format!(
                "Le rattachement n’a pas pu être terminé : {message}"
            ))
            .into())
        }
    }
}

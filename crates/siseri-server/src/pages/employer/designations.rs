//! The designations of occupational physicians (MDT) and radiation protection advisors
//! (CRP) on the employer's establishments: the list, a new designation (the API's
//! `designate`, one set of rules) and the end of a designation.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use chrono::Utc;
use serde::Deserialize;
use siseri_domain::access::{WriteAction, can_write};
use siseri_domain::account::Role;

use super::super::paging::{ListQuery, Paged, matches};
use super::super::{Layout, PageError, PageResult, format};
use super::{Choice, Errors, establishment_choices, only, scope, shown, typed_date};
use crate::api_people::{DesignationRequest, designate};
use crate::caller::person;
use crate::extract::{PageForm, PagePath, PageQuery};
use crate::login::PageCaller;
use crate::{ApiError, AppState};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/employeur/designations",
            axum::routing::get(list).post(add),
        )
        .route("/employeur/designations/{id}/fin", axum::routing::post(end))
}

/// A designation as the list shows it.
pub struct Row {
    id: i64,
    role: &'static str,
    login: String,
    establishment: String,
    period: String,
    current: bool,
    end_default: String,
}

/// The new designation's form, as typed.
#[derive(Debug, Clone, Default, Deserialize)]
struct AddForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    siret: String,
    #[serde(default)]
    date_debut: String,
    #[serde(default)]
    date_fin: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "employer/designations.html")]
struct ListPage {
    layout: Layout,
    list: Paged<Row>,
    search: String,
    search_label: &'static str,
    may_designate: bool,
    roles: Vec<Choice>,
    establishments: Vec<Choice>,
    form: AddForm,
    errors: Errors,
    info: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Listed {
    #[serde(default)]
    page: Option<usize>,
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    fait: Option<String>,
}

async fn page(
    state: &AppState,
    caller: &PageCaller,
    headers: &HeaderMap,
    query: &ListQuery,
    form: AddForm,
    errors: Errors,
    info: Option<String>,
) -> Result<ListPage, PageError> {
    let layout = Layout::of(state, caller, headers, "/employeur/designations").await?;
    let today = state.clock.today();
    let needle = query.needle();
    let mut rows = Vec::new();
    for e in shown(state, caller, headers).await? {
        for d in state.store.designations_on(&e.siret).await? {
            let role = match d.role {
                siseri_domain::worker::DesignationRole::Physician => "Médecin du travail",
                siseri_domain::worker::DesignationRole::Advisor => "Conseiller en radioprotection",
            };
            let establishment = format!("{} ({})", e.name, e.siret);
            if !matches(&needle, &[&d.login, role, &establishment]) {
                continue;
            }
            rows.push(Row {
                id: d.id,
                role,
                login: d.login.clone(),
                period: match d.date_fin {
                    Some(f) => format!("du {} au {}", format::date(d.date_debut), format::date(f)),
                    None => format!("depuis le {}", format::date(d.date_debut)),
                },
                current: d.covers(today),
                end_default: d
                    .date_fin
                    .unwrap_or(today)
                    .max(d.date_debut)
                    .format("%Y-%m-%d")
                    .to_string(),
                establishment,
            });
        }
    }
    Ok(ListPage {
        layout,
        list: Paged::of(rows, query.page, &[("q", query.text())]),
        search: query.text(),
        search_label: "Rechercher une désignation (identifiant, fonction, établissement)",
        may_designate: !caller.0.account.spec.correspondent,
        roles: vec![
            Choice::new("MDT", "Médecin du travail (MDT)"),
            Choice::new("CRP", "Conseiller en radioprotection (CRP)"),
        ],
        establishments: establishment_choices(&scope(state, caller).await?),
        form,
        errors,
        info,
    })
}

async fn list(
    State(state): State<AppState>,
    caller: PageCaller,
    headers: HeaderMap,
    PageQuery(query): PageQuery<Listed>,
) -> PageResult {
    only(&caller, Role::Employeur)?;
    let info = match query.fait.as_deref() {
        Some("ajout") => Some("La désignation est enregistrée.".to_string()),
        Some("fin") => Some("La fin de la désignation est enregistrée.".to_string()),
        _ => None,
    };
    let today = state.clock.today().format("%Y-%m-%d").to_string();
    let form = AddForm {
        date_debut: today,
        ..AddForm::default()
    };
    let q = ListQuery {
        page: query.page,
        q: query.q,
    };
    Ok(
        page(&state, &caller, &headers, &q, form, Errors::default(), info)
            .await?
            .into_response(),
    )
}

/// The field an error message of the API's `designate` is about (« field : message »).
fn field_of(message: &str) -> (&str, &str) {
    match message.split_once(" : ") {
        Some((field, rest)) if ["role", "login", "siret", "date_fin"].contains(&field) => {
            (field, rest)
        }
        _ => ("login", message),
    }
}

async fn add(
    State(state): State<AppState>,
    caller: PageCaller,
    headers: HeaderMap,
    PageForm(form): PageForm<AddForm>,
) -> PageResult {
    only(&caller, Role::Employeur)?;
    if let Some(r) = caller.forged(&form.csrf) {
        return Ok(r);
    }
    let mut errors = Errors::default();
    let start = typed_date(&form.date_debut);
    if start.is_none() {
        errors.add("date_debut", "Indiquez la date de début de la désignation.");
    }
    let end = if form.date_fin.trim().is_empty() {
        Some(None)
    } else {
        typed_date(&form.date_fin).map(Some)
    };
    if end.is_none() {
        errors.add(
            "date_fin",
            "Indiquez une date valide, ou laissez le champ vide.",
        );
    }
    if form.login.trim().is_empty() {
        errors.add(
            "login",
            "Indiquez l’identifiant SISERI de la personne désignée.",
        );
    }
    if let (Some(date_debut), Some(date_fin), true) = (start, end, errors.is_empty()) {
        let request = DesignationRequest {
            role: form.role.clone(),
            login: form.login.trim().to_lowercase(),
            siret: form.siret.split_whitespace().collect(),
            date_debut,
            date_fin,
        };
        match designate(
            State(state.clone()),
            caller.0.clone(),
            crate::extract::ApiJson(request),
        )
        .await
        {
            Ok(_) => return Ok(Redirect::to("/employeur/designations?fait=ajout").into_response()),
            Err(ApiError::BadRequest(m)) => {
                let (field, text) = field_of(&m);
                errors.add(field, capitalised(text));
            }
            Err(ApiError::Forbidden(_, m)) => errors.add("siret", m),
            Err(e) => return Err(e.into()),
        }
    }
    let p = page(
        &state,
        &caller,
        &headers,
        &ListQuery::default(),
        form,
        errors,
        None,
    )
    .await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, p).into_response())
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => format!(
            "{}{}.",
            c.to_uppercase(),
            chars.as_str().trim_end_matches('.')
        ),
        None => String::new(),
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
    PagePath(id): PagePath<i64>,
    PageForm(form): PageForm<EndForm>,
) -> PageResult {
    only(&caller, Role::Employeur)?;
    if let Some(r) = caller.forged(&form.csrf) {
        return Ok(r);
    }
    // Only a designation on one of its establishments: any other is answered as unknown.
    let mut found = None;
    for e in scope(&state, &caller).await? {
        if let Some(d) = state
            .store
            .designations_on(&e.siret)
            .await?
            .into_iter()
            .find(|d| d.id == id)
        {
            found = Some(d);
        }
    }
    let Some(d) = found else {
        return Err(ApiError::NotFound.into());
    };
    let p = person(state.store.as_ref(), &caller.0).await?;
    let action = WriteAction::Designate {
        siret: d.siret.clone(),
    };
    if !can_write(&p, None, &action, state.clock.today()) {
        return Err(ApiError::Forbidden(
            "ROLE_NON_AUTORISE",
            "Seul l’employeur (hors correspondant) met fin à une désignation.",
        )
        .into());
    }
    let Some(date_fin) = typed_date(&form.date_fin).filter(|f| *f >= d.date_debut) else {
        return Err(ApiError::Unprocessable(format!(
            "Indiquez une date de fin postérieure ou égale au début de la désignation ({}).",
            format::date(d.date_debut)
        ))
        .into());
    };
    let mut event = caller.0.event(Utc::now(), "ECRITURE", "DESIGNATION");
    event.detail = Some(format!(
        "fin de la désignation {id} ({} {} sur {}) au {date_fin}",
        d.role.code(),
        d.login,
        d.siret
    ));
    if !state.store.end_designation(id, date_fin, &event).await? {
        return Err(ApiError::NotFound.into());
    }
    Ok(Redirect::to("/employeur/designations?fait=fin").into_response())
}

//! The employer's establishments, with the number of workers attached to each, and the
//! declaration of a new establishment of its company.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use chrono::Utc;
use serde::Deserialize;
use siseri_domain::account::Role;
use siseri_storage::NewEstablishment;

use super::super::paging::{ListQuery, Paged, matches};
use super::super::{Layout, PageError, PageResult, format};
use super::{Errors, only, shown, typed_siret};
use crate::AppState;
use crate::extract::{PageForm, PageQuery};
use crate::login::PageCaller;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route(
        "/employeur/etablissements",
        axum::routing::get(list).post(add),
    )
}

/// An establishment as the list shows it.
pub struct Row {
    siret: String,
    name: String,
    inb: bool,
    current: String,
    total: String,
}

/// The new establishment's form, as typed.
#[derive(Debug, Clone, Default, Deserialize)]
struct AddForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    siret: String,
    #[serde(default)]
    nom: String,
    #[serde(default)]
    inb: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "employer/etablissements.html")]
struct ListPage {
    layout: Layout,
    list: Paged<Row>,
    search: String,
    search_label: &'static str,
    company: String,
    /// Whether the account may add establishments (its whole company, not a correspondent).
    may_add: bool,
    siret: String,
    nom: String,
    inb: bool,
    errors: Errors,
    added: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Listed {
    #[serde(default)]
    page: Option<usize>,
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    ajoute: Option<String>,
}

/// Whether the account speaks for its whole company (not a correspondent, no SIRET list).
fn may_add(caller: &PageCaller) -> bool {
    let spec = &caller.0.account.spec;
    !spec.correspondent && spec.sirets.is_empty() && spec.siren.is_some()
}

async fn page(
    state: &AppState,
    caller: &PageCaller,
    headers: &HeaderMap,
    query: &ListQuery,
    form: AddForm,
    errors: Errors,
    added: Option<String>,
) -> Result<ListPage, PageError> {
    let layout = Layout::of(state, caller, headers, "/employeur/etablissements").await?;
    let today = state.clock.today();
    let needle = query.needle();
    let mut rows = Vec::new();
    for e in shown(state, caller, headers).await? {
        if !matches(&needle, &[e.siret.as_str(), &e.name]) {
            continue;
        }
        let workers = state.store.workers_of(&e.siret).await?;
        let mut current = 0;
        for w in &workers {
            let attachments = state.store.attachments(&w.nir).await?;
            if attachments
                .iter()
                .any(|a| a.siret == e.siret && a.current().is_some_and(|t| t.covers(today)))
            {
                current += 1;
            }
        }
        rows.push(Row {
            siret: e.siret.to_string(),
            name: e.name,
            inb: e.inb,
            current: format::integer(current),
            total: format::integer(workers.len() as i64),
        });
    }
    let company = match &caller.0.account.spec.siren {
        Some(siren) => state
            .store
            .company(siren)
            .await?
            .map(|c| format!("{} (SIREN {})", c.name, c.siren))
            .unwrap_or_default(),
        None => String::new(),
    };
    Ok(ListPage {
        layout,
        list: Paged::of(rows, query.page, &[("q", query.text())]),
        search: query.text(),
        search_label: "Rechercher un établissement (SIRET ou nom)",
        company,
        may_add: may_add(caller),
        siret: form.siret,
        nom: form.nom,
        inb: form.inb.is_some(),
        errors,
        added,
    })
}

async fn list(
    State(state): State<AppState>,
    caller: PageCaller,
    headers: HeaderMap,
    PageQuery(query): PageQuery<Listed>,
) -> PageResult {
    only(&caller, Role::Employeur)?;
    let added = query
        .ajoute
        .as_ref()
        .map(|s| format!("L’établissement {s} est ajouté à votre entreprise."));
    Ok(page(
        &state,
        &caller,
        &headers,
        &ListQuery {
            page: query.page,
            q: query.q.clone(),
        },
        AddForm::default(),
        Errors::default(),
        added,
    )
    .await?
    .into_response())
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
    let siren = caller.0.account.spec.siren.clone();
    if !may_add(&caller) {
        errors.add(
            "siret",
            "Seul le compte employeur de toute l’entreprise (hors correspondant) ajoute un établissement.",
        );
    }
    let name = form.nom.trim().to_string();
    if name.is_empty() || name.chars().count() > 200 {
        errors.add(
            "nom",
            "Indiquez le nom de l’établissement (200 caractères au plus).",
        );
    }
    let siret = match typed_siret(&form.siret) {
        Ok(s) if Some(s.siren()) != siren => {
            errors.add(
                "siret",
                "Ce SIRET n’appartient pas à votre entreprise : ses 9 premiers chiffres doivent être votre SIREN.",
            );
            None
        }
        Ok(s) => {
            if state.store.establishment(&s).await?.is_some() {
                errors.add("siret", "Cet établissement est déjà inscrit au registre.");
            }
            Some(s)
        }
        Err(siseri_domain::ids::IdError::SiretKey) => {
            errors.add(
                "siret",
                "Ce SIRET n’est pas valide : sa clé de contrôle est fausse. Vérifiez les 14 chiffres.",
            );
            None
        }
        Err(_) => {
            errors.add("siret", "Le SIRET compte 14 chiffres.");
            None
        }
    };
    let (Some(siret), true) = (siret, errors.is_empty()) else {
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
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, p).into_response());
    };
    let company_name = match &siren {
        Some(s) => state
            .store
            .company(s)
            .await?
            .map(|c| c.name)
            .unwrap_or_default(),
        None => String::new(),
    };
    let mut event = caller.0.event(Utc::now(), "ECRITURE", "ETABLISSEMENT");
    event.detail = Some(format!("création de l'établissement {siret}"));
    let e = NewEstablishment {
        siret: siret.clone(),
        name,
        inb: form.inb.is_some(),
        company_name,
    };
    state.store.add_establishment(&e, &event).await?;
    Ok(Redirect::to(&format!("/employeur/etablissements?ajoute={siret}")).into_response())
}

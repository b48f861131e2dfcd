//! Establishments: every one the registry knows (SIRET, name, company, INB), and the
//! form that declares one (and its company when it is new), as `siseri admin
//! establishment add` does.

use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use axum::{Router, routing::get};
use chrono::Utc;
use serde::Deserialize;
use siseri_domain::ids::Siret;
use siseri_storage::{NewEstablishment, StoreError};

use super::{Input, admin_only, field};
use crate::AppState;
use crate::extract::{PageForm, PageQuery};
use crate::login::PageCaller;
use crate::pages::paging::{ListQuery, Paged, encode, matches};
use crate::pages::{Layout, PageResult};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/etablissements", get(list))
        .route("/admin/etablissements/nouveau", get(new_form).post(create))
}

/// An establishment as the list shows it.
pub struct EstablishmentRow {
    siret: String,
    name: String,
    company: String,
    inb: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/establishments.html")]
struct ListPage {
    layout: Layout,
    list: Paged<EstablishmentRow>,
    search: String,
    search_label: &'static str,
    created: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Query2 {
    #[serde(flatten)]
    list: ListQuery,
    #[serde(default)]
    cree: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    caller: PageCaller,
    headers: HeaderMap,
    PageQuery(q): PageQuery<Query2>,
) -> PageResult {
    admin_only(&caller)?;
    let layout = Layout::of(&state, &caller, &headers, "/admin/etablissements").await?;
    let needle = q.list.needle();
    let mut companies: BTreeMap<String, String> = BTreeMap::new();
    let mut rows = Vec::new();
    let mut all = state.store.establishments().await?;
    all.sort_by(|a, b| a.siret.as_str().cmp(b.siret.as_str()));
    for e in all {
        let siren = e.siret.siren();
        if !companies.contains_key(siren.as_str()) {
            let name = state
                .store
                .company(&siren)
                .await?
                .map(|c| c.name)
                .unwrap_or_default();
            companies.insert(siren.as_str().to_string(), name);
        }
        let company = companies.get(siren.as_str()).cloned().unwrap_or_default();
        let company = format!("{company} (SIREN {siren})");
        if matches(&needle, &[e.siret.as_str(), &e.name, &company]) {
            rows.push(EstablishmentRow {
                siret: e.siret.to_string(),
                name: e.name,
                company,
                inb: e.inb,
            });
        }
    }
    Ok(ListPage {
        layout,
        list: Paged::of(rows, q.list.page, &[("q", q.list.text())]),
        search: q.list.text(),
        search_label: "Rechercher un établissement (SIRET, nom, entreprise)",
        created: q.cree.filter(|s| !s.is_empty()),
    }
    .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/establishment_new.html")]
struct NewPage {
    layout: Layout,
    error: Option<String>,
    siret: Input,
    name: Input,
    company: Input,
    inb: bool,
}

impl NewPage {
    fn new(layout: Layout, pairs: &[(String, String)]) -> Self {
        let v = |name| field(pairs, name);
        NewPage {
            layout,
            error: None,
            siret: Input::text("siret", "SIRET", "14 chiffres.")
                .required()
                .with(&v("siret")),
            name: Input::text("nom", "Nom de l’établissement", "200 caractères au plus.")
                .required()
                .with(&v("nom")),
            company: Input::text(
                "entreprise",
                "Nom de l’entreprise",
                "Seulement si l’entreprise (SIREN) est nouvelle ; par défaut, le nom de l’établissement.",
            )
            .with(&v("entreprise")),
            inb: !v("inb").is_empty(),
        }
    }
}

async fn new_form(
    State(state): State<AppState>,
    caller: PageCaller,
    headers: HeaderMap,
) -> PageResult {
    admin_only(&caller)?;
    let layout = Layout::of(&state, &caller, &headers, "/admin/etablissements/nouveau").await?;
    Ok(NewPage::new(layout, &[]).into_response())
}

fn valid_name(s: &str) -> bool {
    !s.is_empty() && s.chars().count() <= 200
}

async fn create(
    State(state): State<AppState>,
    caller: PageCaller,
    headers: HeaderMap,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> PageResult {
    admin_only(&caller)?;
    if let Some(r) = caller.forged(&field(&pairs, "csrf")) {
        return Ok(r);
    }
    let layout = Layout::of(&state, &caller, &headers, "/admin/etablissements/nouveau").await?;
    let mut page = NewPage::new(layout, &pairs);
    let siret = match Siret::parse(&page.siret.value) {
        Ok(s) => Some(s),
        Err(e) => {
            page.siret.error = Some(format!("SIRET invalide : {e}."));
            None
        }
    };
    let name = page.name.value.clone();
    if !valid_name(&name) {
        page.name.error = Some("Nom : 1 à 200 caractères.".into());
    }
    let company = page.company.value.clone();
    if company.chars().count() > 200 {
        page.company.error = Some("Nom de l’entreprise : 200 caractères au plus.".into());
    }
    let refused = |mut page: NewPage| {
        page.error =
            Some("L’établissement n’a pas été créé : corrigez les champs signalés.".into());
        Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
    };
    let Some(siret) = siret else {
        return refused(page);
    };
    if page.name.error.is_some() || page.company.error.is_some() {
        return refused(page);
    }
    if state.store.establishment(&siret).await?.is_some() {
        page.siret.error = Some(format!("Le SIRET {siret} est déjà enregistré."));
        return refused(page);
    }
    let new = NewEstablishment {
        siret,
        company_name: if company.is_empty() {
            name.clone()
        } else {
            company
        },
        name,
        inb: page.inb,
    };
    // The command line's journal entry, with the administrator as actor.
    let mut event = caller.0.event(Utc::now(), "ECRITURE", "ETABLISSEMENT");
    event.detail = Some(format!("création de l'établissement {}", new.siret));
    match state.store.add_establishment(&new, &event).await {
        Ok(created) => Ok(Redirect::to(&format!(
            "/admin/etablissements?q={}&cree={}",
            encode(created.siret.as_str()),
            encode(created.siret.as_str())
        ))
        .into_response()),
        Err(StoreError::Conflict(_)) => {
            page.siret.error = Some(format!("Le SIRET {} est déjà enregistré.", new.siret));
            refused(page)
        }
        Err(e) => Err(e.into()),
    }
}

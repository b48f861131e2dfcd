//! `GET /delegations`: an MDT's delegations to health professionals (read, or read and
//! write), created and revoked here through the API's own handlers
//! (`crate::api_people`); a health professional sees those he received, a designated
//! doctor the workers who designated him.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use siseri_domain::account::Role;

use super::super::paging::{ListQuery, Paged, matches};
use super::super::{Layout, PageError, PageResult};
use super::{Field, notice};
use crate::extract::{PageForm, PagePath, PageQuery};
use crate::login::PageCaller;
use crate::{ApiError, AppState};

/// A delegation as listed.
struct DelegationLine {
    id: i64,
    /// The other party (the professional for an MDT, the MDT for a professional).
    login: String,
    rights: &'static str,
    revoked: bool,
}

/// A designated doctor's grant as listed.
struct GrantLine {
    nir: String,
    name: String,
    revoked: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "health/delegations.html")]
struct DelegationsPage {
    layout: Layout,
    notice: Option<&'static str>,
    /// MDT: gives and revokes; PROFESSIONNEL_SANTE: receives; MEDECIN_DESIGNE: grants.
    physician: bool,
    doctor: bool,
    list: Paged<DelegationLine>,
    grants: Paged<GrantLine>,
    search: String,
    search_label: &'static str,
    login: Field,
    write: bool,
    errors: Vec<super::forms::Problem>,
}

/// The query of the page.
#[derive(Debug, Default, Deserialize)]
pub(super) struct DelegationsQuery {
    #[serde(default)]
    page: Option<usize>,
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    ok: Option<String>,
}

fn rights(write: bool) -> &'static str {
    if write {
        "Lecture et écriture"
    } else {
        "Lecture seule"
    }
}

pub(super) async fn page(
    State(state): State<AppState>,
    caller: PageCaller,
    headers: HeaderMap,
    PageQuery(query): PageQuery<DelegationsQuery>,
) -> PageResult {
    show(&state, &caller, &headers, &query, None, StatusCode::OK).await
}

/// The creation form as typed, and the message of its refusal.
struct Typed {
    login: String,
    write: bool,
    error: String,
}

async fn show(
    state: &AppState,
    caller: &PageCaller,
    headers: &HeaderMap,
    query: &DelegationsQuery,
    typed: Option<Typed>,
    status: StatusCode,
) -> PageResult {
    let layout = Layout::of(state, caller, headers, "/delegations").await?;
    let store = state.store.as_ref();
    let role = caller.0.account.spec.role;
    let login = caller.0.login();
    let needle = ListQuery {
        page: None,
        q: query.q.clone(),
    }
    .needle();
    let rows = match role {
        Role::Mdt => store.delegations_from(login).await?,
        Role::ProfessionnelSante => store.delegations_to(login).await?,
        Role::MedecinDesigne => Vec::new(),
        _ => {
            return Err(PageError(ApiError::Forbidden(
                "ROLE_NON_AUTORISE",
                "Les délégations concernent les médecins du travail et les professionnels de santé.",
            )));
        }
    };
    let lines: Vec<DelegationLine> = rows
        .into_iter()
        .map(|d| DelegationLine {
            id: d.id,
            login: if role == Role::Mdt {
                d.professional_login
            } else {
                d.mdt_login
            },
            rights: rights(d.can_write),
            revoked: d.revoked_at.is_some(),
        })
        .filter(|l| matches(&needle, &[&l.login, l.rights]))
        .collect();
    let mut grants = Vec::new();
    if role == Role::MedecinDesigne {
        let mut ids = Vec::new();
        for g in store.grants_of(login).await? {
            let name = match store.worker(&g.nir).await? {
                Some(w) => {
                    ids.push(w.id);
                    format!("{} {}", w.nom, w.prenom)
                }
                None => String::new(),
            };
            if matches(&needle, &[&name, g.nir.as_str()]) {
                grants.push(GrantLine {
                    nir: g.nir.to_string(),
                    name,
                    revoked: g.revoked_at.is_some(),
                });
            }
        }
        // The names of the workers are a nominative read.
        super::journal_list(store, &caller.0, "MEDECIN_DESIGNE", ids).await?;
    }
    let keep = [("q", query.q.clone().unwrap_or_default())];
    let (login_value, write, errors) = match typed {
        Some(t) => (
            Field {
                value: t.login,
                error: Some(t.error.clone()),
            },
            t.write,
            vec![super::forms::Problem {
                href: "login".into(),
                text: format!("Identifiant du professionnel de santé : {}", t.error),
            }],
        ),
        None => (Field::default(), false, Vec::new()),
    };
    let page = DelegationsPage {
        notice: notice(query.ok.as_deref()),
        physician: role == Role::Mdt,
        doctor: role == Role::MedecinDesigne,
        list: Paged::of(lines, query.page, &keep),
        grants: Paged::of(grants, query.page, &keep),
        search: query.q.clone().unwrap_or_default(),
        search_label: if role == Role::MedecinDesigne {
            "Rechercher un travailleur (nom ou NIR)"
        } else {
            "Rechercher par identifiant"
        },
        login: login_value,
        write,
        errors,
        layout,
    };
    Ok((status, page).into_response())
}

/// The creation form.
#[derive(Debug, Default, Deserialize)]
pub(super) struct CreateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    login: String,
    /// `ecriture` for read and write, else read only.
    #[serde(default)]
    droits: String,
}

pub(super) async fn create(
    State(state): State<AppState>,
    caller: PageCaller,
    headers: HeaderMap,
    PageForm(form): PageForm<CreateForm>,
) -> PageResult {
    if let Some(refused) = caller.forged(&form.csrf) {
        return Ok(refused);
    }
    let write = form.droits == "ecriture";
    let refused = |error: String| Typed {
        login: form.login.clone(),
        write,
        error,
    };
    let typed = if form.login.trim().is_empty() {
        Some(refused(
            "Indiquez l’identifiant du compte du professionnel de santé.".into(),
        ))
    } else {
        // The API's handler: same checks, same journal entry.
        let body = serde_json::from_value(serde_json::json!({
            "login": form.login.trim(),
            "ecriture": write,
        }))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
        match crate::api_people::delegate(
            State(state.clone()),
            caller.0.clone(),
            crate::extract::ApiJson(body),
        )
        .await
        {
            Ok(_) => return Ok(Redirect::to("/delegations?ok=delegation").into_response()),
            Err(ApiError::BadRequest(_)) => Some(refused(
                "Aucun compte de professionnel de santé ne porte cet identifiant.".into(),
            )),
            Err(e) => return Err(PageError(e)),
        }
    };
    show(
        &state,
        &caller,
        &headers,
        &DelegationsQuery::default(),
        typed,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

/// The revocation form.
#[derive(Debug, Default, Deserialize)]
pub(super) struct RevokeForm {
    #[serde(default)]
    csrf: String,
}

pub(super) async fn revoke(
    State(state): State<AppState>,
    caller: PageCaller,
    PagePath(id): PagePath<i64>,
    PageForm(form): PageForm<RevokeForm>,
) -> PageResult {
    if let Some(refused) = caller.forged(&form.csrf) {
        return Ok(refused);
    }
    // The API's handler: only the MDT's own delegations, journaled.
    let _revoked = crate::api_people::revoke_delegation(
        State(state.clone()),
        caller.0.clone(),
        crate::extract::ApiPath(id),
    )
    .await
    .map_err(PageError)?;
    Ok(Redirect::to("/delegations?ok=revocation").into_response())
}

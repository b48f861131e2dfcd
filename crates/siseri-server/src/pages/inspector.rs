//! The inspector's search (role `AGENT_CONTROLE`): he first states the reference of his
//! mission (kept in a session cookie and journaled), then searches a worker by NIR (the
//! record page) or an establishment by SIRET (the workers attached to it). Without a
//! mission, nothing is searched (`access.md`: inspectors read under a stated mission);
//! every search is journaled with the mission.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;
use siseri_domain::Role;
use siseri_domain::access::{ReadDecision, ReadKind, can_read};
use siseri_domain::ids::{Nir, Siret};

use super::paging::{Paged, encode, matches};
use super::{Layout, PageError, PageResult, format};
use crate::caller::{person, worker_facts};
use crate::extract::{PageForm, PageQuery};
use crate::login::{MISSION_COOKIE, PageCaller, set_cookie};
use crate::{ApiError, AppState};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/controle", axum::routing::get(search))
        .route("/controle/mission", axum::routing::post(state_mission))
        .route("/controle/fin-mission", axum::routing::post(end_mission))
}

/// The longest mission reference (`access.md`, the API's `X-Mission`).
const MISSION_MAX: usize = 100;

fn require_inspector(caller: &PageCaller) -> Result<(), PageError> {
    if caller.0.account.spec.role == Role::AgentControle {
        Ok(())
    } else {
        Err(PageError(ApiError::Forbidden(
            "ROLE_NON_AUTORISE",
            "Cette recherche est réservée aux agents de contrôle.",
        )))
    }
}

/// A worker of the establishment searched.
struct WorkerRow {
    name: String,
    nir: String,
    birth: String,
    period: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "inspector/controle.html")]
struct SearchPage {
    layout: Layout,
    mission: Option<String>,
    /// The mission typed (kept when the form is refused).
    mission_typed: String,
    mission_error: Option<String>,
    /// Why the mission form is shown before a search.
    mission_needed: bool,
    recherche: String,
    recherche_error: Option<String>,
    establishment: Option<String>,
    list: Option<Paged<WorkerRow>>,
    search: String,
    search_label: &'static str,
}

impl SearchPage {
    fn new(layout: Layout, caller: &PageCaller) -> Self {
        SearchPage {
            layout,
            mission: caller.0.mission.clone(),
            mission_typed: String::new(),
            mission_error: None,
            mission_needed: false,
            recherche: String::new(),
            recherche_error: None,
            establishment: None,
            list: None,
            search: String::new(),
            search_label: "Filtrer les travailleurs (nom, prénom, NIR)",
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct SearchQuery {
    #[serde(default)]
    recherche: Option<String>,
    #[serde(default)]
    page: Option<usize>,
    #[serde(default)]
    q: Option<String>,
}

/// What was typed in the search field.
enum Target {
    Worker(Nir),
    Establishment(Siret),
}

/// A NIR (13 characters) or a SIRET (14 digits), spaces ignored.
fn target(typed: &str) -> Result<Target, String> {
    let compact: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    match compact.chars().count() {
        13 => Nir::parse(&compact.to_uppercase())
            .map(Target::Worker)
            .map_err(|_| "Ce NIR n’est pas valide : 13 caractères attendus (NIR ou NIA sans la clé), par exemple 1850775123456.".into()),
        14 if compact.bytes().all(|b| b.is_ascii_digit()) => Siret::parse(&compact)
            .map(Target::Establishment)
            .map_err(|_| "Ce SIRET n’est pas valide : sa clé de contrôle ne correspond pas. Vérifiez les 14 chiffres.".into()),
        _ => Err("Saisissez un NIR (13 caractères, sans la clé) ou un SIRET (14 chiffres).".into()),
    }
}

async fn search(
    State(state): State<AppState>,
    caller: PageCaller,
    headers: HeaderMap,
    PageQuery(query): PageQuery<SearchQuery>,
) -> PageResult {
    require_inspector(&caller)?;
    let layout = Layout::of(&state, &caller, &headers, "/controle").await?;
    let mut page = SearchPage::new(layout, &caller);
    let typed = query
        .recherche
        .clone()
        .unwrap_or_default()
        .trim()
        .to_string();
    page.recherche.clone_from(&typed);
    if typed.is_empty() {
        return Ok(page.into_response());
    }
    let Some(mission) = caller.0.mission.clone() else {
        // No search without a mission: the refusal is journaled, and the form says why.
        let mut event = caller.0.event(Utc::now(), "LECTURE_REFUSEE", "RECHERCHE");
        event.outcome = "REFUSE".into();
        event.detail = Some("recherche sans mission".into());
        state.store.append_journal(&[event]).await?;
        page.mission_needed = true;
        return Ok((StatusCode::FORBIDDEN, page).into_response());
    };
    let target = match target(&typed) {
        Ok(t) => t,
        Err(message) => {
            page.recherche_error = Some(message);
            return Ok((StatusCode::BAD_REQUEST, page).into_response());
        }
    };
    match target {
        Target::Worker(nir) => {
            // The record page reads (and journals) the record itself; the search is
            // journaled here, with the mission.
            let mut event = caller.0.event(Utc::now(), "LECTURE", "RECHERCHE");
            event.detail = Some("recherche par NIR".into());
            if let Some(w) = state.store.worker(&nir).await? {
                event.worker_ids = vec![w.id];
            }
            event.mission = Some(mission);
            state.store.append_journal(&[event]).await?;
            Ok(Redirect::to(&format!("/travailleurs/{}", nir.as_str())).into_response())
        }
        Target::Establishment(siret) => establishment(&state, &caller, page, &siret, &query).await,
    }
}

/// The workers attached to an establishment, as the access policy lets the inspector see
/// them; the rows shown are journaled as a read of their identity.
async fn establishment(
    state: &AppState,
    caller: &PageCaller,
    mut page: SearchPage,
    siret: &Siret,
    query: &SearchQuery,
) -> PageResult {
    let store = state.store.as_ref();
    let Some(est) = store.establishment(siret).await? else {
        let mut event = caller.0.event(Utc::now(), "LECTURE", "RECHERCHE");
        event.detail = Some(format!("recherche par SIRET {siret} : inconnu"));
        store.append_journal(&[event]).await?;
        page.recherche_error =
            Some("Aucun établissement de ce SIRET n’est connu du registre.".into());
        return Ok((StatusCode::NOT_FOUND, page).into_response());
    };
    let who = person(store, &caller.0).await?;
    let today = state.clock.today();
    let needle = query
        .q
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(str::to_lowercase);
    let mut rows = Vec::new();
    for w in store.workers_of(siret).await? {
        let attachments = store.attachments(&w.nir).await?;
        let facts = worker_facts(&w.nir, &attachments);
        if can_read(&who, &facts, ReadKind::Identity, today) != ReadDecision::Full {
            continue;
        }
        let period = attachments
            .iter()
            .filter(|a| a.siret == *siret)
            .filter_map(|a| a.current())
            .map(|t| match t.date_fin {
                Some(f) => format!("du {} au {}", format::date(t.date_debut), format::date(f)),
                None => format!("depuis le {}", format::date(t.date_debut)),
            })
            .collect::<Vec<_>>()
            .join(", ");
        let row = WorkerRow {
            name: format!("{} {}", w.nom, w.prenom),
            nir: w.nir.as_str().to_string(),
            birth: format::date(w.date_naissance),
            period,
        };
        if matches(&needle, &[&row.name, &row.nir]) {
            rows.push((w.id, row));
        }
    }
    rows.sort_by(|a, b| a.1.name.cmp(&b.1.name).then(a.1.nir.cmp(&b.1.nir)));
    let text = query.q.clone().unwrap_or_default();
    let paged = Paged::of(
        rows,
        query.page,
        &[
            ("recherche", siret.as_str().to_string()),
            ("q", text.clone()),
        ],
    );
    let mut event = caller.0.event(Utc::now(), "LECTURE", "IDENTITE");
    event.detail = Some(format!("recherche par SIRET {siret}"));
    event.worker_ids = paged.rows.iter().map(|(id, _)| *id).collect();
    store.append_journal(&[event]).await?;
    page.establishment = Some(format!("{} (SIRET {siret})", est.name));
    page.list = Some(Paged {
        rows: paged.rows.into_iter().map(|(_, r)| r).collect(),
        page: paged.page,
        pages: paged.pages,
        total: paged.total,
        keep: paged.keep,
    });
    page.search = text;
    Ok(page.into_response())
}

#[derive(Deserialize)]
struct MissionForm {
    csrf: String,
    #[serde(default)]
    mission: String,
    /// The search to carry out once the mission is stated.
    #[serde(default)]
    recherche: String,
}

/// States the mission: kept for the session in a cookie, and journaled.
async fn state_mission(
    State(state): State<AppState>,
    caller: PageCaller,
    headers: HeaderMap,
    PageForm(form): PageForm<MissionForm>,
) -> PageResult {
    if let Some(refused) = caller.forged(&form.csrf) {
        return Ok(refused);
    }
    require_inspector(&caller)?;
    let mission = form.mission.trim().to_string();
    let error = if mission.is_empty() {
        Some("Indiquez la référence de votre mission (ordre de mission, numéro de dossier…).")
    } else if mission.chars().count() > MISSION_MAX {
        Some("La référence de mission ne dépasse pas 100 caractères.")
    } else if mission.chars().any(char::is_control) {
        Some("La référence de mission ne contient que des caractères imprimables.")
    } else {
        None
    };
    if let Some(message) = error {
        let layout = Layout::of(&state, &caller, &headers, "/controle").await?;
        let mut page = SearchPage::new(layout, &caller);
        page.mission_typed = form.mission;
        page.mission_error = Some(message.into());
        page.recherche = form.recherche;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let mut event = caller.0.event(Utc::now(), "ECRITURE", "MISSION");
    event.detail = Some("déclaration de la mission".into());
    event.mission = Some(mission.clone());
    state.store.append_journal(&[event]).await?;
    let mut out = HeaderMap::new();
    set_cookie(&mut out, MISSION_COOKIE, &encode(&mission), None, "Lax");
    let next = if form.recherche.trim().is_empty() {
        "/controle".to_string()
    } else {
        format!("/controle?recherche={}", encode(form.recherche.trim()))
    };
    Ok((out, Redirect::to(&next)).into_response())
}

#[derive(Deserialize)]
struct EndForm {
    csrf: String,
}

/// Ends the mission: the cookie is cleared and the end journaled.
async fn end_mission(
    State(state): State<AppState>,
    caller: PageCaller,
    PageForm(form): PageForm<EndForm>,
) -> Result<Response, PageError> {
    if let Some(refused) = caller.forged(&form.csrf) {
        return Ok(refused);
    }
    require_inspector(&caller)?;
    let mut event = caller.0.event(Utc::now(), "ECRITURE", "MISSION");
    event.detail = Some("fin de la mission".into());
    state.store.append_journal(&[event]).await?;
    let mut out = HeaderMap::new();
    set_cookie(&mut out, MISSION_COOKIE, "", Some(0), "Lax");
    Ok((out, Redirect::to("/controle")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_is_a_nir_or_a_siret() {
        assert!(matches!(
            target("1 85 07 75 123 456"),
            Ok(Target::Worker(_))
        ));
        assert!(matches!(
            target("73282932000074"),
            Ok(Target::Establishment(_))
        ));
        assert!(target("73282932000075").is_err(), "wrong key");
        assert!(target("123").is_err());
        assert!(target("").is_err());
    }
}

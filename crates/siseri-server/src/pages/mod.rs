//! Server-rendered pages in French (askama templates compiled into the binary), in the
//! State design system (DSFR). Every page works without JavaScript.
//!
//! One module per space: [`worker`] (the worker's own doses), [`health`] (physicians,
//! advisors and inspectors: followed workers, records, corrections, alerts), [`sending`]
//! (transmissions: upload, reports), [`employer`] (registration, establishments,
//! workers), [`admin`] (the registry's administrators), [`inspector`] (searches under
//! a mission), [`inbox`] (notifications).
//! What they share lives here: the [`Layout`] (header, navigation, establishment
//! switcher), the error pages, and the [`format`] and [`paging`] helpers.

pub mod format;
pub mod paging;

mod admin;
mod employer;
mod health;
mod inbox;
mod inspector;
mod sending;
mod worker;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use siseri_domain::account::Role;
use siseri_domain::ids::Siret;

use crate::caller::cookie;
use crate::extract::PageForm;
use crate::login::{PageCaller, set_cookie};
use crate::{ApiError, AppState};

/// Where the transmission page posts its file (multipart; exempt from the 1 MiB limit
/// like the API's upload).
pub const PAGE_UPLOAD_PATH: &str = "/transmissions/envoi";

/// The cookie holding the establishment chosen in the header's switcher.
pub const ESTABLISHMENT_COOKIE: &str = "siseri_etablissement";

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", axum::routing::get(home))
        .route(
            "/choisir-etablissement",
            axum::routing::post(choose_establishment),
        )
        .merge(inbox::routes())
        .merge(worker::routes())
        .merge(health::routes())
        .merge(inspector::routes())
        .merge(sending::routes())
        .merge(employer::routes())
        .merge(admin::routes())
}

/// A link of the main navigation.
#[derive(Debug, Clone)]
pub struct NavLink {
    /// Where it goes.
    pub href: &'static str,
    /// What it says.
    pub label: &'static str,
    /// Whether the page shown is under it.
    pub current: bool,
}

/// An establishment of the header's switcher.
#[derive(Debug, Clone)]
pub struct Choice {
    /// The SIRET.
    pub siret: String,
    /// `SIRET — name`.
    pub label: String,
    /// Whether it is the one chosen.
    pub selected: bool,
}

/// What the frame of every page needs: who is connected, the navigation of his role,
/// the unread notifications, the establishment switcher and the anti-forgery token.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    /// The login; empty when nobody is connected.
    pub login: String,
    /// The role's French label.
    pub role: &'static str,
    /// The role's navigation.
    pub nav: Vec<NavLink>,
    /// The session's anti-forgery token (every form posts it as `csrf`).
    pub csrf: String,
    /// Unread notifications.
    pub unread: i64,
    /// The establishments the caller may switch between (empty: no switcher).
    pub establishments: Vec<Choice>,
    /// The path of the page shown (the switcher comes back to it).
    pub path: String,
    /// An error page, which does not know who is connected: the header offers the
    /// account page rather than a login.
    pub neutral: bool,
}

/// The main navigation of a role: its spaces, in the order they are used.
pub fn navigation(role: Role) -> &'static [(&'static str, &'static str)] {
    match role {
        Role::Travailleur => &[
            ("/mes-doses", "Mes doses"),
            ("/mes-doses/consultations", "Qui a consulté mon dossier"),
            ("/mes-doses/medecin", "Mon médecin désigné"),
        ],
        Role::Mdt | Role::ProfessionnelSante | Role::MedecinDesigne => &[
            ("/suivi", "Travailleurs suivis"),
            ("/alertes", "Alertes"),
            ("/delegations", "Délégations"),
        ],
        Role::Crp => &[
            ("/suivi", "Travailleurs suivis"),
            ("/transmissions", "Dosimétrie opérationnelle"),
        ],
        Role::Employeur => &[
            ("/employeur/etablissements", "Établissements"),
            ("/employeur/travailleurs", "Travailleurs"),
            ("/transmissions", "Import des travailleurs"),
            ("/employeur/designations", "Désignations"),
            ("/employeur/bilan", "Bilan annuel"),
        ],
        Role::Organisme | Role::ExploitantInb => &[("/transmissions", "Transmissions")],
        Role::AgentControle => &[("/controle", "Recherche")],
        Role::Admin => &[
            ("/admin/comptes", "Comptes"),
            ("/admin/inscriptions", "Inscriptions"),
            ("/admin/etablissements", "Établissements"),
            ("/admin/en-attente", "Lignes en attente"),
            ("/admin/alertes", "Alertes"),
            ("/admin/journal", "Journal"),
        ],
        Role::Ministere | Role::Chercheur => &[],
    }
}

/// The first page of a role's space (where the home page sends a connected person).
pub fn space_of(role: Role) -> &'static str {
    navigation(role).first().map_or("/compte", |(href, _)| href)
}

impl Layout {
    /// The frame for somebody not connected (login pages, registration, errors).
    pub fn anonymous() -> Self {
        Layout::default()
    }

    /// The frame for `caller` on the page at `path`.
    pub async fn of(
        state: &AppState,
        caller: &PageCaller,
        headers: &HeaderMap,
        path: &str,
    ) -> Result<Self, ApiError> {
        let c = &caller.0;
        let role = c.account.spec.role;
        let nav = navigation(role)
            .iter()
            .map(|(href, label)| NavLink {
                href,
                label,
                current: path == *href || path.starts_with(&format!("{href}/")),
            })
            .collect();
        let unread = state.store.outbox().unread_count(c.account.id).await?;
        let chosen = chosen_establishment(headers);
        let mut sirets: Vec<Siret> = state
            .store
            .designations_of(c.login())
            .await?
            .into_iter()
            .filter(|d| d.date_fin.is_none_or(|f| f >= state.clock.today()))
            .map(|d| d.siret)
            .collect();
        if role == Role::Employeur {
            sirets.extend(employer_establishments(state, caller).await?);
        }
        sirets.sort();
        sirets.dedup();
        let mut establishments = Vec::new();
        if sirets.len() > 1 {
            for s in sirets {
                let name = state
                    .store
                    .establishment(&s)
                    .await?
                    .map(|e| e.name)
                    .unwrap_or_default();
                establishments.push(Choice {
                    selected: chosen.as_ref() == Some(&s),
                    label: format!("{name} ({s})"),
                    siret: s.to_string(),
                });
            }
        }
        Ok(Layout {
            login: c.login().to_string(),
            role: role.label(),
            nav,
            csrf: caller.csrf().to_string(),
            unread,
            establishments,
            path: path.to_string(),
            neutral: false,
        })
    }
}

/// The establishments of an employer: those its account lists, else every one of its
/// company.
pub async fn employer_establishments(
    state: &AppState,
    caller: &PageCaller,
) -> Result<Vec<Siret>, ApiError> {
    let spec = &caller.0.account.spec;
    if !spec.sirets.is_empty() {
        return Ok(spec.sirets.clone());
    }
    let Some(siren) = &spec.siren else {
        return Ok(Vec::new());
    };
    Ok(state
        .store
        .establishments()
        .await?
        .into_iter()
        .filter(|e| e.siret.siren() == *siren)
        .map(|e| e.siret)
        .collect())
}

/// The establishment chosen in the header's switcher, if any.
pub fn chosen_establishment(headers: &HeaderMap) -> Option<Siret> {
    cookie(headers, ESTABLISHMENT_COOKIE).and_then(|v| v.parse().ok())
}

#[derive(Deserialize)]
struct ChooseForm {
    csrf: String,
    #[serde(default)]
    etablissement: String,
    #[serde(default)]
    retour: String,
}

/// The header's switcher: remembers the establishment (empty: all) and goes back.
async fn choose_establishment(
    caller: PageCaller,
    PageForm(form): PageForm<ChooseForm>,
) -> Response {
    if let Some(refused) = caller.forged(&form.csrf) {
        return refused;
    }
    let mut headers = HeaderMap::new();
    match form.etablissement.parse::<Siret>() {
        Ok(s) => set_cookie(&mut headers, ESTABLISHMENT_COOKIE, s.as_str(), None, "Lax"),
        Err(_) => set_cookie(&mut headers, ESTABLISHMENT_COOKIE, "", Some(0), "Lax"),
    }
    // Only a path of this site: never an open redirect.
    let back = crate::redirect::local_or(&form.retour, "/");
    (headers, Redirect::to(back)).into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
struct Home {
    layout: Layout,
    space: &'static str,
    workers: String,
    establishments: String,
    results: String,
    nomenclature: String,
}

/// The home page: the registry's figures and, for a connected person, a way into his
/// space.
async fn home(
    State(state): State<AppState>,
    caller: Option<PageCaller>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let layout = match &caller {
        Some(c) => Layout::of(&state, c, &headers, "/").await?,
        None => Layout::anonymous(),
    };
    let workers = state.store.worker_count().await.map_err(ApiError::from)?;
    let establishments = state
        .store
        .establishments()
        .await
        .map_err(ApiError::from)?
        .len();
    let results = state
        .store
        .result_version_count()
        .await
        .map_err(ApiError::from)?;
    let space = caller
        .as_ref()
        .map_or("", |c| space_of(c.0.account.spec.role));
    Ok(Home {
        layout,
        space,
        workers: format::integer(workers),
        establishments: format::integer(establishments as i64),
        results: format::integer(results),
        nomenclature: format::integer(siseri_domain::Nomenclature::official().len() as i64),
    }
    .into_response())
}

/// An error shown as a page: a title, an explanation and a way out.
#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
pub struct ErrorPage {
    layout: Layout,
    title: &'static str,
    message: String,
}

/// An error of a page handler, answered as a French page with the right status
/// (401 sends to the login page).
#[derive(Debug)]
pub struct PageError(pub ApiError);

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        PageError(e)
    }
}

impl From<siseri_storage::StoreError> for PageError {
    fn from(e: siseri_storage::StoreError) -> Self {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, title, message) = match self.0 {
            ApiError::Unauthenticated => return Redirect::to("/connexion").into_response(),
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, "Demande invalide", m),
            ApiError::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "Demande trop volumineuse",
                "Le formulaire envoyé dépasse 1 Mio.".to_string(),
            ),
            ApiError::Forbidden(_, m) => (StatusCode::FORBIDDEN, "Accès refusé", m.to_string()),
            ApiError::NotFound => (
                StatusCode::NOT_FOUND,
                "Page introuvable",
                "La page que vous cherchez n’existe pas, ou vous n’avez pas le droit de la consulter.".to_string(),
            ),
            ApiError::Conflict(m) | ApiError::Transition(m) => {
                (StatusCode::CONFLICT, "Action impossible", m)
            }
            ApiError::Unprocessable(m) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "Action impossible", m)
            }
            ApiError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Erreur interne",
                    "Une erreur interne est survenue. Réessayez plus tard ; si elle persiste, communiquez au support l’heure et l’identifiant de la requête (en-tête x-request-id).".to_string(),
                )
            }
        };
        error_page(status, title, message)
    }
}

/// A French error page with `status`.
pub(crate) fn error_page(status: StatusCode, title: &'static str, message: String) -> Response {
    (
        status,
        ErrorPage {
            layout: Layout {
                neutral: true,
                ..Layout::anonymous()
            },
            title,
            message,
        },
    )
        .into_response()
}

/// The page answered for an unknown address.
pub(crate) fn not_found_page() -> Response {
    PageError(ApiError::NotFound).into_response()
}

/// A result for page handlers.
pub type PageResult = Result<Response, PageError>;

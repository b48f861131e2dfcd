//! Federated login (OpenID Connect): the State's identity federations for workers
//! and for health professionals. An account is linked once to (issuer, subject)
//! through an enrolment code given by the registry; later logins match on that
//! pair, never on a name or an e-mail address.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;

use crate::auth;
use crate::caller::cookie;
use crate::extract::{PageForm, PagePath, PageQuery};
use crate::login::{FormPage, login_event, set_cookie, start_session};
use crate::oidc::{FederatedIdentity, OidcClient, PendingLogin};
use crate::{ApiError, AppState};

const FLOW_COOKIE: &str = "siseri_federation";
const ENROL_COOKIE: &str = "siseri_inscription";
/// How long a browser may take at the provider, or to type its enrolment code.
const FLOW_TTL: Duration = Duration::from_secs(600);

/// Short-lived flow state, by random key, with its creation time.
type Flows<T> = Mutex<HashMap<String, (Instant, T)>>;

/// The configured federations and the logins in progress (in memory: a flow lasts
/// minutes and one process serves it).
#[derive(Debug, Default)]
pub struct Federations {
    clients: Vec<Arc<OidcClient>>,
    pending: Flows<PendingLogin>,
    /// Verified identities awaiting an enrolment code, with the form's anti-forgery token.
    to_link: Flows<(String, FederatedIdentity)>,
}

impl Federations {
    /// Federations from discovered clients.
    pub fn new(clients: Vec<OidcClient>) -> Self {
        Federations {
            clients: clients.into_iter().map(Arc::new).collect(),
            ..Default::default()
        }
    }

    fn client(&self, name: &str) -> Option<Arc<OidcClient>> {
        self.clients
            .iter()
            .find(|c| c.config().name == name)
            .cloned()
    }
}

fn take<T>(map: &Flows<T>, key: &str) -> Option<T> {
    let mut m = map.lock().ok()?;
    m.retain(|_, (at, _)| at.elapsed() < FLOW_TTL);
    m.remove(key).map(|(_, v)| v)
}

fn put<T>(map: &Flows<T>, key: String, value: T) {
    if let Ok(mut m) = map.lock() {
        m.retain(|_, (at, _)| at.elapsed() < FLOW_TTL);
        m.insert(key, (Instant::now(), value));
    }
}

/// The login page's buttons: one per configured federation.
pub fn buttons(state: &AppState) -> Vec<(String, String)> {
    state
        .federations
        .clients
        .iter()
        .map(|c| {
            (
                format!("/connexion/federation/{}", c.config().name),
                format!("Se connecter avec {}", c.config().label),
            )
        })
        .collect()
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/connexion/federation/{name}", axum::routing::get(begin))
        .route(
            "/connexion/federation/{name}/retour",
            axum::routing::get(callback),
        )
        .route(
            "/connexion/federation/inscription",
            axum::routing::post(enrol),
        )
}

fn failure(message: &str) -> Response {
    let page = FormPage {
        error: Some(message.to_string()),
        links: vec![("/connexion".into(), "Revenir à la connexion".into())],
        ..FormPage::new("Connexion fédérée")
    };
    (StatusCode::FORBIDDEN, page).into_response()
}

async fn begin(State(state): State<AppState>, PagePath(name): PagePath<String>) -> Response {
    let Some(client) = state.federations.client(&name) else {
        return crate::pages::not_found_page();
    };
    let (url, pending) = client.begin();
    let key = auth::random_secret();
    put(&state.federations.pending, key.clone(), pending);
    let mut h = HeaderMap::new();
    // Lax: the provider sends the browser back with a top-level GET from its own site.
    set_cookie(
        &mut h,
        FLOW_COOKIE,
        &key,
        Some(FLOW_TTL.as_secs() as i64),
        "Lax",
    );
    (h, Redirect::to(&url)).into_response()
}

#[derive(Deserialize)]
struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

async fn callback(
    State(state): State<AppState>,
    PagePath(name): PagePath<String>,
    headers: HeaderMap,
    PageQuery(q): PageQuery<Callback>,
) -> Result<Response, ApiError> {
    let store = state.store.as_ref();
    let Some(client) = state.federations.client(&name) else {
        return Ok(crate::pages::not_found_page());
    };
    // One use: the pending login leaves memory before it is checked.
    let pending = cookie(&headers, FLOW_COOKIE).and_then(|k| take(&state.federations.pending, k));
    let (Some(pending), Some(code), Some(st), None) = (pending, q.code, q.state, q.error) else {
        return Ok(failure(
            "La connexion fédérée a été interrompue ou a expiré : recommencez.",
        ));
    };
    let identity = match client.finish(pending, &code, &st).await {
        Ok(i) => i,
        Err(e) => {
            let event = login_event(
                "anonyme",
                "CONNEXION_REFUSEE",
                "REFUSE",
                &format!("fédération {name} : {e}"),
            );
            store.append_journal(&[event]).await?;
            return Ok(failure(
                "La connexion fédérée n'a pas pu être vérifiée : recommencez.",
            ));
        }
    };
    let mut h = HeaderMap::new();
    set_cookie(&mut h, FLOW_COOKIE, "", Some(0), "Lax");
    match store
        .account_by_identity(&identity.issuer, &identity.subject)
        .await?
    {
        Some(account) => {
            let mut event = login_event(
                &account.spec.login,
                "CONNEXION",
                "OK",
                &format!("fédération {name}"),
            );
            event.role = Some(account.spec.role.code().to_string());
            store.login_succeeded(&account.spec.login, &event).await?;
            let has_totp = store
                .login_state(&account.spec.login)
                .await?
                .is_some_and(|l| l.totp_secret.is_some());
            start_session(&state, &headers, &account, has_totp, h).await
        }
        None => {
            let key = auth::random_secret();
            let csrf = auth::random_secret();
            put(
                &state.federations.to_link,
                key.clone(),
                (csrf.clone(), identity),
            );
            set_cookie(
                &mut h,
                ENROL_COOKIE,
                &key,
                Some(FLOW_TTL.as_secs() as i64),
                "Strict",
            );
            let page = FormPage {
                paragraphs: vec![
                    "Votre identité est vérifiée, mais elle n'est encore liée à aucun compte SISERI.".into(),
                    "Saisissez le code d'inscription que le gestionnaire du registre vous a remis : la liaison est faite une fois pour toutes.".into(),
                ],
                action: "/connexion/federation/inscription",
                csrf,
                fields: &ENROL_FIELD,
                submit: "Lier mon compte",
                ..FormPage::new("Première connexion fédérée")
            };
            Ok((h, page).into_response())
        }
    }
}

const ENROL_FIELD: [crate::login::Field; 1] = [crate::login::Field {
    name: "code",
    label: "Code d’inscription",
    hint: "Huit caractères, par exemple ABCD-EFGH.",
    kind: "text",
    autocomplete: "off",
}];

#[derive(Deserialize)]
struct EnrolForm {
    code: String,
    csrf: String,
}

async fn enrol(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageForm(form): PageForm<EnrolForm>,
) -> Result<Response, ApiError> {
    let store = state.store.as_ref();
    let Some((csrf, identity)) =
        cookie(&headers, ENROL_COOKIE).and_then(|k| take(&state.federations.to_link, k))
    else {
        return Ok(failure("La connexion fédérée a expiré : recommencez."));
    };
    if csrf != form.csrf {
        return Ok(failure(
            "Le formulaire ne vient pas de SISERI : recommencez.",
        ));
    }
    let now = Utc::now();
    let Some(account) = store
        .take_enrolment(&auth::code_hash(&form.code), now)
        .await?
    else {
        let event = login_event(
            "anonyme",
            "CONNEXION_REFUSEE",
            "REFUSE",
            "code d'inscription invalide",
        );
        store.append_journal(&[event]).await?;
        return Ok(failure(
            "Code d'inscription inconnu, déjà utilisé ou expiré : demandez-en un nouveau au gestionnaire du registre.",
        ));
    };
    let mut event = login_event(
        &account.spec.login,
        "ECRITURE",
        "OK",
        "liaison d'une identité fédérée",
    );
    event.data_kind = "COMPTE".into();
    event.role = Some(account.spec.role.code().to_string());
    store
        .link_identity(
            &identity.issuer,
            &identity.subject,
            &account.spec.login,
            &event,
        )
        .await?;
    let mut h = HeaderMap::new();
    set_cookie(&mut h, ENROL_COOKIE, "", Some(0), "Strict");
    let has_totp = store
        .login_state(&account.spec.login)
        .await?
        .is_some_and(|l| l.totp_secret.is_some());
    start_session(&state, &headers, &account, has_totp, h).await
}

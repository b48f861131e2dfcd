//! Logging in with a password and a second factor, the account page (password,
//! API tokens), and logging out. Sessions live in a cookie that is HttpOnly, Secure
//! and SameSite=Lax, renewed at every login and ended after 30 minutes idle; every
//! form carries the session's anti-forgery token.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;
use siseri_domain::journal::JournalEvent;

use crate::auth;
use crate::caller::{Caller, SESSION_COOKIE, authenticate, cookie};
use crate::client::ClientAddress;
use crate::extract::{PageForm, PagePath};
use crate::{ApiError, AppState};

/// Failures allowed per client address and window (`access.md`).
const FAILURES_PER_ADDRESS: u32 = 30;
const ADDRESS_WINDOW: Duration = Duration::from_secs(300);
/// The double-submit cookie that protects the login form itself.
pub(crate) const LOGIN_CSRF_COOKIE: &str = "siseri_connexion";
/// The cookie of a browser where an account logged in (a random token, stored hashed).
const DEVICE_COOKIE: &str = "siseri_appareil";
/// How long a browser is remembered: a year.
const DEVICE_COOKIE_SECONDS: i64 = 365 * 24 * 3600;
/// The one answer to every failed login, whatever failed (wrong login or password, unknown
/// or slowed account): no answer may tell whether an account exists (`access.md`).
pub const LOGIN_FAILED: &str = "Identifiant ou mot de passe incorrect. Après plusieurs échecs, \
                                chaque nouvel essai sur un compte doit attendre quelques minutes.";
/// The one answer to every failed second factor (wrong, replayed, or the account slowed).
pub const CODE_FAILED: &str = "Code incorrect ou déjà utilisé.";

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/connexion", axum::routing::get(login_form).post(login))
        .route(
            "/connexion/second-facteur",
            axum::routing::get(second_factor_form).post(second_factor),
        )
        .route(
            "/compte/second-facteur",
            axum::routing::get(totp_setup_form).post(totp_setup),
        )
        .route("/compte", axum::routing::get(account_page))
        .route("/compte/mot-de-passe", axum::routing::post(change_password))
        .route("/compte/jetons", axum::routing::post(create_token))
        .route(
            "/compte/jetons/{id}/revocation",
            axum::routing::post(revoke_token),
        )
        .route("/deconnexion", axum::routing::post(logout))
}

/// Failures per client address (in memory: the per-account throttle, which matters, is in
/// the database; this one only blunts one address's spraying over many accounts). Only
/// failures count, so that a busy address (a hospital behind one NAT) is never refused for
/// logging in successfully.
#[derive(Debug, Default)]
pub struct Throttle {
    seen: Mutex<HashMap<String, (Instant, u32)>>,
}

impl Throttle {
    /// Whether `address` may try again: fewer than 30 failures in its current window.
    pub fn allows(&self, address: &str) -> bool {
        let Ok(mut seen) = self.seen.lock() else {
            return true;
        };
        let now = Instant::now();
        seen.retain(|_, (start, _)| now.duration_since(*start) < ADDRESS_WINDOW);
        seen.get(address)
            .is_none_or(|(_, failures)| *failures < FAILURES_PER_ADDRESS)
    }

    /// Counts a failure of `address`.
    pub fn failed(&self, address: &str) {
        if let Ok(mut seen) = self.seen.lock() {
            let entry = seen
                .entry(address.to_string())
                .or_insert((Instant::now(), 0));
            entry.1 = entry.1.saturating_add(1);
        }
    }
}

/// A form field.
pub struct Field {
    pub(crate) name: &'static str,
    pub(crate) label: &'static str,
    pub(crate) hint: &'static str,
    pub(crate) kind: &'static str,
    pub(crate) autocomplete: &'static str,
}

const LOGIN_FIELDS: [Field; 2] = [
    Field {
        name: "login",
        label: "Identifiant",
        hint: "",
        kind: "text",
        autocomplete: "username",
    },
    Field {
        name: "password",
        label: "Mot de passe",
        hint: "",
        kind: "password",
        autocomplete: "current-password",
    },
];

pub(crate) const CODE_FIELD: [Field; 1] = [Field {
    name: "code",
    label: "Code à usage unique",
    hint: "Les 6 chiffres de votre application d’authentification, ou un code de secours.",
    kind: "text",
    autocomplete: "one-time-code",
}];

/// A page with a message and, optionally, one form.
#[derive(Template, WebTemplate)]
#[template(path = "form_page.html")]
pub struct FormPage {
    pub(crate) layout: crate::pages::Layout,
    pub(crate) title: &'static str,
    pub(crate) error: Option<String>,
    pub(crate) info: Option<String>,
    pub(crate) paragraphs: Vec<String>,
    pub(crate) secrets: Vec<String>,
    pub(crate) action: &'static str,
    pub(crate) csrf: String,
    pub(crate) hidden: Vec<(&'static str, String)>,
    pub(crate) fields: &'static [Field],
    pub(crate) submit: &'static str,
    pub(crate) links: Vec<(String, String)>,
}

impl FormPage {
    pub(crate) fn new(title: &'static str) -> Self {
        FormPage {
            layout: crate::pages::Layout::anonymous(),
            title,
            error: None,
            info: None,
            paragraphs: Vec::new(),
            secrets: Vec::new(),
            action: "",
            csrf: String::new(),
            hidden: Vec::new(),
            fields: &[],
            submit: "",
            links: Vec::new(),
        }
    }
}

fn login_page(state: &AppState, csrf: &str, error: Option<String>) -> FormPage {
    let mut links = vec![(
        crate::reset::FORGOTTEN_PATH.to_string(),
        "Mot de passe oublié ?".to_string(),
    )];
    links.extend(crate::federation::buttons(state));
    FormPage {
        error,
        links,
        action: "/connexion",
        csrf: csrf.to_string(),
        fields: &LOGIN_FIELDS,
        submit: "Se connecter",
        ..FormPage::new("Connexion")
    }
}

pub(crate) fn set_cookie(
    headers: &mut HeaderMap,
    name: &str,
    value: &str,
    max_age: Option<i64>,
    same_site: &str,
) {
    let age = max_age
        .map(|a| format!("; Max-Age={a}"))
        .unwrap_or_default();
    let c = format!("{name}={value}; Path=/; HttpOnly; Secure; SameSite={same_site}{age}");
    if let Ok(v) = HeaderValue::from_str(&c) {
        headers.append(header::SET_COOKIE, v);
    }
}

async fn login_form(State(state): State<AppState>) -> Response {
    let csrf = auth::random_secret();
    let mut headers = HeaderMap::new();
    set_cookie(&mut headers, LOGIN_CSRF_COOKIE, &csrf, Some(3600), "Strict");
    (headers, login_page(&state, &csrf, None)).into_response()
}

#[derive(Deserialize)]
struct LoginForm {
    login: String,
    password: String,
    csrf: String,
}

fn refusal(status: StatusCode, page: FormPage) -> Response {
    (status, page).into_response()
}

pub(crate) fn login_event(login: &str, action: &str, outcome: &str, detail: &str) -> JournalEvent {
    let mut e = JournalEvent::new(Utc::now(), login, action, "SESSION");
    e.outcome = outcome.to_string();
    e.detail = Some(detail.to_string());
    e
}

async fn login(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    PageForm(form): PageForm<LoginForm>,
) -> Result<Response, ApiError> {
    let store = state.store.as_ref();
    let csrf = cookie(&headers, LOGIN_CSRF_COOKIE)
        .unwrap_or_default()
        .to_string();
    if csrf.is_empty() || csrf != form.csrf {
        let fresh = auth::random_secret();
        let mut h = HeaderMap::new();
        set_cookie(&mut h, LOGIN_CSRF_COOKIE, &fresh, Some(3600), "Strict");
        let page = login_page(
            &state,
            &fresh,
            Some("Le formulaire a expiré : saisissez à nouveau vos identifiants.".into()),
        );
        return Ok((StatusCode::FORBIDDEN, h, page).into_response());
    }
    let login = form.login.trim().to_lowercase();
    if !state.throttle.allows(&address) {
        store
            .append_journal(&[login_event(
                &login,
                "CONNEXION_REFUSEE",
                "REFUSE",
                "trop d'échecs depuis cette adresse",
            )])
            .await?;
        return Ok(refusal(
            StatusCode::TOO_MANY_REQUESTS,
            address_page(&state, &csrf),
        ));
    }
    let now = state.instants.now();
    let state_row = store.login_state(&login).await?;
    // A browser where this account logged in before is not slowed (OWASP's device cookies):
    // an attacker taking every slot as it opens cannot keep the owner out that way.
    let device = cookie(&headers, DEVICE_COOKIE).map(auth::token_hash);
    let known_device = match (&state_row, &device) {
        (Some(_), Some(d)) => store.login_device_known(&login, d).await?,
        _ => false,
    };
    let slowed = match &state_row {
        Some(_) if !known_device => store
            .login_throttle(&login)
            .await?
            .is_some_and(|t| t.slowed_at(now)),
        _ => false,
    };
    // A slowed account is not checked at all (its password is not even compared), but the
    // same work is done as for any other attempt, so that timing tells nothing either.
    let phc = state_row
        .as_ref()
        .filter(|_| !slowed)
        .and_then(|s| s.password_hash.clone());
    let password = form.password.clone();
    let matches = tokio::task::spawn_blocking(move || match phc {
        Some(p) => auth::verify_password(&password, &p),
        None => {
            let _ = auth::verify_password(&password, auth::dummy_hash());
            false
        }
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    let Some(row) = state_row.filter(|_| matches) else {
        state.throttle.failed(&address);
        if slowed {
            // Not counted: hammering a slowed account must not push its owner's delay.
            store
                .append_journal(&[login_event(
                    &login,
                    "CONNEXION_REFUSEE",
                    "REFUSE",
                    "compte ralenti : essai non vérifié",
                )])
                .await?;
        } else {
            if let Some(d) = device.as_deref().filter(|_| known_device) {
                // A stolen device token gives one guess, not a way around the delay.
                store.forget_login_device(d).await?;
            }
            let event = login_event(
                &login,
                "CONNEXION_REFUSEE",
                "REFUSE",
                "mot de passe incorrect",
            );
            failed_on_account(&state, &login, now, &event).await?;
        }
        return Ok(refusal(
            StatusCode::UNAUTHORIZED,
            login_page(&state, &csrf, Some(LOGIN_FAILED.into())),
        ));
    };
    let mut event = login_event(&login, "CONNEXION", "OK", "mot de passe");
    event.role = Some(row.account.spec.role.code().to_string());
    if row.account.spec.role.requires_second_factor() && row.totp_secret.is_some() {
        // The password alone does not clear the account's failures: otherwise knowing it
        // would allow guessing the second factor without end.
        store.append_journal(&[event]).await?;
    } else {
        store.login_succeeded(&login, &event).await?;
    }
    let mut out = HeaderMap::new();
    if !known_device {
        let token = auth::random_secret();
        store
            .add_login_device(&login, &auth::token_hash(&token), now)
            .await?;
        set_cookie(
            &mut out,
            DEVICE_COOKIE,
            &token,
            Some(DEVICE_COOKIE_SECONDS),
            "Strict",
        );
    }
    start_session(
        &state,
        &headers,
        &row.account,
        row.totp_secret.is_some(),
        out,
    )
    .await
}

/// The page of an address over its allowance of failures (about the address, not about any
/// account, so it may say so).
fn address_page(state: &AppState, csrf: &str) -> FormPage {
    login_page(
        state,
        csrf,
        Some("Trop d’échecs depuis votre adresse : réessayez dans quelques minutes.".into()),
    )
}

/// Counts a failure (password or second factor) on the account `login`, with its journal
/// entry, and tells the owner by e-mail when his account has just become slowed.
async fn failed_on_account(
    state: &AppState,
    login: &str,
    now: chrono::DateTime<Utc>,
    event: &JournalEvent,
) -> Result<(), ApiError> {
    let Some((throttle, tell)) = state.store.record_login_failure(login, now, event).await? else {
        return Ok(());
    };
    if tell {
        let email = state.store.account(login).await?.and_then(|a| a.spec.email);
        if let Some(email) = email {
            let (subject, body) = crate::reset::guessing_notice(state, login, &throttle);
            crate::reset::send_later(state, email, subject, body);
        }
    }
    Ok(())
}

/// Opens a new session for `account` (the previous one, if any, ends: no fixation)
/// and sends the browser on: to the second factor for the roles that need one.
pub(crate) async fn start_session(
    state: &AppState,
    headers: &HeaderMap,
    account: &siseri_domain::Account,
    has_totp: bool,
    mut h: HeaderMap,
) -> Result<Response, ApiError> {
    let store = state.store.as_ref();
    if let Some(old) = cookie(headers, SESSION_COOKIE) {
        store.delete_session(&auth::token_hash(old)).await?;
    }
    let token = auth::random_secret();
    store
        .create_session(
            &auth::token_hash(&token),
            &account.spec.login,
            Utc::now(),
            false,
            &auth::random_secret(),
        )
        .await?;
    set_cookie(&mut h, SESSION_COOKIE, &token, None, "Lax");
    set_cookie(&mut h, LOGIN_CSRF_COOKIE, "", Some(0), "Strict");
    let next = match (account.spec.role.requires_second_factor(), has_totp) {
        (false, _) => "/compte",
        (true, true) => "/connexion/second-facteur",
        (true, false) => "/compte/second-facteur",
    };
    Ok((h, Redirect::to(next)).into_response())
}

/// A session that has passed the password, second factor or not yet.
struct PendingSession {
    hash: String,
    login: String,
    csrf: String,
    has_totp: bool,
    second_factor: bool,
    role: siseri_domain::Role,
}

async fn pending(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<PendingSession>, ApiError> {
    let Some(value) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let hash = auth::token_hash(value);
    let Some(s) = state.store.session(&hash).await? else {
        return Ok(None);
    };
    if Utc::now() - s.last_seen_at > chrono::Duration::minutes(crate::caller::IDLE_MINUTES) {
        state.store.delete_session(&hash).await?;
        return Ok(None);
    }
    let login = s.account.spec.login.clone();
    let has_totp = state
        .store
        .login_state(&login)
        .await?
        .is_some_and(|l| l.totp_secret.is_some());
    Ok(Some(PendingSession {
        hash,
        login,
        csrf: s.csrf,
        has_totp,
        second_factor: s.second_factor,
        role: s.account.spec.role,
    }))
}

fn code_page(csrf: &str, error: Option<String>) -> FormPage {
    FormPage {
        error,
        action: "/connexion/second-facteur",
        csrf: csrf.to_string(),
        fields: &CODE_FIELD,
        submit: "Valider",
        ..FormPage::new("Second facteur d’authentification")
    }
}

async fn second_factor_form(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    match pending(&state, &headers).await? {
        Some(p) if p.has_totp => Ok(code_page(&p.csrf, None).into_response()),
        Some(_) => Ok(Redirect::to("/compte/second-facteur").into_response()),
        None => Ok(Redirect::to("/connexion").into_response()),
    }
}

#[derive(Deserialize)]
struct CodeForm {
    code: String,
    csrf: String,
    secret: Option<String>,
}

async fn second_factor(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    PageForm(form): PageForm<CodeForm>,
) -> Result<Response, ApiError> {
    let store = state.store.as_ref();
    let Some(p) = pending(&state, &headers).await? else {
        return Ok(Redirect::to("/connexion").into_response());
    };
    if form.csrf != p.csrf {
        return Ok(refusal(
            StatusCode::FORBIDDEN,
            code_page(
                &p.csrf,
                Some("Le formulaire a expiré : recommencez.".into()),
            ),
        ));
    }
    if !state.throttle.allows(&address) {
        return Ok(refusal(
            StatusCode::TOO_MANY_REQUESTS,
            code_page(
                &p.csrf,
                Some(
                    "Trop d’échecs depuis votre adresse : réessayez dans quelques minutes.".into(),
                ),
            ),
        ));
    }
    // The second factor is guessable (a million codes): the account's throttle applies to it
    // as to the password.
    let now = state.instants.now();
    let slowed = store
        .login_throttle(&p.login)
        .await?
        .is_some_and(|t| t.slowed_at(now));
    let accepted = if slowed {
        false
    } else {
        let secret = store
            .login_state(&p.login)
            .await?
            .and_then(|l| l.totp_secret);
        let step = secret
            .as_deref()
            // The code follows the wall clock (the user's device), not the throttle's.
            .and_then(|s| auth::totp_step(s, &form.code, Utc::now().timestamp().unsigned_abs()));
        match step {
            Some(step) => store.accept_totp_step(&p.login, step).await?,
            None => {
                store
                    .use_recovery_code(&p.login, &auth::code_hash(&form.code), now)
                    .await?
            }
        }
    };
    if !accepted {
        state.throttle.failed(&address);
        if slowed {
            store
                .append_journal(&[login_event(
                    &p.login,
                    "CONNEXION_REFUSEE",
                    "REFUSE",
                    "compte ralenti : second facteur non vérifié",
                )])
                .await?;
        } else {
            let event = login_event(
                &p.login,
                "CONNEXION_REFUSEE",
                "REFUSE",
                "second facteur incorrect",
            );
            failed_on_account(&state, &p.login, now, &event).await?;
        }
        return Ok(refusal(
            StatusCode::UNAUTHORIZED,
            code_page(&p.csrf, Some(CODE_FAILED.into())),
        ));
    }
    store.promote_session(&p.hash).await?;
    let mut event = login_event(&p.login, "CONNEXION", "OK", "second facteur");
    event.role = Some(p.role.code().to_string());
    store.login_succeeded(&p.login, &event).await?;
    Ok(Redirect::to("/compte").into_response())
}

fn totp_page(csrf: &str, secret: &str, login: &str, error: Option<String>) -> FormPage {
    FormPage {
        error,
        paragraphs: vec![
            "Votre rôle exige un second facteur. Ajoutez ce compte à votre application d’authentification (TOTP), puis saisissez le code qu’elle affiche.".into(),
            format!("Clé à saisir : {secret}"),
            format!("Ou adresse otpauth : {}", auth::otpauth_url(secret, login)),
        ],
        action: "/compte/second-facteur",
        csrf: csrf.to_string(),
        hidden: vec![("secret", secret.to_string())],
        fields: &CODE_FIELD,
        submit: "Activer le second facteur",
        ..FormPage::new("Activer le second facteur")
    }
}

async fn totp_setup_form(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(p) = pending(&state, &headers).await? else {
        return Ok(Redirect::to("/connexion").into_response());
    };
    // An account that has a second factor must prove it before replacing it.
    if p.has_totp && !p.second_factor {
        return Ok(Redirect::to("/connexion/second-facteur").into_response());
    }
    Ok(totp_page(&p.csrf, &auth::new_totp_secret(), &p.login, None).into_response())
}

async fn totp_setup(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageForm(form): PageForm<CodeForm>,
) -> Result<Response, ApiError> {
    let store = state.store.as_ref();
    let Some(p) = pending(&state, &headers).await? else {
        return Ok(Redirect::to("/connexion").into_response());
    };
    if p.has_totp && !p.second_factor {
        return Ok(Redirect::to("/connexion/second-facteur").into_response());
    }
    let secret = form.secret.unwrap_or_default();
    if form.csrf != p.csrf {
        return Ok(refusal(
            StatusCode::FORBIDDEN,
            totp_page(
                &p.csrf,
                &secret,
                &p.login,
                Some("Le formulaire a expiré.".into()),
            ),
        ));
    }
    let now = Utc::now();
    let Some(step) = auth::totp_step(&secret, &form.code, now.timestamp().unsigned_abs()) else {
        return Ok(refusal(
            StatusCode::UNPROCESSABLE_ENTITY,
            totp_page(
                &p.csrf,
                &secret,
                &p.login,
                Some("Code incorrect : vérifiez l’heure de votre appareil et recommencez.".into()),
            ),
        ));
    };
    let (codes, hashes) = auth::new_recovery_codes();
    let mut event = login_event(&p.login, "ECRITURE", "OK", "activation du second facteur");
    event.data_kind = "COMPTE".into();
    store.set_totp(&p.login, &secret, &hashes, &event).await?;
    store.accept_totp_step(&p.login, step).await?;
    store.promote_session(&p.hash).await?;
    let page = FormPage {
        info: Some("Second facteur activé.".into()),
        paragraphs: vec!["Voici vos codes de secours, chacun utilisable une fois si vous perdez votre appareil. Conservez-les en lieu sûr : ils ne seront plus affichés.".into()],
        secrets: codes,
        links: vec![("/compte".into(), "Continuer vers mon compte".into())],
        ..FormPage::new("Codes de secours")
    };
    Ok(page.into_response())
}

/// The cookie holding an inspector's stated mission reference (the pages' equivalent
/// of the API's `X-Mission` header).
pub const MISSION_COOKIE: &str = "siseri_mission";

/// A caller of the pages: redirected to the login page rather than answered 401.
#[derive(Debug, Clone)]
pub struct PageCaller(pub Caller);

async fn page_caller(parts: &Parts, state: &AppState) -> Result<PageCaller, ApiError> {
    let mut c = authenticate(&state.store, &parts.headers, &parts.method, false).await?;
    if c.mission.is_none() {
        c.mission = cookie(&parts.headers, MISSION_COOKIE)
            .map(|m| crate::pages::paging::decode(m).trim().to_string())
            .filter(|m| !m.is_empty() && m.chars().count() <= 100);
    }
    Ok(PageCaller(c))
}

impl axum::extract::OptionalFromRequestParts<AppState> for PageCaller {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(page_caller(parts, state).await.ok())
    }
}

impl FromRequestParts<AppState> for PageCaller {
    type Rejection = Response;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match page_caller(parts, state).await {
            Ok(c) => Ok(c),
            Err(ApiError::Forbidden("SECOND_FACTEUR_REQUIS", _)) => {
                Err(Redirect::to("/connexion/second-facteur").into_response())
            }
            Err(ApiError::Unauthenticated) => Err(Redirect::to("/connexion").into_response()),
            Err(e) => Err(e.into_response()),
        }
    }
}

impl PageCaller {
    /// The session's anti-forgery token.
    pub(crate) fn csrf(&self) -> &str {
        self.0.session.as_ref().map_or("", |s| s.csrf.as_str())
    }

    /// The refusal page when a form does not carry the session's anti-forgery token.
    pub(crate) fn forged(&self, sent: &str) -> Option<Response> {
        if !sent.is_empty() && sent == self.csrf() {
            None
        } else {
            Some(refusal(
                StatusCode::FORBIDDEN,
                FormPage {
                    error: Some(
                        "Le formulaire a expiré ou ne vient pas de SISERI : rechargez la page."
                            .into(),
                    ),
                    links: vec![("/compte".into(), "Revenir à mon compte".into())],
                    ..FormPage::new("Action refusée")
                },
            ))
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "account.html")]
struct AccountPage {
    layout: crate::pages::Layout,
    has_totp: bool,
    requires_totp: bool,
    login: String,
    role: &'static str,
    csrf: String,
    info: Option<String>,
    secrets: Vec<String>,
    designations: Vec<(&'static str, String, String, String)>,
    tokens: Vec<(i64, String, String, &'static str, bool)>,
    min_len: usize,
}

fn french_date(d: chrono::NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

async fn account(
    state: &AppState,
    caller: &PageCaller,
    info: Option<String>,
    secrets: Vec<String>,
) -> Result<Response, ApiError> {
    let c = &caller.0;
    let now = Utc::now();
    let designations = state
        .store
        .designations_of(c.login())
        .await?
        .into_iter()
        .map(|d| {
            (
                d.role.code(),
                d.siret.to_string(),
                french_date(d.date_debut),
                d.date_fin.map(french_date).unwrap_or_else(|| "—".into()),
            )
        })
        .collect();
    let tokens = state
        .store
        .tokens_of(c.login())
        .await?
        .into_iter()
        .map(|t| {
            let live = t.revoked_at.is_none() && t.expires_at > now;
            let status = if t.revoked_at.is_some() {
                "révoqué"
            } else if live {
                "actif"
            } else {
                "expiré"
            };
            (
                t.id,
                french_date(t.created_at.date_naive()),
                french_date(t.expires_at.date_naive()),
                status,
                live,
            )
        })
        .collect();
    let has_totp = state
        .store
        .login_state(c.login())
        .await?
        .is_some_and(|l| l.totp_secret.is_some());
    let page = AccountPage {
        has_totp,
        requires_totp: c.account.spec.role.requires_second_factor(),
        layout: crate::pages::Layout::of(state, caller, &HeaderMap::new(), "/compte").await?,
        login: c.login().to_string(),
        role: c.account.spec.role.label(),
        csrf: caller.csrf().to_string(),
        info,
        secrets,
        designations,
        tokens,
        min_len: c.account.spec.role.min_password_len(),
    };
    Ok(page.into_response())
}

async fn account_page(
    State(state): State<AppState>,
    caller: PageCaller,
) -> Result<Response, ApiError> {
    account(&state, &caller, None, Vec::new()).await
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

#[derive(Deserialize)]
struct PasswordForm {
    csrf: String,
    actuel: String,
    nouveau: String,
}

async fn change_password(
    State(state): State<AppState>,
    caller: PageCaller,
    PageForm(form): PageForm<PasswordForm>,
) -> Result<Response, ApiError> {
    if let Some(r) = caller.forged(&form.csrf) {
        return Ok(r);
    }
    let c = &caller.0;
    let store = state.store.as_ref();
    let phc = store.password_hash(c.login()).await?;
    let current = form.actuel.clone();
    let ok = tokio::task::spawn_blocking(move || {
        phc.is_some_and(|p| auth::verify_password(&current, &p))
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    if !ok {
        return account(
            &state,
            &caller,
            Some("Mot de passe actuel incorrect : rien n’a changé.".into()),
            Vec::new(),
        )
        .await;
    }
    if let Err(e) = auth::check_password(c.account.spec.role, c.login(), &form.nouveau) {
        return account(
            &state,
            &caller,
            Some(format!("Nouveau mot de passe refusé : {e}.")),
            Vec::new(),
        )
        .await;
    }
    let new = form.nouveau.clone();
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&new))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut event = c.event(Utc::now(), "ECRITURE", "COMPTE");
    event.detail = Some("changement de mot de passe".into());
    store.set_password(c.login(), &hash, &event).await?;
    account(
        &state,
        &caller,
        Some("Mot de passe changé.".into()),
        Vec::new(),
    )
    .await
}

async fn create_token(
    State(state): State<AppState>,
    caller: PageCaller,
    PageForm(form): PageForm<CsrfForm>,
) -> Result<Response, ApiError> {
    if let Some(r) = caller.forged(&form.csrf) {
        return Ok(r);
    }
    let c = &caller.0;
    let (token, hash) = auth::new_token();
    let now = Utc::now();
    let mut event = c.event(now, "ECRITURE", "JETON_API");
    event.detail = Some("création".into());
    state
        .store
        .add_token(
            c.login(),
            &hash,
            now + chrono::Duration::days(auth::TOKEN_MAX_DAYS),
            &event,
        )
        .await?;
    account(
        &state,
        &caller,
        Some("Jeton d’API créé.".into()),
        vec![token],
    )
    .await
}

async fn revoke_token(
    State(state): State<AppState>,
    caller: PageCaller,
    PagePath(id): PagePath<i64>,
    PageForm(form): PageForm<CsrfForm>,
) -> Result<Response, ApiError> {
    if let Some(r) = caller.forged(&form.csrf) {
        return Ok(r);
    }
    let c = &caller.0;
    let now = Utc::now();
    let mut event = c.event(now, "ECRITURE", "JETON_API");
    event.detail = Some(format!("révocation du jeton {id}"));
    let done = state.store.revoke_token(c.login(), id, now, &event).await?;
    let info = if done {
        "Jeton révoqué."
    } else {
        "Ce jeton était déjà révoqué."
    };
    account(&state, &caller, Some(info.into()), Vec::new()).await
}

async fn logout(
    State(state): State<AppState>,
    caller: PageCaller,
    PageForm(form): PageForm<CsrfForm>,
) -> Result<Response, ApiError> {
    if let Some(r) = caller.forged(&form.csrf) {
        return Ok(r);
    }
    let c = &caller.0;
    if let Some(s) = &c.session {
        state.store.delete_session(&s.token_hash).await?;
    }
    let mut event = c.event(Utc::now(), "DECONNEXION", "SESSION");
    event.detail = Some("déconnexion".into());
    state.store.append_journal(&[event]).await?;
    let mut h = HeaderMap::new();
    set_cookie(&mut h, SESSION_COOKIE, "", Some(0), "Lax");
    Ok((h, Redirect::to("/")).into_response())
}

//! A forgotten password (`access.md`, Authentication): a person gives his login or e-mail
//! at `/mot-de-passe-oublie`; the answer is the same whether an account matches or not; an
//! account with an e-mail address receives a link valid 30 minutes, used once, stored as a
//! SHA-256 hash; using it sets a new password (the account page's rules), ends every session
//! of the account and is journaled. The second factor is not reset this way.
//!
//! Also the e-mails about an account (the link, and the warning that its password is being
//! guessed), sent at once ([`siseri_notify::send_now`]), never through the outbox: the link
//! must not be kept in clear.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use siseri_domain::throttle::AccountThrottle;

use crate::auth;
use crate::caller::{SESSION_COOKIE, cookie};
use crate::client::ClientAddress;
use crate::extract::{PageForm, PagePath};
use crate::login::{Field, FormPage, login_event, set_cookie};
use crate::pages::format;
use crate::{ApiError, AppState};

/// Where a person asks for a link.
pub const FORGOTTEN_PATH: &str = "/mot-de-passe-oublie";
/// Where the new password is posted (with the link's token).
const NEW_PASSWORD_PATH: &str = "/mot-de-passe-oublie/nouveau";
/// How long a link may be used, in minutes.
pub const LINK_MINUTES: i64 = 30;
/// The double-submit cookie of these forms (nobody is logged in).
const RESET_CSRF_COOKIE: &str = "siseri_oubli";

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(FORGOTTEN_PATH, axum::routing::get(ask_form).post(ask))
        .route(
            "/mot-de-passe-oublie/{token}",
            axum::routing::get(new_password_form),
        )
        .route(NEW_PASSWORD_PATH, axum::routing::post(new_password))
}

const ASK_FIELDS: [Field; 1] = [Field {
    name: "identifiant",
    label: "Identifiant ou adresse électronique",
    hint: "L’identifiant de votre compte, ou l’adresse électronique qui y est enregistrée.",
    kind: "text",
    autocomplete: "username",
}];

const NEW_PASSWORD_FIELDS: [Field; 1] = [Field {
    name: "nouveau",
    label: "Nouveau mot de passe",
    hint: "Une phrase de passe est plus sûre qu’un mot compliqué.",
    kind: "password",
    autocomplete: "new-password",
}];

fn with_csrf(status: StatusCode, page: FormPage) -> Response {
    let mut h = HeaderMap::new();
    set_cookie(&mut h, RESET_CSRF_COOKIE, &page.csrf, Some(3600), "Strict");
    (status, h, page).into_response()
}

fn csrf_ok(headers: &HeaderMap, sent: &str) -> bool {
    cookie(headers, RESET_CSRF_COOKIE).is_some_and(|c| !c.is_empty() && c == sent)
}

fn ask_page(error: Option<String>) -> FormPage {
    FormPage {
        error,
        paragraphs: vec![format!(
            "Indiquez votre identifiant ou votre adresse électronique : si un compte y correspond et qu’il a une adresse électronique, vous y recevrez un lien pour choisir un nouveau mot de passe, valable {LINK_MINUTES} minutes. Votre second facteur n’est pas modifié."
        )],
        action: FORGOTTEN_PATH,
        csrf: auth::random_secret(),
        fields: &ASK_FIELDS,
        submit: "Recevoir un lien",
        links: vec![("/connexion".into(), "Revenir à la connexion".into())],
        ..FormPage::new("Mot de passe oublié")
    }
}

async fn ask_form() -> Response {
    with_csrf(StatusCode::OK, ask_page(None))
}

#[derive(Deserialize)]
struct AskForm {
    #[serde(default)]
    identifiant: String,
    #[serde(default)]
    csrf: String,
}

/// The one answer to every request, whether an account matches or not.
fn sent_page() -> FormPage {
    FormPage {
        info: Some(format!(
            "Si un compte correspond et qu’il a une adresse électronique, un lien pour choisir un nouveau mot de passe vient d’y être envoyé. Il est valable {LINK_MINUTES} minutes et ne sert qu’une fois."
        )),
        paragraphs: vec![
            "Rien reçu ? Vérifiez le courrier indésirable, ou adressez-vous au gestionnaire de votre compte.".into(),
        ],
        links: vec![("/connexion".into(), "Revenir à la connexion".into())],
        ..FormPage::new("Mot de passe oublié")
    }
}

async fn ask(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    PageForm(form): PageForm<AskForm>,
) -> Result<Response, ApiError> {
    if !csrf_ok(&headers, &form.csrf) {
        return Ok(with_csrf(
            StatusCode::FORBIDDEN,
            ask_page(Some("Le formulaire a expiré : recommencez.".into())),
        ));
    }
    // Each request counts against the address, as a failed login does: no one address
    // sprays mail boxes or probes logins at will.
    if !state.throttle.allows(&address) {
        return Ok(with_csrf(
            StatusCode::TOO_MANY_REQUESTS,
            ask_page(Some(
                "Trop de demandes depuis votre adresse : réessayez dans quelques minutes.".into(),
            )),
        ));
    }
    state.throttle.failed(&address);
    let asked = form.identifiant.trim().to_lowercase();
    let mut accounts = Vec::new();
    if !asked.is_empty() && asked.chars().count() <= 254 {
        if let Some(a) = state.store.account(&asked).await? {
            accounts.push(a);
        }
        if asked.contains('@') {
            for a in state.store.accounts_by_email(&asked).await? {
                if accounts.iter().all(|b| b.id != a.id) {
                    accounts.push(a);
                }
            }
        }
    }
    let now = state.instants.now();
    let mut sent = 0;
    for account in &accounts {
        let Some(email) = account.spec.email.clone().filter(|e| !e.trim().is_empty()) else {
            continue;
        };
        let token = auth::random_secret();
        let login = &account.spec.login;
        let mut event = login_event(
            login,
            "ECRITURE",
            "OK",
            "lien de mot de passe oublié envoyé",
        );
        event.data_kind = "COMPTE".into();
        state
            .store
            .add_password_reset(
                login,
                &auth::token_hash(&token),
                now,
                now + chrono::Duration::minutes(LINK_MINUTES),
                &event,
            )
            .await?;
        let (subject, body) = link_mail(&state, login, &token);
        send_later(&state, email, subject, body);
        sent += 1;
    }
    if sent == 0 {
        // Journaled too (and as much work), so that nothing tells the cases apart.
        let mut event = login_event(
            &asked,
            "ECRITURE",
            "REFUSE",
            "mot de passe oublié : aucun compte avec adresse",
        );
        event.data_kind = "COMPTE".into();
        state.store.append_journal(&[event]).await?;
    }
    Ok(sent_page().into_response())
}

fn invalid_link() -> Response {
    let page = FormPage {
        error: Some(format!(
            "Ce lien n’est plus valable : il a déjà servi, ou ses {LINK_MINUTES} minutes sont passées. Demandez-en un nouveau."
        )),
        links: vec![(FORGOTTEN_PATH.into(), "Demander un nouveau lien".into())],
        ..FormPage::new("Lien expiré")
    };
    (StatusCode::NOT_FOUND, page).into_response()
}

fn new_password_page(token: &str, min_len: usize, error: Option<String>) -> FormPage {
    FormPage {
        error,
        paragraphs: vec![format!(
            "Choisissez votre nouveau mot de passe : {min_len} caractères au moins. Toutes vos sessions ouvertes seront fermées."
        )],
        action: NEW_PASSWORD_PATH,
        csrf: auth::random_secret(),
        hidden: vec![("jeton", token.to_string())],
        fields: &NEW_PASSWORD_FIELDS,
        submit: "Enregistrer le nouveau mot de passe",
        ..FormPage::new("Nouveau mot de passe")
    }
}

async fn new_password_form(
    State(state): State<AppState>,
    PagePath(token): PagePath<String>,
) -> Result<Response, ApiError> {
    let now = state.instants.now();
    let Some(account) = state
        .store
        .password_reset(&auth::token_hash(&token), now)
        .await?
    else {
        return Ok(invalid_link());
    };
    let min = account.spec.role.min_password_len();
    Ok(with_csrf(
        StatusCode::OK,
        new_password_page(&token, min, None),
    ))
}

#[derive(Deserialize)]
struct NewPasswordForm {
    #[serde(default)]
    jeton: String,
    #[serde(default)]
    nouveau: String,
    #[serde(default)]
    csrf: String,
}

async fn new_password(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageForm(form): PageForm<NewPasswordForm>,
) -> Result<Response, ApiError> {
    let token = form.jeton.clone();
    let now = state.instants.now();
    let hash = auth::token_hash(&token);
    let Some(account) = state.store.password_reset(&hash, now).await? else {
        return Ok(invalid_link());
    };
    let min = account.spec.role.min_password_len();
    if !csrf_ok(&headers, &form.csrf) {
        return Ok(with_csrf(
            StatusCode::FORBIDDEN,
            new_password_page(
                &token,
                min,
                Some("Le formulaire a expiré : recommencez.".into()),
            ),
        ));
    }
    let login = account.spec.login.clone();
    if let Err(e) = auth::check_password(account.spec.role, &login, &form.nouveau) {
        return Ok(with_csrf(
            StatusCode::UNPROCESSABLE_ENTITY,
            new_password_page(&token, min, Some(format!("Mot de passe refusé : {e}."))),
        ));
    }
    let new = form.nouveau.clone();
    let phc = tokio::task::spawn_blocking(move || auth::hash_password(&new))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut event = login_event(
        &login,
        "ECRITURE",
        "OK",
        "nouveau mot de passe par lien de mot de passe oublié ; sessions fermées",
    );
    event.role = Some(account.spec.role.code().to_string());
    event.data_kind = "COMPTE".into();
    if !state
        .store
        .use_password_reset(&hash, now, &phc, &event)
        .await?
    {
        return Ok(invalid_link());
    }
    let mut h = HeaderMap::new();
    if cookie(&headers, SESSION_COOKIE).is_some() {
        set_cookie(&mut h, SESSION_COOKIE, "", Some(0), "Lax");
    }
    set_cookie(&mut h, RESET_CSRF_COOKIE, "", Some(0), "Strict");
    let page = FormPage {
        info: Some(
            "Mot de passe changé. Toutes les sessions de votre compte ont été fermées.".into(),
        ),
        links: vec![("/connexion".into(), "Se connecter".into())],
        ..FormPage::new("Mot de passe changé")
    };
    Ok((h, page).into_response())
}

/// The e-mail with a forgotten-password link.
fn link_mail(state: &AppState, login: &str, token: &str) -> (String, String) {
    let subject = "SISERI : choisir un nouveau mot de passe".to_string();
    let body = format!(
        "Bonjour,\n\n\
         Un nouveau mot de passe a été demandé pour votre compte SISERI « {login} ». \
         Pour le choisir, ouvrez ce lien dans les {LINK_MINUTES} minutes ; il ne sert qu’une fois :\n\n\
         {}{FORGOTTEN_PATH}/{token}\n\n\
         Toutes vos sessions ouvertes seront fermées. Votre second facteur, si vous en avez un, ne change pas.\n\n\
         Si vous n’avez rien demandé, ignorez ce message : votre mot de passe reste le même.\n\n\
         Ce message est automatique : n’y répondez pas.\n",
        state.public_url
    );
    (subject, body)
}

/// The e-mail that tells an account's owner that its password is being guessed.
pub(crate) fn guessing_notice(
    state: &AppState,
    login: &str,
    throttle: &AccountThrottle,
) -> (String, String) {
    let subject = "SISERI : tentatives de connexion à votre compte".to_string();
    let body = format!(
        "Bonjour,\n\n\
         Plusieurs tentatives de connexion à votre compte SISERI « {login} » ont échoué \
         (la dernière le {}). Par sécurité, chaque nouvel essai sur ce compte doit désormais attendre \
         quelques minutes, jusqu’à 15 minutes.\n\n\
         Si c’est vous, patientez avant de réessayer, ou choisissez un nouveau mot de passe : \
         {}{FORGOTTEN_PATH}\n\
         Si ce n’est pas vous, personne n’est entré dans votre compte ; par prudence, changez votre \
         mot de passe et prévenez le gestionnaire du registre.\n\n\
         Ce message est automatique : n’y répondez pas.\n",
        format::date_time(throttle.last_failure_at),
        state.public_url
    );
    (subject, body)
}

/// Sends an e-mail about an account in the background: the answer to the request never
/// waits for (nor reveals) it. Without SMTP, or when sending fails, it is logged (never the
/// body, which may hold a link).
pub(crate) fn send_later(state: &AppState, to: String, subject: String, body: String) {
    let Some(smtp) = state.smtp.clone() else {
        tracing::warn!(%subject, "SISERI_SMTP_HOST absent : courriel sur un compte non envoyé");
        return;
    };
    tokio::spawn(async move {
        if let Err(error) = siseri_notify::send_now(&smtp, &to, &subject, &body).await {
            tracing::warn!(%subject, %error, "courriel sur un compte non envoyé");
        }
    });
}

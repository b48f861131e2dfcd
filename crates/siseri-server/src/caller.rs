//! Who is asking: the API bearer token or the session cookie, checked on every
//! request, and the access-policy view of that person (designations, delegations,
//! grants) built from storage.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use chrono::{DateTime, Utc};
use siseri_domain::access::{
    Delegation, DesignationFact, DoctorGrant, Period, Person, WorkerAttachment, WorkerFacts,
};
use siseri_domain::account::Account;
use siseri_domain::journal::JournalEvent;
use siseri_domain::worker::{Attachment, Designation};
use siseri_storage::{Store, StoreError};

use crate::auth::token_hash;
use crate::{ApiError, AppState};

/// The session cookie.
pub const SESSION_COOKIE: &str = "siseri_session";
/// The anti-forgery header API writes made with a session must carry.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The inspector's mission reference on the API.
pub const MISSION_HEADER: &str = "x-mission";
/// A session's last activity is recorded at most this often.
const TOUCH_AFTER_SECONDS: i64 = 60;
/// Sessions end after this much inactivity (`access.md`).
pub const IDLE_MINUTES: i64 = 30;

/// The session a caller came with.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    /// SHA-256 of the cookie's value.
    pub token_hash: String,
    /// The session's anti-forgery token.
    pub csrf: String,
    /// Whether the second factor was passed.
    pub second_factor: bool,
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The account.
    pub account: Account,
    /// The session, when authenticated by cookie (none with a bearer token).
    pub session: Option<SessionInfo>,
    /// The stated mission reference.
    pub mission: Option<String>,
}

impl Caller {
    /// The account's login.
    pub fn login(&self) -> &str {
        &self.account.spec.login
    }

    /// A journal event by this caller.
    pub fn event(&self, at: DateTime<Utc>, action: &str, data_kind: &str) -> JournalEvent {
        let mut e = JournalEvent::new(at, self.login(), action, data_kind);
        e.role = Some(self.account.spec.role.code().to_string());
        e.mission.clone_from(&self.mission);
        e
    }
}

/// A cookie's value from the `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn mission(headers: &HeaderMap) -> Option<String> {
    let m = headers.get(MISSION_HEADER)?.to_str().ok()?.trim();
    (!m.is_empty() && m.chars().count() <= 100).then(|| m.to_string())
}

/// Authenticates a request from its headers.
pub async fn authenticate(
    store: &std::sync::Arc<dyn Store>,
    headers: &HeaderMap,
    method: &Method,
    api: bool,
) -> Result<Caller, ApiError> {
    let now = Utc::now();
    let mission = mission(headers);
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or(ApiError::Unauthenticated)?;
        let stored = store
            .token(&token_hash(token))
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        if stored.revoked_at.is_some() || stored.expires_at <= now {
            return Err(ApiError::Unauthenticated);
        }
        return Ok(Caller {
            account: stored.account,
            session: None,
            mission,
        });
    }
    let value = cookie(headers, SESSION_COOKIE).ok_or(ApiError::Unauthenticated)?;
    let hash = token_hash(value);
    let session = store
        .session(&hash)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    if now - session.last_seen_at > chrono::Duration::minutes(IDLE_MINUTES) {
        store.delete_session(&hash).await?;
        return Err(ApiError::Unauthenticated);
    }
    if session.account.spec.role.requires_second_factor() && !session.second_factor {
        return Err(ApiError::Forbidden(
            "SECOND_FACTEUR_REQUIS",
            "Validez d'abord votre second facteur d'authentification.",
        ));
    }
    // API writes through a session must prove they come from our pages.
    let unsafe_method = !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    if api && unsafe_method {
        let sent = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
        if sent != Some(session.csrf.as_str()) {
            return Err(ApiError::Forbidden(
                "CSRF",
                "Jeton anti-falsification absent ou invalide.",
            ));
        }
    }
    // The idle clock needs minute precision, not a write per request; and the write runs
    // aside, so that a request never waits on it (an SQLite import holds the write lock
    // for its whole duration).
    if now - session.last_seen_at > chrono::Duration::seconds(TOUCH_AFTER_SECONDS) {
        let store = std::sync::Arc::clone(store);
        let hash = hash.clone();
        tokio::spawn(async move {
            if let Err(e) = store.touch_session(&hash, now).await {
                tracing::warn!(error = %e, "session : dernière activité non enregistrée");
            }
        });
    }
    Ok(Caller {
        account: session.account,
        session: Some(SessionInfo {
            token_hash: hash,
            csrf: session.csrf,
            second_factor: session.second_factor,
        }),
        mission,
    })
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let api = parts.uri.path().starts_with("/api/");
        authenticate(&state.store, &parts.headers, &parts.method, api).await
    }
}

fn designation_fact(d: &Designation) -> DesignationFact {
    DesignationFact {
        role: d.role,
        siret: d.siret.clone(),
        period: Period::from(d),
    }
}

/// The access policy's view of a caller.
pub async fn person(store: &dyn Store, caller: &Caller) -> Result<Person, StoreError> {
    let spec = &caller.account.spec;
    let mut p = Person::new(spec.role);
    p.nir.clone_from(&spec.nir);
    p.siren.clone_from(&spec.siren);
    p.sirets.clone_from(&spec.sirets);
    p.correspondent = spec.correspondent;
    p.natures.clone_from(&spec.natures);
    p.mission.clone_from(&caller.mission);
    p.designations = store
        .designations_of(&spec.login)
        .await?
        .iter()
        .map(designation_fact)
        .collect();
    for d in store.delegations_to(&spec.login).await? {
        let mdt = store.designations_of(&d.mdt_login).await?;
        p.delegations.push(Delegation {
            mdt_designations: mdt.iter().map(designation_fact).collect(),
            write: d.can_write,
            revoked: d.revoked_at.is_some(),
        });
    }
    p.grants = store
        .grants_of(&spec.login)
        .await?
        .into_iter()
        .map(|g| DoctorGrant {
            nir: g.nir,
            revoked: g.revoked_at.is_some(),
        })
        .collect();
    Ok(p)
}

/// The access policy's view of a worker, from his attachments' current terms.
pub fn worker_facts(nir: &siseri_domain::Nir, attachments: &[Attachment]) -> WorkerFacts {
    WorkerFacts {
        nir: nir.clone(),
        attachments: attachments
            .iter()
            .filter_map(|a| {
                a.current().map(|t| WorkerAttachment {
                    siret: a.siret.clone(),
                    period: Period::from(t),
                })
            })
            .collect(),
    }
}

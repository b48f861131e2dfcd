//! Accounts and the links between people: API tokens, designations of MDT and CRP by
//! employers, delegations by physicians, designated doctors, accreditations and
//! account creation by administrators. Every write is journaled with the write.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use siseri_domain::access::{WriteAction, can_write};
use siseri_domain::account::{NewAccount, Role};
use siseri_domain::codes::Nature;
use siseri_domain::ids::{Nir, Siret};
use siseri_domain::worker::DesignationRole;
use siseri_storage::NewDesignation;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth;
use crate::caller::{Caller, person};
use crate::extract::{ApiJson, ApiPath};
use crate::{ApiError, AppState};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(my_tokens, create_token))
        .routes(routes!(revoke_token))
        .routes(routes!(designate))
        .routes(routes!(add_correspondent))
        .routes(routes!(delegate))
        .routes(routes!(revoke_delegation))
        .routes(routes!(designate_my_doctor))
        .routes(routes!(designate_doctor))
        .routes(routes!(revoke_doctor))
        .routes(routes!(accredit))
        .routes(routes!(create_account))
        .routes(routes!(enrolment_code))
}

fn require(caller: &Caller, roles: &[Role]) -> Result<(), ApiError> {
    if roles.contains(&caller.account.spec.role) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "ROLE_NON_AUTORISE",
            "Votre rôle ne permet pas cette action.",
        ))
    }
}

/// A revocation, done.
#[derive(Debug, Serialize, ToSchema)]
pub struct Revoked {
    /// Always true.
    revoque: bool,
}

/// What a write created.
#[derive(Debug, Serialize, ToSchema)]
pub struct Identifier {
    id: i64,
}

/// An account created.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountCreated {
    id: i64,
    login: String,
}

/// The natures an accredited body may now send.
#[derive(Debug, Serialize, ToSchema)]
pub struct NaturesSet {
    natures: Vec<String>,
}

/// The answer to a revocation: done, or nothing live to revoke (404, as for an unknown id).
fn revocation(revoked: bool) -> Result<Json<Revoked>, ApiError> {
    if revoked {
        Ok(Json(Revoked { revoque: true }))
    } else {
        Err(ApiError::NotFound)
    }
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::BadRequest(message.into())
}

/// Who I am.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    login: String,
    role: String,
    libelle_role: String,
}

/// The authenticated account.
#[utoipa::path(get, path = "/api/v1/moi", tag = "comptes", responses((status = 200, description = "Le compte", body = Me)), security(("jeton" = [])))]
async fn me(caller: Caller) -> Json<Me> {
    let role = caller.account.spec.role;
    Json(Me {
        login: caller.login().to_string(),
        role: role.code().to_string(),
        libelle_role: role.label().to_string(),
    })
}

/// An API token, without its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    id: i64,
    cree_le: DateTime<Utc>,
    expire_le: DateTime<Utc>,
    revoque_le: Option<DateTime<Utc>>,
}

/// My API tokens.
#[utoipa::path(get, path = "/api/v1/moi/jetons", tag = "comptes", responses((status = 200, description = "Mes jetons", body = [TokenView])), security(("jeton" = [])))]
async fn my_tokens(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<TokenView>>, ApiError> {
    let rows = state.store.tokens_of(caller.login()).await?;
    Ok(Json(
        rows.into_iter()
            .map(|t| TokenView {
                id: t.id,
                cree_le: t.created_at,
                expire_le: t.expires_at,
                revoque_le: t.revoked_at,
            })
            .collect(),
    ))
}

/// A token request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// Validity in days, 1 … 90 (default 90).
    jours: Option<i64>,
}

/// A new token, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    id: i64,
    jeton: String,
    expire_le: DateTime<Utc>,
}

/// Creates an API token. Only from a session (which, for the roles that need one, has
/// passed the second factor): a token cannot mint tokens.
#[utoipa::path(post, path = "/api/v1/moi/jetons", tag = "comptes", request_body = NewToken,
    responses((status = 200, description = "Le jeton, montré une seule fois", body = CreatedToken), (status = 403, description = "SESSION_REQUISE : un jeton ne crée pas de jeton", body = crate::error::ErrorBody)), security(("session" = [])))]
async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewToken>,
) -> Result<Json<CreatedToken>, ApiError> {
    if caller.session.is_none() {
        return Err(ApiError::Forbidden(
            "SESSION_REQUISE",
            "Un jeton d'API se crée depuis une session ouverte sur les pages.",
        ));
    }
    let days = body.jours.unwrap_or(auth::TOKEN_MAX_DAYS);
    if !(1..=auth::TOKEN_MAX_DAYS).contains(&days) {
        return Err(bad(format!("jours : entre 1 et {}", auth::TOKEN_MAX_DAYS)));
    }
    let (token, hash) = auth::new_token();
    let now = Utc::now();
    let expires = now + chrono::Duration::days(days);
    let mut event = caller.event(now, "ECRITURE", "JETON_API");
    event.detail = Some("création".into());
    let id = state
        .store
        .add_token(caller.login(), &hash, expires, &event)
        .await?;
    Ok(Json(CreatedToken {
        id,
        jeton: token,
        expire_le: expires,
    }))
}

/// Revokes one of my tokens (takes effect on the next request).
#[utoipa::path(delete, path = "/api/v1/moi/jetons/{id}", tag = "comptes", params(("id" = i64, Path)),
    responses((status = 200, description = "Révoqué", body = Revoked), (status = 404, body = crate::error::ErrorBody)), security(("jeton" = [])))]
async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Revoked>, ApiError> {
    let now = Utc::now();
    let mut event = caller.event(now, "ECRITURE", "JETON_API");
    event.detail = Some(format!("révocation du jeton {id}"));
    revocation(
        state
            .store
            .revoke_token(caller.login(), id, now, &event)
            .await?,
    )
}

/// A designation of an MDT or a CRP on an establishment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DesignationRequest {
    /// `MDT` or `CRP`.
    #[schema(pattern = r"^(MDT|CRP)$")]
    pub(crate) role: String,
    /// The designated account.
    pub(crate) login: String,
    /// The establishment.
    #[schema(pattern = r"^[0-9]{14}$")]
    pub(crate) siret: String,
    pub(crate) date_debut: NaiveDate,
    pub(crate) date_fin: Option<NaiveDate>,
}

/// An employer (not a correspondent) designates an MDT or a CRP on one of its establishments.
#[utoipa::path(post, path = "/api/v1/designations", tag = "comptes", request_body = DesignationRequest,
    responses((status = 200, description = "Désignation enregistrée", body = Identifier), (status = 403, body = crate::error::ErrorBody), (status = 400, body = crate::error::ErrorBody)), security(("jeton" = [])))]
pub(crate) async fn designate(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<DesignationRequest>,
) -> Result<Json<Identifier>, ApiError> {
    let store = state.store.as_ref();
    let role =
        DesignationRole::parse(&body.role).ok_or_else(|| bad("role : MDT ou CRP attendu"))?;
    let siret = Siret::parse(body.siret.trim()).map_err(|e| bad(e.to_string()))?;
    if body.date_fin.is_some_and(|f| f < body.date_debut) {
        return Err(bad("date_fin : postérieure ou égale à date_debut attendue"));
    }
    let p = person(store, &caller).await?;
    if !can_write(
        &p,
        None,
        &WriteAction::Designate {
            siret: siret.clone(),
        },
        state.clock.today(),
    ) {
        return Err(ApiError::Forbidden(
            "ROLE_NON_AUTORISE",
            "Seul l'employeur (hors correspondant) désigne sur ses établissements.",
        ));
    }
    if store.establishment(&siret).await?.is_none() {
        return Err(bad("siret : établissement inconnu du registre"));
    }
    let expected = match role {
        DesignationRole::Physician => Role::Mdt,
        DesignationRole::Advisor => Role::Crp,
    };
    match store.account(body.login.trim()).await? {
        Some(a) if a.spec.role == expected => {}
        _ => {
            return Err(bad(format!(
                "login : aucun compte {} de ce nom",
                expected.code()
            )));
        }
    }
    let mut event = caller.event(Utc::now(), "ECRITURE", "DESIGNATION");
    event.detail = Some(format!("{} {} sur {siret}", role.code(), body.login.trim()));
    let d = NewDesignation {
        login: body.login.trim().to_string(),
        role,
        siret,
        date_debut: body.date_debut,
        date_fin: body.date_fin,
    };
    let created = store.add_designation(&d, &event).await?;
    Ok(Json(Identifier { id: created.id }))
}

/// A correspondent to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrespondentRequest {
    /// The new account's login.
    login: String,
    /// Its e-mail address.
    email: Option<String>,
    /// The establishments it may declare for (default: the employer's own scope).
    #[serde(default)]
    sirets: Vec<String>,
    /// An initial password (12 characters at least).
    password: Option<String>,
}

/// An employer (not a correspondent) appoints a correspondent, who may declare workers
/// on its establishments but neither designate nor see any dose.
#[utoipa::path(post, path = "/api/v1/correspondants", tag = "comptes", request_body = CorrespondentRequest,
    responses((status = 200, description = "Correspondant créé", body = AccountCreated), (status = 409, body = crate::error::ErrorBody), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)), security(("jeton" = [])))]
async fn add_correspondent(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CorrespondentRequest>,
) -> Result<Json<AccountCreated>, ApiError> {
    require(&caller, &[Role::Employeur])?;
    let employer = &caller.account.spec;
    if employer.correspondent {
        return Err(ApiError::Forbidden(
            "ROLE_NON_AUTORISE",
            "Un correspondant ne désigne pas d'autre correspondant.",
        ));
    }
    let sirets = body
        .sirets
        .iter()
        .map(|s| Siret::parse(s.trim()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(e.to_string()))?;
    let in_scope = |s: &Siret| {
        if employer.sirets.is_empty() {
            Some(s.siren()) == employer.siren
        } else {
            employer.sirets.contains(s)
        }
    };
    if let Some(s) = sirets.iter().find(|s| !in_scope(s)) {
        return Err(bad(format!(
            "sirets : {s} n'est pas un établissement de votre périmètre"
        )));
    }
    let mut account = NewAccount::new(body.login.trim(), Role::Employeur);
    account.siren.clone_from(&employer.siren);
    account.sirets = if sirets.is_empty() {
        employer.sirets.clone()
    } else {
        sirets
    };
    account.email = body.email;
    account.correspondent = true;
    account.validate().map_err(|e| bad(e.to_string()))?;
    let hash = initial_password(&account, body.password).await?;
    let mut event = caller.event(Utc::now(), "ECRITURE", "COMPTE");
    event.detail = Some(format!("désignation du correspondant {}", account.login));
    let created = state
        .store
        .add_account(&account, hash.as_deref(), &event)
        .await?;
    Ok(Json(AccountCreated {
        id: created.id,
        login: created.spec.login,
    }))
}

/// A delegation to a health professional.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DelegationRequest {
    /// The health professional's account (`PROFESSIONNEL_SANTE`).
    login: String,
    /// Read and write (true) or read only.
    ecriture: bool,
}

/// An MDT delegates, under his responsibility, to a health professional.
#[utoipa::path(post, path = "/api/v1/delegations", tag = "comptes", request_body = DelegationRequest,
    responses((status = 200, description = "Délégation enregistrée", body = Identifier), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)), security(("jeton" = [])))]
pub(crate) async fn delegate(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<DelegationRequest>,
) -> Result<Json<Identifier>, ApiError> {
    require(&caller, &[Role::Mdt])?;
    let store = state.store.as_ref();
    match store.account(body.login.trim()).await? {
        Some(a) if a.spec.role == Role::ProfessionnelSante => {}
        _ => return Err(bad("login : aucun compte PROFESSIONNEL_SANTE de ce nom")),
    }
    let mut event = caller.event(Utc::now(), "ECRITURE", "DELEGATION");
    event.detail = Some(format!(
        "délégation à {} ({})",
        body.login.trim(),
        if body.ecriture {
            "lecture et écriture"
        } else {
            "lecture"
        }
    ));
    let id = store
        .add_delegation(caller.login(), body.login.trim(), body.ecriture, &event)
        .await?;
    Ok(Json(Identifier { id }))
}

/// The MDT revokes one of his delegations (takes effect on the next request).
#[utoipa::path(post, path = "/api/v1/delegations/{id}/revocation", tag = "comptes", params(("id" = i64, Path)),
    responses((status = 200, description = "Révoqué", body = Revoked), (status = 404, body = crate::error::ErrorBody)), security(("jeton" = [])))]
pub(crate) async fn revoke_delegation(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Revoked>, ApiError> {
    require(&caller, &[Role::Mdt, Role::Admin])?;
    let store = state.store.as_ref();
    let own = store
        .delegations_from(caller.login())
        .await?
        .iter()
        .any(|d| d.id == id);
    if !own && caller.account.spec.role != Role::Admin {
        return Err(ApiError::NotFound);
    }
    let now = Utc::now();
    let mut event = caller.event(now, "ECRITURE", "DELEGATION");
    event.detail = Some(format!("révocation de la délégation {id}"));
    revocation(store.revoke_delegation(id, now, &event).await?)
}

/// A designated doctor.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DoctorRequest {
    /// The doctor's account (`MEDECIN_DESIGNE`).
    login: String,
}

pub(crate) async fn grant(
    state: &AppState,
    caller: &Caller,
    nir: &Nir,
    login: &str,
) -> Result<Json<Identifier>, ApiError> {
    let store = state.store.as_ref();
    match store.account(login).await? {
        Some(a) if a.spec.role == Role::MedecinDesigne => {}
        _ => return Err(bad("login : aucun compte MEDECIN_DESIGNE de ce nom")),
    }
    let mut event = caller.event(Utc::now(), "ECRITURE", "MEDECIN_DESIGNE");
    event.detail = Some(format!("désignation du médecin {login}"));
    if let Some(w) = store.worker(nir).await? {
        event.worker_ids = vec![w.id];
    }
    let id = store.add_grant(nir, login, &event).await?;
    Ok(Json(Identifier { id }))
}

/// A worker designates the doctor who may read his whole record.
#[utoipa::path(post, path = "/api/v1/moi/medecin-designe", tag = "comptes", request_body = DoctorRequest,
    responses((status = 200, description = "Médecin désigné", body = Identifier), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)), security(("jeton" = [])))]
async fn designate_my_doctor(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<DoctorRequest>,
) -> Result<Json<Identifier>, ApiError> {
    require(&caller, &[Role::Travailleur])?;
    let nir = caller
        .account
        .spec
        .nir
        .clone()
        .ok_or(ApiError::Forbidden("ROLE_NON_AUTORISE", "Compte sans NIR."))?;
    grant(&state, &caller, &nir, body.login.trim()).await
}

/// A doctor designated for a worker's heirs, by an administrator.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdminDoctorRequest {
    #[schema(pattern = r"^[1-478][0-9]{4}(2A|2B|[0-9]{2})[0-9]{6}$")]
    nir: String,
    login: String,
}

/// An administrator designates a doctor for a worker (heirs' request).
#[utoipa::path(post, path = "/api/v1/admin/medecins-designes", tag = "administration", request_body = AdminDoctorRequest,
    responses((status = 200, description = "Médecin désigné", body = Identifier), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)), security(("jeton" = [])))]
async fn designate_doctor(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<AdminDoctorRequest>,
) -> Result<Json<Identifier>, ApiError> {
    require(&caller, &[Role::Admin])?;
    let nir = Nir::parse(body.nir.trim()).map_err(|e| bad(e.to_string()))?;
    grant(&state, &caller, &nir, body.login.trim()).await
}

/// Revokes a designated doctor: the worker for his own, an administrator for any.
#[utoipa::path(post, path = "/api/v1/medecins-designes/{id}/revocation", tag = "comptes", params(("id" = i64, Path)),
    responses((status = 200, description = "Révoqué", body = Revoked), (status = 404, body = crate::error::ErrorBody)), security(("jeton" = [])))]
pub(crate) async fn revoke_doctor(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Revoked>, ApiError> {
    let store = state.store.as_ref();
    let allowed = match (caller.account.spec.role, &caller.account.spec.nir) {
        (Role::Admin, _) => true,
        (Role::Travailleur, Some(nir)) => store.grants_on(nir).await?.iter().any(|g| g.id == id),
        _ => false,
    };
    if !allowed {
        return Err(ApiError::NotFound);
    }
    let now = Utc::now();
    let mut event = caller.event(now, "ECRITURE", "MEDECIN_DESIGNE");
    event.detail = Some(format!("révocation de la désignation {id}"));
    revocation(store.revoke_grant(id, now, &event).await?)
}

/// The natures a body is accredited for.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Accreditation {
    natures: Vec<String>,
}

/// An administrator sets the natures an accredited body may send.
#[utoipa::path(put, path = "/api/v1/admin/organismes/{login}/natures", tag = "administration", params(("login" = String, Path, description = "Identifiant du compte", pattern = r"^[a-z0-9._@-]{3,64}$")),
    request_body = Accreditation, responses((status = 200, description = "Natures accréditées", body = NaturesSet), (status = 404, body = crate::error::ErrorBody)), security(("jeton" = [])))]
async fn accredit(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(login): ApiPath<String>,
    ApiJson(body): ApiJson<Accreditation>,
) -> Result<Json<NaturesSet>, ApiError> {
    require(&caller, &[Role::Admin])?;
    let natures = body
        .natures
        .iter()
        .map(|n| {
            Nature::parse(n)
                .filter(|n| n.is_accreditable())
                .ok_or_else(|| {
                    bad(format!(
                        "natures : « {n} » n'est pas une nature accréditable"
                    ))
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut event = caller.event(Utc::now(), "ECRITURE", "ACCREDITATION");
    event.detail = Some(format!(
        "{login} : {}",
        natures
            .iter()
            .map(|n| n.code())
            .collect::<Vec<_>>()
            .join(",")
    ));
    state.store.set_natures(&login, &natures, &event).await?;
    Ok(Json(NaturesSet {
        natures: natures.iter().map(|n| n.code().to_owned()).collect(),
    }))
}

/// A new account, with an optional initial password. The fields of `NewAccount`, spelt
/// out rather than flattened: serde cannot refuse unknown fields beside a flattened one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountRequest {
    /// 3 to 64 of lower-case letters, digits, `.`, `_`, `-`, `@`.
    login: String,
    /// The role's code (`EMPLOYEUR`, `ORGANISME`, `EXPLOITANT_INB`, `MDT`…).
    #[schema(value_type = String, pattern = r"^[A-Z_]+$")]
    role: Role,
    /// The organisation (employers, bodies, INB operators).
    #[schema(value_type = Option<String>, pattern = r"^[0-9]{9}$")]
    siren: Option<siseri_domain::ids::Siren>,
    /// The establishments the account is limited to.
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    sirets: Vec<Siret>,
    /// Health professional number.
    #[schema(value_type = Option<String>)]
    rpps: Option<siseri_domain::ids::Rpps>,
    /// A worker account's NIR (13 characters).
    #[schema(value_type = Option<String>, pattern = r"^[1-478][0-9]{4}(2A|2B|[0-9]{2})[0-9]{6}$")]
    nir: Option<Nir>,
    /// The natures an accredited body may send.
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    natures: Vec<Nature>,
    /// Where notifications go.
    email: Option<String>,
    /// An employer's correspondent.
    #[serde(default)]
    correspondent: bool,
    /// An initial password.
    password: Option<String>,
}

impl AccountRequest {
    fn into_parts(self) -> (NewAccount, Option<String>) {
        let mut a = NewAccount::new(&self.login, self.role);
        a.siren = self.siren;
        a.sirets = self.sirets;
        a.rpps = self.rpps;
        a.nir = self.nir;
        a.natures = self.natures;
        a.email = self.email;
        a.correspondent = self.correspondent;
        (a, self.password)
    }
}

/// An administrator creates an account (bodies, INB operators, inspectors…).
#[utoipa::path(post, path = "/api/v1/admin/comptes", tag = "administration", request_body = AccountRequest,
    responses((status = 200, description = "Compte créé", body = AccountCreated), (status = 400, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)), security(("jeton" = [])))]
async fn create_account(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<AccountRequest>,
) -> Result<Json<AccountCreated>, ApiError> {
    require(&caller, &[Role::Admin])?;
    let (account, password) = body.into_parts();
    account.validate().map_err(|e| bad(e.to_string()))?;
    let hash = initial_password(&account, password).await?;
    let mut event = caller.event(Utc::now(), "ECRITURE", "COMPTE");
    event.detail = Some(format!(
        "création du compte {} ({})",
        account.login, account.role
    ));
    let created = state
        .store
        .add_account(&account, hash.as_deref(), &event)
        .await?;
    Ok(Json(AccountCreated {
        id: created.id,
        login: created.spec.login,
    }))
}

/// Checks and hashes an account's initial password, if one is given.
pub(crate) async fn initial_password(
    account: &NewAccount,
    password: Option<String>,
) -> Result<Option<String>, ApiError> {
    let Some(p) = password else { return Ok(None) };
    auth::check_password(account.role, &account.login, &p)
        .map_err(|e| bad(format!("password : {e}")))?;
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&p))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Some(hash))
}

/// A new enrolment code, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnrolmentCode {
    code: String,
    expire_le: DateTime<Utc>,
}

/// An administrator issues the enrolment code that links an account to a federated
/// identity at its first federated login (valid 7 days, once).
#[utoipa::path(post, path = "/api/v1/admin/comptes/{login}/code-inscription", tag = "administration", params(("login" = String, Path, description = "Identifiant du compte", pattern = r"^[a-z0-9._@-]{3,64}$")),
    responses((status = 200, body = EnrolmentCode), (status = 404, body = crate::error::ErrorBody)), security(("jeton" = [])))]
async fn enrolment_code(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(login): ApiPath<String>,
) -> Result<Json<EnrolmentCode>, ApiError> {
    require(&caller, &[Role::Admin])?;
    let (code, expires) = issue_enrolment(&state, &caller, &login).await?;
    Ok(Json(EnrolmentCode {
        code,
        expire_le: expires,
    }))
}

/// Issues an enrolment code for `login`.
pub async fn issue_enrolment(
    state: &AppState,
    caller: &Caller,
    login: &str,
) -> Result<(String, DateTime<Utc>), ApiError> {
    let (codes, hashes) = auth::new_recovery_codes();
    let (Some(code), Some(hash)) = (codes.into_iter().next(), hashes.into_iter().next()) else {
        return Err(ApiError::Internal("génération du code".into()));
    };
    let now = Utc::now();
    let expires = now + chrono::Duration::days(7);
    let mut event = caller.event(now, "ECRITURE", "INSCRIPTION");
    event.detail = Some(format!("code d'inscription pour {login}"));
    state
        .store
        .set_enrolment(login, &hash, expires, &event)
        .await?;
    Ok((code, expires))
}

//! Accounts: the list with each one's state, the creation form (the API's validation,
//! then an enrolment code shown once), new enrolment codes, and the accreditations
//! (natures) of accredited bodies.

use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use axum::{Router, routing::get};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use siseri_domain::account::{Account, AccountError, NewAccount, Role};
use siseri_domain::codes::Nature;
use siseri_domain::ids::{Nir, Rpps, Siren, Siret};
use siseri_storage::StoreError;

use super::journal::scan;
use super::{Choice, Input, admin_only, all, field, masked_nir};
use crate::api_people::{initial_password, issue_enrolment};
use crate::extract::{PageForm, PagePath, PageQuery};
use crate::login::PageCaller;
use crate::pages::paging::{Paged, matches};
use crate::pages::{Layout, PageError, PageResult, format};
use crate::{ApiError, AppState, auth};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/comptes", get(list))
        .route("/admin/comptes/nouveau", get(new_form).post(create))
        .route(
            "/admin/comptes/{login}/code-inscription",
            axum::routing::post(enrolment),
        )
        .route(
            "/admin/comptes/{login}/natures",
            get(natures_form).post(set_natures),
        )
}

/// How long an enrolment code lives (`api_people::issue_enrolment`).
const ENROLMENT_DAYS: i64 = 7;

/// An account as the list shows it.
pub struct AccountRow {
    login: String,
    role: &'static str,
    organisation: String,
    sirets: String,
    rpps: String,
    nir: String,
    email: String,
    /// Short states, each in words (never colour alone).
    states: Vec<(&'static str, String)>,
    accredited_body: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/accounts.html")]
struct ListPage {
    layout: Layout,
    list: Paged<AccountRow>,
    search: String,
    roles: Vec<Choice>,
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    #[serde(default)]
    page: Option<usize>,
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    role: Option<String>,
}

fn role_choices(selected: Option<Role>) -> Vec<Choice> {
    Role::ALL
        .iter()
        .map(|r| {
            Choice::new(
                r.code(),
                &format!("{} ({})", r.label(), r.code()),
                Some(*r) == selected,
            )
        })
        .collect()
}

/// The enrolment codes still waiting to be used, by login, with their expiry. The store
/// keeps the code's hash but does not expose it: the journal tells when each code was
/// issued and when an identity was linked (which consumes it).
async fn pending_enrolments(
    state: &AppState,
) -> Result<BTreeMap<String, DateTime<Utc>>, StoreError> {
    const ISSUED: &str = "code d'inscription pour ";
    let mut issued: BTreeMap<String, DateTime<Utc>> = BTreeMap::new();
    scan(state.store.as_ref(), |e| {
        let ev = &e.event;
        let detail = ev.detail.as_deref().unwrap_or_default();
        if ev.data_kind == "INSCRIPTION" && ev.outcome == "OK" {
            if let Some(login) = detail.strip_prefix(ISSUED) {
                issued.insert(login.to_string(), ev.at);
            }
        } else if ev.data_kind == "COMPTE" && detail == "liaison d'une identité fédérée" {
            issued.remove(&ev.actor);
        }
    })
    .await?;
    let now = Utc::now();
    Ok(issued
        .into_iter()
        .map(|(login, at)| (login, at + Duration::days(ENROLMENT_DAYS)))
        .filter(|(_, until)| *until > now)
        .collect())
}

async fn row(
    state: &AppState,
    a: Account,
    companies: &mut BTreeMap<String, String>,
    enrolments: &BTreeMap<String, DateTime<Utc>>,
) -> Result<AccountRow, StoreError> {
    let s = a.spec;
    let mut organisation = String::new();
    if let Some(siren) = &s.siren {
        if !companies.contains_key(siren.as_str()) {
            let name = state
                .store
                .company(siren)
                .await?
                .map(|c| c.name)
                .unwrap_or_default();
            companies.insert(siren.as_str().to_string(), name);
        }
        let name = companies.get(siren.as_str()).cloned().unwrap_or_default();
        organisation = if name.is_empty() {
            format!("SIREN {siren}")
        } else {
            format!("{name} (SIREN {siren})")
        };
    }
    let mut states = Vec::new();
    let now = state.instants.now();
    if let Some(l) = state.store.login_state(&s.login).await? {
        let slowed = state.store.login_throttle(&s.login).await?;
        if let Some(until) = slowed.and_then(|t| t.next_attempt_at).filter(|u| *u > now) {
            states.push((
                "fr-badge--error",
                format!("Connexions ralenties jusqu’au {}", format::date_time(until)),
            ));
        }
        if l.totp_secret.is_some() {
            states.push(("fr-badge--success", "Second facteur activé".to_string()));
        } else if s.role.requires_second_factor() {
            states.push(("fr-badge--warning", "Second facteur à activer".to_string()));
        }
        if l.password_hash.is_none() {
            states.push(("fr-badge--info", "Sans mot de passe".to_string()));
        }
    }
    if let Some(until) = enrolments.get(&s.login) {
        states.push((
            "fr-badge--new",
            format!(
                "Inscription en attente (code valable jusqu’au {})",
                format::date_time(*until)
            ),
        ));
    }
    Ok(AccountRow {
        role: s.role.label(),
        organisation,
        sirets: s
            .sirets
            .iter()
            .map(Siret::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        rpps: s.rpps.map(|r| r.to_string()).unwrap_or_default(),
        nir: s
            .nir
            .as_ref()
            .map(|n| masked_nir(n.as_str()))
            .unwrap_or_default(),
        email: s.email.unwrap_or_default(),
        accredited_body: s.role == Role::Organisme,
        states,
        login: s.login,
    })
}

async fn list(
    State(state): State<AppState>,
    caller: PageCaller,
    headers: HeaderMap,
    PageQuery(q): PageQuery<ListQuery>,
) -> PageResult {
    admin_only(&caller)?;
    let layout = Layout::of(&state, &caller, &headers, "/admin/comptes").await?;
    let role = q.role.as_deref().and_then(Role::parse);
    let needle =
        q.q.as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_lowercase);
    let accounts: Vec<Account> = state
        .store
        .accounts()
        .await?
        .into_iter()
        .filter(|a| role.is_none_or(|r| a.spec.role == r))
        .filter(|a| {
            let s = &a.spec;
            let siren = s.siren.as_ref().map(Siren::to_string).unwrap_or_default();
            let rpps = s.rpps.as_ref().map(Rpps::to_string).unwrap_or_default();
            let sirets: Vec<String> = s.sirets.iter().map(Siret::to_string).collect();
            matches(
                &needle,
                &[
                    &s.login,
                    &siren,
                    &rpps,
                    &sirets.join(" "),
                    s.email.as_deref().unwrap_or_default(),
                    s.role.code(),
                    s.role.label(),
                ],
            )
        })
        .collect();
    let text = q.q.clone().unwrap_or_default();
    let role_code = role.map(|r| r.code().to_string()).unwrap_or_default();
    // Only the page's accounts are looked up further (state, company).
    let page = Paged::of(
        accounts,
        q.page,
        &[("q", text.clone()), ("role", role_code)],
    );
    let enrolments = pending_enrolments(&state).await?;
    let mut companies = BTreeMap::new();
    let mut rows = Vec::with_capacity(page.rows.len());
    for a in page.rows {
        rows.push(row(&state, a, &mut companies, &enrolments).await?);
    }
    let list = Paged {
        rows,
        page: page.page,
        pages: page.pages,
        total: page.total,
        keep: page.keep,
    };
    Ok(ListPage {
        layout,
        list,
        search: text,
        roles: role_choices(role),
    }
    .into_response())
}

/// The creation form, as typed.
#[derive(Template, WebTemplate)]
#[template(path = "admin/account_new.html")]
struct NewPage {
    layout: Layout,
    error: Option<String>,
    login: Input,
    roles: Vec<Choice>,
    role_error: Option<String>,
    siren: Input,
    sirets: Input,
    rpps: Input,
    nir: Input,
    natures: Vec<Choice>,
    natures_error: Option<String>,
    email: Input,
    correspondent: bool,
    correspondent_error: Option<String>,
    password: Input,
}

fn nature_choices(checked: &[String]) -> Vec<Choice> {
    Nature::ALL
        .iter()
        .filter(|n| n.is_accreditable())
        .map(|n| Choice::new(n.code(), n.code(), checked.iter().any(|c| c == n.code())))
        .collect()
}

impl NewPage {
    fn new(layout: Layout, pairs: &[(String, String)]) -> Self {
        let v = |name| field(pairs, name);
        NewPage {
            layout,
            error: None,
            login: Input::text(
                "login",
                "Identifiant de connexion",
                "3 à 64 caractères : minuscules, chiffres, « . », « _ », « - », « @ ».",
            )
            .required()
            .with(&v("login")),
            roles: role_choices(Role::parse(&v("role"))),
            role_error: None,
            siren: Input::text(
                "siren",
                "SIREN de l’organisation",
                "9 chiffres ; obligatoire pour un employeur, un organisme accrédité, un exploitant INB ; possible pour un CRP.",
            )
            .with(&v("siren")),
            sirets: Input::text(
                "sirets",
                "SIRET des établissements auxquels le compte est limité",
                "14 chiffres chacun, séparés par des espaces ou des virgules ; employeur, organisme ou exploitant seulement.",
            )
            .with(&v("sirets")),
            rpps: Input::text(
                "rpps",
                "Numéro RPPS",
                "11 chiffres ; obligatoire pour un médecin du travail, possible pour un professionnel de santé ou un médecin désigné.",
            )
            .with(&v("rpps")),
            nir: Input::text(
                "nir",
                "NIR du travailleur",
                "13 caractères, sans la clé ; compte travailleur seulement.",
            )
            .with(&v("nir")),
            natures: nature_choices(&all(pairs, "natures")),
            natures_error: None,
            email: Input::text(
                "email",
                "Adresse électronique",
                "Pour les notifications ; facultative.",
            )
            .kind("email", "email")
            .with(&v("email")),
            correspondent: !v("correspondant").is_empty(),
            correspondent_error: None,
            password: Input::text(
                "password",
                "Mot de passe initial",
                "Facultatif : sans mot de passe, la personne se lie au compte par le code d’inscription. 12 caractères au moins, 15 pour les rôles à second facteur.",
            )
            .kind("password", "new-password"),
        }
    }

    fn has_errors(&self) -> bool {
        [
            &self.login,
            &self.siren,
            &self.sirets,
            &self.rpps,
            &self.nir,
            &self.email,
            &self.password,
        ]
        .iter()
        .any(|i| i.error.is_some())
            || self.role_error.is_some()
            || self.natures_error.is_some()
            || self.correspondent_error.is_some()
    }

    /// Puts a validation error of the domain on the field it is about.
    fn place(&mut self, e: &AccountError) {
        let message = match e {
            AccountError::SirenRequired(role) => {
                format!("Le rôle « {} » exige un SIREN.", role.label())
            }
            AccountError::RppsRequired(role) => {
                format!("Le rôle « {} » exige un numéro RPPS.", role.label())
            }
            AccountError::NotForRole { role, field } => {
                let what = match *field {
                    "--siren" => "de SIREN",
                    "--siret" => "de SIRET",
                    "--rpps" => "de numéro RPPS",
                    "--nir" => "de NIR",
                    "--natures" => "de natures accréditées",
                    _ => "de correspondant",
                };
                format!(
                    "Le rôle « {} » ne prend pas {what} : laissez ce champ vide.",
                    role.label()
                )
            }
            other => {
                let text = other.to_string();
                let mut chars = text.chars();
                chars.next().map_or(text.clone(), |c| {
                    format!("{}{}.", c.to_uppercase(), chars.as_str())
                })
            }
        };
        let slot = match e {
            AccountError::Login => &mut self.login.error,
            AccountError::SirenRequired(_) => &mut self.siren.error,
            AccountError::RppsRequired(_) => &mut self.rpps.error,
            AccountError::SiretOutsideCompany(_) => &mut self.sirets.error,
            AccountError::Nature(_) => &mut self.natures_error,
            AccountError::Email => &mut self.email.error,
            AccountError::NotForRole { field, .. } => match *field {
                "--siren" => &mut self.siren.error,
                "--siret" => &mut self.sirets.error,
                "--rpps" => &mut self.rpps.error,
                "--nir" => &mut self.nir.error,
                "--natures" => &mut self.natures_error,
                _ => &mut self.correspondent_error,
            },
        };
        *slot = Some(message);
    }
}

async fn new_form(
    State(state): State<AppState>,
    caller: PageCaller,
    headers: HeaderMap,
) -> PageResult {
    admin_only(&caller)?;
    let layout = Layout::of(&state, &caller, &headers, "/admin/comptes/nouveau").await?;
    Ok(NewPage::new(layout, &[]).into_response())
}

/// Reads the typed fields into an account, placing each parse error on its field.
fn parse_account(page: &mut NewPage, pairs: &[(String, String)]) -> Option<NewAccount> {
    let v = |name| field(pairs, name);
    let role = Role::parse(&v("role"));
    if role.is_none() {
        page.role_error = Some("Choisissez le rôle du compte.".into());
    }
    let mut account = NewAccount::new(v("login"), role.unwrap_or(Role::Travailleur));
    if account.login.is_empty() {
        page.login.error = Some("Saisissez l’identifiant de connexion.".into());
    }
    let siren = v("siren");
    if !siren.is_empty() {
        match Siren::parse(&siren) {
            Ok(s) => account.siren = Some(s),
            Err(e) => page.siren.error = Some(format!("SIREN invalide : {e}.")),
        }
    }
    for s in v("sirets")
        .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
        .filter(|s| !s.is_empty())
    {
        match Siret::parse(s) {
            Ok(s) => account.sirets.push(s),
            Err(e) => page.sirets.error = Some(format!("SIRET « {s} » invalide : {e}.")),
        }
    }
    let rpps = v("rpps");
    if !rpps.is_empty() {
        match Rpps::parse(&rpps) {
            Ok(r) => account.rpps = Some(r),
            Err(e) => page.rpps.error = Some(format!("Numéro RPPS invalide : {e}.")),
        }
    }
    let nir = v("nir");
    if !nir.is_empty() {
        match Nir::parse(&nir) {
            Ok(n) => account.nir = Some(n),
            Err(e) => page.nir.error = Some(format!("NIR invalide : {e}.")),
        }
    }
    for n in all(pairs, "natures") {
        match Nature::parse(&n).filter(|n| n.is_accreditable()) {
            Some(n) => account.natures.push(n),
            None => {
                page.natures_error = Some(format!("« {n} » n’est pas une nature accréditable."));
            }
        }
    }
    let email = v("email");
    account.email = (!email.is_empty()).then_some(email);
    account.correspondent = !v("correspondant").is_empty();
    if page.has_errors() {
        return None;
    }
    if let Err(e) = account.validate() {
        page.place(&e);
        return None;
    }
    Some(account)
}

/// The page once the account exists, or when a new code is issued: the code, once.
#[derive(Template, WebTemplate)]
#[template(path = "admin/enrolment.html")]
struct EnrolmentPage {
    layout: Layout,
    title: String,
    login: String,
    created: bool,
    code: String,
    expires: String,
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
    let layout = Layout::of(&state, &caller, &headers, "/admin/comptes/nouveau").await?;
    let mut page = NewPage::new(layout, &pairs);
    let refused = |mut page: NewPage| {
        page.error = Some("Le compte n’a pas été créé : corrigez les champs signalés.".into());
        Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
    };
    let Some(account) = parse_account(&mut page, &pairs) else {
        return refused(page);
    };
    // As on the command line: a scope names establishments the registry knows.
    for s in &account.sirets {
        if state.store.establishment(s).await?.is_none() {
            page.sirets.error = Some(format!("SIRET {s} : établissement inconnu du registre."));
            return refused(page);
        }
    }
    let password = field(&pairs, "password");
    let password = if password.is_empty() {
        None
    } else {
        if let Err(e) = auth::check_password(account.role, &account.login, &password) {
            page.password.error = Some(format!("Mot de passe refusé : {e}."));
            return refused(page);
        }
        Some(password)
    };
    let hash = initial_password(&account, password).await?;
    // The API's journal entry, word for word.
    let mut event = caller.0.event(Utc::now(), "ECRITURE", "COMPTE");
    event.detail = Some(format!(
        "création du compte {} ({})",
        account.login, account.role
    ));
    match state
        .store
        .add_account(&account, hash.as_deref(), &event)
        .await
    {
        Ok(_) => {}
        Err(StoreError::Conflict(_)) => {
            page.login.error = Some(
                "Un compte existe déjà avec cet identifiant (ou ce NIR) : choisissez-en un autre."
                    .into(),
            );
            return refused(page);
        }
        Err(e) => return Err(e.into()),
    }
    let (code, expires) = issue_enrolment(&state, &caller.0, &account.login).await?;
    Ok(EnrolmentPage {
        title: format!("Compte {} créé", account.login),
        layout: page.layout,
        login: account.login,
        created: true,
        code,
        expires: format::date_time(expires),
    }
    .into_response())
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn enrolment(
    State(state): State<AppState>,
    caller: PageCaller,
    headers: HeaderMap,
    PagePath(login): PagePath<String>,
    PageForm(form): PageForm<CsrfForm>,
) -> PageResult {
    admin_only(&caller)?;
    if let Some(r) = caller.forged(&form.csrf) {
        return Ok(r);
    }
    if state.store.account(&login).await?.is_none() {
        return Err(PageError(ApiError::NotFound));
    }
    let layout = Layout::of(&state, &caller, &headers, "/admin/comptes").await?;
    let (code, expires) = issue_enrolment(&state, &caller.0, &login).await?;
    Ok(EnrolmentPage {
        title: format!("Nouveau code d’inscription pour {login}"),
        layout,
        login,
        created: false,
        code,
        expires: format::date_time(expires),
    }
    .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/natures.html")]
struct NaturesPage {
    layout: Layout,
    login: String,
    organisation: String,
    natures: Vec<Choice>,
    error: Option<String>,
    saved: bool,
}

/// The accredited body `login`, or 404 (no other role carries natures).
async fn body_account(state: &AppState, login: &str) -> Result<Account, PageError> {
    match state.store.account(login).await? {
        Some(a) if a.spec.role == Role::Organisme => Ok(a),
        _ => Err(PageError(ApiError::NotFound)),
    }
}

#[derive(Deserialize)]
struct SavedQuery {
    #[serde(default)]
    enregistre: Option<String>,
}

async fn natures_form(
    State(state): State<AppState>,
    caller: PageCaller,
    headers: HeaderMap,
    PagePath(login): PagePath<String>,
    PageQuery(q): PageQuery<SavedQuery>,
) -> PageResult {
    admin_only(&caller)?;
    let account = body_account(&state, &login).await?;
    let layout = Layout::of(&state, &caller, &headers, "/admin/comptes").await?;
    let current: Vec<String> = account
        .spec
        .natures
        .iter()
        .map(|n| n.code().to_string())
        .collect();
    Ok(NaturesPage {
        layout,
        organisation: account
            .spec
            .siren
            .map(|s| format!("SIREN {s}"))
            .unwrap_or_default(),
        login: account.spec.login,
        natures: nature_choices(&current),
        error: None,
        saved: q.enregistre.is_some(),
    }
    .into_response())
}

async fn set_natures(
    State(state): State<AppState>,
    caller: PageCaller,
    headers: HeaderMap,
    PagePath(login): PagePath<String>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> PageResult {
    admin_only(&caller)?;
    if let Some(r) = caller.forged(&field(&pairs, "csrf")) {
        return Ok(r);
    }
    let account = body_account(&state, &login).await?;
    let typed = all(&pairs, "natures");
    let mut natures = Vec::new();
    for n in &typed {
        match Nature::parse(n).filter(|n| n.is_accreditable()) {
            Some(n) => natures.push(n),
            None => {
                let layout = Layout::of(&state, &caller, &headers, "/admin/comptes").await?;
                let page = NaturesPage {
                    layout,
                    organisation: account
                        .spec
                        .siren
                        .map(|s| format!("SIREN {s}"))
                        .unwrap_or_default(),
                    login: account.spec.login,
                    natures: nature_choices(&typed),
                    error: Some(format!("« {n} » n’est pas une nature accréditable.")),
                    saved: false,
                };
                return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
            }
        }
    }
    // The API's journal entry (`accredit`), word for word.
    let mut event = caller.0.event(Utc::now(), "ECRITURE", "ACCREDITATION");
    event.detail = Some(format!(
        "{login} : {}",
        natures
            .iter()
            .map(|n| n.code())
            .collect::<Vec<_>>()
            .join(",")
    ));
    state.store.set_natures(&login, &natures, &event).await?;
    Ok(Redirect::to(&format!(
        "/admin/comptes/{}/natures?enregistre=1",
        crate::pages::paging::encode(&login)
    ))
    .into_response())
}

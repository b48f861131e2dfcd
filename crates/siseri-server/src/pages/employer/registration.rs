//! Self-service registration of a new employer (`/inscription`, public) and its decision by
//! an administrator (`/admin/inscriptions`): accepting creates, in one transaction, the
//! establishments, the EMPLOYEUR account of the company and its enrolment code, shown once.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use chrono::Utc;
use serde::Deserialize;
use siseri_domain::account::{AccountError, NewAccount, Role};
use siseri_domain::ids::{IdError, Siren};
use siseri_domain::journal::JournalEvent;
use siseri_storage::{
    NewRegistration, RegisteredEstablishment, RegistrationRow, RegistrationStatus, StoreError,
};

use super::super::paging::{Paged, matches};
use super::super::{Layout, PageResult, format};
use super::{Errors, only, typed_siret};
use crate::caller::cookie;
use crate::extract::{PageForm, PagePath, PageQuery};
use crate::login::{PageCaller, set_cookie};
use crate::{ApiError, AppState, auth};

/// The double-submit cookie of the public registration form (nobody is connected).
const REGISTRATION_CSRF_COOKIE: &str = "siseri_inscription";
/// Establishments a registration may list.
pub const MAX_ESTABLISHMENTS: usize = 5;
/// Days an enrolment code stays valid (as `siseri admin enrol`).
const ENROLMENT_DAYS: i64 = 7;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/inscription",
            axum::routing::get(registration_form).post(register),
        )
        .route("/admin/inscriptions", axum::routing::get(pending))
        .route("/admin/inscriptions/{id}", axum::routing::post(decide))
}

/// One establishment of the form, as typed.
#[derive(Debug, Clone, Default)]
pub struct EstablishmentInput {
    /// 1 … 5.
    n: usize,
    siret: String,
    name: String,
    inb: bool,
}

/// The registration form, as typed (re-shown with the errors).
#[derive(Debug, Clone, Default)]
pub struct RegistrationInput {
    siren: String,
    company: String,
    establishments: Vec<EstablishmentInput>,
    rep_nom: String,
    rep_prenom: String,
    rep_email: String,
    rep_telephone: String,
    login: String,
}

impl RegistrationInput {
    fn blank() -> Self {
        RegistrationInput {
            establishments: (1..=MAX_ESTABLISHMENTS)
                .map(|n| EstablishmentInput {
                    n,
                    ..EstablishmentInput::default()
                })
                .collect(),
            ..RegistrationInput::default()
        }
    }

    fn from_pairs(pairs: &[(String, String)]) -> Self {
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(name, _)| name == k)
                .map(|(_, v)| v.trim().to_string())
                .unwrap_or_default()
        };
        let mut input = RegistrationInput::blank();
        input.siren = get("siren");
        input.company = get("raison_sociale");
        for e in &mut input.establishments {
            e.siret = get(&format!("siret_{}", e.n));
            e.name = get(&format!("nom_etablissement_{}", e.n));
            e.inb = !get(&format!("inb_{}", e.n)).is_empty();
        }
        input.rep_nom = get("nom");
        input.rep_prenom = get("prenom");
        input.rep_email = get("courriel");
        input.rep_telephone = get("telephone");
        input.login = get("identifiant").to_lowercase();
        input
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "employer/inscription.html")]
struct RegistrationPage {
    layout: Layout,
    csrf: String,
    input: RegistrationInput,
    errors: Errors,
    alert: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "employer/inscription_envoyee.html")]
struct RegistrationSent {
    layout: Layout,
    id: i64,
    company: String,
    email: String,
}

/// A fresh anti-forgery token, set as the form's cookie.
fn fresh_token(headers: &mut HeaderMap) -> String {
    let csrf = auth::random_secret();
    set_cookie(
        headers,
        REGISTRATION_CSRF_COOKIE,
        &csrf,
        Some(3600),
        "Strict",
    );
    csrf
}

async fn registration_form() -> PageResult {
    let mut headers = HeaderMap::new();
    let csrf = fresh_token(&mut headers);
    Ok((
        headers,
        RegistrationPage {
            layout: Layout::anonymous(),
            csrf,
            input: RegistrationInput::blank(),
            errors: Errors::default(),
            alert: None,
        },
    )
        .into_response())
}

fn siren_message(e: &IdError) -> &'static str {
    match e {
        IdError::SirenKey => {
            "Ce SIREN n’est pas valide : sa clé de contrôle est fausse. Vérifiez les 9 chiffres."
        }
        _ => "Le SIREN compte 9 chiffres (par exemple 732829320).",
    }
}

fn siret_message(e: &IdError) -> &'static str {
    match e {
        IdError::SiretKey => {
            "Ce SIRET n’est pas valide : sa clé de contrôle est fausse. Vérifiez les 14 chiffres."
        }
        _ => "Le SIRET compte 14 chiffres (par exemple 73282932000074).",
    }
}

/// Whether a phone number looks like one: digits, spaces, dots, dashes and a leading +.
fn valid_phone(s: &str) -> bool {
    let digits = s.chars().filter(char::is_ascii_digit).count();
    (10..=15).contains(&digits)
        && s.chars().enumerate().all(|(i, c)| {
            c.is_ascii_digit() || matches!(c, ' ' | '.' | '-') || (i == 0 && c == '+')
        })
}

/// A mandatory text of at most `max` characters.
fn text(errors: &mut Errors, field: &str, value: &str, what: &str, max: usize) {
    if value.is_empty() {
        errors.add(field, format!("Indiquez {what}."));
    } else if value.chars().count() > max {
        errors.add(field, format!("{max} caractères au plus."));
    }
}

/// Checks the form; the registration to store, or the errors by field.
async fn validate(
    state: &AppState,
    input: &RegistrationInput,
) -> Result<Result<NewRegistration, Errors>, StoreError> {
    let mut errors = Errors::default();
    let siren = match Siren::parse(&input.siren.split_whitespace().collect::<String>()) {
        Ok(s) => Some(s),
        Err(e) => {
            errors.add("siren", siren_message(&e));
            None
        }
    };
    text(
        &mut errors,
        "raison_sociale",
        &input.company,
        "la raison sociale",
        200,
    );
    let mut establishments: Vec<RegisteredEstablishment> = Vec::new();
    for e in &input.establishments {
        if e.n > 1 && e.siret.is_empty() && e.name.is_empty() {
            continue;
        }
        let siret_field = format!("siret_{}", e.n);
        text(
            &mut errors,
            &format!("nom_etablissement_{}", e.n),
            &e.name,
            "le nom de l’établissement",
            200,
        );
        match typed_siret(&e.siret) {
            Err(_) if e.siret.is_empty() => errors.add(siret_field, "Indiquez le SIRET de l’établissement."),
            Err(err) => errors.add(siret_field, siret_message(&err)),
            Ok(s) if siren.as_ref().is_some_and(|c| s.siren() != *c) => errors.add(
                siret_field,
                "Ce SIRET n’appartient pas à l’entreprise : ses 9 premiers chiffres doivent être le SIREN.",
            ),
            Ok(s) if establishments.iter().any(|x| x.siret == s) => {
                errors.add(siret_field, "Cet établissement figure déjà plus haut dans le formulaire.")
            }
            Ok(s) => {
                if state.store.establishment(&s).await?.is_some() {
                    errors.add(
                        siret_field,
                        "Cet établissement est déjà inscrit au registre : son employeur a déjà un compte.",
                    );
                } else {
                    establishments.push(RegisteredEstablishment {
                        siret: s,
                        name: e.name.clone(),
                        inb: e.inb,
                    });
                }
            }
        }
    }
    text(
        &mut errors,
        "nom",
        &input.rep_nom,
        "le nom du représentant légal",
        100,
    );
    text(
        &mut errors,
        "prenom",
        &input.rep_prenom,
        "le prénom du représentant légal",
        100,
    );
    if !valid_phone(&input.rep_telephone) {
        errors.add(
            "telephone",
            "Indiquez un numéro de téléphone de 10 chiffres (par exemple 01 23 45 67 89).",
        );
    }
    // The account's own rules, one field at a time (its validation stops at the first).
    let any_siren = siren.clone().or_else(|| Siren::parse("732829320").ok());
    let mut account = NewAccount::new(input.login.clone(), Role::Employeur);
    account.siren.clone_from(&any_siren);
    if account.validate() == Err(AccountError::Login) {
        errors.add(
            "identifiant",
            "L’identifiant compte 3 à 64 caractères parmi les minuscules, les chiffres, « . », « _ », « - » et « @ ».",
        );
    }
    let mut account = NewAccount::new("compte", Role::Employeur);
    account.siren = any_siren;
    account.email = Some(input.rep_email.clone());
    if account.validate() == Err(AccountError::Email) {
        errors.add(
            "courriel",
            "Indiquez une adresse électronique valide (par exemple prenom.nom@entreprise.fr).",
        );
    }
    if input.rep_email.is_empty() {
        errors.add(
            "courriel",
            "Indiquez l’adresse électronique du représentant légal.",
        );
    }
    if errors.of("identifiant").is_none() && login_taken(state, &input.login).await? {
        errors.add(
            "identifiant",
            "Cet identifiant est déjà pris : choisissez-en un autre.",
        );
    }
    match siren {
        Some(siren) if errors.is_empty() => Ok(Ok(NewRegistration {
            siren,
            company_name: input.company.clone(),
            establishments,
            rep_nom: input.rep_nom.clone(),
            rep_prenom: input.rep_prenom.clone(),
            rep_email: input.rep_email.clone(),
            rep_telephone: input.rep_telephone.clone(),
            login: input.login.clone(),
        })),
        _ => Ok(Err(errors)),
    }
}

/// Whether a login is an account's, or asked for by a pending registration.
async fn login_taken(state: &AppState, login: &str) -> Result<bool, StoreError> {
    if state.store.account(login).await?.is_some() {
        return Ok(true);
    }
    Ok(state
        .store
        .registrations(true)
        .await?
        .iter()
        .any(|r| r.request.login == login))
}

async fn register(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> PageResult {
    let input = RegistrationInput::from_pairs(&pairs);
    let sent = pairs
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    let expected = cookie(&headers, REGISTRATION_CSRF_COOKIE).unwrap_or_default();
    let mut out = HeaderMap::new();
    if expected.is_empty() || sent != expected {
        // No session to bind the form to: the cookie and the field must match.
        let csrf = fresh_token(&mut out);
        let page = RegistrationPage {
            layout: Layout::anonymous(),
            csrf,
            input,
            errors: Errors::default(),
            alert: Some("Le formulaire a expiré ou ne vient pas de SISERI : vérifiez votre saisie et envoyez-le à nouveau.".into()),
        };
        return Ok((StatusCode::FORBIDDEN, out, page).into_response());
    }
    let registration = match validate(&state, &input).await? {
        Ok(r) => r,
        Err(errors) => {
            let page = RegistrationPage {
                layout: Layout::anonymous(),
                csrf: expected.to_string(),
                alert: Some(format!(
                    "Le formulaire contient {} erreur{} : corrigez {} puis envoyez-le à nouveau.",
                    errors.len(),
                    if errors.len() > 1 { "s" } else { "" },
                    if errors.len() > 1 {
                        "les champs signalés"
                    } else {
                        "le champ signalé"
                    }
                )),
                input,
                errors,
            };
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let mut event = JournalEvent::new(Utc::now(), "anonyme", "ECRITURE", "DEMANDE_INSCRIPTION");
    event.detail = Some(format!(
        "demande d'inscription de l'entreprise {} ({} établissement(s), identifiant {})",
        registration.siren,
        registration.establishments.len(),
        registration.login
    ));
    let id = state.store.add_registration(&registration, &event).await?;
    set_cookie(&mut out, REGISTRATION_CSRF_COOKIE, "", Some(0), "Strict");
    Ok((
        out,
        RegistrationSent {
            layout: Layout::anonymous(),
            id,
            company: registration.company_name,
            email: registration.rep_email,
        },
    )
        .into_response())
}

// --- administrators ---

/// A registration as the administrators' list shows it.
pub struct RequestView {
    id: i64,
    received: String,
    siren: String,
    company: String,
    establishments: Vec<(String, String, bool)>,
    representative: String,
    email: String,
    phone: String,
    login: String,
    status: &'static str,
    pending: bool,
    decision: String,
}

fn request_view(r: RegistrationRow) -> RequestView {
    let status = match r.status {
        RegistrationStatus::Pending => "En attente",
        RegistrationStatus::Accepted => "Validée",
        RegistrationStatus::Refused => "Refusée",
    };
    let decision = match (&r.decided_at, &r.decided_by) {
        (Some(at), Some(by)) => format!(
            "{status} le {} par {by}{}",
            format::date_time(*at),
            r.reason
                .as_ref()
                .map(|m| format!(" : {m}"))
                .unwrap_or_default()
        ),
        _ => String::new(),
    };
    let q = r.request;
    RequestView {
        id: r.id,
        received: format::date_time(r.created_at),
        siren: q.siren.to_string(),
        company: q.company_name,
        establishments: q
            .establishments
            .into_iter()
            .map(|e| (e.siret.to_string(), e.name, e.inb))
            .collect(),
        representative: format!("{} {}", q.rep_prenom, q.rep_nom),
        email: q.rep_email,
        phone: q.rep_telephone,
        login: q.login,
        pending: r.status == RegistrationStatus::Pending,
        status,
        decision,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "employer/admin_inscriptions.html")]
struct PendingPage {
    layout: Layout,
    list: Paged<RequestView>,
    search: String,
    search_label: &'static str,
    all: bool,
    info: Option<String>,
    error: Option<(i64, String)>,
}

/// The list's filters.
#[derive(Debug, Default, Deserialize)]
struct PendingQuery {
    #[serde(default)]
    page: Option<usize>,
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    statut: Option<String>,
    #[serde(default)]
    refusee: Option<i64>,
}

async fn pending_page(
    state: &AppState,
    caller: &PageCaller,
    headers: &HeaderMap,
    query: &PendingQuery,
    error: Option<(i64, String)>,
) -> Result<PendingPage, super::super::PageError> {
    let layout = Layout::of(state, caller, headers, "/admin/inscriptions").await?;
    let all = query.statut.as_deref() == Some("toutes");
    let text = query.q.clone().unwrap_or_default();
    let needle = Some(text.trim().to_lowercase()).filter(|t| !t.is_empty());
    let mut rows: Vec<RequestView> = state
        .store
        .registrations(!all)
        .await?
        .into_iter()
        .map(request_view)
        .filter(|r| {
            matches(
                &needle,
                &[&r.siren, &r.company, &r.representative, &r.login, &r.email],
            )
        })
        .collect();
    // The newest first when every request is listed; the oldest first to process them.
    if all {
        rows.reverse();
    }
    let statut = if all {
        "toutes".to_string()
    } else {
        String::new()
    };
    Ok(PendingPage {
        layout,
        list: Paged::of(rows, query.page, &[("q", text.clone()), ("statut", statut)]),
        search: text,
        search_label: "Rechercher une demande (SIREN, raison sociale, représentant, identifiant)",
        all,
        info: query
            .refusee
            .map(|id| format!("La demande n° {id} a été refusée ; le motif est conservé.")),
        error,
    })
}

async fn pending(
    State(state): State<AppState>,
    caller: PageCaller,
    headers: HeaderMap,
    PageQuery(query): PageQuery<PendingQuery>,
) -> PageResult {
    only(&caller, Role::Admin)?;
    Ok(pending_page(&state, &caller, &headers, &query, None)
        .await?
        .into_response())
}

#[derive(Deserialize)]
struct DecisionForm {
    csrf: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    motif: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "employer/admin_code.html")]
struct AcceptedPage {
    layout: Layout,
    id: i64,
    company: String,
    login: String,
    email: String,
    establishments: Vec<(String, String)>,
    code: String,
    expires: String,
}

async fn decide(
    State(state): State<AppState>,
    caller: PageCaller,
    headers: HeaderMap,
    PagePath(id): PagePath<i64>,
    PageForm(form): PageForm<DecisionForm>,
) -> PageResult {
    only(&caller, Role::Admin)?;
    if let Some(r) = caller.forged(&form.csrf) {
        return Ok(r);
    }
    let Some(registration) = state.store.registration(id).await? else {
        return Err(ApiError::NotFound.into());
    };
    let outcome = if registration.status != RegistrationStatus::Pending {
        Err("Cette demande a déjà été traitée.".to_string())
    } else {
        match form.action.as_str() {
            "refuser" => refuse(&state, &caller, id, form.motif.trim()).await?,
            "valider" => accept(&state, &caller, registration).await?,
            _ => Err("Choisissez de valider ou de refuser la demande.".to_string()),
        }
    };
    match outcome {
        Ok(page) => Ok(page),
        Err(message) => {
            let page = pending_page(
                &state,
                &caller,
                &headers,
                &PendingQuery::default(),
                Some((id, message)),
            )
            .await?;
            Ok((StatusCode::CONFLICT, page).into_response())
        }
    }
}

/// What a decision gives: the page to answer, or why it could not be made.
type Decision = Result<axum::response::Response, String>;

async fn refuse(
    state: &AppState,
    caller: &PageCaller,
    id: i64,
    motif: &str,
) -> Result<Decision, super::super::PageError> {
    if motif.is_empty() || motif.chars().count() > 500 {
        return Ok(Err(
            "Indiquez le motif du refus (500 caractères au plus) : il est conservé avec la demande."
                .into(),
        ));
    }
    let mut event = caller
        .0
        .event(Utc::now(), "ECRITURE", "DEMANDE_INSCRIPTION");
    event.detail = Some(format!("refus de la demande d'inscription {id} : {motif}"));
    if !state
        .store
        .refuse_registration(id, motif, caller.0.login(), &event)
        .await?
    {
        return Ok(Err("Cette demande a déjà été traitée.".into()));
    }
    Ok(Ok(Redirect::to(&format!(
        "/admin/inscriptions?refusee={id}"
    ))
    .into_response()))
}

/// Accepts a registration: its establishments, the company's EMPLOYEUR account and an
/// enrolment code (as `siseri admin account add` and `siseri admin enrol` would), in one
/// transaction, each journaled as those commands journal them.
async fn accept(
    state: &AppState,
    caller: &PageCaller,
    registration: RegistrationRow,
) -> Result<Decision, super::super::PageError> {
    let id = registration.id;
    let r = &registration.request;
    for e in &r.establishments {
        if state.store.establishment(&e.siret).await?.is_some() {
            return Ok(Err(format!(
                "L’établissement {} est entre-temps inscrit au registre : refusez la demande, ou faites-la renouveler sans lui.",
                e.siret
            )));
        }
    }
    if state.store.account(&r.login).await?.is_some() {
        return Ok(Err(format!(
            "L’identifiant « {} » est entre-temps pris : refusez la demande en invitant à en choisir un autre.",
            r.login
        )));
    }
    let mut account = NewAccount::new(r.login.clone(), Role::Employeur);
    account.siren = Some(r.siren.clone());
    account.email = Some(r.rep_email.clone());
    account
        .validate()
        .map_err(|e| ApiError::Unprocessable(e.to_string()))?;
    let (codes, hashes) = auth::new_recovery_codes();
    let (Some(code), Some(hash)) = (codes.into_iter().next(), hashes.into_iter().next()) else {
        return Err(ApiError::Internal("génération du code".into()).into());
    };
    let now = Utc::now();
    let expires = now + chrono::Duration::days(ENROLMENT_DAYS);
    let event = |kind: &str, detail: String| {
        let mut e = caller.0.event(now, "ECRITURE", kind);
        e.detail = Some(detail);
        e
    };
    let mut audit = vec![event(
        "DEMANDE_INSCRIPTION",
        format!("validation de la demande d'inscription {id}"),
    )];
    for e in &r.establishments {
        audit.push(event(
            "ETABLISSEMENT",
            format!("création de l'établissement {}", e.siret),
        ));
    }
    audit.push(event(
        "COMPTE",
        format!("création du compte {} ({})", account.login, account.role),
    ));
    audit.push(event(
        "INSCRIPTION",
        format!("code d'inscription pour {}", account.login),
    ));
    match state
        .store
        .accept_registration(id, &account, &hash, expires, caller.0.login(), &audit)
        .await
    {
        Ok(_) => {}
        Err(StoreError::Conflict(m)) => {
            return Ok(Err(format!("La demande n’a pas pu être validée : {m}")));
        }
        Err(e) => return Err(e.into()),
    }
    let layout = Layout::of(state, caller, &HeaderMap::new(), "/admin/inscriptions").await?;
    Ok(Ok(AcceptedPage {
        layout,
        id,
        company: r.company_name.clone(),
        login: r.login.clone(),
        email: r.rep_email.clone(),
        establishments: r
            .establishments
            .iter()
            .map(|e| (e.siret.to_string(), e.name.clone()))
            .collect(),
        code,
        expires: format::date_time(expires),
    }
    .into_response()))
}

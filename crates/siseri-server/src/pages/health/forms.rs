//! The physicians' forms: a result they enter (`ESTIMATION_MDT`, internal doses), a new
//! version of a result (correction, completion or cancellation, the current version shown
//! beside), and pregnancies. The writes are `siseri_import::physician`'s, as for the API
//! (same checks, same journal); a refused value shows the form again with what was typed
//! and the message on its field.

use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use chrono::NaiveDate;
use serde::Deserialize;
use siseri_domain::access::WriteAction;
use siseri_domain::codes::{Nature, Position, Quantity, ResultStatus};
use siseri_domain::ids::Nir;
use siseri_domain::result::ResultValues;
use siseri_domain::totals::Month;
use siseri_import::physician::{self, NewEntry, NewVersion, WriteError};

use super::super::{Layout, PageError, PageResult};
use super::record::{self, ResultRow};
use super::{Field, Opt, msv_input, options, path_nir};
use crate::extract::{PageForm, PagePath};
use crate::login::PageCaller;
use crate::transmissions::sender_info;
use crate::{ApiError, AppState};

const NATURES: &[(&str, &str)] = &[
    ("ESTIMATION_MDT", "Estimation du médecin du travail"),
    (
        "INTERNE_VIVO",
        "Dose interne — anthroporadiométrie (in vivo)",
    ),
    (
        "INTERNE_VITRO",
        "Dose interne — radiotoxicologie (in vitro)",
    ),
];

const QUANTITIES: &[(&str, &str)] = &[
    ("HP10", "Hp(10) — corps entier"),
    ("HP10_NEUTRON", "Hp(10) — neutrons"),
    ("HP3", "Hp(3) — cristallin"),
    ("HP007", "Hp(0,07) — peau"),
    ("HP007_EXTREMITE", "Hp(0,07) — extrémités"),
    ("E", "E — dose efficace"),
    ("E50", "E(50) — dose efficace engagée (interne)"),
];

const POSITIONS: &[(&str, &str)] = &[
    ("", "Sans position"),
    ("OEIL_GAUCHE", "Œil gauche"),
    ("OEIL_DROIT", "Œil droit"),
    ("MAIN_GAUCHE", "Main gauche"),
    ("MAIN_DROITE", "Main droite"),
    ("POIGNET_GAUCHE", "Poignet gauche"),
    ("POIGNET_DROIT", "Poignet droit"),
    ("PIED_GAUCHE", "Pied gauche"),
    ("PIED_DROIT", "Pied droit"),
];

const NEW_STATUSES: &[(&str, &str)] = &[
    ("MESURE", "Mesuré (dose à saisir)"),
    ("INF_SEUIL", "Inférieur au seuil"),
    ("ABSENCE", "Résultat manquant"),
];

const VERSION_STATUSES: &[(&str, &str)] = &[
    ("MESURE", "Mesuré (dose à saisir)"),
    ("INF_SEUIL", "Inférieur au seuil"),
    ("ABSENCE", "Résultat manquant"),
    ("ANNULE", "Annulé (le résultat ne compte plus)"),
];

/// A select and its error.
pub(super) struct Choice {
    pub options: Vec<Opt>,
    pub error: Option<String>,
}

impl Choice {
    fn of(
        list: &[(&'static str, &'static str)],
        chosen: &str,
        errors: &Errors,
        field: &str,
    ) -> Self {
        Choice {
            options: options(list, chosen),
            error: errors.on(field),
        }
    }

    /// Whether the select is in error.
    pub fn bad(&self) -> bool {
        self.error.is_some()
    }
}

/// The errors of a form: by field, and those of no field.
#[derive(Debug, Default)]
pub(super) struct Errors {
    fields: BTreeMap<String, String>,
    general: Vec<String>,
    /// A refused alert transition or a conflict (409 rather than 422).
    conflict: bool,
}

impl Errors {
    fn add(&mut self, field: &str, message: impl Into<String>) {
        self.fields
            .entry(field.to_string())
            .or_insert_with(|| message.into());
    }

    pub(super) fn on(&self, field: &str) -> Option<String> {
        self.fields.get(field).cloned()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.general.is_empty()
    }

    /// Every message, for the summary at the top of the form: each field's names its
    /// field and links to it.
    pub(super) fn all(&self) -> Vec<Problem> {
        let general = self.general.iter().map(|m| Problem {
            href: String::new(),
            text: m.clone(),
        });
        let fields = self.fields.iter().map(|(field, m)| {
            let (id, label) = field_of(field);
            Problem {
                href: id,
                text: format!("{label} : {m}"),
            }
        });
        general.chain(fields).collect()
    }

    /// The status a form page is answered with: 200 without errors, else 422 (409 for a
    /// refused transition or a conflict).
    pub(super) fn status(&self) -> StatusCode {
        if self.is_empty() {
            StatusCode::OK
        } else if self.conflict {
            StatusCode::CONFLICT
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        }
    }

    /// Takes a write's refusal: a value's message goes to its field (the writes name it
    /// first, `champ : message`; `prefix` tells the form apart when a page has several),
    /// a refusal of the whole write becomes its error page.
    pub(super) fn absorb(&mut self, e: WriteError, prefix: &str) -> Result<(), PageError> {
        match e {
            WriteError::Invalid(m) | WriteError::Unprocessable(m) => {
                match m.split_once(" : ") {
                    Some((field, message)) if !field.contains(' ') => {
                        let field = if field == "dose_usv" { "dose" } else { field };
                        self.add(&format!("{prefix}{field}"), capitalise(message));
                    }
                    _ => self.general.push(capitalise(&m)),
                }
                Ok(())
            }
            WriteError::Transition(m) => {
                self.conflict = true;
                self.general.push(format!("Transition refusée : {m}."));
                Ok(())
            }
            WriteError::NotFound => Err(PageError(ApiError::NotFound)),
            WriteError::Forbidden(m) => Err(PageError(ApiError::Forbidden("ROLE_NON_AUTORISE", m))),
            WriteError::Store(s) => Err(s.into()),
        }
    }
}

/// A line of the errors' summary: its message, and the id of its field (empty: none).
pub(super) struct Problem {
    pub href: String,
    pub text: String,
}

/// The id and the label of a form field named in an error (`fin-3.date_fin` is the end
/// date of pregnancy 3).
fn field_of(field: &str) -> (String, &'static str) {
    if let Some((pregnancy, name)) = field
        .strip_prefix("fin-")
        .and_then(|rest| rest.split_once('.'))
    {
        return match name {
            "date_fin" => (
                format!("date-fin-{pregnancy}"),
                "Date de fin de la grossesse",
            ),
            _ => (
                format!("justification-fin-{pregnancy}"),
                "Justification de la fin de grossesse",
            ),
        };
    }
    let label = match field {
        "nature" => "Nature du résultat",
        "grandeur" => "Grandeur",
        "position" => "Position",
        "statut" => "Statut",
        "date_debut" => "Début de la période",
        "date_fin" => "Fin de la période",
        "dose" => "Dose en mSv",
        "justification" => "Justification",
        "date_declaration" => "Date de la déclaration",
        "texte" => "Commentaire",
        "login" => "Identifiant du professionnel de santé",
        _ => "Champ",
    };
    (field.to_string(), label)
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// A date typed in a form: `JJ/MM/AAAA`, or `AAAA-MM-JJ` (what a browser's date field sends).
fn parse_day(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .or_else(|| siseri_exchange::values::parse_date(s).ok())
}

fn day(errors: &mut Errors, field: &str, s: &str, required: bool) -> Option<NaiveDate> {
    if s.trim().is_empty() {
        if required {
            errors.add(field, "Date obligatoire.");
        }
        return None;
    }
    let d = parse_day(s);
    if d.is_none() {
        errors.add(field, "Date au format JJ/MM/AAAA attendue.");
    }
    d
}

/// A dose typed in mSv (`1,25`) into µSv, rounded to the nearest µSv (`rules.md` §1).
fn dose(errors: &mut Errors, s: &str) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    match siseri_exchange::values::parse_dose_msv(s) {
        Ok(d) if d.usv <= 100_000_000 => Some(d.usv),
        Ok(_) => {
            errors.add("dose", "Dose de 100 000 mSv au plus attendue.");
            None
        }
        Err(_) => {
            errors.add("dose", "Nombre positif en mSv attendu, par exemple 1,25.");
            None
        }
    }
}

fn code<T>(errors: &mut Errors, field: &str, s: &str, parse: fn(&str) -> Option<T>) -> Option<T> {
    let v = parse(s);
    if v.is_none() {
        errors.add(field, "Choisissez une valeur de la liste.");
    }
    v
}

fn field(values: &str, errors: &Errors, name: &str) -> Field {
    Field {
        value: values.to_string(),
        error: errors.on(name),
    }
}

// ---------------------------------------------------------------------------------------------
// A result the physician enters
// ---------------------------------------------------------------------------------------------

/// The fields of the new result form, as typed.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ResultForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    nature: String,
    #[serde(default)]
    grandeur: String,
    #[serde(default)]
    position: String,
    #[serde(default)]
    date_debut: String,
    #[serde(default)]
    date_fin: String,
    #[serde(default)]
    statut: String,
    #[serde(default)]
    dose: String,
    #[serde(default)]
    justification: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "health/result_form.html")]
struct ResultFormPage {
    layout: Layout,
    nir: String,
    name: String,
    errors: Vec<Problem>,
    nature: Choice,
    grandeur: Choice,
    position: Choice,
    statut: Choice,
    date_debut: Field,
    date_fin: Field,
    dose: Field,
    justification: Field,
}

pub(super) async fn new_result(
    State(state): State<AppState>,
    caller: PageCaller,
    headers: HeaderMap,
    PagePath(n): PagePath<String>,
) -> PageResult {
    let nir = path_nir(&n)?;
    let form = ResultForm {
        nature: "ESTIMATION_MDT".into(),
        grandeur: "HP10".into(),
        statut: "MESURE".into(),
        ..ResultForm::default()
    };
    show_result_form(&state, &caller, &headers, &nir, &form, &Errors::default()).await
}

async fn show_result_form(
    state: &AppState,
    caller: &PageCaller,
    headers: &HeaderMap,
    nir: &Nir,
    form: &ResultForm,
    errors: &Errors,
) -> PageResult {
    let layout = Layout::of(
        state,
        caller,
        headers,
        &format!("/travailleurs/{nir}/resultats/nouveau"),
    )
    .await?;
    let today = state.clock.today();
    let r = match record::read(state, &caller.0, &layout, nir, Month::of(today)).await? {
        Ok(r) => r,
        Err(page) => return Ok(page),
    };
    if !record::may_write(&r, &WriteAction::AddResult, today) {
        return Err(PageError(ApiError::NotFound));
    }
    let page = ResultFormPage {
        nir: r.data.nir.clone(),
        name: format!("{} {}", r.data.nom, r.data.prenom),
        errors: errors.all(),
        nature: Choice::of(NATURES, &form.nature, errors, "nature"),
        grandeur: Choice::of(QUANTITIES, &form.grandeur, errors, "grandeur"),
        position: Choice::of(POSITIONS, &form.position, errors, "position"),
        statut: Choice::of(NEW_STATUSES, &form.statut, errors, "statut"),
        date_debut: field(&form.date_debut, errors, "date_debut"),
        date_fin: field(&form.date_fin, errors, "date_fin"),
        dose: field(&form.dose, errors, "dose"),
        justification: field(&form.justification, errors, "justification"),
        layout,
    };
    Ok((errors.status(), page).into_response())
}

pub(super) async fn add_result(
    State(state): State<AppState>,
    caller: PageCaller,
    headers: HeaderMap,
    PagePath(n): PagePath<String>,
    PageForm(form): PageForm<ResultForm>,
) -> PageResult {
    if let Some(refused) = caller.forged(&form.csrf) {
        return Ok(refused);
    }
    let nir = path_nir(&n)?;
    let mut errors = Errors::default();
    let nature = code(&mut errors, "nature", &form.nature, |s| {
        Nature::parse(s).filter(|n| NATURES.iter().any(|(c, _)| *c == n.code()))
    });
    let quantity = code(&mut errors, "grandeur", &form.grandeur, Quantity::parse);
    let position = if form.position.trim().is_empty() {
        Some(None)
    } else {
        code(&mut errors, "position", &form.position, Position::parse).map(Some)
    };
    let statut = code(&mut errors, "statut", &form.statut, |s| {
        ResultStatus::parse(s).filter(|s| *s != ResultStatus::Cancelled)
    });
    let date_debut = day(&mut errors, "date_debut", &form.date_debut, true);
    let date_fin = day(&mut errors, "date_fin", &form.date_fin, true);
    let dose_usv = dose(&mut errors, &form.dose);
    if form.justification.trim().is_empty() {
        errors.add("justification", "La justification est obligatoire.");
    }
    if let (
        Some(nature),
        Some(quantity),
        Some(position),
        Some(statut),
        Some(date_debut),
        Some(date_fin),
        true,
    ) = (
        nature,
        quantity,
        position,
        statut,
        date_debut,
        date_fin,
        errors.is_empty(),
    ) {
        let entry = NewEntry {
            nature,
            quantity,
            position,
            values: ResultValues {
                date_debut,
                date_fin,
                statut,
                dose_usv,
                seuil_usv: None,
            },
            justification: form.justification.clone(),
        };
        let store = state.store.as_ref();
        let sender = sender_info(store, &caller.0).await?;
        match physician::add_result(store, &sender, &nir, &entry, state.clock.today()).await {
            Ok(_) => {
                crate::notifications::sweep_now(store, &state.public_url).await;
                return Ok(
                    Redirect::to(&format!("/travailleurs/{nir}?ok=resultat")).into_response()
                );
            }
            Err(e) => errors.absorb(e, "")?,
        }
    }
    show_result_form(&state, &caller, &headers, &nir, &form, &errors).await
}

// ---------------------------------------------------------------------------------------------
// A new version of a result
// ---------------------------------------------------------------------------------------------

/// The fields of the version form, as typed.
#[derive(Debug, Default, Deserialize)]
pub(super) struct VersionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    statut: String,
    #[serde(default)]
    dose: String,
    #[serde(default)]
    date_debut: String,
    #[serde(default)]
    date_fin: String,
    #[serde(default)]
    justification: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "health/version_form.html")]
struct VersionFormPage {
    layout: Layout,
    id: i64,
    nir: String,
    name: String,
    current: ResultRow,
    errors: Vec<Problem>,
    statut: Choice,
    dose: Field,
    date_debut: Field,
    date_fin: Field,
    justification: Field,
}

pub(super) async fn version_form(
    State(state): State<AppState>,
    caller: PageCaller,
    headers: HeaderMap,
    PagePath(id): PagePath<i64>,
) -> PageResult {
    show_version_form(&state, &caller, &headers, id, None, &Errors::default()).await
}

async fn show_version_form(
    state: &AppState,
    caller: &PageCaller,
    headers: &HeaderMap,
    id: i64,
    typed: Option<&VersionForm>,
    errors: &Errors,
) -> PageResult {
    let store = state.store.as_ref();
    let nir = store
        .result(id)
        .await?
        .map(|r| r.nir)
        .ok_or(PageError(ApiError::NotFound))?;
    let layout = Layout::of(state, caller, headers, &format!("/resultats/{id}/version")).await?;
    let today = state.clock.today();
    let r = match record::read(state, &caller.0, &layout, &nir, Month::of(today)).await? {
        Ok(r) => r,
        Err(page) => return Ok(page),
    };
    let Some(current) = r.data.resultats.iter().flatten().find(|x| x.id == id) else {
        return Err(PageError(ApiError::NotFound));
    };
    if !record::may_write(&r, &WriteAction::CorrectResult, today) {
        return Err(PageError(ApiError::NotFound));
    }
    let defaults = VersionForm {
        statut: current.statut.clone(),
        dose: current.dose_usv.map(msv_input).unwrap_or_default(),
        date_debut: super::format::date(current.date_debut),
        date_fin: super::format::date(current.date_fin),
        ..VersionForm::default()
    };
    let form = typed.unwrap_or(&defaults);
    let page = VersionFormPage {
        id,
        nir: r.data.nir.clone(),
        name: format!("{} {}", r.data.nom, r.data.prenom),
        current: ResultRow::of(current),
        errors: errors.all(),
        statut: Choice::of(VERSION_STATUSES, &form.statut, errors, "statut"),
        dose: field(&form.dose, errors, "dose"),
        date_debut: field(&form.date_debut, errors, "date_debut"),
        date_fin: field(&form.date_fin, errors, "date_fin"),
        justification: field(&form.justification, errors, "justification"),
        layout,
    };
    Ok((errors.status(), page).into_response())
}

pub(super) async fn add_version(
    State(state): State<AppState>,
    caller: PageCaller,
    headers: HeaderMap,
    PagePath(id): PagePath<i64>,
    PageForm(form): PageForm<VersionForm>,
) -> PageResult {
    if let Some(refused) = caller.forged(&form.csrf) {
        return Ok(refused);
    }
    let store = state.store.as_ref();
    let nir = store
        .result(id)
        .await?
        .map(|r| r.nir)
        .ok_or(PageError(ApiError::NotFound))?;
    let mut errors = Errors::default();
    let statut = code(&mut errors, "statut", &form.statut, ResultStatus::parse);
    let dose_usv = dose(&mut errors, &form.dose);
    let date_debut = day(&mut errors, "date_debut", &form.date_debut, false);
    let date_fin = day(&mut errors, "date_fin", &form.date_fin, false);
    if form.justification.trim().is_empty() {
        errors.add(
            "justification",
            "La justification est obligatoire : elle reste attachée à la nouvelle version.",
        );
    }
    if let (Some(statut), true) = (statut, errors.is_empty()) {
        let v = NewVersion {
            statut,
            dose_usv,
            date_debut,
            date_fin,
            justification: form.justification.clone(),
        };
        let sender = sender_info(store, &caller.0).await?;
        match physician::add_version(store, &sender, id, &v, state.clock.today()).await {
            Ok(_) => {
                crate::notifications::sweep_now(store, &state.public_url).await;
                return Ok(
                    Redirect::to(&format!("/travailleurs/{nir}?ok=version#resultat-{id}"))
                        .into_response(),
                );
            }
            Err(e) => errors.absorb(e, "")?,
        }
    }
    show_version_form(&state, &caller, &headers, id, Some(&form), &errors).await
}

// ---------------------------------------------------------------------------------------------
// Pregnancies
// ---------------------------------------------------------------------------------------------

/// The fields of the pregnancy forms (`action`: `declarer` or `terminer`).
#[derive(Debug, Default, Deserialize)]
pub(super) struct PregnancyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    grossesse: Option<i64>,
    #[serde(default)]
    date: String,
    #[serde(default)]
    justification: String,
}

/// The form ending a pregnancy in progress.
struct EndForm {
    id: i64,
    /// The ids of its fields (several forms on one page).
    date_id: String,
    text_id: String,
    declared: String,
    date: Field,
    justification: Field,
}

/// A past pregnancy.
struct PastPregnancy {
    declared: String,
    ended: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "health/pregnancy.html")]
struct PregnancyPage {
    layout: Layout,
    nir: String,
    name: String,
    errors: Vec<Problem>,
    date: Field,
    justification: Field,
    ongoing: Vec<EndForm>,
    past: Vec<PastPregnancy>,
}

pub(super) async fn pregnancy_form(
    State(state): State<AppState>,
    caller: PageCaller,
    headers: HeaderMap,
    PagePath(n): PagePath<String>,
) -> PageResult {
    let nir = path_nir(&n)?;
    show_pregnancy(
        &state,
        &caller,
        &headers,
        &nir,
        &PregnancyForm::default(),
        &Errors::default(),
    )
    .await
}

async fn show_pregnancy(
    state: &AppState,
    caller: &PageCaller,
    headers: &HeaderMap,
    nir: &Nir,
    form: &PregnancyForm,
    errors: &Errors,
) -> PageResult {
    let layout = Layout::of(
        state,
        caller,
        headers,
        &format!("/travailleurs/{nir}/grossesse"),
    )
    .await?;
    let today = state.clock.today();
    let r = match record::read(state, &caller.0, &layout, nir, Month::of(today)).await? {
        Ok(r) => r,
        Err(page) => return Ok(page),
    };
    if !record::may_write(&r, &WriteAction::Pregnancy, today) {
        return Err(PageError(ApiError::NotFound));
    }
    if r.data.sexe != "F" {
        return Err(PageError(ApiError::Unprocessable(
            "La déclaration de grossesse ne concerne que les travailleuses (sexe F).".into(),
        )));
    }
    let store = state.store.as_ref();
    let worker = store
        .worker(nir)
        .await?
        .ok_or(PageError(ApiError::NotFound))?;
    let pregnancies = store.pregnancies(worker.id).await?;
    let is_end = form.action == "terminer";
    let ongoing = pregnancies
        .iter()
        .filter(|p| p.ended_on.is_none())
        .map(|p| {
            let typed_here = is_end && form.grossesse == Some(p.id);
            let prefix = format!("fin-{}.", p.id);
            EndForm {
                id: p.id,
                date_id: format!("date-fin-{}", p.id),
                text_id: format!("justification-fin-{}", p.id),
                declared: super::format::date(p.declared_on),
                date: Field {
                    value: if typed_here {
                        form.date.clone()
                    } else {
                        String::new()
                    },
                    error: errors.on(&format!("{prefix}date_fin")),
                },
                justification: Field {
                    value: if typed_here {
                        form.justification.clone()
                    } else {
                        String::new()
                    },
                    error: errors.on(&format!("{prefix}justification")),
                },
            }
        })
        .collect();
    let past = pregnancies
        .iter()
        .filter_map(|p| {
            p.ended_on.map(|e| PastPregnancy {
                declared: super::format::date(p.declared_on),
                ended: super::format::date(e),
            })
        })
        .collect();
    let page = PregnancyPage {
        nir: r.data.nir.clone(),
        name: format!("{} {}", r.data.nom, r.data.prenom),
        errors: errors.all(),
        date: Field {
            value: if is_end {
                String::new()
            } else {
                form.date.clone()
            },
            error: errors.on("date_declaration"),
        },
        justification: Field {
            value: if is_end {
                String::new()
            } else {
                form.justification.clone()
            },
            error: errors.on("justification"),
        },
        ongoing,
        past,
        layout,
    };
    Ok((errors.status(), page).into_response())
}

pub(super) async fn pregnancy(
    State(state): State<AppState>,
    caller: PageCaller,
    headers: HeaderMap,
    PagePath(n): PagePath<String>,
    PageForm(form): PageForm<PregnancyForm>,
) -> PageResult {
    if let Some(refused) = caller.forged(&form.csrf) {
        return Ok(refused);
    }
    let nir = path_nir(&n)?;
    let store = state.store.as_ref();
    let today = state.clock.today();
    let mut errors = Errors::default();
    let (prefix, date_field) = match (form.action.as_str(), form.grossesse) {
        ("terminer", Some(id)) => (format!("fin-{id}."), format!("fin-{id}.date_fin")),
        _ => (String::new(), "date_declaration".to_string()),
    };
    let date = day(&mut errors, &date_field, &form.date, true);
    if form.justification.trim().is_empty() {
        errors.add(
            &format!("{prefix}justification"),
            "La justification est obligatoire.",
        );
    }
    if let (Some(date), true) = (date, errors.is_empty()) {
        let sender = sender_info(store, &caller.0).await?;
        let done = match (form.action.as_str(), form.grossesse) {
            ("terminer", Some(id)) => {
                physician::end_pregnancy(store, &sender, id, date, &form.justification, today)
                    .await
                    .map(|()| "fin-grossesse")
            }
            _ => {
                physician::declare_pregnancy(store, &sender, &nir, date, &form.justification, today)
                    .await
                    .map(|_| "grossesse")
            }
        };
        match done {
            Ok(ok) => {
                crate::notifications::sweep_now(store, &state.public_url).await;
                return Ok(Redirect::to(&format!("/travailleurs/{nir}?ok={ok}")).into_response());
            }
            Err(WriteError::Unprocessable(m)) => {
                return Err(PageError(ApiError::Unprocessable(capitalise(&m))));
            }
            Err(e) => errors.absorb(e, &prefix)?,
        }
    }
    show_pregnancy(&state, &caller, &headers, &nir, &form, &errors).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_errors_go_to_their_field() {
        let mut e = Errors::default();
        e.absorb(
            WriteError::Invalid("dose_usv : obligatoire avec le statut MESURE".into()),
            "",
        )
        .ok();
        e.absorb(
            WriteError::Invalid(
                "date_fin : entre la déclaration et la date du jour attendue".into(),
            ),
            "fin-3.",
        )
        .ok();
        assert_eq!(
            e.on("dose").as_deref(),
            Some("Obligatoire avec le statut MESURE")
        );
        assert!(e.on("fin-3.date_fin").is_some());
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        e.absorb(WriteError::Transition("x".into()), "").ok();
        assert_eq!(e.status(), StatusCode::CONFLICT);
        assert!(e.absorb(WriteError::NotFound, "").is_err());
    }

    #[test]
    fn dates_and_doses_as_typed() {
        let d = NaiveDate::from_ymd_opt(2025, 3, 31);
        assert_eq!(parse_day("2025-03-31"), d);
        assert_eq!(parse_day("31/03/2025"), d);
        assert_eq!(parse_day("31-03-2025"), None);
        let mut e = Errors::default();
        assert_eq!(dose(&mut e, "1,25"), Some(1250));
        assert_eq!(dose(&mut e, " "), None);
        assert!(e.is_empty());
        assert_eq!(dose(&mut e, "-1"), None);
        assert!(e.on("dose").is_some());
    }
}

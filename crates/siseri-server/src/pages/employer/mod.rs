//! The employer's space and the self-service registration of a new employer.
//!
//! - [`registration`], `/inscription` (public) and `/admin/inscriptions` (administrators);
//! - [`establishments`], `/employeur/etablissements`;
//! - [`workers`], `/employeur/travailleurs…`: declarations and attachments, with the checks
//!   of the worker import (one set of rules);
//! - [`designations`], `/employeur/designations`;
//! - [`summary`], `/employeur/bilan`: the non-nominative yearly summary.
//!
//! An employer sees administrative data only: never a dose by name (`access.md`).

mod designations;
mod establishments;
mod registration;
mod summary;
mod terms;
mod workers;

use std::collections::BTreeMap;

use axum::Router;
use axum::http::HeaderMap;
use siseri_domain::account::Role;
use siseri_domain::ids::Siret;
use siseri_domain::worker::Establishment;

use super::{PageError, chosen_establishment, employer_establishments};
use crate::login::PageCaller;
use crate::{ApiError, AppState};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .merge(registration::routes())
        .merge(establishments::routes())
        .merge(workers::routes())
        .merge(designations::routes())
        .merge(summary::routes())
}

/// Refuses every role but `role` (the page of another space).
fn only(caller: &PageCaller, role: Role) -> Result<(), PageError> {
    if caller.0.account.spec.role == role {
        Ok(())
    } else {
        Err(PageError(ApiError::Forbidden(
            "ROLE_NON_AUTORISE",
            "Cette page est réservée à un autre rôle.",
        )))
    }
}

/// The establishments of the employer's scope, as stored, by SIRET.
async fn scope(state: &AppState, caller: &PageCaller) -> Result<Vec<Establishment>, PageError> {
    let mut out = Vec::new();
    for siret in employer_establishments(state, caller).await? {
        if let Some(e) = state.store.establishment(&siret).await? {
            out.push(e);
        }
    }
    out.sort_by(|a, b| a.siret.cmp(&b.siret));
    Ok(out)
}

/// The scope narrowed to the establishment chosen in the header, when it is one of them.
async fn shown(
    state: &AppState,
    caller: &PageCaller,
    headers: &HeaderMap,
) -> Result<Vec<Establishment>, PageError> {
    let all = scope(state, caller).await?;
    Ok(match chosen_establishment(headers) {
        Some(chosen) if all.iter().any(|e| e.siret == chosen) => {
            all.into_iter().filter(|e| e.siret == chosen).collect()
        }
        _ => all,
    })
}

/// A SIRET typed in a form, spaces allowed.
fn typed_siret(s: &str) -> Result<Siret, siseri_domain::ids::IdError> {
    Siret::parse(&s.split_whitespace().collect::<String>())
}

/// A date typed in a form: `AAAA-MM-JJ` (date fields) or `JJ/MM/AAAA`.
fn typed_date(s: &str) -> Option<chrono::NaiveDate> {
    let s = s.trim();
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| chrono::NaiveDate::parse_from_str(s, "%d/%m/%Y"))
        .ok()
}

/// An option of a select: value, label.
#[derive(Debug, Clone)]
pub struct Choice {
    /// The value sent.
    pub value: String,
    /// What it says.
    pub label: String,
}

impl Choice {
    fn new(value: impl Into<String>, label: impl Into<String>) -> Self {
        Choice {
            value: value.into(),
            label: label.into(),
        }
    }
}

/// The establishments as options of a select.
fn establishment_choices(list: &[Establishment]) -> Vec<Choice> {
    list.iter()
        .map(|e| Choice::new(e.siret.as_str(), format!("{} ({})", e.name, e.siret)))
        .collect()
}

/// Field errors, by field id.
#[derive(Debug, Clone, Default)]
pub struct Errors(BTreeMap<String, String>);

impl Errors {
    pub(crate) fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.entry(field.into()).or_insert_with(|| message.into());
    }

    /// The error of a field, if any.
    pub fn of(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }

    /// The error of the establishment field `name_n`.
    pub fn of_n(&self, name: &str, n: &usize) -> Option<&str> {
        self.of(&format!("{name}_{n}"))
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Every (field, message), for the summary at the top of the form.
    pub fn all(&self) -> Vec<(&str, &str)> {
        self.0
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }
}

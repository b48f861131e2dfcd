//! The registry administrators' space (role `ADMIN`): accounts and accreditations,
//! establishments, the reconciliation queue, the overview of alerts and the journal.
//!
//! Every handler first checks the role; the rules themselves are those of the API
//! (`api_people`, `transmissions`) and of the import crate (`siseri_import::queue`), which
//! the pages call rather than re-implement. Nominative reads (held lines, alerts with the
//! workers' identities, the journal) are journaled before the page is sent.

mod accounts;
mod alerts;
mod establishments;
mod journal;
mod queue;

use axum::Router;
use siseri_domain::account::Role;

use super::PageError;
use super::paging::{Paged, encode};
use crate::login::PageCaller;
use crate::{ApiError, AppState};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .merge(accounts::routes())
        .merge(establishments::routes())
        .merge(queue::routes())
        .merge(alerts::routes())
        .merge(journal::routes())
}

/// Refuses everybody but administrators (403, as the API's `ROLE_NON_AUTORISE`).
fn admin_only(caller: &PageCaller) -> Result<(), PageError> {
    if caller.0.account.spec.role == Role::Admin {
        Ok(())
    } else {
        Err(PageError(ApiError::Forbidden(
            "ROLE_NON_AUTORISE",
            "Cet espace est réservé aux gestionnaires du registre.",
        )))
    }
}

/// A text field of a form, with what was typed and its error.
#[derive(Debug, Clone, Default)]
pub struct Input {
    /// `id` and `name`.
    pub name: &'static str,
    /// The label.
    pub label: &'static str,
    /// A hint under the label (may be empty).
    pub hint: &'static str,
    /// `text`, `email`, `password`, `date`…
    pub kind: &'static str,
    /// `autocomplete` (may be empty: `off`).
    pub autocomplete: &'static str,
    /// What was typed.
    pub value: String,
    /// The error, if the value was refused.
    pub error: Option<String>,
    /// Whether the field must be filled.
    pub required: bool,
}

impl Input {
    /// An optional text field.
    fn text(name: &'static str, label: &'static str, hint: &'static str) -> Self {
        Input {
            name,
            label,
            hint,
            kind: "text",
            autocomplete: "off",
            ..Input::default()
        }
    }

    /// The same field, required.
    fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// The same field, of another input type.
    fn kind(mut self, kind: &'static str, autocomplete: &'static str) -> Self {
        self.kind = kind;
        self.autocomplete = autocomplete;
        self
    }

    /// The same field, showing `value`.
    fn with(mut self, value: &str) -> Self {
        self.value = value.to_string();
        self
    }
}

/// An option of a `<select>` or a checkbox.
#[derive(Debug, Clone)]
pub struct Choice {
    /// The value sent.
    pub value: String,
    /// What it says.
    pub label: String,
    /// Whether it is selected or checked.
    pub selected: bool,
}

impl Choice {
    fn new(value: &str, label: &str, selected: bool) -> Self {
        Choice {
            value: value.to_string(),
            label: label.to_string(),
            selected,
        }
    }
}

/// The value of `name` in a form sent as pairs (empty when absent).
fn field(pairs: &[(String, String)], name: &str) -> String {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default()
}

/// Every value of `name` (checkboxes sharing a name).
fn all(pairs: &[(String, String)], name: &str) -> Vec<String> {
    pairs
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.trim().to_string())
        .collect()
}

/// A page of a list whose rows were cut elsewhere (the journal is read in one pass and
/// keeps only what the page shows): the same links as [`Paged::of`].
fn paged<T>(rows: Vec<T>, page: usize, total: usize, keep: &[(&str, String)]) -> Paged<T> {
    let pages = total.div_ceil(super::paging::PER_PAGE).max(1);
    let keep = keep
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    Paged {
        rows,
        page: page.clamp(1, pages),
        pages,
        total,
        keep,
    }
}

/// A NIR as lists show it: the sex digit and the last three, the rest hidden.
fn masked_nir(nir: &str) -> String {
    let chars: Vec<char> = nir.chars().collect();
    if chars.len() < 5 {
        return "•".repeat(chars.len());
    }
    let hidden = "•".repeat(chars.len() - 4);
    let tail: String = chars[chars.len() - 3..].iter().collect();
    format!("{}{hidden}{tail}", chars[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nir_is_masked_but_recognisable() {
        assert_eq!(masked_nir("2951099126111"), "2•••••••••111");
        assert_eq!(masked_nir("12"), "••");
    }

    #[test]
    fn repeated_fields_are_all_read() {
        let pairs = vec![
            ("natures".to_string(), "EXTERNE".to_string()),
            ("natures".to_string(), " RADON ".to_string()),
            ("login".to_string(), " x ".to_string()),
        ];
        assert_eq!(all(&pairs, "natures"), ["EXTERNE", "RADON"]);
        assert_eq!(field(&pairs, "login"), "x");
        assert_eq!(field(&pairs, "absent"), "");
    }

    #[test]
    fn pages_cut_elsewhere_keep_their_links() {
        let p = paged(
            vec![1, 2],
            3,
            120,
            &[("acteur", "a b".into()), ("du", String::new())],
        );
        assert_eq!((p.page, p.pages), (3, 3));
        assert_eq!(p.href(2), "?acteur=a%20b&page=2");
    }
}

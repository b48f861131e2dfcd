//! Reading stored text back into domain values; a failure means a corrupt row.

use siseri_domain::ids::{Nir, Rpps, Siren, Siret};

use crate::StoreError;

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} « {value} »"))
}

pub(crate) fn nir(s: &str) -> Result<Nir, StoreError> {
    Nir::parse(s).map_err(|_| corrupt("NIR", s))
}

pub(crate) fn siret(s: &str) -> Result<Siret, StoreError> {
    Siret::parse(s).map_err(|_| corrupt("SIRET", s))
}

pub(crate) fn siren(s: &str) -> Result<Siren, StoreError> {
    Siren::parse(s).map_err(|_| corrupt("SIREN", s))
}

pub(crate) fn rpps(s: &str) -> Result<Rpps, StoreError> {
    Rpps::parse(s).map_err(|_| corrupt("RPPS", s))
}

/// A mandatory code of a closed list.
pub(crate) fn code<T>(s: &str, parse: fn(&str) -> Option<T>, what: &str) -> Result<T, StoreError> {
    parse(s).ok_or_else(|| corrupt(what, s))
}

/// An optional code: NULL (or empty) is `None`.
pub(crate) fn opt_code<T>(
    s: Option<String>,
    parse: fn(&str) -> Option<T>,
    what: &str,
) -> Result<Option<T>, StoreError> {
    match s.as_deref() {
        None | Some("") => Ok(None),
        Some(v) => code(v, parse, what).map(Some),
    }
}

/// A version number (stored as a positive INTEGER).
pub(crate) fn version(v: i32) -> Result<u32, StoreError> {
    u32::try_from(v).map_err(|_| corrupt("version", &v.to_string()))
}

/// A version number to store.
pub(crate) fn version_db(v: u32) -> Result<i32, StoreError> {
    i32::try_from(v)
        .map_err(|_| StoreError::Conflict(format!("numéro de version {v} hors limites")))
}

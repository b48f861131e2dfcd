//! The exchange formats: parsing and validating what senders transmit (values, dates,
//! names, records), and the execution reports given back.
//!
//! This crate turns text into domain values with precise, per-field errors; it stores
//! nothing (storage is the caller's) and never panics on input.

pub mod values;

pub mod encoding;

pub mod cells;

pub mod records;

pub mod formats;

/// Whole-pipeline entry points for the fuzz targets of `fuzz/` and for the stable test that
/// replays their corpora: any bytes read as CSV and JSON, checked, reported and read back,
/// with the invariants that must hold for every input asserted.
pub mod fuzzing;

//! The registry's pure domain: identifiers, the clock, workers and their attachments,
//! dose results and their versions, operational readings, accounts and roles, and the
//! SISERI 2 activity nomenclature.
//!
//! No I/O, no async, no SQL: everything here is a value or a pure function, so that
//! the rules can be tested exhaustively and shared by the server, exports and CLI.

pub mod access;
pub mod account;
pub mod alerts;
pub mod clock;
pub mod codes;
pub mod ids;
pub mod indicators;
pub mod journal;
pub mod limits;
pub mod nomenclature;
pub mod result;
pub mod throttle;
pub mod totals;
pub mod worker;

pub use account::{Account, AccountError, NewAccount, Role};
pub use clock::Clock;
pub use ids::{IdError, Nir, Rpps, Siren, Siret};
pub use nomenclature::Nomenclature;

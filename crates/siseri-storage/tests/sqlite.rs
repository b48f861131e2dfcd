//! The conformance suite on SQLite.
siseri_storage::conformance_tests!(async { Some(siseri_storage::testing::sqlite().await) });

//! The conformance suite on PostgreSQL (enabled by `SISERI_TEST_POSTGRES`).
siseri_storage::conformance_tests!(siseri_storage::testing::postgres());

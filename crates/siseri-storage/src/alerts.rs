//! Alerts and pregnancies as stored (rules.md §4–§5).

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

use crate::StoreError;

/// A stored alert with its steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertRow {
    /// Id.
    pub id: i64,
    /// The worker's id.
    pub worker_id: i64,
    /// Limit kind code (`E`, `CRISTALLIN`, …).
    pub kind: String,
    /// The pregnancy, for `ENFANT_A_NAITRE`.
    pub pregnancy_id: Option<i64>,
    /// First month (`Month` value).
    pub first_month: i32,
    /// Last month.
    pub last_month: i32,
    /// The largest total over its months.
    pub dose_usv: i64,
    /// Current status.
    pub status: String,
    /// When it was raised.
    pub created_at: DateTime<Utc>,
    /// Its steps and notes, oldest first.
    pub steps: Vec<AlertStepRow>,
}

/// One step or note of an alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertStepRow {
    /// Status after the step.
    pub status: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Who (login, or `automatique`).
    pub author: String,
    /// Text.
    pub text: String,
}

/// A declared pregnancy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PregnancyRow {
    /// Id.
    pub id: i64,
    /// The worker's id.
    pub worker_id: i64,
    /// Declaration date.
    pub declared_on: NaiveDate,
    /// End, once declared.
    pub ended_on: Option<NaiveDate>,
}

/// What an import or a physician's write needs to reconcile alerts, in its transaction.
#[async_trait]
pub trait AlertsTx: Send {
    /// The alerts (with steps) of these workers.
    async fn alerts_of(&mut self, worker_ids: &[i64]) -> Result<Vec<AlertRow>, StoreError>;
    /// The pregnancies of these workers.
    async fn pregnancies_of(&mut self, worker_ids: &[i64])
    -> Result<Vec<PregnancyRow>, StoreError>;
    /// Each worker's whole-history sum per series: (worker id, series code, µSv). A bound on
    /// every rolling total, so that workers far below every limit need nothing more.
    async fn series_totals(
        &mut self,
        worker_ids: &[i64],
    ) -> Result<Vec<(i64, String, i64)>, StoreError>;
    /// Forgets these workers' monthly sums (before rebuilding them from their results).
    async fn reset_monthly(&mut self, worker_ids: &[i64]) -> Result<(), StoreError>;
    /// The results (with versions) of these workers, for the unborn-child limit, which
    /// counts results by date rather than by month.
    async fn results_of(
        &mut self,
        worker_ids: &[i64],
    ) -> Result<Vec<siseri_domain::result::DoseResult>, StoreError>;
}

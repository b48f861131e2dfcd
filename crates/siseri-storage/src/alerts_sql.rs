//! The SQL of alerts and pregnancies, written once for both engines (see `sql.rs`).

macro_rules! sql_alerts {
    ($store:ident, $import:ident, $row:ty, $ints:literal) => {
        use $crate::alerts::{AlertRow, AlertStepRow, AlertsTx, PregnancyRow};
        use $crate::AlertOp;

        const ALERT_SELECT: &str = "SELECT a.id, a.worker_id, a.kind, a.pregnancy_id, a.first_month, a.last_month, \
             a.dose_usv, a.status, a.created_at, s.seq, s.status AS step_status, s.at, s.author, s.text \
             FROM alerts a LEFT JOIN alert_steps s ON s.alert_id = a.id ";

        impl $store {
            /// Groups alert rows (ordered by alert id, then step).
            fn alert_rows(found: &[$row]) -> Result<Vec<AlertRow>, StoreError> {
                let mut out: Vec<AlertRow> = Vec::new();
                for row in found {
                    let id: i64 = row.try_get("id")?;
                    let seq: Option<i32> = row.try_get("seq")?;
                    if out.last().is_none_or(|a| a.id != id) {
                        out.push(AlertRow {
                            id,
                            worker_id: row.try_get("worker_id")?,
                            kind: row.try_get("kind")?,
                            pregnancy_id: row.try_get("pregnancy_id")?,
                            first_month: row.try_get("first_month")?,
                            last_month: row.try_get("last_month")?,
                            dose_usv: row.try_get("dose_usv")?,
                            status: row.try_get("status")?,
                            created_at: row.try_get("created_at")?,
                            steps: Vec::new(),
                        });
                    }
                    if seq.is_some()
                        && let Some(a) = out.last_mut()
                    {
                        a.steps.push(AlertStepRow {
                            status: row.try_get("step_status")?,
                            at: row.try_get("at")?,
                            author: row.try_get("author")?,
                            text: row.try_get("text")?,
                        });
                    }
                }
                Ok(out)
            }

            fn pregnancy_row(row: &$row) -> Result<PregnancyRow, StoreError> {
                Ok(PregnancyRow {
                    id: row.try_get("id")?,
                    worker_id: row.try_get("worker_id")?,
                    declared_on: row.try_get("declared_on")?,
                    ended_on: row.try_get("ended_on")?,
                })
            }

            async fn add_step(tx: &mut Tx<'_>, alert_id: i64, status: &str, text: &str, stamp: &Stamp<'_>) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO alert_steps (alert_id, seq, status, at, author, text) \
                     SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3, $4, $5 FROM alert_steps WHERE alert_id = $1",
                )
                .bind(alert_id)
                .bind(status)
                .bind(stamp.at)
                .bind(stamp.author)
                .bind(text)
                .execute(&mut **tx)
                .await?;
                Ok(())
            }

            /// Applies an alert or pregnancy write; returns (row id, worker id).
            async fn apply_alert(tx: &mut Tx<'_>, op: &AlertOp, stamp: &Stamp<'_>) -> Result<(i64, i64), StoreError> {
                match op {
                    AlertOp::Raise { worker_id, kind, pregnancy_id, first_month, last_month, dose_usv, text } => {
                        let row = sqlx::query(
                            "INSERT INTO alerts (worker_id, kind, pregnancy_id, first_month, last_month, dose_usv, status, created_at) \
                             VALUES ($1, $2, $3, $4, $5, $6, 'OUVERTE', $7) RETURNING id",
                        )
                        .bind(worker_id)
                        .bind(kind)
                        .bind(pregnancy_id)
                        .bind(first_month)
                        .bind(last_month)
                        .bind(dose_usv)
                        .bind(stamp.at)
                        .fetch_one(&mut **tx)
                        .await?;
                        let id: i64 = row.try_get("id")?;
                        Self::add_step(tx, id, "OUVERTE", text, stamp).await?;
                        Ok((id, *worker_id))
                    }
                    AlertOp::Extend { alert_id, first_month, last_month, dose_usv, text } => {
                        let row = sqlx::query(
                            "UPDATE alerts SET first_month = $2, last_month = $3, dose_usv = $4 WHERE id = $1 \
                             RETURNING worker_id, status",
                        )
                        .bind(alert_id)
                        .bind(first_month)
                        .bind(last_month)
                        .bind(dose_usv)
                        .fetch_optional(&mut **tx)
                        .await?
                        .ok_or_else(|| StoreError::NotFound(format!("alerte {alert_id}")))?;
                        let status: String = row.try_get("status")?;
                        Self::add_step(tx, *alert_id, &status, text, stamp).await?;
                        Ok((*alert_id, row.try_get("worker_id")?))
                    }
                    AlertOp::Note { alert_id, text } => {
                        let row = sqlx::query("SELECT worker_id, status FROM alerts WHERE id = $1")
                            .bind(alert_id)
                            .fetch_optional(&mut **tx)
                            .await?
                            .ok_or_else(|| StoreError::NotFound(format!("alerte {alert_id}")))?;
                        let status: String = row.try_get("status")?;
                        Self::add_step(tx, *alert_id, &status, text, stamp).await?;
                        Ok((*alert_id, row.try_get("worker_id")?))
                    }
                    AlertOp::Step { alert_id, from, to, text } => {
                        let row = sqlx::query(
                            "UPDATE alerts SET status = $3 WHERE id = $1 AND status = $2 RETURNING worker_id",
                        )
                        .bind(alert_id)
                        .bind(from)
                        .bind(to)
                        .fetch_optional(&mut **tx)
                        .await?
                        .ok_or_else(|| StoreError::Conflict(format!("alerte {alert_id} : statut changé entre-temps")))?;
                        Self::add_step(tx, *alert_id, to, text, stamp).await?;
                        Ok((*alert_id, row.try_get("worker_id")?))
                    }
                    AlertOp::DeclarePregnancy { worker_id, declared_on, justification } => {
                        let row = sqlx::query(
                            "INSERT INTO pregnancies (worker_id, declared_on, author, recorded_at, justification) \
                             VALUES ($1, $2, $3, $4, $5) RETURNING id",
                        )
                        .bind(worker_id)
                        .bind(declared_on)
                        .bind(stamp.author)
                        .bind(stamp.at)
                        .bind(justification)
                        .fetch_one(&mut **tx)
                        .await?;
                        Ok((row.try_get("id")?, *worker_id))
                    }
                    AlertOp::EndPregnancy { pregnancy_id, ended_on } => {
                        let row = sqlx::query(
                            "UPDATE pregnancies SET ended_on = $2 WHERE id = $1 AND ended_on IS NULL RETURNING worker_id",
                        )
                        .bind(pregnancy_id)
                        .bind(ended_on)
                        .fetch_optional(&mut **tx)
                        .await?
                        .ok_or_else(|| StoreError::Conflict(format!("grossesse {pregnancy_id} inconnue ou déjà terminée")))?;
                        Ok((*pregnancy_id, row.try_get("worker_id")?))
                    }
                }
            }
        }

        #[async_trait::async_trait]
        impl AlertsTx for $import {
            async fn alerts_of(&mut self, worker_ids: &[i64]) -> Result<Vec<AlertRow>, StoreError> {
                if worker_ids.is_empty() {
                    return Ok(Vec::new());
                }
                let sql = format!("{ALERT_SELECT} WHERE a.worker_id IN ({}) ORDER BY a.id, s.seq", $ints);
                let found = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(json_ints(worker_ids))
                    .fetch_all(&mut *self.tx)
                    .await?;
                $store::alert_rows(&found)
            }

            async fn pregnancies_of(&mut self, worker_ids: &[i64]) -> Result<Vec<PregnancyRow>, StoreError> {
                if worker_ids.is_empty() {
                    return Ok(Vec::new());
                }
                let sql = format!(
                    "SELECT id, worker_id, declared_on, ended_on FROM pregnancies WHERE worker_id IN ({}) ORDER BY id",
                    $ints
                );
                let found = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(json_ints(worker_ids))
                    .fetch_all(&mut *self.tx)
                    .await?;
                found.iter().map($store::pregnancy_row).collect()
            }

            async fn series_totals(&mut self, worker_ids: &[i64]) -> Result<Vec<(i64, String, i64)>, StoreError> {
                if worker_ids.is_empty() {
                    return Ok(Vec::new());
                }
                let sql = format!(
                    "SELECT worker_id, series, CAST(SUM(dose_usv) AS BIGINT) AS total FROM monthly_doses \
                     WHERE worker_id IN ({}) GROUP BY worker_id, series",
                    $ints
                );
                let found = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(json_ints(worker_ids))
                    .fetch_all(&mut *self.tx)
                    .await?;
                found
                    .iter()
                    .map(|r| {
                        let total: i64 = r.try_get("total")?;
                        Ok((r.try_get("worker_id")?, r.try_get("series")?, total))
                    })
                    .collect()
            }

            async fn reset_monthly(&mut self, worker_ids: &[i64]) -> Result<(), StoreError> {
                if worker_ids.is_empty() {
                    return Ok(());
                }
                let sql = format!("DELETE FROM monthly_doses WHERE worker_id IN ({})", $ints);
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(json_ints(worker_ids))
                    .execute(&mut *self.tx)
                    .await?;
                Ok(())
            }

            async fn results_of(&mut self, worker_ids: &[i64]) -> Result<Vec<DoseResult>, StoreError> {
                if worker_ids.is_empty() {
                    return Ok(Vec::new());
                }
                let sql = format!(
                    "{} WHERE r.worker_id IN ({}) ORDER BY r.id, v.version",
                    result_select!(),
                    $ints
                );
                let found = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(json_ints(worker_ids))
                    .fetch_all(&mut *self.tx)
                    .await?;
                $store::results_rows(&found)
            }
        }

        impl $store {
            /// A worker's alerts with their steps.
            pub(crate) async fn alerts_of_worker(&self, worker_id: i64) -> Result<Vec<AlertRow>, StoreError> {
                let sql = format!("{ALERT_SELECT} WHERE a.worker_id = $1 ORDER BY a.id, s.seq");
                let found = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(worker_id).fetch_all(&self.pool).await?;
                Self::alert_rows(&found)
            }

            /// Every alert with its steps.
            pub(crate) async fn every_alert(&self) -> Result<Vec<AlertRow>, StoreError> {
                let sql = format!("{ALERT_SELECT} ORDER BY a.id, s.seq");
                let found = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?;
                Self::alert_rows(&found)
            }

            /// One alert with its steps.
            pub(crate) async fn alert_by_id(&self, id: i64) -> Result<Option<AlertRow>, StoreError> {
                let sql = format!("{ALERT_SELECT} WHERE a.id = $1 ORDER BY s.seq");
                let found = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_all(&self.pool).await?;
                Ok(Self::alert_rows(&found)?.pop())
            }

            /// A worker's pregnancies.
            pub(crate) async fn pregnancies_of_worker(&self, worker_id: i64) -> Result<Vec<PregnancyRow>, StoreError> {
                let found = sqlx::query(
                    "SELECT id, worker_id, declared_on, ended_on FROM pregnancies WHERE worker_id = $1 ORDER BY id",
                )
                .bind(worker_id)
                .fetch_all(&self.pool)
                .await?;
                found.iter().map(Self::pregnancy_row).collect()
            }
        }
    };
}
pub(crate) use sql_alerts;

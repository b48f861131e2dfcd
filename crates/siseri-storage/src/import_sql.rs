//! The import session's SQL, written once for both engines (see `sql.rs`).
//!
//! Lookups take their keys as one JSON array parameter (`$texts` / `$ints` expand it into a
//! subquery in each engine's dialect), so one query serves a whole chunk. New rows go
//! through each adapter's `insert_rows` (multi-row INSERT on SQLite, COPY on PostgreSQL).

macro_rules! sql_import {
    ($store:ident, $import:ident, $db:ty, $row:ty, $texts:literal, $ints:literal) => {
        use $crate::import::{
            Cell, ImportTx, LineRow, NewPending, NewReadingRow, NewResultRow, PendingResolution,
            PendingRow, TransmissionEnd, TransmissionRow,
        };
        use siseri_domain::codes::TransmissionFormat;
        use siseri_domain::worker::NewWorker;
        use siseri_domain::totals::{Month, Series};

        /// One transmission's transaction.
        pub struct $import {
            tx: Tx<'static>,
            author: String,
            at: DateTime<Utc>,
            transmission_id: Option<i64>,
            /// PostgreSQL takes the journal's lock only at the end (see `begin_import`).
            lock_journal_at_end: bool,
            /// The highest id reserved so far per table: SQLite reserves from the largest id
            /// written, which does not yet count ids reserved and not yet written.
            reserved: std::collections::HashMap<&'static str, i64>,
        }

        impl std::fmt::Debug for $import {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($import)).field("transmission_id", &self.transmission_id).finish()
            }
        }

        fn json_texts<'a>(items: impl Iterator<Item = &'a str>) -> String {
            let v: Vec<&str> = items.collect();
            serde_json::to_string(&v).unwrap_or_else(|_| "[]".into())
        }

        fn json_ints(items: &[i64]) -> String {
            serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
        }

        fn split_codes(s: &str) -> Vec<String> {
            s.split('|').filter(|c| !c.is_empty()).map(str::to_owned).collect()
        }

        impl $store {
            /// Opens a transmission's transaction and, unless it is a dry run, its row.
            pub(crate) async fn open_import(
                &self,
                t: Option<&NewTransmission>,
                author: &str,
                at: DateTime<Utc>,
                lock_journal_at_end: bool,
            ) -> Result<$import, StoreError> {
                let mut tx = if lock_journal_at_end {
                    let mut tx = self.pool.begin().await?;
                    Self::serialize_imports(&mut tx).await?;
                    tx
                } else {
                    self.begin_write().await?
                };
                $store::plan_for_keys(&mut tx).await?;
                let transmission_id = match t {
                    None => None,
                    Some(t) => {
                        let row = sqlx::query(
                            "INSERT INTO transmissions (format, sender_siren, login, received_at, file_sha256, report, media) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                        )
                        .bind(t.format.code())
                        .bind(t.sender_siren.as_ref().map(|s| s.as_str()))
                        .bind(&t.login)
                        .bind(t.received_at)
                        .bind(&t.file_sha256)
                        .bind(&t.report)
                        .bind(&t.media)
                        .fetch_one(&mut *tx)
                        .await?;
                        Some(row.try_get("id")?)
                    }
                };
                Ok($import {
                    tx,
                    author: author.to_owned(),
                    at,
                    transmission_id,
                    lock_journal_at_end,
                    reserved: std::collections::HashMap::new(),
                })
            }

            fn transmission_row(row: &$row) -> Result<TransmissionRow, StoreError> {
                let siren: Option<String> = row.try_get("sender_siren")?;
                Ok(TransmissionRow {
                    id: row.try_get("id")?,
                    format: rows::code(row.try_get("format")?, TransmissionFormat::parse, "format")?,
                    sender_siren: siren.as_deref().map(rows::siren).transpose()?,
                    login: row.try_get("login")?,
                    received_at: row.try_get("received_at")?,
                    file_sha256: row.try_get("file_sha256")?,
                    media: row.try_get("media")?,
                    file_bytes: row.try_get("file_bytes")?,
                    refused: row.try_get("refused")?,
                    report: row.try_get("report")?,
                })
            }

            fn line_row(row: &$row) -> Result<LineRow, StoreError> {
                let codes: String = row.try_get("codes")?;
                let messages: String = row.try_get("messages")?;
                Ok(LineRow {
                    line: row.try_get("line")?,
                    reference: row.try_get("reference")?,
                    status: row.try_get("status")?,
                    codes: split_codes(&codes),
                    messages: serde_json::from_str(&messages)
                        .map_err(|_| StoreError::Corrupt("messages d'une ligne de transmission".into()))?,
                })
            }

            fn pending_row(row: &$row) -> Result<PendingRow, StoreError> {
                let siren: Option<String> = row.try_get("sender_siren")?;
                let nir: Option<String> = row.try_get("nir")?;
                let codes: String = row.try_get("codes")?;
                let conflicts: String = row.try_get("conflicts")?;
                Ok(PendingRow {
                    id: row.try_get("id")?,
                    transmission_id: row.try_get("transmission_id")?,
                    line: row.try_get("line")?,
                    format: rows::code(row.try_get("format")?, TransmissionFormat::parse, "format")?,
                    sender_siren: siren.as_deref().map(rows::siren).transpose()?,
                    login: row.try_get("login")?,
                    nir: nir.as_deref().map(rows::nir).transpose()?,
                    codes: split_codes(&codes),
                    conflicts: split_codes(&conflicts),
                    record: row.try_get("record")?,
                    created_at: row.try_get("created_at")?,
                    resolved_at: row.try_get("resolved_at")?,
                    resolution: row.try_get("resolution")?,
                    resolved_by: row.try_get("resolved_by")?,
                    reason: row.try_get("reason")?,
                })
            }
        }

        /// The columns of a queue line with its transmission's sender.
        const PENDING_SELECT: &str = "SELECT p.id, p.transmission_id, p.line, p.format, t.sender_siren, t.login, \
             p.nir, p.codes, p.conflicts, p.record, p.created_at, p.resolved_at, p.resolution, \
             p.resolved_by, p.reason FROM pending_lines p JOIN transmissions t ON t.id = p.transmission_id ";

        #[async_trait::async_trait]
        impl ImportTx for $import {
            fn transmission_id(&self) -> Option<i64> {
                self.transmission_id
            }

            async fn store_file_part(&mut self, part: i64, bytes: &[u8]) -> Result<(), StoreError> {
                let Some(id) = self.transmission_id else { return Ok(()) };
                sqlx::query("INSERT INTO transmission_files (transmission_id, part, bytes) VALUES ($1, $2, $3)")
                    .bind(id)
                    .bind(part)
                    .bind(bytes)
                    .execute(&mut *self.tx)
                    .await?;
                Ok(())
            }

            async fn establishments(&mut self, sirets: &[Siret]) -> Result<Vec<Establishment>, StoreError> {
                if sirets.is_empty() {
                    return Ok(Vec::new());
                }
                let found = sqlx::query(concat!("SELECT id, siret, name, inb FROM establishments WHERE siret IN (", $texts, ")"))
                    .bind(json_texts(sirets.iter().map(Siret::as_str)))
                    .fetch_all(&mut *self.tx)
                    .await?;
                found.iter().map($store::establishment_row).collect()
            }

            async fn workers(&mut self, nirs: &[Nir]) -> Result<Vec<Worker>, StoreError> {
                if nirs.is_empty() {
                    return Ok(Vec::new());
                }
                let found = sqlx::query(concat!(
                    "SELECT id, nir, nom, prenom, date_naissance, sexe FROM workers WHERE nir IN (", $texts, ")"
                ))
                .bind(json_texts(nirs.iter().map(Nir::as_str)))
                .fetch_all(&mut *self.tx)
                .await?;
                found.iter().map($store::worker_row).collect()
            }

            async fn attachments(&mut self, nirs: &[Nir]) -> Result<Vec<Attachment>, StoreError> {
                if nirs.is_empty() {
                    return Ok(Vec::new());
                }
                let found = sqlx::query(concat!(
                    "SELECT a.id, w.nir, e.siret, v.* FROM attachments a \
                     JOIN workers w ON w.id = a.worker_id JOIN establishments e ON e.id = a.establishment_id \
                     JOIN attachment_versions v ON v.attachment_id = a.id \
                     WHERE w.nir IN (", $texts, ") ORDER BY a.id, v.version"
                ))
                .bind(json_texts(nirs.iter().map(Nir::as_str)))
                .fetch_all(&mut *self.tx)
                .await?;
                $store::attachments_rows(&found)
            }

            async fn results(&mut self, sender: &str, references: &[Reference]) -> Result<Vec<DoseResult>, StoreError> {
                if references.is_empty() {
                    return Ok(Vec::new());
                }
                let found = sqlx::query($store::RESULTS_BY_REFERENCE)
                .bind(json_texts(references.iter().map(Reference::as_str)))
                .bind(sender)
                .fetch_all(&mut *self.tx)
                .await?;
                $store::results_rows(&found)
            }

            async fn readings(&mut self, worker_ids: &[i64], from: NaiveDateTime, to: NaiveDateTime) -> Result<Vec<OperationalReading>, StoreError> {
                if worker_ids.is_empty() {
                    return Ok(Vec::new());
                }
                let found = sqlx::query(concat!(
                    reading_select!(),
                    "WHERE o.worker_id IN (", $ints, ") AND o.debut_port >= $2 AND o.debut_port <= $3 ORDER BY o.id, v.version"
                ))
                .bind(json_ints(worker_ids))
                .bind(from)
                .bind(to)
                .fetch_all(&mut *self.tx)
                .await?;
                $store::readings_rows(&found)
            }

            async fn monthly(&mut self, worker_ids: &[i64], from: Month, to: Month) -> Result<Vec<(i64, Month, Series, i64)>, StoreError> {
                if worker_ids.is_empty() {
                    return Ok(Vec::new());
                }
                let found = sqlx::query(concat!(
                    "SELECT worker_id, mois, series, dose_usv FROM monthly_doses \
                     WHERE worker_id IN (", $ints, ") AND mois >= $2 AND mois <= $3"
                ))
                .bind(json_ints(worker_ids))
                .bind(from.0)
                .bind(to.0)
                .fetch_all(&mut *self.tx)
                .await?;
                found
                    .iter()
                    .map(|row| {
                        let series: String = row.try_get("series")?;
                        Ok((
                            row.try_get("worker_id")?,
                            Month(row.try_get("mois")?),
                            Series::parse(&series).ok_or_else(|| StoreError::Corrupt(format!("série « {series} »")))?,
                            row.try_get("dose_usv")?,
                        ))
                    })
                    .collect()
            }

            async fn apply(&mut self, ops: &[WriteOp]) -> Result<Vec<(i64, i64)>, StoreError> {
                let stamp = Stamp { author: &self.author, at: self.at, transmission_id: self.transmission_id };
                let mut out = Vec::with_capacity(ops.len());
                for op in ops {
                    out.push($store::apply(&mut self.tx, op, &stamp).await?);
                }
                Ok(out)
            }

            async fn reserve_result_ids(&mut self, n: usize) -> Result<Vec<i64>, StoreError> {
                self.reserve("dose_results", n).await
            }

            async fn reserve_worker_ids(&mut self, n: usize) -> Result<Vec<i64>, StoreError> {
                self.reserve("workers", n).await
            }

            async fn add_workers(&mut self, rows: &[(i64, NewWorker)]) -> Result<(), StoreError> {
                if rows.is_empty() {
                    return Ok(());
                }
                let cells: Vec<Vec<Cell>> = rows
                    .iter()
                    .map(|(id, w)| {
                        vec![
                            Cell::Int(*id),
                            Cell::Text(w.nir.as_str().to_owned()),
                            Cell::Text(w.nom.clone()),
                            Cell::Text(w.prenom.clone()),
                            Cell::Date(w.date_naissance),
                            Cell::Text(w.sexe.code().to_owned()),
                            Cell::Stamp(self.at),
                        ]
                    })
                    .collect();
                $store::insert_rows(
                    &mut self.tx,
                    "workers",
                    &["id", "nir", "nom", "prenom", "date_naissance", "sexe", "created_at"],
                    &cells,
                )
                .await
            }

            async fn add_results(&mut self, rows: &[(i64, NewResultRow)]) -> Result<(), StoreError> {
                if rows.is_empty() {
                    return Ok(());
                }
                let results: Vec<Vec<Cell>> = rows
                    .iter()
                    .map(|(id, r)| {
                        vec![
                            Cell::Int(*id),
                            Cell::Text(r.sender.clone()),
                            Cell::Text(r.reference.as_str().to_owned()),
                            Cell::Int(r.worker_id),
                            Cell::Int(r.establishment_id),
                            Cell::Text(r.nature.code().to_owned()),
                            Cell::Text(r.quantity.code().to_owned()),
                            Cell::OptText(r.position.map(|p| p.code().to_owned())),
                            Cell::Stamp(self.at),
                        ]
                    })
                    .collect();
                $store::insert_rows(
                    &mut self.tx,
                    "dose_results",
                    &["id", "sender", "reference", "worker_id", "establishment_id", "nature", "grandeur", "position", "created_at"],
                    &results,
                )
                .await?;
                let versions: Vec<Vec<Cell>> = rows
                    .iter()
                    .map(|(id, r)| {
                        vec![
                            Cell::Int(*id),
                            Cell::Int(1),
                            Cell::Date(r.values.date_debut),
                            Cell::Date(r.values.date_fin),
                            Cell::Text(r.values.statut.code().to_owned()),
                            Cell::OptInt(r.values.dose_usv),
                            Cell::OptInt(r.values.seuil_usv),
                            Cell::Text(self.author.clone()),
                            Cell::Stamp(self.at),
                            Cell::OptText(None),
                            Cell::OptInt(self.transmission_id),
                        ]
                    })
                    .collect();
                $store::insert_rows(
                    &mut self.tx,
                    "result_versions",
                    &["result_id", "version", "date_debut", "date_fin", "statut", "dose_usv", "seuil_usv", "author", "recorded_at", "justification", "transmission_id"],
                    &versions,
                )
                .await
            }

            async fn add_readings(&mut self, rows: &[NewReadingRow]) -> Result<Vec<i64>, StoreError> {
                if rows.is_empty() {
                    return Ok(Vec::new());
                }
                let ids = $store::reserve_ids(&mut self.tx, "operational_readings", rows.len()).await?;
                let readings: Vec<Vec<Cell>> = rows
                    .iter()
                    .zip(&ids)
                    .map(|(r, id)| {
                        vec![
                            Cell::Int(*id),
                            Cell::Int(r.worker_id),
                            Cell::Int(r.establishment_id),
                            Cell::Text(r.key.type_mesure.code().to_owned()),
                            Cell::Local(r.key.debut_port),
                            Cell::Local(r.key.fin_port),
                            Cell::Int(r.site_inb_id),
                            Cell::Stamp(self.at),
                        ]
                    })
                    .collect();
                $store::insert_rows(
                    &mut self.tx,
                    "operational_readings",
                    &["id", "worker_id", "establishment_id", "type_mesure", "debut_port", "fin_port", "site_inb_id", "created_at"],
                    &readings,
                )
                .await?;
                let versions: Vec<Vec<Cell>> = rows
                    .iter()
                    .zip(&ids)
                    .map(|(r, id)| {
                        vec![
                            Cell::Int(*id),
                            Cell::Int(1),
                            Cell::Text(r.values.lieu.clone()),
                            Cell::Text(r.values.zone.clone()),
                            Cell::Text(r.values.type_dosimetre.code().to_owned()),
                            Cell::Int(r.values.dose_usv),
                            Cell::Text(r.values.activite.clone()),
                            Cell::Text(self.author.clone()),
                            Cell::Stamp(self.at),
                            Cell::OptInt(self.transmission_id),
                        ]
                    })
                    .collect();
                $store::insert_rows(
                    &mut self.tx,
                    "reading_versions",
                    &["reading_id", "version", "lieu", "zone", "type_dosimetre", "dose_usv", "activite", "author", "recorded_at", "transmission_id"],
                    &versions,
                )
                .await?;
                Ok(ids)
            }

            async fn add_monthly(&mut self, deltas: &[(i64, Month, Series, i64, i64)]) -> Result<(), StoreError> {
                if deltas.is_empty() {
                    return Ok(());
                }
                let cells: Vec<Vec<Cell>> = deltas
                    .iter()
                    .map(|(w, m, s, d, a)| vec![Cell::Int(*w), Cell::Int(i64::from(m.0)), Cell::Text(s.code()), Cell::Int(*d), Cell::Int(*a)])
                    .collect();
                $store::upsert_rows(
                    &mut self.tx,
                    "monthly_doses",
                    &["worker_id", "mois", "series", "dose_usv", "absences"],
                    &cells,
                    " ON CONFLICT (worker_id, mois, series) DO UPDATE SET \
                     dose_usv = monthly_doses.dose_usv + excluded.dose_usv, \
                     absences = monthly_doses.absences + excluded.absences",
                )
                .await
            }

            async fn record_lines(&mut self, rows: &[LineRow]) -> Result<(), StoreError> {
                let Some(id) = self.transmission_id else { return Ok(()) };
                if rows.is_empty() {
                    return Ok(());
                }
                let cells: Vec<Vec<Cell>> = rows
                    .iter()
                    .map(|r| {
                        vec![
                            Cell::Int(id),
                            Cell::Int(r.line),
                            Cell::OptText(r.reference.clone()),
                            Cell::Text(r.status.clone()),
                            Cell::Text(r.codes.join("|")),
                            Cell::Text(serde_json::to_string(&r.messages).unwrap_or_else(|_| "[]".into())),
                        ]
                    })
                    .collect();
                $store::insert_rows(
                    &mut self.tx,
                    "transmission_lines",
                    &["transmission_id", "line", "reference", "status", "codes", "messages"],
                    &cells,
                )
                .await
            }

            async fn hold(&mut self, rows: &[NewPending]) -> Result<(), StoreError> {
                let Some(id) = self.transmission_id else { return Ok(()) };
                if rows.is_empty() {
                    return Ok(());
                }
                let Some(format) = self.format().await? else { return Ok(()) };
                let now = Utc::now();
                for r in rows {
                    sqlx::query(
                        "INSERT INTO pending_lines (transmission_id, line, format, nir, codes, conflicts, record, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(id)
                    .bind(r.line)
                    .bind(&format)
                    .bind(r.nir.as_ref().map(Nir::as_str))
                    .bind(r.codes.join("|"))
                    .bind(r.conflicts.join("|"))
                    .bind(&r.record)
                    .bind(now)
                    .execute(&mut *self.tx)
                    .await?;
                }
                Ok(())
            }

            async fn pending_for(&mut self, format: TransmissionFormat, nirs: &[Nir]) -> Result<Vec<PendingRow>, StoreError> {
                if nirs.is_empty() {
                    return Ok(Vec::new());
                }
                let sql = format!(
                    "{PENDING_SELECT} WHERE p.resolved_at IS NULL AND p.format = $2 AND p.nir IN ({}) ORDER BY p.id",
                    $texts
                );
                let found = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(json_texts(nirs.iter().map(Nir::as_str)))
                    .bind(format.code())
                    .fetch_all(&mut *self.tx)
                    .await?;
                found.iter().map($store::pending_row).collect()
            }

            async fn transmission_summary(&mut self, id: i64) -> Result<Option<String>, StoreError> {
                let row = sqlx::query("SELECT report FROM transmissions WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                Ok(row.map(|r| r.try_get("report")).transpose()?)
            }

            async fn resolve_pending(&mut self, r: &PendingResolution) -> Result<(), StoreError> {
                $store::resolve_in_tx(&mut self.tx, r).await
            }

            async fn finish(mut self: Box<Self>, end: TransmissionEnd) -> Result<i64, StoreError> {
                if let Some(id) = self.transmission_id {
                    sqlx::query(
                        "UPDATE transmissions SET report = $2, file_sha256 = $3, file_bytes = $4, refused = $5 WHERE id = $1",
                    )
                    .bind(id)
                    .bind(&end.report)
                    .bind(&end.file_sha256)
                    .bind(end.file_bytes)
                    .bind(end.refused)
                    .execute(&mut *self.tx)
                    .await?;
                }
                if self.lock_journal_at_end {
                    sqlx::query("UPDATE journal_head SET entries = entries WHERE id = 1")
                        .execute(&mut *self.tx)
                        .await?;
                }
                let seq = $store::append_in_tx(&mut self.tx, std::slice::from_ref(&end.event)).await?;
                self.tx.commit().await?;
                Ok(seq)
            }
        }

        impl $store {
            /// Closes a queue line and rewrites its outcome in its transmission's report.
            pub(crate) async fn resolve_in_tx(tx: &mut Tx<'static>, r: &PendingResolution) -> Result<(), StoreError> {
                let done = sqlx::query(
                    "UPDATE pending_lines SET resolved_at = $2, resolution = $3, resolved_by = $4, worker_id = $5, reason = $6 \
                     WHERE id = $1 AND resolved_at IS NULL RETURNING transmission_id, line",
                )
                .bind(r.id)
                .bind(r.at)
                .bind(&r.resolution)
                .bind(&r.resolved_by)
                .bind(r.worker_id)
                .bind(&r.reason)
                .fetch_optional(&mut **tx)
                .await?;
                let Some(row) = done else {
                    return Err(StoreError::Conflict(format!("ligne en attente {} déjà traitée ou inconnue", r.id)));
                };
                let transmission: i64 = row.try_get("transmission_id")?;
                let line: i64 = row.try_get("line")?;
                sqlx::query(
                    "UPDATE transmission_lines SET status = $3, codes = $4, messages = $5 WHERE transmission_id = $1 AND line = $2",
                )
                .bind(transmission)
                .bind(line)
                .bind(&r.line.status)
                .bind(r.line.codes.join("|"))
                .bind(serde_json::to_string(&r.line.messages).unwrap_or_else(|_| "[]".into()))
                .execute(&mut **tx)
                .await?;
                sqlx::query("UPDATE transmissions SET report = $2 WHERE id = $1")
                    .bind(transmission)
                    .bind(&r.report)
                    .execute(&mut **tx)
                    .await?;
                Ok(())
            }
        }

        impl $import {
            /// `n` fresh ids of `table`, above every id reserved before in this transaction.
            async fn reserve(&mut self, table: &'static str, n: usize) -> Result<Vec<i64>, StoreError> {
                if n == 0 {
                    return Ok(Vec::new());
                }
                let mut ids = $store::reserve_ids(&mut self.tx, table, n).await?;
                let floor = self.reserved.get(table).copied().unwrap_or(0);
                if ids.first().is_some_and(|first| *first <= floor) {
                    ids = (1..=n as i64).map(|i| floor + i).collect();
                }
                if let Some(last) = ids.iter().max() {
                    self.reserved.insert(table, (*last).max(floor));
                }
                Ok(ids)
            }

            async fn format(&mut self) -> Result<Option<String>, StoreError> {
                let Some(id) = self.transmission_id else { return Ok(None) };
                let row = sqlx::query("SELECT format FROM transmissions WHERE id = $1")
                    .bind(id)
                    .fetch_one(&mut *self.tx)
                    .await?;
                Ok(Some(row.try_get("format")?))
            }
        }
    };
}
pub(crate) use sql_import;

//! One transmission's transaction, fed chunk by chunk.
//!
//! A transmission is atomic (exchange.md §6) yet may hold millions of lines that must not sit
//! in memory: the importer opens one [`ImportTx`], looks up what each chunk of lines needs,
//! writes the chunk, and commits at the end with the report and the journal entry. Dropping
//! the session (an error, a crash, a dry run) rolls everything back.

use async_trait::async_trait;
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike, Utc};
use siseri_domain::codes::{Nature, Position, Quantity, TransmissionFormat};
use siseri_domain::ids::{Nir, Siren, Siret};
use siseri_domain::journal::JournalEvent;
use siseri_domain::result::{
    DoseResult, OperationalReading, ReadingKey, ReadingValues, Reference, ResultValues,
};
use siseri_domain::totals::{Month, Series};
use siseri_domain::worker::{Attachment, Establishment, NewWorker, Worker};

use crate::{StoreError, WriteOp};

/// A new result for the bulk path: ids already resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewResultRow {
    /// The worker's id.
    pub worker_id: i64,
    /// The establishment's id.
    pub establishment_id: i64,
    /// `Sender::key()`.
    pub sender: String,
    /// The sender's reference.
    pub reference: Reference,
    /// Nature.
    pub nature: Nature,
    /// Quantity.
    pub quantity: Quantity,
    /// Position.
    pub position: Option<Position>,
    /// Version 1.
    pub values: ResultValues,
}

/// A new operational reading for the bulk path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReadingRow {
    /// The worker's id.
    pub worker_id: i64,
    /// The establishment's id.
    pub establishment_id: i64,
    /// The INB site's establishment id.
    pub site_inb_id: i64,
    /// The key (its NIR and SIRET are those of the ids above).
    pub key: ReadingKey,
    /// Version 1.
    pub values: ReadingValues,
}

/// The outcome of one line that is not a plain acceptance (§6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineRow {
    /// Physical line.
    pub line: i64,
    /// REFERENCE, for `resultats`.
    pub reference: Option<String>,
    /// `REJETE`, `EN_ATTENTE`, `DOUBLON` or `ACCEPTE`.
    pub status: String,
    /// Codes, in report order.
    pub codes: Vec<String>,
    /// Messages, in report order.
    pub messages: Vec<String>,
}

/// A held line, kept whole for the reconciliation queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPending {
    /// Physical line.
    pub line: i64,
    /// The line's NIR, when it parsed.
    pub nir: Option<Nir>,
    /// The hold codes.
    pub codes: Vec<String>,
    /// What conflicted: the names of the differing fields.
    pub conflicts: Vec<String>,
    /// The record as a JSON object of column → value, in the format's column order.
    pub record: String,
}

/// A line of the reconciliation queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingRow {
    /// Queue id.
    pub id: i64,
    /// Its transmission.
    pub transmission_id: i64,
    /// Physical line in that transmission.
    pub line: i64,
    /// The transmission's format.
    pub format: TransmissionFormat,
    /// The sending organisation.
    pub sender_siren: Option<Siren>,
    /// The sending account.
    pub login: String,
    /// The line's NIR.
    pub nir: Option<Nir>,
    /// Hold codes.
    pub codes: Vec<String>,
    /// Differing fields.
    pub conflicts: Vec<String>,
    /// The record (JSON object).
    pub record: String,
    /// When it was held.
    pub created_at: DateTime<Utc>,
    /// When it was resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// `ACCEPTE` or `REJETE`.
    pub resolution: Option<String>,
    /// Who resolved it (login, or `automatique`).
    pub resolved_by: Option<String>,
    /// The rejection's reason.
    pub reason: Option<String>,
}

/// A stored transmission, without its lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransmissionRow {
    /// Id.
    pub id: i64,
    /// Format.
    pub format: TransmissionFormat,
    /// Sending organisation.
    pub sender_siren: Option<Siren>,
    /// Sending account.
    pub login: String,
    /// Reception.
    pub received_at: DateTime<Utc>,
    /// SHA-256 of the file.
    pub file_sha256: String,
    /// `csv` or `json`.
    pub media: String,
    /// Size of the file.
    pub file_bytes: i64,
    /// Refused as a whole.
    pub refused: bool,
    /// The report without its lines (JSON).
    pub report: String,
}

/// What ends a transmission: its report summary and fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransmissionEnd {
    /// The report without its lines (JSON).
    pub report: String,
    /// SHA-256 of the file, hex.
    pub file_sha256: String,
    /// Size of the file.
    pub file_bytes: i64,
    /// Refused as a whole.
    pub refused: bool,
    /// The journal entry (the touched workers' ids are the caller's to add).
    pub event: JournalEvent,
}

/// The transaction of one transmission.
#[async_trait]
pub trait ImportTx: crate::alerts::AlertsTx + Send {
    /// The transmission's id (none for a dry run).
    fn transmission_id(&self) -> Option<i64>;

    /// Keeps a part of the received file, in order.
    async fn store_file_part(&mut self, part: i64, bytes: &[u8]) -> Result<(), StoreError>;

    /// The known establishments among `sirets`.
    async fn establishments(&mut self, sirets: &[Siret]) -> Result<Vec<Establishment>, StoreError>;
    /// The known workers among `nirs`.
    async fn workers(&mut self, nirs: &[Nir]) -> Result<Vec<Worker>, StoreError>;
    /// The attachments (with versions) of these workers.
    async fn attachments(&mut self, nirs: &[Nir]) -> Result<Vec<Attachment>, StoreError>;
    /// The results of one sender among `references`, with their versions.
    async fn results(
        &mut self,
        sender: &str,
        references: &[Reference],
    ) -> Result<Vec<DoseResult>, StoreError>;
    /// The readings of these workers worn between `from` and `to` (start of wear).
    async fn readings(
        &mut self,
        worker_ids: &[i64],
        from: NaiveDateTime,
        to: NaiveDateTime,
    ) -> Result<Vec<OperationalReading>, StoreError>;
    /// Monthly sums of these workers in `from..=to`: (worker id, month, series, µSv).
    async fn monthly(
        &mut self,
        worker_ids: &[i64],
        from: Month,
        to: Month,
    ) -> Result<Vec<(i64, Month, Series, i64)>, StoreError>;

    /// Applies general writes (workers, attachments, new versions); returns, per op, the
    /// id created or extended and the worker's id.
    async fn apply(&mut self, ops: &[WriteOp]) -> Result<Vec<(i64, i64)>, StoreError>;
    /// `n` fresh result ids, for [`ImportTx::add_results`]: taken before the rows are
    /// written, so that a chunk's lines can be checked (and refer to one another) while the
    /// previous chunk is being written. Ids not used are lost (gaps in the sequence).
    async fn reserve_result_ids(&mut self, n: usize) -> Result<Vec<i64>, StoreError>;
    /// `n` fresh worker ids, for [`ImportTx::add_workers`] (as above).
    async fn reserve_worker_ids(&mut self, n: usize) -> Result<Vec<i64>, StoreError>;
    /// Adds new results, under the ids reserved for them, with their first version.
    async fn add_results(&mut self, rows: &[(i64, NewResultRow)]) -> Result<(), StoreError>;
    /// Adds new workers under the ids reserved for them. A NIR declared meanwhile by
    /// another transaction makes it fail (the whole import is then rolled back).
    async fn add_workers(&mut self, rows: &[(i64, NewWorker)]) -> Result<(), StoreError>;
    /// Adds new readings with their first version; returns their ids.
    async fn add_readings(&mut self, rows: &[NewReadingRow]) -> Result<Vec<i64>, StoreError>;
    /// Adds to monthly sums: (worker id, month, series, µSv, absences), keys unique.
    async fn add_monthly(
        &mut self,
        deltas: &[(i64, Month, Series, i64, i64)],
    ) -> Result<(), StoreError>;
    /// Records line outcomes.
    async fn record_lines(&mut self, rows: &[LineRow]) -> Result<(), StoreError>;
    /// Puts lines in the reconciliation queue.
    async fn hold(&mut self, rows: &[NewPending]) -> Result<(), StoreError>;
    /// Open queue lines of `format` for these NIRs (to attach automatically).
    async fn pending_for(
        &mut self,
        format: TransmissionFormat,
        nirs: &[Nir],
    ) -> Result<Vec<PendingRow>, StoreError>;
    /// A transmission's report summary, read in this transaction.
    async fn transmission_summary(&mut self, id: i64) -> Result<Option<String>, StoreError>;
    /// Closes a queue line and rewrites its transmission's line outcome and report summary.
    async fn resolve_pending(&mut self, resolution: &PendingResolution) -> Result<(), StoreError>;

    /// Stores the report, journals, and commits.
    async fn finish(self: Box<Self>, end: TransmissionEnd) -> Result<i64, StoreError>;
}

/// How a held line ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingResolution {
    /// Queue id.
    pub id: i64,
    /// `ACCEPTE` or `REJETE` (or `DOUBLON`).
    pub resolution: String,
    /// Who (login, or `automatique`).
    pub resolved_by: String,
    /// When.
    pub at: DateTime<Utc>,
    /// The worker it was attached to.
    pub worker_id: Option<i64>,
    /// Why, for a rejection.
    pub reason: Option<String>,
    /// The line's new outcome in its transmission's report.
    pub line: LineRow,
    /// The transmission's new report summary (JSON).
    pub report: String,
}

/// A value for the bulk inserts, encoded by each engine its own way.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    Int(i64),
    OptInt(Option<i64>),
    Text(String),
    OptText(Option<String>),
    Date(NaiveDate),
    Stamp(DateTime<Utc>),
    Local(NaiveDateTime),
}

impl Cell {
    /// The COPY text form (PostgreSQL): `\N` for NULL, backslash escapes.
    pub(crate) fn copy_text(&self, out: &mut String) {
        use std::fmt::Write;
        match self {
            Cell::Int(v) | Cell::OptInt(Some(v)) => {
                let _ = write!(out, "{v}");
            }
            Cell::OptInt(None) | Cell::OptText(None) => out.push_str("\\N"),
            Cell::Text(s) | Cell::OptText(Some(s)) => {
                for c in s.chars() {
                    match c {
                        '\\' => out.push_str("\\\\"),
                        '\t' => out.push_str("\\t"),
                        '\n' => out.push_str("\\n"),
                        '\r' => out.push_str("\\r"),
                        c => out.push(c),
                    }
                }
            }
            // Written by hand: chrono's `format` parses its pattern again at every call, and a
            // large import writes millions of dates.
            Cell::Date(d) => push_date(out, *d),
            Cell::Stamp(t) => out.push_str(&t.to_rfc3339()),
            Cell::Local(t) => {
                push_date(out, t.date());
                let _ = write!(out, " {:02}:{:02}:{:02}", t.hour(), t.minute(), t.second());
            }
        }
    }
}

/// `YYYY-MM-DD` (ISO 8601, as PostgreSQL reads it; chrono's form outside years 0–9999).
fn push_date(out: &mut String, d: NaiveDate) {
    use std::fmt::Write;
    if (0..=9999).contains(&d.year()) {
        let _ = write!(out, "{:04}-{:02}-{:02}", d.year(), d.month(), d.day());
    } else {
        let _ = write!(out, "{}", d.format("%Y-%m-%d"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_writes_dates_and_local_times_as_iso() {
        let mut s = String::new();
        let d = NaiveDate::from_ymd_opt(2026, 3, 9).unwrap_or_default();
        Cell::Date(d).copy_text(&mut s);
        s.push('|');
        let t = d.and_hms_opt(7, 5, 0).unwrap_or_default();
        Cell::Local(t).copy_text(&mut s);
        assert_eq!(s, "2026-03-09|2026-03-09 07:05:00");
    }

    #[test]
    fn copy_text_escapes_and_marks_null() {
        let mut s = String::new();
        Cell::Text("a\tb\\c\nd".into()).copy_text(&mut s);
        s.push('|');
        Cell::OptText(None).copy_text(&mut s);
        s.push('|');
        Cell::Int(-3).copy_text(&mut s);
        assert_eq!(s, "a\\tb\\\\c\\nd|\\N|-3");
    }
}

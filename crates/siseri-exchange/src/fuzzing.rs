//! Whole-pipeline entry points for fuzzing: read any bytes as a CSV file and as a JSON body,
//! check every record, write the CSV report and read it back, asserting what must hold for
//! every input.
//!
//! The fuzz targets of `fuzz/` (`cargo +nightly fuzz run resultats`) call these functions,
//! and `tests/fuzz_corpora.rs` replays the committed corpora through them with stable Rust.
//! A panic here is a bug: either a parser panicked, or one of these invariants broke:
//!
//! - reading ends (at most [`LIMITS`](crate::fuzzing::LIMITS) records), an I/O error never
//!   comes from memory, and a reader yields nothing after an error;
//! - an input below the size cap, read in small irregular chunks, gives exactly what it
//!   gives read in one piece;
//! - line numbers are ≥ 2 and strictly increasing (for JSON, the element's index + 2);
//! - [`Checked::value`](crate::formats::Checked::value) is `Some` exactly when no error code
//!   is present, so a rejected line always carries a code; a reading error (`NB_COLONNES`)
//!   comes alone;
//! - codes name a column of the format and come in column order, then code order;
//! - the CSV report writes every record and reads back as the same records, without
//!   warnings nor `NB_COLONNES`, whatever the encoding the input was read in (the report
//!   is UTF-8) and whatever formula characters its values begin with (neutralised when
//!   written, restored when read);
//! - no cell of the report begins with a formula character (`=`, `+`, `-`, `@`, tab, CR).
//!
//! Memory stays bounded: [`LIMITS`](crate::fuzzing::LIMITS) caps the records kept and the
//! size of one record.

use std::io::{self, Read};

use chrono::NaiveDate;

use crate::formats::{Checked, operational, results, workers};
use crate::records::{
    CodeClass, Column, CsvRecords, FileCode, FileMessage, JsonRecords, Limits, LineCode,
    LineStatus, ReadError, Record, ReportWriter,
};

/// The reception day the checks run with (a fixed one, so that runs are reproducible).
pub const TODAY: NaiveDate = match NaiveDate::from_ymd_opt(2026, 6, 30) {
    Some(d) => d,
    None => panic!("invalid constant date"),
};

/// The readers' limits: few records, and records of 1 KiB at most, so that the size cap is
/// reached by ordinary fuzz inputs (which are a few KiB) and nothing grows large.
pub const LIMITS: Limits = Limits {
    max_records: 32,
    max_record_bytes: 1024,
};

/// Runs the `resultats` pipeline (exchange.md §4) on `data`, read as CSV and as JSON.
///
/// # Panics
/// When a parser panics or an invariant of the module documentation breaks.
pub fn results(data: &[u8]) {
    run(data, results::COLUMNS, results::check);
}

/// Runs the `travailleurs` pipeline (exchange.md §2) on `data`, read as CSV and as JSON.
///
/// # Panics
/// When a parser panics or an invariant of the module documentation breaks.
pub fn workers(data: &[u8]) {
    run(data, workers::COLUMNS, workers::check);
}

/// Runs the `dosimetrie-operationnelle` pipeline (exchange.md §3) on `data`, read as CSV and
/// as JSON.
///
/// # Panics
/// When a parser panics or an invariant of the module documentation breaks.
pub fn operational(data: &[u8]) {
    run(data, operational::COLUMNS, operational::check);
}

type Check<T> = fn(&Record, NaiveDate) -> Checked<T>;

fn run<T>(data: &[u8], columns: &'static [Column], check: Check<T>) {
    let csv = read_csv(data, columns, LIMITS);
    if data.len() as u64 <= LIMITS.max_record_bytes {
        // Below the size cap, how the input is cut into reads cannot change anything.
        let trickled = read_csv(Trickle::new(data), columns, LIMITS);
        assert_eq!(csv, trickled, "CSV read in small chunks differs");
    }
    csv.check_lines(false);
    let checked = check_all(&csv, columns, check);
    report_round_trip(&csv, &checked, columns);

    let json = read_json(data, columns);
    if data.len() as u64 <= LIMITS.max_record_bytes {
        let trickled = read_json(Trickle::new(data), columns);
        assert_eq!(json, trickled, "JSON read in small chunks differs");
    }
    json.check_lines(true);
    let checked = check_all(&json, columns, check);
    report_round_trip(&json, &checked, columns);
}

/// Everything a reader gave: its records, then how it stopped.
#[derive(Debug, PartialEq)]
struct Outcome {
    records: Vec<Record>,
    /// The refusal's code and text, `None` when the reader reached the end.
    refusal: Option<FileMessage>,
    warnings: Vec<FileMessage>,
}

/// The refusal carried by `e`; an I/O error cannot come from a byte slice.
fn refusal(e: ReadError) -> FileMessage {
    match e {
        ReadError::Refused(m) => {
            assert_eq!(
                m.code.class(),
                CodeClass::FileRefusal,
                "a refusal with a code that refuses nothing: {m:?}"
            );
            m
        }
        ReadError::Io(e) => panic!("I/O error reading from memory: {e}"),
    }
}

fn read_csv<R: Read>(input: R, columns: &'static [Column], limits: Limits) -> Outcome {
    let mut reader = match CsvRecords::with_limits(input, columns, limits) {
        Ok(r) => r,
        Err(e) => {
            return Outcome {
                records: Vec::new(),
                refusal: Some(refusal(e)),
                warnings: Vec::new(),
            };
        }
    };
    let mut records = Vec::new();
    let refusal = loop {
        match reader.next_record() {
            Ok(Some(r)) => records.push(r),
            Ok(None) => break None,
            Err(e) => break Some(refusal(e)),
        }
        assert!(
            records.len() as u64 <= limits.max_records,
            "record cap passed"
        );
    };
    assert!(
        matches!(reader.next_record(), Ok(None)),
        "CSV reader not fused"
    );
    assert_counted(reader.records_read(), &records);
    Outcome {
        records,
        refusal,
        warnings: reader.warnings().to_vec(),
    }
}

fn read_json<R: Read>(input: R, columns: &'static [Column]) -> Outcome {
    let mut reader = JsonRecords::with_limits(input, columns, LIMITS);
    let mut records = Vec::new();
    let refusal = loop {
        match reader.next_record() {
            Ok(Some(r)) => records.push(r),
            Ok(None) => break None,
            Err(e) => break Some(refusal(e)),
        }
        assert!(
            records.len() as u64 <= LIMITS.max_records,
            "record cap passed"
        );
    };
    assert!(
        matches!(reader.next_record(), Ok(None)),
        "JSON reader not fused"
    );
    assert_counted(reader.records_read(), &records);
    Outcome {
        records,
        refusal,
        warnings: reader.warnings().to_vec(),
    }
}

/// The readers count every record they yield, plus the one the record cap refused.
fn assert_counted(read: u64, records: &[Record]) {
    let yielded = records.len() as u64;
    assert!(
        (yielded..=yielded + 1).contains(&read),
        "{read} records counted, {yielded} yielded"
    );
}

impl Outcome {
    fn check_lines(&self, json: bool) {
        let mut previous = 1;
        for (i, r) in self.records.iter().enumerate() {
            assert!(
                r.line() > previous,
                "line {} after line {previous}",
                r.line()
            );
            previous = r.line();
            if json {
                assert_eq!(r.line(), i as u64 + 2, "JSON line is not index + 2");
                assert!(r.error().is_none(), "JSON record with a reading error");
            }
        }
        if self.refusal.is_none() {
            assert!(!self.records.is_empty(), "no record and no FICHIER_VIDE");
        }
        for w in &self.warnings {
            assert_eq!(w.code.class(), CodeClass::FileWarning, "{w:?}");
        }
        let encoding = self
            .warnings
            .iter()
            .filter(|w| w.code == FileCode::EncodageWindows1252)
            .count();
        assert!(
            encoding <= 1,
            "ENCODAGE_WINDOWS_1252 given {encoding} times"
        );
        if json {
            assert_eq!(encoding, 0, "a JSON body read as Windows-1252");
        }
    }
}

fn check_all<T>(outcome: &Outcome, columns: &'static [Column], check: Check<T>) -> Vec<Checked<T>> {
    outcome
        .records
        .iter()
        .map(|record| {
            let checked = check(record, TODAY);
            assert_eq!(checked.line, record.line());
            assert_invariants(record, &checked, columns);
            checked
        })
        .collect()
}

fn assert_invariants<T>(record: &Record, checked: &Checked<T>, columns: &'static [Column]) {
    let line = record.line();
    assert_eq!(
        checked.value.is_some(),
        !checked.has_errors(),
        "line {line}: value present with an error, or absent without any: {:?}",
        checked.messages
    );
    if let Some(e) = record.error() {
        assert_eq!(
            checked.messages,
            std::slice::from_ref(e),
            "line {line}: not alone"
        );
        assert_eq!(e.code, LineCode::NbColonnes);
        return;
    }
    let mut previous: Option<(usize, LineCode)> = None;
    for m in &checked.messages {
        assert!(
            matches!(m.code.class(), CodeClass::Error | CodeClass::Warning),
            "line {line}: a registry code from the registry-free checks: {m:?}"
        );
        assert!(!m.message.is_empty(), "line {line}: empty message");
        let column = m
            .field
            .and_then(|f| columns.iter().position(|c| c.name == f));
        let Some(column) = column else {
            panic!("line {line}: message not about a column of the format: {m:?}");
        };
        let key = (column, m.code);
        assert!(
            previous.is_none_or(|p| p <= key),
            "line {line}: codes out of order: {:?}",
            checked.messages
        );
        previous = Some(key);
    }
    let reported = checked.reported();
    if checked.has_errors() {
        assert!(
            reported
                .iter()
                .all(|m| m.code.class() != CodeClass::Warning),
            "line {line}: a rejected line reports a warning"
        );
        assert!(!reported.is_empty(), "line {line}: rejected without a code");
    } else {
        assert_eq!(reported.len(), checked.messages.len());
    }
}

/// Writes the CSV report of `outcome` and reads it back: the same records, in order.
fn report_round_trip<T>(outcome: &Outcome, checked: &[Checked<T>], columns: &'static [Column]) {
    let written = write_report(outcome, checked, columns)
        .unwrap_or_else(|e| panic!("report not written: {e}"));
    // The report's lines are longer than the sender's (messages): the spec's record size.
    let limits = Limits {
        max_records: LIMITS.max_records,
        ..Limits::default()
    };
    assert_no_formula(&written);
    let read = read_csv(&written[..], columns, limits);
    if outcome.records.is_empty() {
        assert_eq!(
            read.refusal.map(|m| m.code),
            Some(FileCode::FichierVide),
            "a report without lines"
        );
        return;
    }
    assert_eq!(read.refusal, None, "report refused");
    assert!(
        read.warnings.is_empty(),
        "report warns: {:?}",
        read.warnings
    );
    let back = read.records;
    assert_eq!(
        back.len(),
        outcome.records.len(),
        "report lines lost or added"
    );
    let mut previous = 1;
    for (original, again) in outcome.records.iter().zip(&back) {
        assert!(again.error().is_none(), "report line {}", again.line());
        assert_eq!(again.raw(), original.raw(), "report line {}", again.line());
        assert!(again.line() > previous);
        previous = again.line();
    }
}

/// No cell of a written report begins with a character that makes it a formula.
fn assert_no_formula(report: &[u8]) {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .has_headers(false)
        .flexible(true)
        .from_reader(report);
    let mut record = csv::ByteRecord::new();
    while reader
        .read_byte_record(&mut record)
        .unwrap_or_else(|e| panic!("report unreadable: {e}"))
    {
        for cell in &record {
            assert!(
                !matches!(
                    cell.first(),
                    Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
                ),
                "a report cell begins with a formula character: {:?}",
                String::from_utf8_lossy(cell)
            );
        }
    }
}

fn write_report<T>(
    outcome: &Outcome,
    checked: &[Checked<T>],
    columns: &'static [Column],
) -> io::Result<Vec<u8>> {
    let mut writer = ReportWriter::new(Vec::new(), columns)?;
    for (record, c) in outcome.records.iter().zip(checked) {
        match &outcome.refusal {
            Some(refusal) => writer.write_refused_line(record.raw(), refusal)?,
            None => {
                let status = if c.has_errors() {
                    LineStatus::Rejete
                } else {
                    LineStatus::Accepte
                };
                let messages: Vec<_> = c.reported().into_iter().cloned().collect();
                writer.write_line(record.raw(), status, &messages)?;
            }
        }
    }
    writer.finish()
}

/// A reader handing out `data` in chunks of 1 to 7 bytes, as a slow connection would.
struct Trickle<'a> {
    data: &'a [u8],
    reads: usize,
}

impl<'a> Trickle<'a> {
    fn new(data: &'a [u8]) -> Self {
        Trickle { data, reads: 0 }
    }
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reads += 1;
        let n = (1 + self.reads % 7).min(buf.len()).min(self.data.len());
        let (head, rest) = self.data.split_at(n);
        if let Some(dst) = buf.get_mut(..n) {
            dst.copy_from_slice(head);
        }
        self.data = rest;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smoke() {
        for data in [
            &b""[..],
            b"[]",
            b"NIR;SIRET\n1;2\n",
            b"[{\"NIR\": \"1\"}]",
            b"\xEF\xBB\xBF",
            b"NIR;SIRET;NOM\r\n\"1\";\"=2\";\"LEF\xC8VRE\"\r\n",
            b"NIR;SIRET;\n@1;'-2;\n",
            b"[{\"NIR\": \"=1\", \"SIRET\": \"\\u0000\"}]",
        ] {
            results(data);
            workers(data);
            operational(data);
        }
    }
}

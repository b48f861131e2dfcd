//! The execution report (exchange.md §6): its JSON form, and the CSV form rebuilt from the
//! kept file and the stored line outcomes.

use std::io::{Read, Write};

use serde::{Deserialize, Serialize};
use siseri_domain::codes::TransmissionFormat;
use siseri_exchange::encoding::CsvEncoding;
use siseri_exchange::records::{
    CodeClass, Column, CsvRecords, FileCode, FileMessage, JsonRecords, Limits, LineCode,
    LineMessage, LineStatus, ReportWriter,
};
use siseri_storage::LineRow;

/// The report's totals.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Records read.
    pub lines: u64,
    /// `ACCEPTE`.
    pub accepted: u64,
    /// `DOUBLON`.
    pub duplicates: u64,
    /// `EN_ATTENTE`.
    pub on_hold: u64,
    /// `REJETE`.
    pub rejected: u64,
    /// Accepted lines carrying a warning.
    pub warnings: u64,
}

impl Totals {
    /// Counts one line's outcome.
    pub fn count(&mut self, status: LineStatus, has_codes: bool) {
        self.lines += 1;
        self.add(status, has_codes, 1);
    }

    fn add(&mut self, status: LineStatus, has_codes: bool, n: i64) {
        let bump = |v: &mut u64| *v = v.saturating_add_signed(n);
        match status {
            LineStatus::Accepte => {
                bump(&mut self.accepted);
                if has_codes {
                    bump(&mut self.warnings);
                }
            }
            LineStatus::Doublon => bump(&mut self.duplicates),
            LineStatus::EnAttente => bump(&mut self.on_hold),
            LineStatus::Rejete => bump(&mut self.rejected),
        }
    }

    /// Moves one line from one outcome to another (a held line resolved).
    pub fn moved(&mut self, from: (LineStatus, bool), to: (LineStatus, bool)) {
        self.add(from.0, from.1, -1);
        self.add(to.0, to.1, 1);
    }
}

/// The sender of a transmission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportSender {
    /// Its organisation.
    pub siren: Option<String>,
    /// Its login.
    pub login: String,
}

/// A file-level code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileError {
    /// Code.
    pub code: String,
    /// French message.
    pub message: String,
}

impl From<&FileMessage> for FileError {
    fn from(m: &FileMessage) -> Self {
        FileError {
            code: m.code.code().to_owned(),
            message: m.message.clone(),
        }
    }
}

/// One reported line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportLine {
    /// Physical line.
    pub line: i64,
    /// REFERENCE (`resultats`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reference: Option<String>,
    /// Status.
    pub status: String,
    /// Codes.
    pub codes: Vec<String>,
    /// Messages.
    pub messages: Vec<String>,
}

impl From<LineRow> for ReportLine {
    fn from(r: LineRow) -> Self {
        ReportLine {
            line: r.line,
            reference: r.reference,
            status: r.status,
            codes: r.codes,
            messages: r.messages,
        }
    }
}

impl From<&ReportLine> for LineRow {
    fn from(r: &ReportLine) -> Self {
        LineRow {
            line: r.line,
            reference: r.reference.clone(),
            status: r.status.clone(),
            codes: r.codes.clone(),
            messages: r.messages.clone(),
        }
    }
}

/// `EN_COURS` while lines are processed, then `TERMINE`.
pub const IN_PROGRESS: &str = "EN_COURS";
/// The transmission is processed.
pub const DONE: &str = "TERMINE";

/// The execution report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// Id, none for a dry run.
    pub transmission: Option<i64>,
    /// Format.
    pub format: String,
    /// Sender.
    pub sender: ReportSender,
    /// Reception, RFC 3339 with offset.
    pub received_at: String,
    /// Whether nothing was stored.
    pub dry_run: bool,
    /// `EN_COURS` or `TERMINE`.
    pub etat: String,
    /// Records processed so far.
    pub lignes_traitees: u64,
    /// File-level codes, warnings included.
    pub file_errors: Vec<FileError>,
    /// Totals.
    pub totals: Totals,
    /// Every line that is not a plain acceptance.
    pub lines: Vec<ReportLine>,
    /// This file had already been received from the same organisation in the same format:
    /// the report is that transmission's, as it stands, and nothing new was stored.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deja_recu: bool,
}

impl Report {
    /// Whether the file was refused as a whole.
    pub fn refusal(&self) -> Option<FileCode> {
        self.file_errors
            .iter()
            .filter_map(|e| FileCode::parse(&e.code))
            .find(|c| c.class() == CodeClass::FileRefusal)
    }

    /// How the CSV file was read: as Windows-1252 when the report says so (whether the
    /// sender forced it or the registry chose it), otherwise as UTF-8 (which any other
    /// reading that succeeded amounts to: the file was valid UTF-8, or ASCII).
    pub fn csv_encoding(&self) -> CsvEncoding {
        let windows_1252 = self
            .file_errors
            .iter()
            .any(|e| e.code == FileCode::EncodageWindows1252.code());
        if windows_1252 {
            CsvEncoding::Windows1252
        } else {
            CsvEncoding::Auto
        }
    }

    /// The report without its lines (what the transmission row keeps).
    pub fn summary_json(&self) -> String {
        let mut s = self.clone();
        s.lines = Vec::new();
        serde_json::to_string(&s).unwrap_or_else(|_| "{}".into())
    }

    /// A stored summary with its lines.
    pub fn from_stored(summary: &str, lines: Vec<LineRow>) -> Result<Self, serde_json::Error> {
        let mut r: Report = serde_json::from_str(summary)?;
        r.lines = lines.into_iter().map(ReportLine::from).collect();
        Ok(r)
    }
}

/// The columns of a format.
pub fn columns(format: TransmissionFormat) -> &'static [Column] {
    use siseri_exchange::formats::{operational, results, workers};
    match format {
        TransmissionFormat::Workers => workers::COLUMNS,
        TransmissionFormat::Results => results::COLUMNS,
        TransmissionFormat::OperationalDosimetry => operational::COLUMNS,
    }
}

/// Writes the CSV report of a transmission: every record of the kept `file`, in the format's
/// column order, with its outcome (`lines` holds the outcomes that are not a plain
/// acceptance, by line). A refused file gets `REJETE` and its file-level code on every line.
///
/// The file is read again in the encoding it was first read in ([`Report::csv_encoding`]),
/// so that the report repeats the values the registry read.
pub fn write_csv<R: Read, W: Write>(
    format: TransmissionFormat,
    json: bool,
    file: R,
    report: &Report,
    lines: &[ReportLine],
    out: W,
) -> std::io::Result<W> {
    let cols = columns(format);
    let mut writer = ReportWriter::new(out, cols)?;
    if let Some(code) = report.refusal() {
        let message = report
            .file_errors
            .iter()
            .find(|e| e.code == code.code())
            .map(|e| e.message.clone())
            .unwrap_or_default();
        let refusal = FileMessage::new(code, message);
        write_refused(&mut writer, json, file, &refusal)?;
        return writer.finish();
    }
    let mut outcomes = lines.iter().peekable();
    let mut write = |line: u64, raw: &[String]| -> std::io::Result<()> {
        while outcomes.peek().is_some_and(|o| o.line < line as i64) {
            outcomes.next();
        }
        match outcomes.peek() {
            Some(o) if o.line == line as i64 => {
                let status = LineStatus::parse(&o.status).unwrap_or(LineStatus::Accepte);
                let messages: Vec<LineMessage> = o
                    .codes
                    .iter()
                    .zip(&o.messages)
                    .filter_map(|(c, m)| {
                        LineCode::parse(c).map(|code| LineMessage {
                            code,
                            field: None,
                            message: m.clone(),
                        })
                    })
                    .collect();
                writer.write_line(raw, status, &messages)
            }
            _ => writer.write_line(raw, LineStatus::Accepte, &[]),
        }
    };
    if json {
        let mut records = JsonRecords::new(file, cols);
        while let Ok(Some(r)) = records.next_record() {
            write(r.line(), r.raw())?;
        }
    } else if let Ok(mut records) =
        CsvRecords::with_encoding(file, cols, Limits::default(), report.csv_encoding())
    {
        while let Ok(Some(r)) = records.next_record() {
            write(r.line(), r.raw())?;
        }
    }
    writer.finish()
}

/// The lines of a refused file, as they were (fields by position, a field that is not UTF-8
/// read as Windows-1252, whose undefined bytes come out as control characters), each with
/// the refusal.
fn write_refused<R: Read, W: Write>(
    writer: &mut ReportWriter<W>,
    json: bool,
    file: R,
    refusal: &FileMessage,
) -> std::io::Result<()> {
    if json {
        // A refused JSON body has no records to repeat: one line carries the refusal.
        return writer.write_refused_line::<&str>(&[], refusal);
    }
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .has_headers(true)
        .flexible(true)
        .from_reader(file);
    let mut record = csv::ByteRecord::new();
    while let Ok(true) = reader.read_byte_record(&mut record) {
        let fields: Vec<String> = record
            .iter()
            .map(|f| siseri_exchange::encoding::decode_any(f).into_owned())
            .collect();
        if fields.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        writer.write_refused_line(&fields, refusal)?;
    }
    Ok(())
}

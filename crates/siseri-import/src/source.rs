//! Reading a received file on a thread of its own, chunk by chunk.
//!
//! Parsing is synchronous (`std::io::Read`) and the database is not: a blocking thread reads
//! and checks records and hands them over in chunks through a small bounded channel, so at
//! most a few chunks are ever in memory, whatever the file's size, and parsing overlaps with
//! the database's work.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::PathBuf;

use chrono::NaiveDate;
use sha2::{Digest, Sha256};
use siseri_domain::codes::TransmissionFormat;
use siseri_exchange::encoding::CsvEncoding;
use siseri_exchange::formats::{Checked, operational, results, workers};
use siseri_exchange::records::{CsvRecords, FileMessage, JsonRecords, Limits, ReadError, Record};
use tokio::sync::mpsc;

use crate::report::columns;

/// Records per chunk: a chunk's lookups are one query per kind of data, its new rows one
/// bulk write. Larger chunks make fewer statements (each `COPY` also waits for the server's
/// acknowledgement at its end over TCP, see docs/performance.md); smaller ones less memory.
pub const CHUNK: usize = 5000;

/// One record after the registry-free checks.
#[derive(Debug)]
pub(crate) enum Parsed {
    Workers(Checked<workers::WorkerLine>),
    Results(Checked<results::ResultLine>),
    Operational(Checked<operational::OperationalLine>),
}

/// A checked record with its values as sent (for the reconciliation queue).
#[derive(Debug)]
pub(crate) struct Line {
    pub(crate) parsed: Parsed,
    pub(crate) raw: Vec<String>,
}

/// What the reading thread sends.
#[derive(Debug)]
pub(crate) enum Message {
    /// Records, and the bytes read since the previous message (kept as the file's part).
    Chunk(Vec<Line>, Vec<u8>),
    /// The end: the file's SHA-256, size, and last bytes.
    End {
        warnings: Vec<FileMessage>,
        sha256: String,
        bytes: u64,
        tail: Vec<u8>,
    },
    /// The file is refused as a whole.
    Refused(FileMessage, Vec<FileMessage>),
    /// The input failed.
    Failed(io::Error),
}

/// Keeps what passes through: the hash, the size, and the bytes not yet handed over.
struct Tee<R> {
    inner: R,
    hash: Sha256,
    bytes: u64,
    pending: Vec<u8>,
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let got = buf.get(..n).unwrap_or_default();
        self.hash.update(got);
        self.bytes += n as u64;
        self.pending.extend_from_slice(got);
        Ok(n)
    }
}

/// A reader over the shared [`Tee`] (the record readers own their input).
struct Shared<'a, R>(&'a std::cell::RefCell<Tee<R>>);

impl<R: Read> Read for Shared<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.borrow_mut().read(buf)
    }
}

enum Reader<'a, R: Read> {
    Csv(CsvRecords<Shared<'a, R>>),
    Json(JsonRecords<Shared<'a, R>>),
}

impl<R: Read> Reader<'_, R> {
    fn next_record(&mut self) -> Result<Option<Record>, ReadError> {
        match self {
            Reader::Csv(r) => r.next_record(),
            Reader::Json(r) => r.next_record(),
        }
    }

    fn warnings(&self) -> &[FileMessage] {
        match self {
            Reader::Csv(r) => r.warnings(),
            Reader::Json(r) => r.warnings(),
        }
    }
}

/// Checks one record.
pub(crate) fn check(format: TransmissionFormat, record: &Record, today: NaiveDate) -> Parsed {
    match format {
        TransmissionFormat::Workers => Parsed::Workers(workers::check(record, today)),
        TransmissionFormat::Results => Parsed::Results(results::check(record, today)),
        TransmissionFormat::OperationalDosimetry => {
            Parsed::Operational(operational::check(record, today))
        }
    }
}

/// Starts reading `path` on a blocking thread: a CSV file read as `csv` says, or a JSON
/// body when `csv` is `None`.
pub(crate) fn spawn(
    path: PathBuf,
    format: TransmissionFormat,
    csv: Option<CsvEncoding>,
    today: NaiveDate,
) -> mpsc::Receiver<Message> {
    let (tx, rx) = mpsc::channel(2);
    tokio::task::spawn_blocking(move || {
        let last = match read_all(&path, format, csv, today, &tx) {
            Ok(end) => end,
            Err((ReadError::Refused(m), warnings)) => Message::Refused(m, warnings),
            Err((ReadError::Io(e), _)) => Message::Failed(e),
        };
        let _ = tx.blocking_send(last);
    });
    rx
}

fn read_all(
    path: &PathBuf,
    format: TransmissionFormat,
    csv: Option<CsvEncoding>,
    today: NaiveDate,
    tx: &mpsc::Sender<Message>,
) -> Result<Message, (ReadError, Vec<FileMessage>)> {
    let file = File::open(path).map_err(|e| (ReadError::Io(e), Vec::new()))?;
    let tee = std::cell::RefCell::new(Tee {
        inner: BufReader::with_capacity(1 << 16, file),
        hash: Sha256::new(),
        bytes: 0,
        pending: Vec::new(),
    });
    let cols = columns(format);
    let mut reader = match csv {
        None => Reader::Json(JsonRecords::new(Shared(&tee), cols)),
        Some(encoding) => Reader::Csv(
            CsvRecords::with_encoding(Shared(&tee), cols, Limits::default(), encoding)
                .map_err(|e| (e, Vec::new()))?,
        ),
    };
    let mut lines = Vec::with_capacity(CHUNK);
    loop {
        let record = match reader.next_record() {
            Ok(r) => r,
            Err(e) => return Err((e, reader.warnings().to_vec())),
        };
        let end = record.is_none();
        if let Some(record) = record {
            let parsed = check(format, &record, today);
            lines.push(Line {
                parsed,
                raw: record.raw().to_vec(),
            });
        }
        if lines.len() >= CHUNK || (end && !lines.is_empty()) {
            let bytes = std::mem::take(&mut tee.borrow_mut().pending);
            let chunk = std::mem::replace(&mut lines, Vec::with_capacity(CHUNK));
            if tx.blocking_send(Message::Chunk(chunk, bytes)).is_err() {
                return Err((
                    ReadError::Io(io::Error::other("import abandonné")),
                    Vec::new(),
                ));
            }
        }
        if end {
            break;
        }
    }
    let warnings = reader.warnings().to_vec();
    drop(reader);
    let tee = tee.into_inner();
    Ok(Message::End {
        warnings,
        sha256: hex::encode(tee.hash.finalize()),
        bytes: tee.bytes,
        tail: tee.pending,
    })
}

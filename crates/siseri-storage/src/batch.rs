//! A batch of writes applied in one transaction.

use chrono::{DateTime, Utc};
use siseri_domain::codes::{Nature, Position, Quantity, TransmissionFormat};
use siseri_domain::ids::{Nir, Siren, Siret};
use siseri_domain::journal::JournalEvent;
use siseri_domain::result::{ReadingKey, ReadingValues, Reference, ResultValues, Sender};
use siseri_domain::worker::{AttachmentTerms, NewWorker};

/// The transmission a batch carries, stored with it (file fingerprint and report).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTransmission {
    /// Which format.
    pub format: TransmissionFormat,
    /// The sender's organisation.
    pub sender_siren: Option<Siren>,
    /// The sending account.
    pub login: String,
    /// Reception time.
    pub received_at: DateTime<Utc>,
    /// SHA-256 of the received bytes, hex.
    pub file_sha256: String,
    /// The execution report, JSON.
    pub report: String,
    /// `csv` or `json`.
    pub media: String,
}

/// One write. Later operations may refer to what earlier ones created (by NIR).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOp {
    /// Creates the worker unless the NIR is known (then nothing changes).
    EnsureWorker(NewWorker),
    /// Corrects a worker's identity: the identity it replaces is kept in its history.
    CorrectIdentity {
        /// The worker.
        nir: Nir,
        /// The corrected identity (same NIR).
        identity: NewWorker,
        /// Why.
        reason: String,
    },
    /// A new attachment, with its first version.
    AddAttachment {
        /// The worker (known, or created earlier in the batch).
        nir: Nir,
        /// The establishment (must exist).
        siret: Siret,
        /// The terms.
        terms: AttachmentTerms,
    },
    /// A new version of an attachment.
    AddAttachmentVersion {
        /// The attachment.
        attachment_id: i64,
        /// The version this one must follow (optimistic check).
        after_version: u32,
        /// The new terms.
        terms: AttachmentTerms,
    },
    /// A new result, with its first version.
    AddResult {
        /// Who sent it.
        sender: Sender,
        /// The sender's reference (unique per sender).
        reference: Reference,
        /// The worker.
        nir: Nir,
        /// The establishment.
        siret: Siret,
        /// Nature.
        nature: Nature,
        /// Quantity.
        quantity: Quantity,
        /// Position.
        position: Option<Position>,
        /// The values of version 1.
        values: ResultValues,
        /// Why, when a person entered it.
        justification: Option<String>,
    },
    /// A new version of a result (correction, completion or cancellation).
    AddResultVersion {
        /// The result.
        result_id: i64,
        /// The version this one must follow (optimistic check).
        after_version: u32,
        /// The new values.
        values: ResultValues,
        /// Why.
        justification: Option<String>,
    },
    /// A new operational reading, with its first version.
    AddReading {
        /// Its identity.
        key: ReadingKey,
        /// The INB establishment it was sent from.
        site_inb: Siret,
        /// The values.
        values: ReadingValues,
    },
    /// An alert, pregnancy or lifecycle write.
    Alert(AlertOp),
    /// A new version of a reading (`CODE_METROLOGIE = C`).
    AddReadingVersion {
        /// The reading.
        reading_id: i64,
        /// The version this one must follow.
        after_version: u32,
        /// The new values.
        values: ReadingValues,
    },
}

/// The alert, pregnancy and lifecycle writes (rules.md §4–§5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlertOp {
    /// Raises an alert, with its first step (`OUVERTE`).
    Raise {
        /// The worker.
        worker_id: i64,
        /// Limit kind code.
        kind: String,
        /// The pregnancy (`ENFANT_A_NAITRE`).
        pregnancy_id: Option<i64>,
        /// First month.
        first_month: i32,
        /// Last month.
        last_month: i32,
        /// Largest total over those months.
        dose_usv: i64,
        /// The step's text.
        text: String,
    },
    /// Extends an alert's months (and dose), with a note.
    Extend {
        /// The alert.
        alert_id: i64,
        /// New first month.
        first_month: i32,
        /// New last month.
        last_month: i32,
        /// Largest total.
        dose_usv: i64,
        /// The note.
        text: String,
    },
    /// Adds a note, status unchanged.
    Note {
        /// The alert.
        alert_id: i64,
        /// The note.
        text: String,
    },
    /// Moves an alert to a status (the transition is checked by the caller).
    Step {
        /// The alert.
        alert_id: i64,
        /// The status it must have now (optimistic check).
        from: String,
        /// New status.
        to: String,
        /// Text.
        text: String,
    },
    /// Declares a pregnancy.
    DeclarePregnancy {
        /// The worker.
        worker_id: i64,
        /// Declaration date.
        declared_on: chrono::NaiveDate,
        /// Why.
        justification: String,
    },
    /// Declares a pregnancy's end.
    EndPregnancy {
        /// The pregnancy.
        pregnancy_id: i64,
        /// End date.
        ended_on: chrono::NaiveDate,
    },
}

/// Writes applied together, by one author at one instant, journaled as one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteBatch {
    /// Login of the account writing.
    pub author: String,
    /// When.
    pub at: DateTime<Utc>,
    /// The journal entry of the batch (written in the same transaction); the ids of the
    /// workers the operations touch are added to it.
    pub event: JournalEvent,
    /// The transmission, if the batch comes from one.
    pub transmission: Option<NewTransmission>,
    /// The writes, in order.
    pub ops: Vec<WriteOp>,
}

impl WriteBatch {
    /// An empty batch, journaled as a write (`ECRITURE`) of a worker's record; callers
    /// refine `event` (data kind, role, detail).
    pub fn new(author: impl Into<String>, at: DateTime<Utc>) -> Self {
        let author = author.into();
        let event = JournalEvent::new(at, &author, "ECRITURE", "DOSSIER");
        WriteBatch {
            author,
            at,
            event,
            transmission: None,
            ops: Vec::new(),
        }
    }
}

/// What a committed batch created.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    /// The transmission's id.
    pub transmission_id: Option<i64>,
    /// The journal entry's sequence number.
    pub journal_seq: i64,
    /// For each operation, the id of the row it created or extended
    /// (worker, attachment, result or reading id).
    pub ids: Vec<i64>,
}

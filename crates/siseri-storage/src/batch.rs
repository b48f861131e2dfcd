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

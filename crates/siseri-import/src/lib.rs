//! Receiving transmissions (exchange.md): the registry's checks of every line, storage of a
//! whole file in one transaction, the execution report, and the reconciliation queue.
//!
//! The page, the API and the command line all call [`import`], so that a file gives the same
//! report whichever way it came. The file is read on a thread of its own and processed in
//! chunks ([`source`]); each chunk's lookups are one query per kind of data, its new rows one
//! bulk insert, so that the import runs close to the database's bulk-load speed while memory
//! stays flat.

pub mod alerts;
mod lines;
mod operational;
pub mod physician;
mod pipeline;
pub mod queue;
pub mod report;
mod results;
mod source;
mod workers;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use chrono::{DateTime, NaiveDate, Utc};
use siseri_domain::access::{Person, may_send};
use siseri_domain::codes::TransmissionFormat;
use siseri_domain::journal::JournalEvent;
use siseri_domain::{Account, Role, Siret};
use siseri_exchange::records::FileMessage;
use siseri_storage::{ImportTx, NewTransmission, Store, StoreError, TransmissionEnd};

pub use lines::Ctx;
pub use report::Report;
pub use siseri_exchange::encoding::CsvEncoding;
pub use source::CHUNK as CHUNK_RECORDS;

use report::{DONE, FileError, ReportSender, Totals};
use source::{Message, Parsed};

/// Why an import could not be carried out (as opposed to a file refused by its contents,
/// which is a [`Report`]).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The account may not send this format at all.
    #[error("{0}")]
    Forbidden(String),
    /// The storage failed; nothing was stored.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The input could not be read; nothing was stored.
    #[error("lecture du fichier : {0}")]
    Io(#[from] std::io::Error),
}

/// What is sent, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The format.
    pub format: TransmissionFormat,
    /// JSON records rather than CSV.
    pub json: bool,
    /// How a CSV file's bytes are read (`?encodage=`; JSON bodies are UTF-8 whatever it
    /// says).
    pub encoding: CsvEncoding,
    /// Validate only: nothing is stored.
    pub dry_run: bool,
    /// Reception.
    pub received_at: DateTime<Utc>,
    /// Today in Europe/Paris at reception.
    pub today: NaiveDate,
}

/// Progress of an import, readable while it runs (for `GET /api/v1/transmissions/{id}`).
#[derive(Debug, Default)]
pub struct Progress {
    /// The transmission's id once its row exists (0 before, and for a dry run).
    pub transmission: AtomicI64,
    /// Records processed so far.
    pub lines: AtomicU64,
}

/// The sender: its account and what the access policy knows of it.
#[derive(Debug, Clone)]
pub struct SenderInfo {
    /// The account.
    pub account: Account,
    /// Its facts for the access policy.
    pub person: Person,
}

/// Checks that `sender` may send `format`, and finds the INB site it sends from.
fn authorise(
    sender: &SenderInfo,
    format: TransmissionFormat,
    establishments: &[siseri_domain::worker::Establishment],
) -> Result<Option<Siret>, ImportError> {
    let role = sender.account.spec.role;
    if !may_send(role, format) {
        return Err(ImportError::Forbidden(format!(
            "le rôle {} ne peut pas envoyer le format {}",
            role.code(),
            format.code()
        )));
    }
    if format == TransmissionFormat::Results && sender.account.spec.siren.is_none() {
        return Err(ImportError::Forbidden(
            "un organisme sans SIREN ne peut pas envoyer de résultats".into(),
        ));
    }
    if format == TransmissionFormat::OperationalDosimetry && role == Role::ExploitantInb {
        let site = sender
            .account
            .spec
            .sirets
            .iter()
            .find(|s| establishments.iter().any(|e| &e.siret == *s && e.inb));
        return match site {
            Some(s) => Ok(Some(s.clone())),
            None => Err(ImportError::Forbidden(
                "aucun établissement INB n'est rattaché à ce compte d'exploitant".into(),
            )),
        };
    }
    Ok(None)
}

/// Imports the file at `path`: reads it, checks every line, stores the transmission (file,
/// report, lines) in one transaction unless it is a dry run, and returns the report.
///
/// # Errors
/// [`ImportError::Forbidden`] when the account may not send this format; a storage or
/// input failure (then nothing was stored).
pub async fn import(
    store: &dyn Store,
    path: &Path,
    request: &Request,
    sender: &SenderInfo,
    progress: Arc<Progress>,
) -> Result<Report, ImportError> {
    let establishments = store.establishments().await?;
    let site_inb = authorise(sender, request.format, &establishments)?;
    let login = sender.account.spec.login.clone();
    let siren = sender.account.spec.siren.clone();
    let mut report = Report {
        transmission: None,
        format: request.format.code().to_owned(),
        sender: ReportSender {
            siren: siren.as_ref().map(|s| s.as_str().to_owned()),
            login: login.clone(),
        },
        received_at: request
            .received_at
            .with_timezone(&siseri_domain::clock::paris_offset(request.received_at))
            .to_rfc3339(),
        dry_run: request.dry_run,
        etat: report::IN_PROGRESS.to_owned(),
        lignes_traitees: 0,
        file_errors: Vec::new(),
        totals: Totals::default(),
        lines: Vec::new(),
        deja_recu: false,
    };
    if !request.dry_run
        && let Some(earlier) = already_received(store, path, request, sender).await?
    {
        return Ok(earlier);
    }
    let head = NewTransmission {
        format: request.format,
        sender_siren: siren,
        login: login.clone(),
        received_at: request.received_at,
        file_sha256: String::new(),
        report: report.summary_json(),
        media: if request.json { "json" } else { "csv" }.to_owned(),
    };
    let mut tx = store
        .begin_import(
            (!request.dry_run).then_some(&head),
            &login,
            request.received_at,
        )
        .await?;
    report.transmission = tx.transmission_id();
    progress
        .transmission
        .store(tx.transmission_id().unwrap_or(0), Ordering::Relaxed);

    let mut ctx = Ctx::new(request, sender, site_inb);
    let mut rx = source::spawn(
        path.to_path_buf(),
        request.format,
        (!request.json).then_some(request.encoding),
        request.today,
    );
    let mut part = 0i64;
    // `resultats` files go through the pipeline, the others chunk by chunk.
    let mut pipeline =
        (request.format == TransmissionFormat::Results).then(|| pipeline::Pipeline::new(&mut ctx));
    let end = loop {
        let Some(message) = rx.recv().await else {
            return Err(ImportError::Io(std::io::Error::other(
                "la lecture du fichier s'est interrompue",
            )));
        };
        match message {
            Message::Chunk(lines, bytes) => {
                if !bytes.is_empty() {
                    tx.store_file_part(part, &bytes).await?;
                    part += 1;
                }
                let n = match pipeline.as_mut() {
                    Some(p) => {
                        let (back, n) = p.step(ctx, tx.as_mut(), Some(lines)).await?;
                        ctx = back;
                        n
                    }
                    None => {
                        let n = lines.len() as u64;
                        process_chunk(&mut ctx, tx.as_mut(), lines).await?;
                        n
                    }
                };
                report.lignes_traitees += n;
                progress.lines.fetch_add(n, Ordering::Relaxed);
            }
            Message::End {
                warnings,
                sha256,
                bytes,
                tail,
            } => {
                if !tail.is_empty() {
                    tx.store_file_part(part, &tail).await?;
                }
                if let Some(mut p) = pipeline.take() {
                    while p.busy() {
                        let (back, n) = p.step(ctx, tx.as_mut(), None).await?;
                        ctx = back;
                        report.lignes_traitees += n;
                        progress.lines.fetch_add(n, Ordering::Relaxed);
                    }
                    p.close(&mut ctx);
                }
                report
                    .file_errors
                    .extend(warnings.iter().map(FileError::from));
                break (sha256, bytes);
            }
            Message::Refused(refusal, warnings) => {
                drop(tx);
                report
                    .file_errors
                    .extend(warnings.iter().map(FileError::from));
                return refuse(store, path, request, report, &head, refusal, progress).await;
            }
            Message::Failed(e) => return Err(ImportError::Io(e)),
        }
    };
    report.totals = ctx.totals.clone();
    report.lines = std::mem::take(&mut ctx.lines);
    report.etat = DONE.to_owned();
    if request.dry_run {
        // Everything was written in the transaction, so that later lines saw earlier ones
        // exactly as in a real send; dropping it forgets all of it (alerts are not in the
        // report: they are not reconciled).
        drop(tx);
        return Ok(report);
    }
    ctx.consolidate(tx.as_mut()).await?;
    let mut event = transmission_event(sender, request, &report);
    event.worker_ids = ctx.touched.iter().copied().collect();
    tx.finish(TransmissionEnd {
        report: report.summary_json(),
        file_sha256: end.0,
        file_bytes: i64::try_from(end.1).unwrap_or(i64::MAX),
        refused: false,
        event,
    })
    .await?;
    notify_superseded(store, &ctx.superseded, request.today).await?;
    Ok(report)
}

/// The report of the transmission this very file was already received in, from the same
/// organisation (or account, without one) in the same format, marked `deja_recu`: a file sent
/// again is not stored again (exchange.md §6). Answering it is a read of that report, journaled.
async fn already_received(
    store: &dyn Store,
    path: &Path,
    request: &Request,
    sender: &SenderInfo,
) -> Result<Option<Report>, ImportError> {
    let sha256 = file_sha256(path).await?;
    let owner = match &sender.account.spec.siren {
        Some(s) => siseri_storage::TransmissionFilter::Organisation(s.clone()),
        None => siseri_storage::TransmissionFilter::Login(sender.account.spec.login.clone()),
    };
    let Some(row) = store
        .transmission_by_file(&owner, request.format, &sha256)
        .await?
    else {
        return Ok(None);
    };
    let lines = store.transmission_lines(row.id).await?;
    let mut report = Report::from_stored(&row.report, lines)
        .map_err(|e| StoreError::Corrupt(format!("rapport {} : {e}", row.id)))?;
    report.deja_recu = true;
    let mut event = sender_event(sender, request, "LECTURE", "RAPPORT");
    event.detail = Some(format!(
        "transmission {} : le même fichier envoyé de nouveau, rien n'est enregistré",
        row.id
    ));
    store.append_journal(&[event]).await?;
    Ok(Some(report))
}

/// The SHA-256 of a file, read on a blocking thread (hex).
async fn file_sha256(path: &Path) -> Result<String, ImportError> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || -> std::io::Result<String> {
        use sha2::{Digest, Sha256};
        use std::io::Read;
        let mut file = std::fs::File::open(path)?;
        let mut hash = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hash.update(buf.get(..n).unwrap_or_default());
        }
        Ok(hex::encode(hash.finalize()))
    })
    .await
    .map_err(|e| ImportError::Io(std::io::Error::other(e)))?
    .map_err(ImportError::Io)
}

/// Tells the physicians following a worker (designated on one of his establishments today)
/// that a version they wrote was superseded by the sending body's (exchange.md §4): an
/// inbox item each, keyed so that it is added once.
async fn notify_superseded(
    store: &dyn Store,
    superseded: &[(siseri_domain::Nir, i64, String)],
    today: NaiveDate,
) -> Result<(), StoreError> {
    for (nir, result_id, reference) in superseded {
        let Some(worker) = store.worker(nir).await? else {
            continue;
        };
        let version = store
            .result(*result_id)
            .await?
            .and_then(|r| r.current().map(|c| c.version))
            .unwrap_or(0);
        let mut items = Vec::new();
        for a in store.attachments(nir).await? {
            for d in store.designations_on(&a.siret).await? {
                if d.role != siseri_domain::worker::DesignationRole::Physician || !d.covers(today) {
                    continue;
                }
                let Some(account) = store.account(&d.login).await? else {
                    continue;
                };
                if items
                    .iter()
                    .any(|i: &siseri_storage::NewInboxItem| i.account_id == account.id)
                {
                    continue;
                }
                items.push(siseri_storage::NewInboxItem {
                    account_id: account.id,
                    alert_id: None,
                    message_id: format!("<version-{result_id}-{version}-{}@siseri>", account.id),
                    subject: format!("Résultat {reference} remplacé par l'organisme de dosimétrie"),
                    body: format!(
                        "Le résultat {reference} de {} {} (NIR {}), dont la version en vigueur \
                         avait été écrite par un médecin, a été remplacé par une nouvelle version \
                         (version {version}) envoyée par l'organisme de dosimétrie. Consultez le \
                         dossier pour en voir l'historique.",
                        worker.prenom, worker.nom, worker.nir
                    ),
                });
            }
        }
        if !items.is_empty() {
            store.outbox().add_inbox_items(&items, Utc::now()).await?;
        }
    }
    Ok(())
}

/// A journal entry of the sender's, at the reception instant.
fn sender_event(sender: &SenderInfo, request: &Request, action: &str, kind: &str) -> JournalEvent {
    let mut event = JournalEvent::new(
        request.received_at,
        &sender.account.spec.login,
        action,
        kind,
    );
    event.role = Some(sender.account.spec.role.code().to_owned());
    event
}

fn transmission_event(sender: &SenderInfo, request: &Request, report: &Report) -> JournalEvent {
    let mut event = sender_event(sender, request, "ECRITURE", "TRANSMISSION");
    let t = &report.totals;
    event.detail = Some(format!(
        "transmission {} {} : {} lignes, {} acceptées, {} doublons, {} en attente, {} rejetées",
        report.transmission.unwrap_or(0),
        request.format.code(),
        t.lines,
        t.accepted,
        t.duplicates,
        t.on_hold,
        t.rejected
    ));
    if report.refusal().is_some() {
        event.outcome = "REFUS".to_owned();
    }
    event
}

/// A file refused as a whole: nothing of its lines is kept; the file and its report are
/// (unless this is a dry run).
async fn refuse(
    store: &dyn Store,
    path: &Path,
    request: &Request,
    mut report: Report,
    head: &NewTransmission,
    refusal: FileMessage,
    progress: Arc<Progress>,
) -> Result<Report, ImportError> {
    report.file_errors.retain(|e| e.code != refusal.code.code());
    report.file_errors.push(FileError::from(&refusal));
    report.totals = Totals::default();
    report.lines = Vec::new();
    report.lignes_traitees = 0;
    report.etat = DONE.to_owned();
    if request.dry_run {
        report.transmission = None;
        return Ok(report);
    }
    let mut tx = store
        .begin_import(Some(head), &head.login, request.received_at)
        .await?;
    report.transmission = tx.transmission_id();
    progress
        .transmission
        .store(tx.transmission_id().unwrap_or(0), Ordering::Relaxed);
    let (sha256, bytes) = store_file(tx.as_mut(), path).await?;
    let sender = SenderInfo {
        account: Account {
            id: 0,
            spec: siseri_domain::NewAccount::new(head.login.clone(), Role::Admin),
        },
        person: Person::new(Role::Admin),
    };
    let mut event = transmission_event(&sender, request, &report);
    event.role = None;
    tx.finish(TransmissionEnd {
        report: report.summary_json(),
        file_sha256: sha256,
        file_bytes: bytes,
        refused: true,
        event,
    })
    .await?;
    Ok(report)
}

/// Bytes per kept part of a refused file.
const PART: usize = 1 << 20;

/// Keeps the whole file (a refused one, read again from the start).
async fn store_file(tx: &mut dyn ImportTx, path: &Path) -> Result<(String, i64), ImportError> {
    use sha2::{Digest, Sha256};
    use tokio::io::AsyncReadExt;
    let mut file = tokio::fs::File::open(path).await?;
    let mut hash = Sha256::new();
    let mut total = 0i64;
    let mut part = 0i64;
    let mut buf = vec![0u8; PART];
    loop {
        let mut filled = 0;
        while filled < PART {
            let n = file.read(buf.get_mut(filled..).unwrap_or_default()).await?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        if filled == 0 {
            break;
        }
        let bytes = buf.get(..filled).unwrap_or_default();
        hash.update(bytes);
        total += filled as i64;
        tx.store_file_part(part, bytes).await?;
        part += 1;
    }
    Ok((hex::encode(hash.finalize()), total))
}

async fn process_chunk(
    ctx: &mut Ctx,
    tx: &mut dyn ImportTx,
    lines: Vec<source::Line>,
) -> Result<(), StoreError> {
    match lines.first().map(|l| &l.parsed) {
        None => Ok(()),
        Some(Parsed::Results(_)) => results::chunk(ctx, tx, lines, None).await,
        Some(Parsed::Workers(_)) => workers::chunk(ctx, tx, lines, None).await,
        Some(Parsed::Operational(_)) => operational::chunk(ctx, tx, lines, None).await,
    }
}

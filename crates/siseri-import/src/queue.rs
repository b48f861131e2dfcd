//! The reconciliation queue (exchange.md §6): held lines, the matches suggested for them,
//! their resolution by an administrator, and the automatic attachment of operational
//! readings once their worker is declared.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use siseri_domain::access::Person;
use siseri_domain::codes::TransmissionFormat;
use siseri_domain::journal::JournalEvent;
use siseri_domain::result::Sender;
use siseri_domain::worker::Worker;
use siseri_domain::{Account, NewAccount, Nir, Role, Siret};
use siseri_exchange::records::{JsonRecords, LineCode, LineStatus};
use siseri_exchange::values::{normalize_name, parse_date};
use siseri_storage::{
    ImportTx, LineRow, PendingResolution, PendingRow, Store, StoreError, TransmissionEnd,
};

use crate::lines::Ctx;
use crate::report::{Report, ReportLine, columns};
use crate::source::{Line, Parsed, check};
use crate::{Request, SenderInfo};

/// Who resolves lines automatically.
pub const AUTOMATIC: &str = "automatique";

/// A worker the registry suggests for a held line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suggestion {
    /// `MEME_NIR` (the line's NIR, whose names or birth date differ) or `MEME_IDENTITE`
    /// (same names and birth date under another NIR).
    pub raison: &'static str,
    /// NIR.
    pub nir: String,
    /// Birth name.
    pub nom: String,
    /// First name.
    pub prenom: String,
    /// Date of birth.
    pub date_naissance: NaiveDate,
    /// The worker's surrogate id (for the journal; never shown).
    #[serde(skip)]
    pub worker_id: i64,
}

/// A held line with its suggestions.
#[derive(Debug, Clone, Serialize)]
pub struct PendingView {
    /// Queue id.
    pub id: i64,
    /// Transmission.
    pub transmission: i64,
    /// Line in that transmission.
    pub ligne: i64,
    /// Format.
    pub format: String,
    /// Sending organisation.
    pub emetteur: Option<String>,
    /// Sending account.
    pub login: String,
    /// Hold codes.
    pub codes: Vec<String>,
    /// The fields that conflicted.
    pub conflits: Vec<String>,
    /// The line as sent (column → value).
    pub ligne_recue: serde_json::Value,
    /// When it was held.
    pub recue_le: DateTime<Utc>,
    /// `ACCEPTE`, `DOUBLON` or `REJETE` once resolved.
    pub resolution: Option<String>,
    /// By whom.
    pub resolue_par: Option<String>,
    /// Suggested workers.
    pub suggestions: Vec<Suggestion>,
}

/// What an administrator decides for a held line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Attach the line to this worker.
    Attach(Nir),
    /// Attach the line to this worker and correct his identity to the line's (NOM, PRENOM,
    /// DATENAISSANCE, SEXE); the replaced identity is kept in his history.
    AttachAndCorrect(Nir),
    /// Reject it (`REJET_GESTIONNAIRE`) for this reason.
    Reject(String),
}

/// Why a resolution failed.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// No such line.
    #[error("ligne en attente introuvable")]
    NotFound,
    /// Already resolved.
    #[error("cette ligne a déjà été traitée")]
    Resolved,
    /// The worker to attach to is unknown.
    #[error("NIR inconnu du registre : déclarer le travailleur d'abord")]
    UnknownWorker,
    /// The line carries no identity to correct with (operational dosimetry).
    #[error("cette ligne ne porte pas d'identité (NOM, PRENOM, DATENAISSANCE, SEXE) à reprendre")]
    NoIdentity,
    /// A rejection needs a reason.
    #[error("un motif de rejet est obligatoire")]
    ReasonRequired,
    /// Storage.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The queue, with suggestions.
///
/// # Errors
/// Storage errors.
pub async fn list(store: &dyn Store, open_only: bool) -> Result<Vec<PendingView>, StoreError> {
    let mut out = Vec::new();
    for p in store.pending_lines(open_only).await? {
        let suggestions = if p.resolved_at.is_none() {
            suggestions(store, &p).await?
        } else {
            Vec::new()
        };
        out.push(view(p, suggestions));
    }
    Ok(out)
}

/// One line of the queue, with suggestions.
///
/// # Errors
/// Storage errors.
pub async fn get(store: &dyn Store, id: i64) -> Result<Option<PendingView>, StoreError> {
    let Some(p) = store.pending_line(id).await? else {
        return Ok(None);
    };
    let s = suggestions(store, &p).await?;
    Ok(Some(view(p, s)))
}

/// The registered workers a queue's views show by name (their suggestions): what the
/// journal entry of reading the queue names.
pub fn shown_workers(views: &[PendingView]) -> Vec<i64> {
    let mut ids: Vec<i64> = views
        .iter()
        .flat_map(|v| v.suggestions.iter().map(|s| s.worker_id))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

fn view(p: PendingRow, suggestions: Vec<Suggestion>) -> PendingView {
    PendingView {
        id: p.id,
        transmission: p.transmission_id,
        ligne: p.line,
        format: p.format.code().to_owned(),
        emetteur: p.sender_siren.map(|s| s.as_str().to_owned()),
        login: p.login,
        codes: p.codes,
        conflits: p.conflicts,
        ligne_recue: serde_json::from_str(&p.record).unwrap_or(serde_json::Value::Null),
        recue_le: p.created_at,
        resolution: p.resolution,
        resolue_par: p.resolved_by,
        suggestions,
    }
}

fn field<'a>(record: &'a serde_json::Value, name: &str) -> &'a str {
    record
        .get(name)
        .and_then(|v| v.as_str())
        .map_or("", str::trim)
}

async fn suggestions(store: &dyn Store, p: &PendingRow) -> Result<Vec<Suggestion>, StoreError> {
    let record: serde_json::Value = serde_json::from_str(&p.record).unwrap_or_default();
    let suggest = |raison, w: Worker| Suggestion {
        raison,
        nir: w.nir.as_str().to_owned(),
        nom: w.nom,
        prenom: w.prenom,
        date_naissance: w.date_naissance,
        worker_id: w.id,
    };
    let mut out = Vec::new();
    if let Some(nir) = &p.nir
        && let Some(w) = store.worker(nir).await?
    {
        out.push(suggest("MEME_NIR", w));
    }
    let nom = normalize_name(field(&record, "NOM"));
    let prenom = normalize_name(field(&record, "PRENOM"));
    if let Ok(born) = parse_date(field(&record, "DATENAISSANCE"))
        && !nom.is_empty()
    {
        for w in store.workers_born_on(born).await? {
            if Some(&w.nir) != p.nir.as_ref()
                && normalize_name(&w.nom) == nom
                && normalize_name(&w.prenom) == prenom
            {
                out.push(suggest("MEME_IDENTITE", w));
            }
        }
    }
    Ok(out)
}

/// The line of a held record, re-read from the queue (its outcome keeps its own number).
fn reparse(p: &PendingRow, today: NaiveDate) -> Option<Line> {
    let body = format!("[{}]", p.record);
    let mut records = JsonRecords::new(body.as_bytes(), columns(p.format));
    let record = records.next_record().ok().flatten()?;
    let mut parsed = check(p.format, &record, today);
    let line = u64::try_from(p.line).unwrap_or(0);
    match &mut parsed {
        Parsed::Workers(c) => c.line = line,
        Parsed::Results(c) => c.line = line,
        Parsed::Operational(c) => c.line = line,
    }
    Some(Line {
        parsed,
        raw: record.raw().to_vec(),
    })
}

/// The state for re-processing a held line as its sender would have.
fn resolving_ctx(p: &PendingRow, today: NaiveDate) -> Ctx {
    let record: serde_json::Value = serde_json::from_str(&p.record).unwrap_or_default();
    let site = Siret::parse(field(&record, crate::operational::SITE_KEY)).ok();
    let account = Account {
        id: 0,
        spec: NewAccount {
            siren: p.sender_siren.clone(),
            ..NewAccount::new(p.login.clone(), Role::Admin)
        },
    };
    let request = Request {
        format: p.format,
        json: true,
        encoding: Default::default(),
        dry_run: false,
        received_at: p.created_at,
        today,
    };
    let sender = SenderInfo {
        account,
        person: Person::new(Role::Admin),
    };
    let mut ctx = Ctx::new(&request, &sender, site);
    if let Some(s) = &p.sender_siren {
        ctx.sender_key = Sender::Organisation(s.clone()).key();
    }
    ctx.resolving = true;
    ctx
}

/// Processes one held line attached to `worker`; its new outcome.
async fn apply_line(
    tx: &mut dyn ImportTx,
    p: &PendingRow,
    worker: &Worker,
    today: NaiveDate,
) -> Result<(ReportLine, Vec<i64>), StoreError> {
    let mut ctx = resolving_ctx(p, today);
    let Some(line) = reparse(p, today) else {
        return Err(StoreError::Corrupt(format!("ligne en attente {}", p.id)));
    };
    let lines = vec![line];
    match p.format {
        TransmissionFormat::Results => {
            crate::results::chunk(&mut ctx, tx, lines, Some(worker)).await?;
            ctx.consolidate(tx).await?;
        }
        TransmissionFormat::Workers => {
            crate::workers::chunk(&mut ctx, tx, lines, Some(worker)).await?
        }
        TransmissionFormat::OperationalDosimetry => {
            crate::operational::chunk(&mut ctx, tx, lines, Some(worker)).await?;
        }
    }
    let outcome = ctx.lines.pop().unwrap_or(ReportLine {
        line: p.line,
        reference: None,
        status: LineStatus::Accepte.code().to_owned(),
        codes: Vec::new(),
        messages: Vec::new(),
    });
    Ok((outcome, ctx.touched.into_iter().collect()))
}

/// Rewrites a held line's outcome in its transmission and closes it in the queue.
async fn close(
    tx: &mut dyn ImportTx,
    p: &PendingRow,
    mut outcome: ReportLine,
    by: &str,
    worker_id: Option<i64>,
    reason: Option<String>,
) -> Result<(), StoreError> {
    outcome.line = p.line;
    let summary = tx
        .transmission_summary(p.transmission_id)
        .await?
        .unwrap_or_default();
    let report = match serde_json::from_str::<Report>(&summary) {
        Ok(mut r) => {
            let to = LineStatus::parse(&outcome.status).unwrap_or(LineStatus::Rejete);
            let warned = to == LineStatus::Accepte && !outcome.codes.is_empty();
            r.totals.moved((LineStatus::EnAttente, true), (to, warned));
            r.summary_json()
        }
        Err(_) => summary,
    };
    tx.resolve_pending(&PendingResolution {
        id: p.id,
        resolution: outcome.status.clone(),
        resolved_by: by.to_owned(),
        at: Utc::now(),
        worker_id,
        reason,
        line: LineRow::from(&outcome),
        report,
    })
    .await
}

/// Attaches the operational readings held for the workers this import created.
pub(crate) async fn attach_waiting(
    created: &[Nir],
    tx: &mut dyn ImportTx,
    today: NaiveDate,
) -> Result<Vec<i64>, StoreError> {
    let mut touched = Vec::new();
    if created.is_empty() {
        return Ok(touched);
    }
    let held = tx
        .pending_for(TransmissionFormat::OperationalDosimetry, created)
        .await?;
    if held.is_empty() {
        return Ok(touched);
    }
    let workers = tx.workers(created).await?;
    for p in held {
        if !p
            .codes
            .iter()
            .any(|c| c == LineCode::TravailleurInconnu.code())
        {
            continue;
        }
        let Some(worker) = workers.iter().find(|w| Some(&w.nir) == p.nir.as_ref()) else {
            continue;
        };
        // Boxed: resolving a line may itself declare nobody, but the compiler cannot know.
        let (outcome, t) = Box::pin(apply_line(tx, &p, worker, today)).await?;
        touched.extend(t);
        close(tx, &p, outcome, AUTOMATIC, Some(worker.id), None).await?;
    }
    Ok(touched)
}

/// The identity a held line gives for `nir`, when it has one that is valid.
fn line_identity(p: &PendingRow, nir: &Nir) -> Option<siseri_domain::worker::NewWorker> {
    let record: serde_json::Value = serde_json::from_str(&p.record).ok()?;
    let nom = field(&record, "NOM");
    let prenom = field(&record, "PRENOM");
    let valid = |s: &str| !s.is_empty() && siseri_exchange::values::is_valid_name(s);
    if !valid(nom) || !valid(prenom) {
        return None;
    }
    Some(siseri_domain::worker::NewWorker {
        nir: nir.clone(),
        nom: nom.to_owned(),
        prenom: prenom.to_owned(),
        date_naissance: parse_date(field(&record, "DATENAISSANCE")).ok()?,
        sexe: siseri_domain::codes::Sex::parse(field(&record, "SEXE"))?,
    })
}

/// Resolves a held line: attaches it to a worker (then it is processed as its sender would
/// have seen it accepted) or rejects it with a reason. Journaled as the administrator's.
///
/// # Errors
/// [`QueueError`].
pub async fn resolve(
    store: &dyn Store,
    id: i64,
    decision: &Decision,
    admin: &str,
    today: NaiveDate,
) -> Result<ReportLine, QueueError> {
    let p = store.pending_line(id).await?.ok_or(QueueError::NotFound)?;
    if p.resolved_at.is_some() {
        return Err(QueueError::Resolved);
    }
    let now = Utc::now();
    let mut tx = store.begin_import(None, &p.login, now).await?;
    let mut event = JournalEvent::new(now, admin, "ECRITURE", "FILE_ATTENTE");
    event.role = Some(Role::Admin.code().to_owned());
    let outcome = match decision {
        Decision::Reject(reason) => {
            let reason = reason.trim();
            if reason.is_empty() {
                return Err(QueueError::ReasonRequired);
            }
            let outcome = ReportLine {
                line: p.line,
                reference: None,
                status: LineStatus::Rejete.code().to_owned(),
                codes: vec![LineCode::RejetGestionnaire.code().to_owned()],
                messages: vec![format!(
                    "ligne rejetée par le gestionnaire du registre : {reason}"
                )],
            };
            close(
                tx.as_mut(),
                &p,
                outcome.clone(),
                admin,
                None,
                Some(reason.to_owned()),
            )
            .await?;
            event.detail = Some(format!(
                "ligne {} de la transmission {} rejetée",
                p.line, p.transmission_id
            ));
            outcome
        }
        Decision::Attach(nir) | Decision::AttachAndCorrect(nir) => {
            let mut worker = tx
                .workers(std::slice::from_ref(nir))
                .await?
                .pop()
                .ok_or(QueueError::UnknownWorker)?;
            if matches!(decision, Decision::AttachAndCorrect(_)) {
                let identity = line_identity(&p, nir).ok_or(QueueError::NoIdentity)?;
                let reason = format!(
                    "rapprochement par {admin} : ligne {} de la transmission {}",
                    p.line, p.transmission_id
                );
                tx.apply(&[siseri_storage::WriteOp::CorrectIdentity {
                    nir: nir.clone(),
                    identity: identity.clone(),
                    reason,
                }])
                .await?;
                worker.nom = identity.nom;
                worker.prenom = identity.prenom;
                worker.date_naissance = identity.date_naissance;
                worker.sexe = identity.sexe;
            }
            let (outcome, touched) = apply_line(tx.as_mut(), &p, &worker, today).await?;
            close(
                tx.as_mut(),
                &p,
                outcome.clone(),
                admin,
                Some(worker.id),
                None,
            )
            .await?;
            event.worker_ids = touched;
            if !event.worker_ids.contains(&worker.id) {
                event.worker_ids.push(worker.id);
            }
            event.detail = Some(format!(
                "ligne {} de la transmission {} rattachée : {}",
                p.line, p.transmission_id, outcome.status
            ));
            outcome
        }
    };
    tx.finish(TransmissionEnd {
        report: String::new(),
        file_sha256: String::new(),
        file_bytes: 0,
        refused: false,
        event,
    })
    .await?;
    Ok(outcome)
}

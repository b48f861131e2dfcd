//! What the three formats share: the import's running state, the outcome of a line, the
//! identity comparison, and the registry lookups kept across chunks.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use siseri_domain::access::Person;
use siseri_domain::result::Sender;
use siseri_domain::totals::{Month, Series};
use siseri_domain::worker::{Establishment, Worker};
use siseri_domain::{Account, Nir, Siret};
use siseri_exchange::records::{CodeClass, Column, LineCode, LineMessage, LineStatus};
use siseri_exchange::values::normalize_name;
use siseri_storage::{ImportTx, LineRow, NewPending, StoreError};

use crate::report::{ReportLine, Totals};
use crate::{Request, SenderInfo};

/// The running state of one import (or of one queue resolution).
#[derive(Debug)]
pub struct Ctx {
    pub(crate) account: Account,
    pub(crate) person: Person,
    pub(crate) today: NaiveDate,
    /// `Sender::key()` of the organisation (results are keyed by it).
    pub(crate) sender_key: String,
    /// The sending account's INB site (`EXPLOITANT_INB`).
    pub(crate) site_inb: Option<Siret>,
    /// What the registry holds of the establishments and people seen so far.
    pub(crate) known: Known,
    /// Workers whose records this import touched (for the journal).
    pub(crate) touched: BTreeSet<i64>,
    /// Workers created by this import, not yet offered to the queue.
    pub(crate) created: Vec<Nir>,
    /// Totals so far.
    pub(crate) totals: Totals,
    /// Lines that are not plain acceptances, for the answer.
    pub(crate) lines: Vec<ReportLine>,
    /// Monthly sums to add at the end of the chunk.
    pub(crate) monthly: HashMap<(i64, Month, Series), (i64, i64)>,
    /// Whole-history sums per worker and series, for the alerts' bounds.
    pub(crate) series_totals: crate::alerts::SeriesTotals,
    /// Physicians' versions superseded by the sender's: (worker, result id, reference).
    pub(crate) superseded: Vec<(Nir, i64, String)>,
    /// Workers whose doses changed and whose alerts are not yet reconciled.
    pub(crate) to_consolidate: HashMap<i64, crate::alerts::WorkerFacts>,
    /// Alerts raised so far: (alert id, worker id), to notify once committed.
    pub(crate) raised: Vec<(i64, i64)>,
    /// Resolving a held line: its sender's rights were checked when it was received, and its
    /// outcome is written into its own transmission, not a new one.
    pub(crate) resolving: bool,
    /// A dry run: nothing will be stored, and what it tells the sender must not tell more
    /// than a real send would leave a trace of (issue 12: a dry run as an identity oracle).
    pub(crate) dry_run: bool,
}

/// The registry's establishments and people as an import has read them, kept across its
/// chunks (apart from [`Ctx`], so that the next chunk's lookups can run while the current
/// one is checked).
#[derive(Debug, Default)]
pub(crate) struct Known {
    /// Establishments seen so far (`None`: unknown to the registry).
    pub(crate) establishments: HashMap<Siret, Option<Establishment>>,
    /// The workers (`None`: unknown to the registry) and attachments of the NIRs seen so
    /// far, when the format cannot change them (see [`PeopleCache`]).
    pub(crate) people: Option<PeopleCache>,
}

impl Known {
    /// Loads the establishments of `sirets` not seen yet.
    pub(crate) async fn load_establishments(
        &mut self,
        tx: &mut dyn ImportTx,
        sirets: impl Iterator<Item = &Siret>,
    ) -> Result<(), StoreError> {
        let missing: BTreeSet<Siret> = sirets
            .filter(|s| !self.establishments.contains_key(*s))
            .cloned()
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let missing: Vec<Siret> = missing.into_iter().collect();
        let found = tx.establishments(&missing).await?;
        for s in missing {
            let e = found.iter().find(|e| e.siret == s).cloned();
            self.establishments.insert(s, e);
        }
        Ok(())
    }

    /// Records workers an import created, for the chunks to come.
    pub(crate) fn created(&mut self, workers: &[Worker]) {
        if let Some(cache) = self.people.as_mut() {
            for w in workers {
                cache.known.entry(w.nir.clone()).or_default().0 = Some(w.clone());
            }
        }
    }
}

/// Workers and attachments by NIR, kept across an import's chunks so that a worker named in
/// many chunks is looked up once.
///
/// Only for the formats that do not write them (`resultats` may create an unknown worker:
/// it is then put here too). What other transactions commit meanwhile is not seen, as if
/// the import read them all at its start. Bounded: past [`PeopleCache::MAX`] NIRs it starts
/// afresh, so that memory stays bounded whatever the file.
#[derive(Debug, Default)]
pub(crate) struct PeopleCache {
    known: HashMap<Nir, (Option<Worker>, Attachments)>,
}

/// A worker's attachments, shared between the cache and the chunks that name him (copied
/// only by the `travailleurs` format, which changes them).
pub(crate) type Attachments = std::sync::Arc<Vec<siseri_domain::worker::Attachment>>;

impl PeopleCache {
    /// NIRs kept at most (about 1.2 KB each with one attachment): a file naming more
    /// workers starts the cache afresh when it is full, and reads them again.
    const MAX: usize = 100_000;
}

impl Ctx {
    /// A fresh state for `sender`.
    pub fn new(request: &Request, sender: &SenderInfo, site_inb: Option<Siret>) -> Self {
        let sender_key = match &sender.account.spec.siren {
            Some(s) => Sender::Organisation(s.clone()).key(),
            None => format!("LOGIN:{}", sender.account.spec.login),
        };
        Ctx {
            account: sender.account.clone(),
            person: sender.person.clone(),
            today: request.today,
            sender_key,
            site_inb,
            known: Known {
                establishments: HashMap::new(),
                people: matches!(
                    request.format,
                    siseri_domain::codes::TransmissionFormat::Results
                        | siseri_domain::codes::TransmissionFormat::OperationalDosimetry
                )
                .then(PeopleCache::default),
            },
            touched: BTreeSet::new(),
            created: Vec::new(),
            totals: Totals::default(),
            lines: Vec::new(),
            monthly: HashMap::new(),
            series_totals: crate::alerts::SeriesTotals::default(),
            resolving: false,
            dry_run: request.dry_run,
            to_consolidate: HashMap::new(),
            raised: Vec::new(),
            superseded: Vec::new(),
        }
    }

    /// Loads the establishments of `sirets` not seen yet.
    pub(crate) async fn load_establishments(
        &mut self,
        tx: &mut dyn ImportTx,
        sirets: impl Iterator<Item = &Siret>,
    ) -> Result<(), StoreError> {
        self.known.load_establishments(tx, sirets).await
    }

    /// The establishment of a SIRET, if known.
    pub(crate) fn establishment(&self, siret: &Siret) -> Option<&Establishment> {
        self.known
            .establishments
            .get(siret)
            .and_then(Option::as_ref)
    }

    /// Adds to a monthly sum.
    pub(crate) fn add_monthly(
        &mut self,
        worker: i64,
        month: Month,
        series: Series,
        dose: i64,
        absences: i64,
    ) {
        let e = self
            .monthly
            .entry((worker, month, series))
            .or_insert((0, 0));
        e.0 += dose;
        e.1 += absences;
    }

    /// The chunk's monthly sums to write, taken out of the running state.
    pub(crate) fn take_monthly(&mut self) -> Vec<(i64, Month, Series, i64, i64)> {
        let mut deltas: Vec<(i64, Month, Series, i64, i64)> = self
            .monthly
            .drain()
            .filter(|(_, (d, a))| *d != 0 || *a != 0)
            .map(|((w, m, s), (d, a))| (w, m, s, d, a))
            .collect();
        deltas.sort_unstable_by_key(|(w, m, s, _, _)| (*w, *m, *s));
        for (w, _, s, d, _) in &deltas {
            self.series_totals.add(*w, *s, *d);
        }
        deltas
    }
}

/// The people a chunk's lines name: workers by NIR and their attachments.
pub(crate) type People = (HashMap<Nir, Worker>, HashMap<Nir, Attachments>);

/// The lookups every chunk starts with, one query each: the establishments of its SIRETs
/// (cached across chunks), then the workers of its NIRs (or the one a queue resolution
/// forces) with their attachments.
pub(crate) async fn lookup_people(
    known: &mut Known,
    tx: &mut dyn ImportTx,
    keys: &[&siseri_exchange::formats::Keys],
    forced: Option<&Worker>,
) -> Result<People, StoreError> {
    let sirets: BTreeSet<Siret> = keys.iter().filter_map(|k| k.siret.clone()).collect();
    known.load_establishments(tx, sirets.iter()).await?;
    let nirs: Vec<Nir> = match forced {
        Some(w) => vec![w.nir.clone()],
        None => keys
            .iter()
            .filter_map(|k| k.nir.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
    };
    let cache = if forced.is_none() {
        known.people.as_mut()
    } else {
        None
    };
    let Some(cache) = cache else {
        return read_people(tx, &nirs).await;
    };
    let missing: Vec<Nir> = nirs
        .iter()
        .filter(|n| !cache.known.contains_key(*n))
        .cloned()
        .collect();
    if cache.known.len() + missing.len() > PeopleCache::MAX {
        cache.known.clear();
        return lookup_cached(cache, tx, &nirs, nirs.clone()).await;
    }
    lookup_cached(cache, tx, &nirs, missing).await
}

/// The people of `nirs`, reading `missing` into the cache first.
async fn lookup_cached(
    cache: &mut PeopleCache,
    tx: &mut dyn ImportTx,
    nirs: &[Nir],
    missing: Vec<Nir>,
) -> Result<People, StoreError> {
    if !missing.is_empty() {
        let (mut workers, mut attachments) = read_people(tx, &missing).await?;
        for n in missing {
            let w = workers.remove(&n);
            let a = attachments.remove(&n).unwrap_or_default();
            cache.known.insert(n, (w, a));
        }
    }
    let mut workers = HashMap::new();
    let mut attachments = HashMap::new();
    for n in nirs {
        if let Some((w, a)) = cache.known.get(n) {
            if let Some(w) = w {
                workers.insert(n.clone(), w.clone());
            }
            if !a.is_empty() {
                attachments.insert(n.clone(), a.clone());
            }
        }
    }
    Ok((workers, attachments))
}

/// Reads the workers of `nirs` and their attachments.
async fn read_people(tx: &mut dyn ImportTx, nirs: &[Nir]) -> Result<People, StoreError> {
    let workers = tx
        .workers(nirs)
        .await?
        .into_iter()
        .map(|w| (w.nir.clone(), w))
        .collect();
    let mut attachments: HashMap<Nir, Vec<siseri_domain::worker::Attachment>> = HashMap::new();
    for a in tx.attachments(nirs).await? {
        attachments.entry(a.nir.clone()).or_default().push(a);
    }
    let attachments = attachments
        .into_iter()
        .map(|(n, list)| (n, std::sync::Arc::new(list)))
        .collect();
    Ok((workers, attachments))
}

/// Workers waiting for their alerts' reconciliation past which it is done before the import
/// ends (memory stays bounded whatever the file).
pub(crate) const CONSOLIDATE_AT: usize = 250_000;

/// Workers per reconciliation batch (one set of queries each).
const CONSOLIDATE_BATCH: usize = 5_000;

impl Ctx {
    /// Reconciles the alerts of the workers whose doses changed (rules.md §5), in the
    /// import's transaction.
    ///
    /// Done once the import's lines are written rather than after each chunk: a worker
    /// named in many chunks is reconciled once, against his final doses (no alert raised
    /// then extended, or raised for an exceedance a later line corrects).
    pub(crate) async fn consolidate(&mut self, tx: &mut dyn ImportTx) -> Result<(), StoreError> {
        let mut facts: Vec<crate::alerts::WorkerFacts> =
            self.to_consolidate.drain().map(|(_, f)| f).collect();
        facts.sort_unstable_by_key(|f| f.id);
        for batch in facts.chunks(CONSOLIDATE_BATCH) {
            let raised = crate::alerts::consolidate_with(
                tx,
                batch,
                Month::of(self.today),
                &mut self.series_totals,
            )
            .await?;
            self.raised.extend(raised);
        }
        Ok(())
    }
}

/// Lines of one chunk still to write: outcomes and holds.
#[derive(Debug, Default)]
pub(crate) struct Outcomes {
    pub(crate) rows: Vec<LineRow>,
    pub(crate) holds: Vec<NewPending>,
}

impl Outcomes {
    pub(crate) async fn write(self, tx: &mut dyn ImportTx) -> Result<(), StoreError> {
        tx.record_lines(&self.rows).await?;
        tx.hold(&self.holds).await
    }
}

/// One line's registry codes, added to its own.
#[derive(Debug)]
pub(crate) struct Verdict {
    pub(crate) messages: Vec<LineMessage>,
    pub(crate) duplicate: bool,
}

impl Verdict {
    pub(crate) fn new(messages: Vec<LineMessage>) -> Self {
        Verdict {
            messages,
            duplicate: false,
        }
    }

    pub(crate) fn push(
        &mut self,
        code: LineCode,
        field: &'static str,
        detail: impl std::fmt::Display,
    ) {
        self.messages
            .push(LineMessage::for_field(code, field, detail));
    }

    /// The line's status (§6: rejected, held, duplicate, accepted).
    pub(crate) fn status(&self) -> LineStatus {
        let has = |class| self.messages.iter().any(|m| m.code.class() == class);
        if has(CodeClass::Error) {
            LineStatus::Rejete
        } else if has(CodeClass::Hold) {
            LineStatus::EnAttente
        } else if self.duplicate {
            LineStatus::Doublon
        } else {
            LineStatus::Accepte
        }
    }

    /// The codes the report shows, in column order then code order: a rejected line drops
    /// its warnings, a duplicate has none.
    pub(crate) fn reported(mut self, columns: &[Column]) -> (LineStatus, Vec<LineMessage>) {
        let status = self.status();
        let col = |m: &LineMessage| {
            m.field
                .and_then(|f| columns.iter().position(|c| c.name == f))
                .map_or(0, |i| i + 1)
        };
        self.messages.sort_by_key(|m| (col(m), m.code));
        let kept = match status {
            LineStatus::Doublon => Vec::new(),
            LineStatus::Rejete => self
                .messages
                .into_iter()
                .filter(|m| m.code.class() != CodeClass::Warning)
                .collect(),
            _ => self.messages,
        };
        (status, kept)
    }
}

/// Counts a line and keeps its outcome when it is not a plain acceptance.
pub(crate) fn settle(
    ctx: &mut Ctx,
    out: &mut Outcomes,
    line: u64,
    reference: Option<String>,
    status: LineStatus,
    messages: &[LineMessage],
) {
    ctx.totals.count(status, !messages.is_empty());
    if status == LineStatus::Accepte && messages.is_empty() {
        return;
    }
    let report = ReportLine {
        line: line as i64,
        reference,
        status: status.code().to_owned(),
        codes: messages.iter().map(|m| m.code.code().to_owned()).collect(),
        messages: messages.iter().map(|m| m.message.clone()).collect(),
    };
    out.rows.push(LineRow::from(&report));
    ctx.lines.push(report);
}

/// Keeps a held line in the queue with what conflicted.
#[allow(clippy::too_many_arguments)] // each is one field of the queue row
pub(crate) fn hold(
    out: &mut Outcomes,
    columns: &[Column],
    line: u64,
    nir: Option<&Nir>,
    messages: &[LineMessage],
    conflicts: Vec<String>,
    raw: &[String],
    extra: &[(&str, String)],
) {
    let mut record = serde_json::Map::new();
    for (c, v) in columns.iter().zip(raw) {
        record.insert(c.name.to_owned(), serde_json::Value::String(v.clone()));
    }
    for (k, v) in extra {
        record.insert((*k).to_owned(), serde_json::Value::String(v.clone()));
    }
    out.holds.push(NewPending {
        line: line as i64,
        nir: nir.cloned(),
        codes: messages
            .iter()
            .filter(|m| m.code.class() == CodeClass::Hold)
            .map(|m| m.code.code().to_owned())
            .collect(),
        conflicts,
        record: serde_json::Value::Object(record).to_string(),
    });
}

/// The identity fields of a line that differ from the registry's, after normalisation (§1).
pub(crate) fn identity_diffs(
    nom: Option<&str>,
    prenom: Option<&str>,
    born: Option<NaiveDate>,
    known: &Worker,
) -> Vec<&'static str> {
    let mut diffs = Vec::new();
    if nom.is_some_and(|n| normalize_name(n) != normalize_name(&known.nom)) {
        diffs.push("NOM");
    }
    if prenom.is_some_and(|p| normalize_name(p) != normalize_name(&known.prenom)) {
        diffs.push("PRENOM");
    }
    if born.is_some_and(|d| d != known.date_naissance) {
        diffs.push("DATENAISSANCE");
    }
    diffs
}

/// `IDENTITE_INCOHERENTE` for a worker the sender has no attachment of: the line is held
/// for the registry's check without saying which fields differ (the administrators' queue
/// names them), so that a send does not tell a stranger's identity field by field.
pub(crate) fn identity_message_blind(diffs: &[&'static str]) -> Option<LineMessage> {
    diffs.first()?;
    Some(LineMessage::for_line(
        LineCode::IdentiteIncoherente,
        "identité à vérifier par le registre ; ligne mise en attente de vérification",
    ))
}

/// `IDENTITE_INCOHERENTE` on the first differing field, naming them all (never the stored
/// values).
pub(crate) fn identity_message(diffs: &[&'static str]) -> Option<LineMessage> {
    let first = diffs.first()?;
    Some(LineMessage::for_field(
        LineCode::IdentiteIncoherente,
        first,
        format_args!(
            "{} diffère de l'identité connue du registre pour ce NIR ; ligne mise en attente de vérification",
            diffs.join(", ")
        ),
    ))
}

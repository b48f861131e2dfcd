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
    /// Establishments seen so far (`None`: unknown to the registry).
    pub(crate) establishments: HashMap<Siret, Option<Establishment>>,
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
    /// Alerts raised so far: (alert id, worker id), to notify once committed.
    pub(crate) raised: Vec<(i64, i64)>,
    /// Resolving a held line: its sender's rights were checked when it was received, and its
    /// outcome is written into its own transmission, not a new one.
    pub(crate) resolving: bool,
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
            establishments: HashMap::new(),
            touched: BTreeSet::new(),
            created: Vec::new(),
            totals: Totals::default(),
            lines: Vec::new(),
            monthly: HashMap::new(),
            series_totals: crate::alerts::SeriesTotals::default(),
            resolving: false,
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

    /// The establishment of a SIRET, if known.
    pub(crate) fn establishment(&self, siret: &Siret) -> Option<&Establishment> {
        self.establishments.get(siret).and_then(Option::as_ref)
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

    /// Writes the chunk's monthly sums.
    pub(crate) async fn flush_monthly(&mut self, tx: &mut dyn ImportTx) -> Result<(), StoreError> {
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
        tx.add_monthly(&deltas).await
    }
}

/// The people a chunk's lines name: workers by NIR and their attachments.
pub(crate) type People = (
    HashMap<Nir, Worker>,
    HashMap<Nir, Vec<siseri_domain::worker::Attachment>>,
);

/// The lookups every chunk starts with, one query each: the establishments of its SIRETs
/// (cached across chunks), then the workers of its NIRs (or the one a queue resolution
/// forces) with their attachments.
pub(crate) async fn lookup_people(
    ctx: &mut Ctx,
    tx: &mut dyn ImportTx,
    keys: &[&siseri_exchange::formats::Keys],
    forced: Option<&Worker>,
) -> Result<People, StoreError> {
    let sirets: BTreeSet<Siret> = keys.iter().filter_map(|k| k.siret.clone()).collect();
    ctx.load_establishments(tx, sirets.iter()).await?;
    let nirs: Vec<Nir> = match forced {
        Some(w) => vec![w.nir.clone()],
        None => keys
            .iter()
            .filter_map(|k| k.nir.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
    };
    let workers = tx
        .workers(&nirs)
        .await?
        .into_iter()
        .map(|w| (w.nir.clone(), w))
        .collect();
    let mut attachments: HashMap<Nir, Vec<siseri_domain::worker::Attachment>> = HashMap::new();
    for a in tx.attachments(&nirs).await? {
        attachments.entry(a.nir.clone()).or_default().push(a);
    }
    Ok((workers, attachments))
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

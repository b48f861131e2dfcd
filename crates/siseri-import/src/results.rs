//! The registry's checks and writes of `resultats` lines (exchange.md §4).
//!
//! A chunk goes through three steps: [`prepare`] reads what its lines need from storage,
//! [`decide`] checks every line and says what to write (no storage: it can run on another
//! thread), [`write`] writes it. An import runs them as a pipeline (`crate::pipeline`): the
//! next chunk is read while this one is checked, and this one is checked while the previous
//! one is written; what the previous chunk wrote is then not yet in storage when this one
//! was read, and [`Overlay`] carries it over.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use siseri_domain::access::{WriteAction, can_write};
use siseri_domain::codes::{Classification, Position};
use siseri_domain::result::{DoseResult, Reference, ResultVersion};
use siseri_domain::totals::{Month, Series, contribution};
use siseri_domain::worker::{Attachment, Establishment, NewWorker, Worker};
use siseri_domain::{Nir, Siret};
use siseri_exchange::formats::Checked;
use siseri_exchange::formats::results::{COLUMNS, ResultLine};
use siseri_exchange::records::{LineCode, LineStatus};
use siseri_storage::{ImportTx, NewResultRow, StoreError, WriteOp};

use crate::lines::{
    Attachments, Ctx, Known, Outcomes, Verdict, hold, identity_diffs, identity_message, settle,
};
use crate::source::{Line, Parsed};

/// The classification advisory's thresholds (rules.md §4, R4451-57), in µSv: E without
/// radon, lens, skin, extremities.
const ADVISORY: [i64; 4] = [6_000, 15_000, 150_000, 150_000];

type ResultLines = Vec<(Checked<ResultLine>, Vec<String>)>;

/// Processes a chunk of `resultats` lines, one step after the other. `forced`: the worker a
/// queue resolution attaches the line to (its identity is then not compared).
pub(crate) async fn chunk(
    ctx: &mut Ctx,
    tx: &mut dyn ImportTx,
    lines: Vec<Line>,
    forced: Option<&Worker>,
) -> Result<(), StoreError> {
    let prepared = prepare(&mut ctx.known, tx, &ctx.sender_key, lines, forced).await?;
    let (writes, _) = decide(ctx, prepared, forced, &Overlay::default());
    ctx.known.created(&writes.created);
    let touched = write(tx, writes, ctx.today).await?;
    ctx.touched.extend(touched);
    if ctx.to_consolidate.len() >= crate::lines::CONSOLIDATE_AT {
        ctx.consolidate(tx).await?;
    }
    Ok(())
}

/// What a chunk's lines need from storage, read before any of them is checked.
#[derive(Debug)]
pub(crate) struct Prepared {
    lines: ResultLines,
    workers: HashMap<Nir, Worker>,
    attachments: HashMap<Nir, Attachments>,
    establishments: HashMap<Siret, Option<Establishment>>,
    /// The sender's stored results of the chunk's references.
    results: HashMap<Reference, DoseResult>,
    /// Stored monthly sums of the chunk's category-B workers (classification advisory).
    monthly: Vec<(i64, Month, Series, i64)>,
    /// Ids for the chunk's new results and new workers.
    result_ids: Vec<i64>,
    worker_ids: Vec<i64>,
}

impl Prepared {
    /// Its number of lines.
    pub(crate) fn len(&self) -> usize {
        self.lines.len()
    }
}

/// What a chunk wrote (or is writing) that the next chunk's lookups may not have seen.
#[derive(Debug, Default)]
pub(crate) struct Overlay {
    /// Results created or given a new version, by reference.
    results: HashMap<Reference, DoseResult>,
    /// Monthly deltas.
    monthly: HashMap<(i64, Month, Series), i64>,
    /// Workers created.
    workers: HashMap<Nir, Worker>,
}

/// What [`decide`] found to write for a chunk.
#[derive(Debug, Default)]
pub(crate) struct Writes {
    workers: Vec<(i64, NewWorker)>,
    results: Vec<(i64, NewResultRow)>,
    /// New versions of results, in the lines' order (after the new results).
    versions: Vec<WriteOp>,
    outcomes: Outcomes,
    monthly: Vec<(i64, Month, Series, i64, i64)>,
    /// The workers created, for the cache and the queue.
    pub(crate) created: Vec<Worker>,
}

/// Reads what the lines of a chunk need.
pub(crate) async fn prepare(
    known: &mut Known,
    tx: &mut dyn ImportTx,
    sender_key: &str,
    lines: Vec<Line>,
    forced: Option<&Worker>,
) -> Result<Prepared, StoreError> {
    let lines: ResultLines = lines
        .into_iter()
        .filter_map(|l| match l.parsed {
            Parsed::Results(c) => Some((c, l.raw)),
            _ => None,
        })
        .collect();
    // One lookup per kind of data for the whole chunk.
    let keys: Vec<&siseri_exchange::formats::Keys> = lines.iter().map(|(c, _)| &c.keys).collect();
    let (workers, attachments) = crate::lines::lookup_people(known, tx, &keys, forced).await?;
    let establishments = keys
        .iter()
        .filter_map(|k| k.siret.as_ref())
        .map(|s| (s.clone(), known.establishments.get(s).cloned().flatten()))
        .collect();
    let references: Vec<Reference> = lines
        .iter()
        .filter_map(|(c, _)| c.keys.reference.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let results: HashMap<Reference, DoseResult> = tx
        .results(sender_key, &references)
        .await?
        .into_iter()
        .map(|r| (r.reference.clone(), r))
        .collect();
    let monthly = Sums::read(tx, &lines, &workers, &attachments, forced).await?;
    // At most: a new result per valid line whose reference is not stored yet, a new worker
    // per NIR unknown to the registry.
    let new_results = lines
        .iter()
        .filter(|(c, _)| {
            c.value
                .as_ref()
                .is_some_and(|l| !results.contains_key(&l.reference))
        })
        .count();
    let new_workers = if forced.is_some() {
        0
    } else {
        lines
            .iter()
            .filter_map(|(c, _)| c.value.as_ref().map(|l| &l.nir))
            .filter(|n| !workers.contains_key(*n))
            .collect::<BTreeSet<_>>()
            .len()
    };
    let result_ids = tx.reserve_result_ids(new_results).await?;
    let worker_ids = tx.reserve_worker_ids(new_workers).await?;
    Ok(Prepared {
        lines,
        workers,
        attachments,
        establishments,
        results,
        monthly,
        result_ids,
        worker_ids,
    })
}

/// Checks every line of a prepared chunk, updates the import's running state (totals,
/// report lines, workers to reconcile) and says what to write. `overlay`: what the previous
/// chunk wrote after this one was read. Returns the writes and this chunk's own overlay.
pub(crate) fn decide(
    ctx: &mut Ctx,
    prepared: Prepared,
    forced: Option<&Worker>,
    overlay: &Overlay,
) -> (Writes, Overlay) {
    let Prepared {
        lines,
        mut workers,
        attachments,
        establishments,
        mut results,
        monthly,
        result_ids,
        worker_ids,
    } = prepared;
    for (nir, w) in &overlay.workers {
        workers.entry(nir.clone()).or_insert_with(|| w.clone());
    }
    for (c, _) in &lines {
        if let Some(r) = c.keys.reference.as_ref()
            && let Some(newer) = overlay.results.get(r)
        {
            results.insert(r.clone(), newer.clone());
        }
    }
    let establishment =
        |s: &Siret| -> Option<&Establishment> { establishments.get(s).and_then(Option::as_ref) };
    let mut result_ids = result_ids.into_iter();
    let mut worker_ids = worker_ids.into_iter();
    let mut sums = Sums::new(monthly, &overlay.monthly);
    let mut writes = Writes::default();
    let mut mine = Overlay::default();
    let mut out = Outcomes::default();
    let mut changed: BTreeSet<i64> = BTreeSet::new();
    for (checked, raw) in lines {
        let keys = &checked.keys;
        let mut v = Verdict::new(checked.messages.clone());
        if let Some(s) = &keys.siret
            && establishment(s).is_none()
        {
            v.push(
                LineCode::EtablissementInconnu,
                "SIRET",
                "établissement inconnu du registre ; il doit être déclaré avant l'envoi",
            );
        }
        if let Some(n) = keys.nature
            && !ctx.resolving
            && !can_write(
                &ctx.person,
                None,
                &WriteAction::SendResults { nature: n },
                ctx.today,
            )
        {
            v.push(
                LineCode::NatureNonAccreditee,
                "NATURE",
                format_args!("l'organisme n'est pas accrédité pour la nature {n}"),
            );
        }
        let worker = match forced {
            Some(w) => Some(w.clone()),
            None => keys.nir.as_ref().and_then(|n| workers.get(n)).cloned(),
        };
        let mut conflicts = Vec::new();
        if forced.is_none()
            && let Some(w) = &worker
        {
            let diffs = identity_diffs(
                keys.nom.as_deref(),
                keys.prenom.as_deref(),
                keys.date_naissance,
                w,
            );
            if let Some(m) = identity_message(&diffs) {
                v.messages.push(m);
                conflicts = diffs.iter().map(|d| (*d).to_owned()).collect();
            }
        }
        let existing = keys.reference.as_ref().and_then(|r| results.get(r));
        if keys.correction == Some(true) && keys.reference.is_some() && existing.is_none() {
            v.push(
                LineCode::CorrectionSansOrigine,
                "REFERENCE",
                "aucun résultat de cette référence n'a été reçu de l'organisme ; CODE_METROLOGIE C à retirer",
            );
        }
        let mut correction_of: Option<(i64, u32)> = None;
        if let (Some(line), Some(e)) = (&checked.value, existing) {
            let target = forced.map_or(&line.nir, |w| &w.nir);
            let same_key = &e.nir == target
                && e.siret == line.siret
                && e.nature == line.nature
                && e.quantity == line.quantity
                && e.position == line.position;
            let current = e.current().map(|c| &c.values);
            if same_key && current == Some(&line.values) {
                v.duplicate = true;
            } else if !same_key {
                v.push(
                    LineCode::ReferenceConflit,
                    "REFERENCE",
                    "référence déjà employée pour un autre travailleur, établissement, nature, grandeur ou position ; \
                     annuler ce résultat et en envoyer un sous une autre référence",
                );
            } else if !line.correction {
                v.push(
                    LineCode::ReferenceConflit,
                    "REFERENCE",
                    "référence déjà reçue avec d'autres valeurs ; CODE_METROLOGIE C pour la corriger",
                );
            } else {
                correction_of = e.current().map(|c| (e.id, c.version));
                // A physician's version (they always carry a justification) superseded by
                // the body's: the physicians following the worker are told.
                if e.current().is_some_and(|c| c.justification.is_some()) && !ctx.resolving {
                    ctx.superseded
                        .push((e.nir.clone(), e.id, e.reference.as_str().to_owned()));
                }
            }
        }

        let line_no = checked.line;
        let reference = keys.reference.as_ref().map(|r| r.as_str().to_owned());
        let status = v.status();
        let Some(line) = checked.value.filter(|_| status == LineStatus::Accepte) else {
            let (status, messages) = v.reported(COLUMNS);
            if status == LineStatus::EnAttente {
                hold(
                    &mut out,
                    COLUMNS,
                    line_no,
                    keys.nir.as_ref(),
                    &messages,
                    conflicts,
                    &raw,
                    &[],
                );
            }
            settle(ctx, &mut out, line_no, reference, status, &messages);
            continue;
        };

        // Accepted: the worker (created from the line's identity if unknown), the result.
        let worker = match worker {
            Some(w) => w,
            None => {
                let Some(id) = worker_ids.next() else {
                    // Cannot happen: an id was reserved for every unknown NIR.
                    settle(ctx, &mut out, line_no, reference, LineStatus::Rejete, &[]);
                    continue;
                };
                let new = NewWorker {
                    nir: line.nir.clone(),
                    nom: line.nom.clone(),
                    prenom: line.prenom.clone(),
                    date_naissance: line.date_naissance,
                    sexe: line.sexe,
                };
                let w = Worker {
                    id,
                    nir: new.nir.clone(),
                    nom: new.nom.clone(),
                    prenom: new.prenom.clone(),
                    date_naissance: new.date_naissance,
                    sexe: new.sexe,
                };
                writes.workers.push((id, new));
                writes.created.push(w.clone());
                mine.workers.insert(w.nir.clone(), w.clone());
                workers.insert(w.nir.clone(), w.clone());
                w
            }
        };
        let attached = attachments.get(&worker.nir).is_some_and(|list| {
            list.iter().any(|a| {
                a.siret == line.siret && a.current().is_some_and(|t| t.covers(line.values.date_fin))
            })
        });
        if !attached {
            v.push(
                LineCode::RattachementAbsent,
                "SIRET",
                "aucun rattachement du travailleur à cet établissement à DATE_FIN ; résultat conservé",
            );
        }

        // The version being superseded.
        let old = correction_of.and_then(|_| {
            results
                .get(&line.reference)
                .and_then(|r| r.current().map(|c| (r.clone(), c.values.clone())))
        });
        if let Some((id, after)) = correction_of {
            writes.versions.push(WriteOp::AddResultVersion {
                result_id: id,
                after_version: after,
                values: line.values.clone(),
                justification: None,
            });
            if let Some(r) = results.get_mut(&line.reference) {
                r.versions.push(version(after + 1, &line, ctx));
                mine.results.insert(line.reference.clone(), r.clone());
            }
        } else {
            let (Some(est), Some(id)) = (establishment(&line.siret), result_ids.next()) else {
                continue;
            };
            writes.results.push((
                id,
                NewResultRow {
                    worker_id: worker.id,
                    establishment_id: est.id,
                    sender: ctx.sender_key.clone(),
                    reference: line.reference.clone(),
                    nature: line.nature,
                    quantity: line.quantity,
                    position: line.position,
                    values: line.values.clone(),
                },
            ));
            let created = DoseResult {
                id,
                sender: siseri_domain::result::Sender::Organisation(line.siret.siren()),
                reference: line.reference.clone(),
                nir: worker.nir.clone(),
                siret: line.siret.clone(),
                nature: line.nature,
                quantity: line.quantity,
                position: line.position,
                versions: vec![version(1, &line, ctx)],
            };
            mine.results.insert(line.reference.clone(), created.clone());
            results.insert(line.reference.clone(), created);
        }

        // Monthly sums, and the classification advisory on the line that first crosses.
        let before = sums.advisory_totals(&worker, &line, &attachments);
        if let Some((r, values)) = &old
            && let Some(c) = contribution(r.nature, r.quantity, r.position, values)
        {
            for (i, (s, d)) in c.doses.iter().enumerate() {
                let absences = if i == 0 { c.absences } else { 0 };
                ctx.add_monthly(worker.id, c.month, *s, -d, -absences);
                sums.add(worker.id, c.month, *s, -d);
                *mine.monthly.entry((worker.id, c.month, *s)).or_insert(0) -= d;
            }
        }
        if let Some(c) = contribution(line.nature, line.quantity, line.position, &line.values) {
            for (i, (s, d)) in c.doses.iter().enumerate() {
                let absences = if i == 0 { c.absences } else { 0 };
                ctx.add_monthly(worker.id, c.month, *s, *d, absences);
                sums.add(worker.id, c.month, *s, *d);
                *mine.monthly.entry((worker.id, c.month, *s)).or_insert(0) += d;
            }
        }
        let after = sums.advisory_totals(&worker, &line, &attachments);
        if let (Some(b), Some(a)) = (before, after)
            && b.iter()
                .zip(a.iter())
                .zip(ADVISORY)
                .any(|((b, a), t)| *b <= t && *a > t)
        {
            v.push(
                LineCode::ClassementARevoir,
                "DATE_FIN",
                "travailleur de catégorie B dont la dose sur 12 mois glissants dépasse le seuil de la catégorie A : classement à revoir",
            );
        }
        ctx.touched.insert(worker.id);
        changed.insert(worker.id);
        let (status, messages) = v.reported(COLUMNS);
        settle(ctx, &mut out, line_no, reference, status, &messages);
    }
    if !ctx.resolving {
        writes.outcomes = out;
    }
    writes.monthly = ctx.take_monthly();
    // Totals changed: the limits and alerts of those workers, once the import's lines are
    // all written (see `Ctx::consolidate`).
    for w in workers.values().filter(|w| changed.contains(&w.id)) {
        let facts = crate::alerts::WorkerFacts {
            id: w.id,
            nir: w.nir.clone(),
            born: w.date_naissance,
            lifetime: siseri_domain::limits::lifetime_limit_applies(
                attachments
                    .get(&w.nir)
                    .into_iter()
                    .flat_map(|list| list.iter())
                    .flat_map(|a| a.versions.iter().map(|v| &v.terms)),
            ),
        };
        ctx.to_consolidate.insert(w.id, facts);
    }
    (writes, mine)
}

/// Writes what [`decide`] found, in order: new workers, new results, new versions, line
/// outcomes, monthly sums; then attaches the operational readings held for the workers
/// created. Returns the workers whose records that attachment touched.
pub(crate) async fn write(
    tx: &mut dyn ImportTx,
    writes: Writes,
    today: NaiveDate,
) -> Result<Vec<i64>, StoreError> {
    tx.add_workers(&writes.workers).await?;
    tx.add_results(&writes.results).await?;
    if !writes.versions.is_empty() {
        tx.apply(&writes.versions).await?;
    }
    writes.outcomes.write(tx).await?;
    tx.add_monthly(&writes.monthly).await?;
    let created: Vec<Nir> = writes.created.into_iter().map(|w| w.nir).collect();
    crate::queue::attach_waiting(&created, tx, today).await
}

fn version(n: u32, line: &ResultLine, ctx: &Ctx) -> ResultVersion {
    ResultVersion {
        version: n,
        values: line.values.clone(),
        author: ctx.account.spec.login.clone(),
        recorded_at: chrono::Utc::now(),
        justification: None,
        transmission_id: None,
    }
}

/// The monthly sums the classification advisory needs, for the chunk's category-B workers:
/// what is stored plus what the previous chunk and this one added so far.
struct Sums {
    sums: HashMap<(i64, Month, Series), i64>,
}

impl Sums {
    /// Reads the stored months the chunk's category-B workers need.
    async fn read(
        tx: &mut dyn ImportTx,
        lines: &ResultLines,
        workers: &HashMap<Nir, Worker>,
        attachments: &HashMap<Nir, Attachments>,
        forced: Option<&Worker>,
    ) -> Result<Vec<(i64, Month, Series, i64)>, StoreError> {
        let mut ids = BTreeSet::new();
        let mut months = BTreeSet::new();
        for (c, _) in lines {
            let Some(line) = &c.value else { continue };
            // A resolved line goes to the worker the administrator chose, whatever its NIR.
            let Some(w) = forced.or_else(|| workers.get(&line.nir)) else {
                continue;
            };
            if only_category_b(
                attachments.get(&w.nir).map(|a| &**a),
                Month::of(line.values.date_fin),
            ) {
                ids.insert(w.id);
                months.insert(Month::of(line.values.date_fin));
            }
        }
        let (Some(first), Some(last)) = (months.first(), months.last()) else {
            return Ok(Vec::new());
        };
        let ids: Vec<i64> = ids.into_iter().collect();
        tx.monthly(&ids, first.plus(-11), *last).await
    }

    /// The stored sums, with what the previous chunk added after they were read.
    fn new(
        stored: Vec<(i64, Month, Series, i64)>,
        previous: &HashMap<(i64, Month, Series), i64>,
    ) -> Self {
        let mut sums = HashMap::new();
        for (w, m, s, d) in stored {
            sums.insert((w, m, s), d);
        }
        for (key, d) in previous {
            *sums.entry(*key).or_insert(0) += d;
        }
        Sums { sums }
    }

    fn add(&mut self, worker: i64, month: Month, series: Series, dose: i64) {
        *self.sums.entry((worker, month, series)).or_insert(0) += dose;
    }

    /// E without radon, lens (larger eye), skin, extremities (largest) over the 12 months
    /// ending with the line's month, for a worker of category B only.
    fn advisory_totals(
        &self,
        worker: &Worker,
        line: &ResultLine,
        attachments: &HashMap<Nir, Attachments>,
    ) -> Option<[i64; 4]> {
        let month = Month::of(line.values.date_fin);
        if !only_category_b(attachments.get(&worker.nir).map(|a| &**a), month) {
            return None;
        }
        let mut e = 0;
        let mut lens: HashMap<Position, i64> = HashMap::new();
        let mut skin = 0;
        let mut ext: HashMap<Position, i64> = HashMap::new();
        for ((w, m, s), d) in &self.sums {
            if *w != worker.id || *m < month.plus(-11) || *m > month {
                continue;
            }
            match s {
                Series::EExternal | Series::EInternal => e += d,
                Series::ERadon => {}
                Series::Lens(p) => *lens.entry(*p).or_insert(0) += d,
                Series::Skin => skin += d,
                Series::Extremity(p) => *ext.entry(*p).or_insert(0) += d,
            }
        }
        let max = |m: &HashMap<Position, i64>| m.values().copied().max().unwrap_or(0);
        Some([e, max(&lens), skin, max(&ext)])
    }
}

/// Whether every attachment in force during `month` is of category B (and there is one).
fn only_category_b(list: Option<&Vec<Attachment>>, month: Month) -> bool {
    let Some(list) = list else { return false };
    let first = NaiveDate::from_ymd_opt(month.year(), month.month(), 1);
    let Some(first) = first else { return false };
    let last = first
        .checked_add_months(chrono::Months::new(1))
        .and_then(|d| d.pred_opt())
        .unwrap_or(first);
    let classes: Vec<Option<Classification>> = list
        .iter()
        .filter_map(Attachment::current)
        .filter(|t| t.date_debut <= last && t.date_fin.is_none_or(|f| f >= first))
        .map(|t| t.classement)
        .collect();
    !classes.is_empty() && classes.iter().all(|c| *c == Some(Classification::B))
}

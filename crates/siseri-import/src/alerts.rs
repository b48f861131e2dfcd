//! Limits and alerts after the doses of some workers changed (rules.md §4–§5), in the
//! transaction that changed them: an import commits its lines, totals and alerts together.
//!
//! Each worker's episodes of exceedance are computed from his monthly sums and reconciled
//! with his stored alerts: an episode that overlaps an alert of the same kind extends it,
//! another raises a new one, and an alert whose exceedance disappeared gets a note (never
//! deleted, never closed automatically). Workers whose whole history stays under every
//! limit are recognised from one aggregate query and cost nothing more.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use siseri_domain::alerts::{AlertSpan, episodes, reconcile};
use siseri_domain::limits::{
    self, Exceedances, LimitKind, Pregnancy, RollingLimits, effective_dose_item,
};
use siseri_domain::totals::{Month, MonthRange, MonthlySums, Series};
use siseri_storage::{AlertOp, AlertRow, ImportTx, StoreError, WriteOp};

/// What consolidation needs of a worker besides his doses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerFacts {
    /// Id.
    pub(crate) id: i64,
    /// NIR.
    pub(crate) nir: siseri_domain::Nir,
    /// Date of birth (the limits depend on age).
    pub(crate) born: NaiveDate,
    /// Ever `SUR_GRP_1` / `SUR_GRP_2` (the lifetime limit applies).
    pub(crate) lifetime: bool,
}

/// The note added to an alert whose exceedance no longer exists.
pub const GONE: &str = "Les résultats actuels ne dépassent plus la limite sur ces mois ; \
                        l'alerte reste ouverte jusqu'à sa clôture par le médecin.";

/// The alerts raised, for notifications: (alert id, worker id).
pub type Raised = Vec<(i64, i64)>;

/// Each worker's whole-history sum per series, as known to an import so far: read once
/// per worker, then kept up to date with the import's own monthly deltas, so that a
/// worker named in many chunks is not re-read at each (the cost would grow with his
/// history).
#[derive(Debug, Default)]
pub struct SeriesTotals(HashMap<i64, Vec<(Series, i64)>>);

impl SeriesTotals {
    /// Adds a delta written by the import, for a worker already known here (the others
    /// are read from storage, deltas included, when first needed).
    pub(crate) fn add(&mut self, worker: i64, series: Series, delta: i64) {
        if let Some(list) = self.0.get_mut(&worker) {
            match list.iter_mut().find(|(s, _)| *s == series) {
                Some((_, total)) => *total += delta,
                None => list.push((series, delta)),
            }
        }
    }
}

/// Reconciles the alerts of `workers` with their current doses; `current`: this month.
pub async fn consolidate(
    tx: &mut dyn ImportTx,
    workers: &[WorkerFacts],
    current: Month,
) -> Result<Raised, StoreError> {
    consolidate_with(tx, workers, current, &mut SeriesTotals::default()).await
}

/// [`consolidate`], with the series totals an import keeps across its chunks.
pub(crate) async fn consolidate_with(
    tx: &mut dyn ImportTx,
    workers: &[WorkerFacts],
    current: Month,
    known: &mut SeriesTotals,
) -> Result<Raised, StoreError> {
    if workers.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = workers.iter().map(|w| w.id).collect();
    let mut alerts: HashMap<i64, Vec<AlertRow>> = HashMap::new();
    for a in tx.alerts_of(&ids).await? {
        alerts.entry(a.worker_id).or_default().push(a);
    }
    let mut pregnancies: HashMap<i64, Vec<(i64, Pregnancy)>> = HashMap::new();
    for p in tx.pregnancies_of(&ids).await? {
        pregnancies.entry(p.worker_id).or_default().push((
            p.id,
            Pregnancy {
                declared_on: p.declared_on,
                ended_on: p.ended_on,
            },
        ));
    }
    // Only workers whose history could exceed a limit, or who have alerts or a pregnancy,
    // need their months.
    let unknown: Vec<i64> = ids
        .iter()
        .copied()
        .filter(|id| !known.0.contains_key(id))
        .collect();
    if !unknown.is_empty() {
        for id in &unknown {
            known.0.insert(*id, Vec::new());
        }
        for (w, series, total) in tx.series_totals(&unknown).await? {
            if let (Some(s), Some(list)) = (Series::parse(&series), known.0.get_mut(&w)) {
                list.push((s, total));
            }
        }
    }
    let mut bounds: HashMap<i64, Bounds> = HashMap::new();
    for id in &ids {
        let b = bounds.entry(*id).or_default();
        for (s, total) in known.0.get(id).into_iter().flatten() {
            b.add(*s, *total);
        }
    }
    let needed: Vec<&WorkerFacts> = workers
        .iter()
        .filter(|w| {
            alerts.contains_key(&w.id)
                || pregnancies.contains_key(&w.id)
                || bounds.get(&w.id).is_some_and(|b| b.may_exceed(w.lifetime))
        })
        .collect();
    if needed.is_empty() {
        return Ok(Vec::new());
    }
    let needed_ids: Vec<i64> = needed.iter().map(|w| w.id).collect();
    let mut sums: HashMap<i64, MonthlySums> = HashMap::new();
    for (w, m, s, d) in tx
        .monthly(&needed_ids, Month(i32::MIN / 2), Month(i32::MAX / 2))
        .await?
    {
        sums.entry(w).or_default().add(m, s, d, 0);
    }
    let with_pregnancy: Vec<i64> = needed_ids
        .iter()
        .copied()
        .filter(|id| pregnancies.contains_key(id))
        .collect();
    let mut items: HashMap<i64, Vec<(NaiveDate, i64)>> = HashMap::new();
    if !with_pregnancy.is_empty() {
        let by_nir: HashMap<&siseri_domain::Nir, i64> =
            needed.iter().map(|w| (&w.nir, w.id)).collect();
        for r in tx.results_of(&with_pregnancy).await? {
            let Some(v) = r.current() else { continue };
            let Some(id) = by_nir.get(&r.nir) else {
                continue;
            };
            if let Some(item) = effective_dose_item(r.nature, r.quantity, r.position, &v.values) {
                items.entry(*id).or_default().push(item);
            }
        }
    }

    let mut ops = Vec::new();
    let mut raised_workers = Vec::new();
    for w in needed {
        let empty = MonthlySums::default();
        let s = sums.get(&w.id).unwrap_or(&empty);
        let existing = alerts.get(&w.id).map(Vec::as_slice).unwrap_or_default();
        let mut kinds: Vec<(LimitKind, Option<i64>, Exceedances)> = Vec::new();
        for kind in LimitKind::ROLLING
            .iter()
            .copied()
            .chain([LimitKind::VieEntiere])
        {
            let through = s.horizon(current);
            kinds.push((
                kind,
                None,
                limits::exceedances(kind, s, w.born, w.lifetime, through),
            ));
        }
        for (pid, p) in pregnancies.get(&w.id).into_iter().flatten() {
            let list = items.get(&w.id).map(Vec::as_slice).unwrap_or_default();
            kinds.push((
                LimitKind::EnfantANaitre,
                Some(*pid),
                limits::pregnancy_exceedances(p, list, current),
            ));
        }
        for (kind, pregnancy, exceeded) in kinds {
            let mine: Vec<&AlertRow> = existing
                .iter()
                .filter(|a| a.kind == kind.code() && a.pregnancy_id == pregnancy)
                .collect();
            let n = ops.len();
            plan(&mut ops, w.id, kind, pregnancy, &exceeded, &mine);
            let raised = ops
                .get(n..)
                .unwrap_or_default()
                .iter()
                .filter(|o| matches!(o, WriteOp::Alert(AlertOp::Raise { .. })))
                .count();
            raised_workers.extend(std::iter::repeat_n(w.id, raised));
        }
    }
    if ops.is_empty() {
        return Ok(Vec::new());
    }
    let done = tx.apply(&ops).await?;
    let mut raised = Vec::new();
    let mut workers_iter = raised_workers.into_iter();
    for (op, (id, _)) in ops.iter().zip(done) {
        if matches!(op, WriteOp::Alert(AlertOp::Raise { .. }))
            && let Some(w) = workers_iter.next()
        {
            raised.push((id, w));
        }
    }
    Ok(raised)
}

/// The writes that bring one worker's alerts of one kind in line with its exceedances.
fn plan(
    ops: &mut Vec<WriteOp>,
    worker_id: i64,
    kind: LimitKind,
    pregnancy: Option<i64>,
    exceeded: &Exceedances,
    alerts: &[&AlertRow],
) {
    let spans: Vec<AlertSpan<i64>> = alerts
        .iter()
        .map(|a| AlertSpan {
            id: a.id,
            months: MonthRange::new(Month(a.first_month), Month(a.last_month)),
        })
        .collect();
    let found = episodes(exceeded.keys().copied());
    let p = reconcile(&spans, &found);
    let totals: BTreeMap<Month, i64> = exceeded.iter().map(|(m, e)| (*m, e.total_usv)).collect();
    for months in &p.raised {
        let dose = siseri_domain::alerts::peak_usv(&totals, *months).unwrap_or(0);
        let limit = exceeded.get(&months.first).map_or(0, |e| e.limit_usv);
        ops.push(WriteOp::Alert(AlertOp::Raise {
            worker_id,
            kind: kind.code().to_owned(),
            pregnancy_id: pregnancy,
            first_month: months.first.0,
            last_month: months.last.0,
            dose_usv: dose,
            text: format!(
                "Dépassement de la limite {} ({}) de {} à {} : jusqu'à {}.",
                kind.code(),
                msv(limit),
                months.first.label(),
                months.last.label(),
                msv(dose)
            ),
        }));
    }
    for e in &p.extended {
        let dose = siseri_domain::alerts::peak_usv(&totals, e.after).unwrap_or(0);
        ops.push(WriteOp::Alert(AlertOp::Extend {
            alert_id: e.id,
            first_month: e.after.first.0,
            last_month: e.after.last.0,
            dose_usv: dose,
            text: format!(
                "Période de dépassement étendue : {} à {}, jusqu'à {}.",
                e.after.first.label(),
                e.after.last.label(),
                msv(dose)
            ),
        }));
    }
    for id in &p.stale {
        let already = alerts
            .iter()
            .find(|a| a.id == *id)
            .and_then(|a| a.steps.last())
            .is_some_and(|s| s.text == GONE);
        if !already {
            ops.push(WriteOp::Alert(AlertOp::Note {
                alert_id: *id,
                text: GONE.to_owned(),
            }));
        }
    }
}

/// µSv as « 21,35 mSv ».
fn msv(usv: i64) -> String {
    let sign = if usv < 0 { "-" } else { "" };
    let a = usv.unsigned_abs();
    format!("{sign}{},{:02} mSv", a / 1000, (a % 1000) / 10)
}

/// Whole-history sums per kind: no rolling total can be larger.
#[derive(Debug, Default)]
struct Bounds {
    e: i64,
    lens: HashMap<Series, i64>,
    skin: i64,
    extremities: HashMap<Series, i64>,
}

impl Bounds {
    fn add(&mut self, s: Series, total: i64) {
        match s {
            Series::EExternal | Series::EInternal | Series::ERadon => self.e += total,
            Series::Lens(_) => *self.lens.entry(s).or_insert(0) += total,
            Series::Skin => self.skin += total,
            Series::Extremity(_) => *self.extremities.entry(s).or_insert(0) += total,
        }
    }

    /// Whether some limit could be exceeded (the lowest limits are the minors').
    fn may_exceed(&self, lifetime: bool) -> bool {
        let low = RollingLimits::MINOR;
        let max = |m: &HashMap<Series, i64>| m.values().copied().max().unwrap_or(0);
        self.e > low.e_usv
            || max(&self.lens) > low.cristallin_usv
            || self.skin > low.peau_usv
            || max(&self.extremities) > low.extremites_usv
            || (lifetime && self.e > limits::LIFETIME_LIMIT_USV)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doses_read_in_msv_with_two_decimals() {
        assert_eq!(msv(21_354), "21,35 mSv");
        assert_eq!(msv(0), "0,00 mSv");
        assert_eq!(msv(1_000_000), "1000,00 mSv");
    }

    #[test]
    fn bounds_skip_workers_far_below_every_limit() {
        let mut b = Bounds::default();
        b.add(Series::EExternal, 5_000);
        b.add(Series::ERadon, 1_000);
        assert!(!b.may_exceed(false));
        b.add(Series::EInternal, 1);
        assert!(b.may_exceed(false));
        let mut lens = Bounds::default();
        lens.add(
            Series::Lens(siseri_domain::codes::Position::LeftEye),
            15_001,
        );
        assert!(lens.may_exceed(false));
    }
}

/// What a full recomputation found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recomputed {
    /// Workers recomputed.
    pub workers: usize,
    /// Alerts raised (episodes no alert covered).
    pub raised: usize,
}

/// Rebuilds every worker's monthly sums from the current versions of his results and
/// reconciles his alerts (rules.md §5: every current episode covered by exactly one alert,
/// alerts whose exceedance vanished noted), in batches of one transaction each.
///
/// # Errors
/// Storage errors (the batch in progress is rolled back).
pub async fn recompute(
    store: &dyn siseri_storage::Store,
    author: &str,
    today: NaiveDate,
) -> Result<Recomputed, StoreError> {
    let mut out = Recomputed::default();
    let ids = store.worker_ids().await?;
    for batch in ids.chunks(500) {
        let mut tx = store.begin_import(None, author, chrono::Utc::now()).await?;
        tx.reset_monthly(batch).await?;
        let mut sums: HashMap<(i64, Month, Series), (i64, i64)> = HashMap::new();
        let mut facts = Vec::new();
        let mut by_nir: HashMap<siseri_domain::Nir, i64> = HashMap::new();
        for id in batch {
            if let Some(w) = store.worker_by_id(*id).await? {
                let attachments = store.attachments(&w.nir).await?;
                by_nir.insert(w.nir.clone(), w.id);
                facts.push(WorkerFacts {
                    id: w.id,
                    nir: w.nir.clone(),
                    born: w.date_naissance,
                    lifetime: limits::lifetime_limit_applies(
                        attachments
                            .iter()
                            .flat_map(|a| a.versions.iter().map(|v| &v.terms)),
                    ),
                });
            }
        }
        for r in tx.results_of(batch).await? {
            let (Some(v), Some(w)) = (r.current(), by_nir.get(&r.nir)) else {
                continue;
            };
            if let Some(c) =
                siseri_domain::totals::contribution(r.nature, r.quantity, r.position, &v.values)
            {
                for (i, (s, d)) in c.doses.iter().enumerate() {
                    let e = sums.entry((*w, c.month, *s)).or_insert((0, 0));
                    e.0 += d;
                    e.1 += if i == 0 { c.absences } else { 0 };
                }
            }
        }
        let mut rows: Vec<(i64, Month, Series, i64, i64)> = sums
            .into_iter()
            .filter(|(_, (d, a))| *d != 0 || *a != 0)
            .map(|((w, m, s), (d, a))| (w, m, s, d, a))
            .collect();
        rows.sort_unstable_by_key(|(w, m, s, _, _)| (*w, *m, *s));
        tx.add_monthly(&rows).await?;
        out.raised += consolidate(tx.as_mut(), &facts, Month::of(today))
            .await?
            .len();
        out.workers += facts.len();
        let mut event = siseri_domain::journal::JournalEvent::new(
            chrono::Utc::now(),
            author,
            "ECRITURE",
            "RECALCUL",
        );
        event.detail = Some(format!(
            "recalcul des totaux et alertes de {} travailleurs",
            facts.len()
        ));
        tx.finish(siseri_storage::TransmissionEnd {
            report: String::new(),
            file_sha256: String::new(),
            file_bytes: 0,
            refused: false,
            event,
        })
        .await?;
    }
    Ok(out)
}

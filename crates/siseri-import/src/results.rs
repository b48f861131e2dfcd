//! The registry's checks and writes of `resultats` lines (exchange.md §4).

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use siseri_domain::Nir;
use siseri_domain::access::{WriteAction, can_write};
use siseri_domain::codes::{Classification, Position};
use siseri_domain::result::{DoseResult, Reference, ResultVersion};
use siseri_domain::totals::{Month, Series, contribution};
use siseri_domain::worker::{Attachment, NewWorker, Worker};
use siseri_exchange::formats::results::{COLUMNS, ResultLine};
use siseri_exchange::records::{LineCode, LineStatus};
use siseri_storage::{ImportTx, NewResultRow, StoreError, WriteOp};

use crate::lines::{Ctx, Outcomes, Verdict, hold, identity_diffs, identity_message, settle};
use crate::source::{Line, Parsed};

/// The classification advisory's thresholds (rules.md §4, R4451-57), in µSv: E without
/// radon, lens, skin, extremities.
const ADVISORY: [i64; 4] = [6_000, 15_000, 150_000, 150_000];

/// Processes a chunk of `resultats` lines. `forced`: the worker a queue resolution attaches
/// the line to (its identity is then not compared).
pub(crate) async fn chunk(
    ctx: &mut Ctx,
    tx: &mut dyn ImportTx,
    lines: Vec<Line>,
    forced: Option<&Worker>,
) -> Result<(), StoreError> {
    let lines: Vec<(siseri_exchange::formats::Checked<ResultLine>, Vec<String>)> = lines
        .into_iter()
        .filter_map(|l| match l.parsed {
            Parsed::Results(c) => Some((c, l.raw)),
            _ => None,
        })
        .collect();

    // One lookup per kind of data for the whole chunk.
    let keys: Vec<&siseri_exchange::formats::Keys> = lines.iter().map(|(c, _)| &c.keys).collect();
    let (mut workers, attachments) = crate::lines::lookup_people(ctx, tx, &keys, forced).await?;
    let references: Vec<Reference> = lines
        .iter()
        .filter_map(|(c, _)| c.keys.reference.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut results: HashMap<Reference, DoseResult> = tx
        .results(&ctx.sender_key, &references)
        .await?
        .into_iter()
        .map(|r| (r.reference.clone(), r))
        .collect();
    let mut sums = Sums::load(ctx, tx, &lines, &workers, &attachments, forced).await?;

    let mut out = Outcomes::default();
    let mut changed: BTreeSet<i64> = BTreeSet::new();
    let mut fresh: Vec<NewResultRow> = Vec::new();
    for (checked, raw) in lines {
        let keys = &checked.keys;
        let mut v = Verdict::new(checked.messages.clone());
        if let Some(s) = &keys.siret
            && ctx.establishment(s).is_none()
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
                let new = NewWorker {
                    nir: line.nir.clone(),
                    nom: line.nom.clone(),
                    prenom: line.prenom.clone(),
                    date_naissance: line.date_naissance,
                    sexe: line.sexe,
                };
                let ids = tx.apply(&[WriteOp::EnsureWorker(new.clone())]).await?;
                let id = ids.first().map_or(0, |(id, _)| *id);
                let w = Worker {
                    id,
                    nir: new.nir,
                    nom: new.nom,
                    prenom: new.prenom,
                    date_naissance: new.date_naissance,
                    sexe: new.sexe,
                };
                ctx.created.push(w.nir.clone());
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

        // The version being superseded, found by its reference: results created earlier in
        // this chunk all have id 0 until they are written, so an id does not tell them apart.
        let old = correction_of.and_then(|_| {
            results
                .get(&line.reference)
                .and_then(|r| r.current().map(|c| (r.clone(), c.values.clone())))
        });
        if let Some((mut id, after)) = correction_of {
            if id <= 0 {
                // The result was created earlier in this chunk: write it first.
                id = flush(tx, &mut fresh, &mut results)
                    .await?
                    .get(line.reference.as_str())
                    .copied()
                    .unwrap_or(id);
            }
            tx.apply(&[WriteOp::AddResultVersion {
                result_id: id,
                after_version: after,
                values: line.values.clone(),
                justification: None,
            }])
            .await?;
            if let Some(r) = results.get_mut(&line.reference) {
                r.id = id;
                r.versions.push(version(after + 1, &line, ctx));
            }
        } else {
            let Some(est) = ctx.establishment(&line.siret) else {
                continue;
            };
            fresh.push(NewResultRow {
                worker_id: worker.id,
                establishment_id: est.id,
                sender: ctx.sender_key.clone(),
                reference: line.reference.clone(),
                nature: line.nature,
                quantity: line.quantity,
                position: line.position,
                values: line.values.clone(),
            });
            results.insert(
                line.reference.clone(),
                DoseResult {
                    id: 0,
                    sender: siseri_domain::result::Sender::Organisation(line.siret.siren()),
                    reference: line.reference.clone(),
                    nir: worker.nir.clone(),
                    siret: line.siret.clone(),
                    nature: line.nature,
                    quantity: line.quantity,
                    position: line.position,
                    versions: vec![version(1, &line, ctx)],
                },
            );
        }

        // Monthly sums, and the classification advisory on the line that first crosses.
        let before = sums.advisory_totals(&worker, &line, &attachments, ctx);
        if let Some((r, values)) = &old
            && let Some(c) = contribution(r.nature, r.quantity, r.position, values)
        {
            for (i, (s, d)) in c.doses.iter().enumerate() {
                let absences = if i == 0 { c.absences } else { 0 };
                ctx.add_monthly(worker.id, c.month, *s, -d, -absences);
                sums.add(worker.id, c.month, *s, -d);
            }
        }
        if let Some(c) = contribution(line.nature, line.quantity, line.position, &line.values) {
            for (i, (s, d)) in c.doses.iter().enumerate() {
                let absences = if i == 0 { c.absences } else { 0 };
                ctx.add_monthly(worker.id, c.month, *s, *d, absences);
                sums.add(worker.id, c.month, *s, *d);
            }
        }
        let after = sums.advisory_totals(&worker, &line, &attachments, ctx);
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
    flush(tx, &mut fresh, &mut results).await?;
    if !ctx.resolving {
        out.write(tx).await?;
    }
    ctx.flush_monthly(tx).await?;
    // Totals changed: the limits and alerts of those workers, in this same transaction.
    let facts: Vec<crate::alerts::WorkerFacts> = workers
        .values()
        .filter(|w| changed.contains(&w.id))
        .map(|w| crate::alerts::WorkerFacts {
            id: w.id,
            nir: w.nir.clone(),
            born: w.date_naissance,
            lifetime: siseri_domain::limits::lifetime_limit_applies(
                attachments
                    .get(&w.nir)
                    .into_iter()
                    .flatten()
                    .flat_map(|a| a.versions.iter().map(|v| &v.terms)),
            ),
        })
        .collect();
    let raised =
        crate::alerts::consolidate_with(tx, &facts, Month::of(ctx.today), &mut ctx.series_totals)
            .await?;
    ctx.raised.extend(raised);
    crate::queue::attach_waiting(ctx, tx).await
}

/// Writes the chunk's new results; returns their ids by reference.
async fn flush(
    tx: &mut dyn ImportTx,
    fresh: &mut Vec<NewResultRow>,
    results: &mut HashMap<Reference, DoseResult>,
) -> Result<HashMap<String, i64>, StoreError> {
    let rows = std::mem::take(fresh);
    let ids = tx.add_results(&rows).await?;
    let mut out = HashMap::new();
    for (row, id) in rows.iter().zip(ids) {
        if let Some(r) = results.get_mut(&row.reference) {
            r.id = id;
        }
        out.insert(row.reference.as_str().to_owned(), id);
    }
    Ok(out)
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
/// what is stored plus what the chunk added so far.
struct Sums {
    sums: HashMap<(i64, Month, Series), i64>,
}

impl Sums {
    async fn load(
        ctx: &Ctx,
        tx: &mut dyn ImportTx,
        lines: &[(siseri_exchange::formats::Checked<ResultLine>, Vec<String>)],
        workers: &HashMap<Nir, Worker>,
        attachments: &HashMap<Nir, Vec<Attachment>>,
        forced: Option<&Worker>,
    ) -> Result<Self, StoreError> {
        let mut ids = BTreeSet::new();
        let mut months = BTreeSet::new();
        for (c, _) in lines {
            let Some(line) = &c.value else { continue };
            // A resolved line goes to the worker the administrator chose, whatever its NIR.
            let Some(w) = forced.or_else(|| workers.get(&line.nir)) else {
                continue;
            };
            if only_category_b(attachments.get(&w.nir), Month::of(line.values.date_fin)) {
                ids.insert(w.id);
                months.insert(Month::of(line.values.date_fin));
            }
        }
        let mut sums = HashMap::new();
        if let (Some(first), Some(last)) = (months.first(), months.last()) {
            let ids: Vec<i64> = ids.into_iter().collect();
            for (w, m, s, d) in tx.monthly(&ids, first.plus(-11), *last).await? {
                sums.insert((w, m, s), d);
            }
        }
        // What this chunk's earlier lines added is in `ctx.monthly` (not yet written).
        for ((w, m, s), (d, _)) in &ctx.monthly {
            *sums.entry((*w, *m, *s)).or_insert(0) += d;
        }
        Ok(Sums { sums })
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
        attachments: &HashMap<Nir, Vec<Attachment>>,
        _ctx: &Ctx,
    ) -> Option<[i64; 4]> {
        let month = Month::of(line.values.date_fin);
        if !only_category_b(attachments.get(&worker.nir), month) {
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

//! The registry's checks and writes of `dosimetrie-operationnelle` lines (exchange.md §3).

use std::collections::HashMap;

use siseri_domain::access::{WriteAction, can_write};
use siseri_domain::result::{OperationalReading, ReadingKey};
use siseri_domain::worker::Worker;
use siseri_exchange::formats::Checked;
use siseri_exchange::formats::operational::{COLUMNS, OperationalLine};
use siseri_exchange::records::{LineCode, LineStatus};
use siseri_storage::{ImportTx, NewReadingRow, StoreError, WriteOp};

use crate::lines::{Ctx, Outcomes, Verdict, hold, settle};
use crate::source::{Line, Parsed};

/// The key of the queue record that keeps the INB site a held line was sent from.
pub(crate) const SITE_KEY: &str = "SITE_INB";

/// Processes a chunk of operational readings. `forced`: the worker a queue resolution
/// attaches the line to; `site`: the INB site of a held line being resolved.
pub(crate) async fn chunk(
    ctx: &mut Ctx,
    tx: &mut dyn ImportTx,
    lines: Vec<Line>,
    forced: Option<&Worker>,
) -> Result<(), StoreError> {
    let lines: Vec<(Checked<OperationalLine>, Vec<String>)> = lines
        .into_iter()
        .filter_map(|l| match l.parsed {
            Parsed::Operational(c) => Some((c, l.raw)),
            _ => None,
        })
        .collect();
    if let Some(site) = ctx.site_inb.clone() {
        ctx.load_establishments(tx, std::iter::once(&site)).await?;
    }
    let keys: Vec<&siseri_exchange::formats::Keys> = lines.iter().map(|(c, _)| &c.keys).collect();
    let (workers, attachments) =
        crate::lines::lookup_people(&mut ctx.known, tx, &keys, forced).await?;
    let starts: Vec<_> = lines
        .iter()
        .filter_map(|(c, _)| c.value.as_ref().map(|v| v.key.debut_port))
        .collect();
    let ids: Vec<i64> = workers.values().map(|w| w.id).collect();
    let mut readings: HashMap<ReadingKey, OperationalReading> = HashMap::new();
    if let (Some(from), Some(to)) = (starts.iter().min(), starts.iter().max()) {
        for r in tx.readings(&ids, *from, *to).await? {
            readings.insert(r.key.clone(), r);
        }
    }

    let mut out = Outcomes::default();
    let mut fresh: Vec<NewReadingRow> = Vec::new();
    for (checked, raw) in lines {
        let keys = &checked.keys;
        let mut v = Verdict::new(checked.messages.clone());
        let mut site = ctx.site_inb.clone();
        if let Some(s) = &keys.siret {
            match ctx.establishment(s) {
                None => v.push(
                    LineCode::EtablissementInconnu,
                    "SIRET",
                    "établissement inconnu du registre ; il doit être déclaré avant l'envoi",
                ),
                Some(e) => {
                    let action = WriteAction::SendOperational {
                        siret: s.clone(),
                        siret_is_inb: e.inb,
                    };
                    if !ctx.resolving && !can_write(&ctx.person, None, &action, ctx.today) {
                        v.push(
                            LineCode::SiretHorsEntreprise,
                            "SIRET",
                            "établissement INB hors du périmètre du compte",
                        );
                    }
                    if site.is_none() {
                        // An employer or advisor sends for the INB establishment itself.
                        site = Some(s.clone());
                    }
                }
            }
        }
        let worker = match forced {
            Some(w) => Some(w.clone()),
            None => keys.nir.as_ref().and_then(|n| workers.get(n)).cloned(),
        };
        if keys.nir.is_some() && worker.is_none() {
            v.push(
                LineCode::TravailleurInconnu,
                "NIR",
                "travailleur inconnu du registre ; la mesure est conservée et sera rattachée dès sa déclaration",
            );
        }
        let target_nir = worker.as_ref().map(|w| w.nir.clone());
        let target = |line: &OperationalLine| -> ReadingKey {
            let mut k = line.key.clone();
            if let Some(n) = &target_nir {
                k.nir = n.clone();
            }
            k
        };
        let existing = checked
            .value
            .as_ref()
            .and_then(|l| readings.get(&target(l)));
        let mut correction_of = None;
        match (&checked.value, existing) {
            (Some(line), Some(e)) => {
                let current = e.versions.last().map(|(_, v)| v);
                if current == Some(&line.values) {
                    v.duplicate = true;
                } else if line.correction {
                    correction_of = e.versions.last().map(|(n, _)| (e.id, *n));
                } else {
                    v.push(
                        LineCode::ReferenceConflit,
                        "DATE_FIN_PORT",
                        "une mesure de même NIR, SIRET, TYPE_MESURE et période existe avec d'autres valeurs ; CODE_METROLOGIE C pour la remplacer",
                    );
                }
            }
            (Some(line), None) if line.correction => v.push(
                LineCode::CorrectionSansOrigine,
                "CODE_METROLOGIE",
                "aucune mesure de même NIR, SIRET, TYPE_MESURE et période à remplacer ; CODE_METROLOGIE C à retirer",
            ),
            _ => {}
        }

        let line_no = checked.line;
        let status = v.status();
        let accepted = checked.value.filter(|_| status == LineStatus::Accepte);
        let (Some(line), Some(worker)) = (accepted, worker) else {
            let (status, messages) = v.reported(COLUMNS);
            if status == LineStatus::EnAttente {
                let extra = site
                    .as_ref()
                    .map(|s| vec![(SITE_KEY, s.as_str().to_owned())])
                    .unwrap_or_default();
                hold(
                    &mut out,
                    COLUMNS,
                    line_no,
                    keys.nir.as_ref(),
                    &messages,
                    Vec::new(),
                    &raw,
                    &extra,
                );
            }
            settle(ctx, &mut out, line_no, None, status, &messages);
            continue;
        };
        let attached = attachments
            .get(&worker.nir)
            .is_some_and(|list| list.iter().any(|a| a.siret == line.key.siret));
        if !attached {
            v.push(
                LineCode::RattachementAbsent,
                "SIRET",
                "aucun rattachement du travailleur à cet établissement ; mesure conservée",
            );
        }
        let key = target(&line);
        if let Some((mut id, after)) = correction_of {
            if id == 0 {
                // Created earlier in this chunk: write it first to know its id.
                write_fresh(tx, &mut fresh, &mut readings).await?;
                id = readings.get(&key).map_or(0, |r| r.id);
            }
            tx.apply(&[WriteOp::AddReadingVersion {
                reading_id: id,
                after_version: after,
                values: line.values.clone(),
            }])
            .await?;
            if let Some(r) = readings.get_mut(&key) {
                r.versions.push((after + 1, line.values.clone()));
            }
        } else {
            let est = ctx.establishment(&line.key.siret).map(|e| e.id);
            let site_id = site
                .as_ref()
                .and_then(|s| ctx.establishment(s))
                .map(|e| e.id);
            let (Some(est), Some(site_id)) = (est, site_id) else {
                continue;
            };
            if fresh.iter().any(|f| f.key == key) {
                // The same reading twice in one chunk: write the first before the second
                // is compared with it.
                write_fresh(tx, &mut fresh, &mut readings).await?;
            }
            fresh.push(NewReadingRow {
                worker_id: worker.id,
                establishment_id: est,
                site_inb_id: site_id,
                key: key.clone(),
                values: line.values.clone(),
            });
            readings.insert(
                key.clone(),
                OperationalReading {
                    id: 0,
                    key,
                    site_inb: site.clone().unwrap_or_else(|| line.key.siret.clone()),
                    versions: vec![(1, line.values.clone())],
                },
            );
        }
        ctx.touched.insert(worker.id);
        let (status, messages) = v.reported(COLUMNS);
        settle(ctx, &mut out, line_no, None, status, &messages);
    }
    write_fresh(tx, &mut fresh, &mut readings).await?;
    if !ctx.resolving {
        out.write(tx).await?;
    }
    Ok(())
}

async fn write_fresh(
    tx: &mut dyn ImportTx,
    fresh: &mut Vec<NewReadingRow>,
    readings: &mut HashMap<ReadingKey, OperationalReading>,
) -> Result<(), StoreError> {
    let rows = std::mem::take(fresh);
    let ids = tx.add_readings(&rows).await?;
    for (row, id) in rows.iter().zip(ids) {
        if let Some(r) = readings.get_mut(&row.key) {
            r.id = id;
        }
    }
    Ok(())
}

//! The registry's checks and writes of `travailleurs` lines (exchange.md §2).

use siseri_domain::access::{WriteAction, can_write};
use siseri_domain::worker::{Attachment, AttachmentVersion, Worker};

use siseri_exchange::formats::Checked;
use siseri_exchange::formats::workers::{COLUMNS, WorkerLine};
use siseri_exchange::records::{LineCode, LineStatus};
use siseri_storage::{ImportTx, StoreError, WriteOp};

use crate::lines::{
    Ctx, Outcomes, Verdict, hold, identity_diffs, identity_message, identity_message_blind, settle,
};
use crate::source::{Line, Parsed};

/// Processes a chunk of `travailleurs` lines. `forced`: the worker a queue resolution
/// attaches the line to.
pub(crate) async fn chunk(
    ctx: &mut Ctx,
    tx: &mut dyn ImportTx,
    lines: Vec<Line>,
    forced: Option<&Worker>,
) -> Result<(), StoreError> {
    let lines: Vec<(Checked<WorkerLine>, Vec<String>)> = lines
        .into_iter()
        .filter_map(|l| match l.parsed {
            Parsed::Workers(c) => Some((c, l.raw)),
            _ => None,
        })
        .collect();
    let keys: Vec<&siseri_exchange::formats::Keys> = lines.iter().map(|(c, _)| &c.keys).collect();
    let (mut workers, mut attachments) =
        crate::lines::lookup_people(&mut ctx.known, tx, &keys, forced).await?;

    let mut out = Outcomes::default();
    for (checked, raw) in lines {
        let keys = &checked.keys;
        let mut v = Verdict::new(checked.messages.clone());
        if let Some(s) = &keys.siret {
            if ctx.establishment(s).is_none() {
                v.push(
                    LineCode::EtablissementInconnu,
                    "SIRET",
                    "établissement inconnu du registre ; il doit être déclaré avant l'envoi",
                );
            }
            let action = WriteAction::DeclareWorker { siret: s.clone() };
            if !ctx.resolving && !can_write(&ctx.person, None, &action, ctx.today) {
                v.push(
                    LineCode::SiretHorsEntreprise,
                    "SIRET",
                    "établissement hors du périmètre du compte (ses établissements, ou son entreprise)",
                );
            }
        }
        let worker = match forced {
            Some(w) => Some(w.clone()),
            None => keys.nir.as_ref().and_then(|n| workers.get(n)).cloned(),
        };
        let mut conflicts = Vec::new();
        if forced.is_none()
            && let Some(w) = &worker
        {
            // A worker the sender never had in its scope: a dry run does not compare his
            // identity (checked when the file is really sent), and a real send holds the
            // line without naming the fields that differ.
            let known_to_sender = attachments.get(&w.nir).is_some_and(|list| {
                list.iter().any(|a| {
                    let action = WriteAction::DeclareWorker {
                        siret: a.siret.clone(),
                    };
                    can_write(&ctx.person, None, &action, ctx.today)
                })
            });
            if known_to_sender || !ctx.dry_run {
                let diffs = identity_diffs(
                    keys.nom.as_deref(),
                    keys.prenom.as_deref(),
                    keys.date_naissance,
                    w,
                );
                let message = if known_to_sender {
                    identity_message(&diffs)
                } else {
                    identity_message_blind(&diffs)
                };
                if let Some(m) = message {
                    v.messages.push(m);
                    conflicts = diffs.iter().map(|d| (*d).to_owned()).collect();
                }
            }
        }
        // An attachment of this worker to this SIRET whose period overlaps is updated.
        let target = worker.as_ref().map(|w| &w.nir);
        let current = match (&checked.value, target) {
            (Some(line), Some(nir)) => attachments.get(nir).and_then(|list| {
                list.iter()
                    .filter(|a| a.siret == line.siret)
                    .find(|a| a.current().is_some_and(|t| t.overlaps(&line.terms)))
                    .cloned()
            }),
            _ => None,
        };
        if let (Some(line), Some(a)) = (&checked.value, &current)
            && a.current() == Some(&line.terms)
        {
            v.duplicate = true;
        }

        let line_no = checked.line;
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
            settle(ctx, &mut out, line_no, None, status, &messages);
            continue;
        };

        let worker = match worker {
            Some(w) => w,
            None => {
                let ids = tx
                    .apply(&[WriteOp::EnsureWorker(line.worker.clone())])
                    .await?;
                let id = ids.first().map_or(0, |(id, _)| *id);
                let w = Worker {
                    id,
                    nir: line.worker.nir.clone(),
                    nom: line.worker.nom.clone(),
                    prenom: line.worker.prenom.clone(),
                    date_naissance: line.worker.date_naissance,
                    sexe: line.worker.sexe,
                };
                ctx.created.push(w.nir.clone());
                workers.insert(w.nir.clone(), w.clone());
                w
            }
        };
        let op = match &current {
            Some(a) => WriteOp::AddAttachmentVersion {
                attachment_id: a.id,
                after_version: a.versions.last().map_or(1, |v| v.version),
                terms: line.terms.clone(),
            },
            None => WriteOp::AddAttachment {
                nir: worker.nir.clone(),
                siret: line.siret.clone(),
                terms: line.terms.clone(),
            },
        };
        let ids = tx.apply(std::slice::from_ref(&op)).await?;
        // Later lines of the file see this attachment as stored.
        let list = std::sync::Arc::make_mut(attachments.entry(worker.nir.clone()).or_default());
        let version = AttachmentVersion {
            version: 1,
            terms: line.terms.clone(),
            author: ctx.account.spec.login.clone(),
            recorded_at: chrono::Utc::now(),
        };
        match (&current, ids.first()) {
            (Some(a), _) => {
                if let Some(stored) = list.iter_mut().find(|x| x.id == a.id) {
                    let n = stored.versions.last().map_or(1, |v| v.version + 1);
                    stored.versions.push(AttachmentVersion {
                        version: n,
                        ..version
                    });
                }
            }
            (None, Some((id, _))) => list.push(Attachment {
                id: *id,
                nir: worker.nir.clone(),
                siret: line.siret.clone(),
                versions: vec![version],
            }),
            (None, None) => {}
        }
        ctx.touched.insert(worker.id);
        let (status, messages) = v.reported(COLUMNS);
        settle(ctx, &mut out, line_no, None, status, &messages);
    }
    if !ctx.resolving {
        out.write(tx).await?;
    }
    let created = std::mem::take(&mut ctx.created);
    let touched = crate::queue::attach_waiting(&created, tx, ctx.today).await?;
    ctx.touched.extend(touched);
    Ok(())
}

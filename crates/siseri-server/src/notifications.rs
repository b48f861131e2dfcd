//! Who is told of each alert (rules.md §5), queued in the persistent outbox.
//!
//! The sweep goes over every alert and queues, for each recipient, its e-mail and inbox
//! item; both are keyed by a stable Message-ID, so running it again (after each write, at
//! start-up, periodically) never queues a second message, and an alert whose notices were
//! not queued (a crash right after its transaction) is caught at the next run.

use chrono::{NaiveDate, Utc};
use siseri_domain::limits::LimitKind;
use siseri_domain::totals::Month;
use siseri_domain::worker::DesignationRole;
use siseri_domain::{Nomenclature, Role};
use siseri_notify::{AlertNotice, EstablishmentRef, Recipient, RecipientKind, WorkerIdentity};
use siseri_storage::{AlertRow, Store, StoreError};

/// Queues the notices of every alert; returns how many messages were newly queued.
///
/// `public_url`: the registry's address that e-mails link to (empty: the path alone).
pub async fn sweep(
    store: &dyn Store,
    ministry: Option<&str>,
    public_url: &str,
) -> Result<usize, StoreError> {
    let mut queued = 0;
    for alert in store.all_alerts().await? {
        queued += notify(store, &alert, ministry, public_url).await?;
    }
    Ok(queued)
}

/// Whether an attachment period covers some day of month `m`.
fn in_month(from: NaiveDate, to: Option<NaiveDate>, m: Month) -> bool {
    from <= m.last_day() && to.is_none_or(|t| t >= m.first_day())
}

async fn notify(
    store: &dyn Store,
    alert: &AlertRow,
    ministry: Option<&str>,
    public_url: &str,
) -> Result<usize, StoreError> {
    let Some(kind) = LimitKind::parse(&alert.kind) else {
        return Ok(0);
    };
    let Some(worker) = store.worker_by_id(alert.worker_id).await? else {
        return Ok(0);
    };
    let month = Month(alert.first_month);
    let attachments = store.attachments(&worker.nir).await?;
    let in_force: Vec<_> = attachments
        .iter()
        .filter(|a| {
            a.current()
                .is_some_and(|t| in_month(t.date_debut, t.date_fin, month))
        })
        .collect();
    let accounts = store.accounts().await?;
    let mut recipients: Vec<Recipient> = Vec::new();
    for a in &in_force {
        for d in store.designations_on(&a.siret).await? {
            if !in_month(d.date_debut, d.date_fin, month) {
                continue;
            }
            let kind = match d.role {
                DesignationRole::Physician => RecipientKind::Mdt,
                DesignationRole::Advisor => RecipientKind::Crp,
            };
            if let Some(account) = accounts.iter().find(|x| x.spec.login == d.login)
                && let Some(r) = Recipient::of_account(kind, account)
                && !recipients.contains(&r)
            {
                recipients.push(r);
            }
        }
        // Every employer account of the establishment's company (rules.md §5), whatever
        // establishments an account is scoped to.
        for account in accounts.iter().filter(|x| {
            x.spec.role == Role::Employeur && x.spec.siren.as_ref() == Some(&a.siret.siren())
        }) {
            if let Some(r) = Recipient::of_account(RecipientKind::Employeur, account)
                && !recipients.contains(&r)
            {
                recipients.push(r);
            }
        }
    }
    if let Some(m) = ministry {
        recipients.push(Recipient::ministry(m));
    }
    if recipients.is_empty() {
        return Ok(0);
    }
    let first = in_force.first();
    // The sector of the attachment at the month, or else of the worker's latest one.
    let terms = first.and_then(|a| a.current()).or_else(|| {
        attachments
            .iter()
            .filter_map(|a| a.current())
            .max_by_key(|t| t.date_debut)
    });
    let sector_code = terms.map(|t| t.code_secteur.clone()).unwrap_or_default();
    // Without an attachment at the alert's month nobody above was found, but the ministry
    // is told of every alert all the same.
    let establishment = match first {
        Some(a) => {
            let name = store
                .establishment(&a.siret)
                .await?
                .map(|e| e.name)
                .unwrap_or_default();
            Some(EstablishmentRef {
                name,
                siret: a.siret.clone(),
            })
        }
        None => None,
    };
    let notice = AlertNotice {
        alert_id: alert.id,
        kind,
        first_month: month,
        last_month: Month(alert.last_month),
        dose_usv: alert.dose_usv,
        worker: WorkerIdentity {
            nom: worker.nom.clone(),
            prenom: worker.prenom.clone(),
            nir: worker.nir.clone(),
        },
        sector_label: sector_label(&sector_code),
        sector_code,
        establishment,
        public_url: public_url.to_owned(),
    };
    let done = siseri_notify::enqueue(store.outbox(), &notice, &recipients, Utc::now()).await?;
    Ok(usize::try_from(done.notifications).unwrap_or(usize::MAX))
}

fn sector_label(code: &str) -> Option<String> {
    Nomenclature::official()
        .sector_label(code)
        .map(str::to_owned)
}

/// Runs the sweep now (after a write that may have raised alerts), with the ministry's
/// address of the environment; a failure is logged, the minute's sweep will retry.
pub async fn sweep_now(store: &dyn Store, public_url: &str) {
    let ministry = std::env::var("SISERI_MINISTRY_EMAIL").ok();
    if let Err(e) = sweep(
        store,
        ministry.as_deref().map(str::trim).filter(|m| !m.is_empty()),
        public_url,
    )
    .await
    {
        tracing::error!(error = %e, "file des notifications");
    }
}

/// The registry's public address for the command line (`SISERI_PUBLIC_URL`, or none).
pub fn public_url_of_environment() -> String {
    std::env::var("SISERI_PUBLIC_URL").unwrap_or_default()
}

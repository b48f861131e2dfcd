//! Reading a worker's record through the access policy: one function for the API and
//! the command line alike, which journals every read and every refusal before the
//! answer, and refuses exactly as it would for an unknown NIR.

use chrono::{NaiveDate, Utc};
use serde::Serialize;
use siseri_domain::Clock;
use siseri_domain::access::{ReadDecision, ReadKind, can_read};
use siseri_domain::ids::{Nir, Siret};
use siseri_domain::worker::{Attachment, Worker};
use siseri_storage::{Store, StoreError};
use utoipa::ToSchema;

use crate::caller::{Caller, person, worker_facts};

/// Why a read is refused; the edge answers `NotFound` exactly like an unknown NIR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Unknown, or not visible to the caller.
    NotFound,
    /// An inspector without a mission reference.
    MissionRequired,
}

/// An attachment as the caller may see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentView {
    siret: String,
    date_debut: NaiveDate,
    #[serde(skip_serializing_if = "Option::is_none")]
    date_fin: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    classement: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    autre_exposition: Option<String>,
    code_domaine: String,
    code_secteur: String,
    code_metier: String,
    type_contrat: String,
    /// Work-time fraction, 0.1 … 1.0.
    quotite: f64,
}

/// A worker's record as the caller may see it (the results, totals and alerts come
/// with the consolidation work; fields the caller may not see are absent).
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkerRecord {
    nir: String,
    nom: String,
    prenom: String,
    date_naissance: NaiveDate,
    sexe: String,
    rattachements: Vec<AttachmentView>,
}

fn record(w: &Worker, attachments: &[Attachment], scope: Option<&[Siret]>) -> WorkerRecord {
    let rattachements = attachments
        .iter()
        .filter(|a| scope.is_none_or(|s| s.contains(&a.siret)))
        .filter_map(|a| {
            a.current().map(|t| AttachmentView {
                siret: a.siret.to_string(),
                date_debut: t.date_debut,
                date_fin: t.date_fin,
                classement: t.classement.map(|c| c.code().to_string()),
                autre_exposition: t.autre_exposition.map(|c| c.code().to_string()),
                code_domaine: t.code_domaine.clone(),
                code_secteur: t.code_secteur.clone(),
                code_metier: t.code_metier.clone(),
                type_contrat: t.type_contrat.code().to_string(),
                quotite: f64::from(t.quotite_milliemes) / 1000.0,
            })
        })
        .collect();
    WorkerRecord {
        nir: w.nir.to_string(),
        nom: w.nom.clone(),
        prenom: w.prenom.clone(),
        date_naissance: w.date_naissance,
        sexe: w.sexe.code().to_string(),
        rattachements,
    }
}

/// Reads `nir`'s record as `caller` may see it, and journals the read or the refusal.
pub async fn read_worker(
    store: &dyn Store,
    clock: Clock,
    caller: &Caller,
    nir: &Nir,
) -> Result<Result<WorkerRecord, Refusal>, StoreError> {
    let person = person(store, caller).await?;
    let worker = store.worker(nir).await?;
    // The same work whether the worker exists or not: a refusal must not be told apart.
    let attachments = store.attachments(nir).await?;
    let decision = can_read(
        &person,
        &worker_facts(nir, &attachments),
        ReadKind::Identity,
        clock.today(),
    );
    let mut event = caller.event(Utc::now(), "LECTURE", "IDENTITE");
    event.worker_ids = worker.iter().map(|w| w.id).collect();
    let answer = match (&worker, &decision) {
        (Some(w), ReadDecision::Full) => Ok(record(w, &attachments, None)),
        (Some(w), ReadDecision::AttachmentsInScope(scope)) => {
            Ok(record(w, &attachments, Some(scope)))
        }
        (_, ReadDecision::MissionRequired) => Err(Refusal::MissionRequired),
        _ => Err(Refusal::NotFound),
    };
    if answer.is_err() {
        event.action = "LECTURE_REFUSEE".into();
        event.outcome = "REFUSE".into();
    }
    store.append_journal(&[event]).await?;
    Ok(answer)
}

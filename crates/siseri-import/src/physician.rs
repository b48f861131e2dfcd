//! Physicians' writes (api.md): estimates and internal doses, new versions of results,
//! pregnancies, alert steps. Each is one transaction with its monthly sums, its alerts and
//! its journal entry, like a transmission's lines; the API and the command line share them.

use chrono::{NaiveDate, Utc};
use siseri_domain::access::{WorkerFacts, WriteAction, can_write};
use siseri_domain::alerts::{AlertActor, AlertStatus, transition};
use siseri_domain::codes::{Nature, Position, Quantity, ResultStatus, Sex};
use siseri_domain::journal::JournalEvent;
use siseri_domain::result::{Reference, ResultValues, Sender};
use siseri_domain::totals::{Month, contribution};
use siseri_domain::worker::{Attachment, Worker};
use siseri_domain::{Nir, Siret};
use siseri_storage::{AlertOp, ImportTx, Store, StoreError, TransmissionEnd, WriteOp};

use crate::SenderInfo;
use crate::alerts::{WorkerFacts as Facts, consolidate};

/// Why a physician's write was not carried out.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// Unknown, or not visible to the caller (answered like an unknown resource).
    #[error("introuvable")]
    NotFound,
    /// The caller may not do this kind of thing at all.
    #[error("{0}")]
    Forbidden(&'static str),
    /// A value is invalid: the field and the expected form.
    #[error("{0}")]
    Invalid(String),
    /// The worker is not of sex F (pregnancy).
    #[error("{0}")]
    Unprocessable(String),
    /// A transition `rules.md` §5 does not allow.
    #[error("{0}")]
    Transition(String),
    /// Storage.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A result a physician enters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEntry {
    /// `ESTIMATION_MDT`, `INTERNE_VIVO` or `INTERNE_VITRO`.
    pub nature: Nature,
    /// Quantity.
    pub quantity: Quantity,
    /// Position.
    pub position: Option<Position>,
    /// Period, status, dose.
    pub values: ResultValues,
    /// Why (mandatory).
    pub justification: String,
}

/// A new version of a result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVersion {
    /// New status (`ANNULE` cancels).
    pub statut: ResultStatus,
    /// Dose (with `MESURE`).
    pub dose_usv: Option<i64>,
    /// New start, else the current one.
    pub date_debut: Option<NaiveDate>,
    /// New end, else the current one.
    pub date_fin: Option<NaiveDate>,
    /// Why (mandatory).
    pub justification: String,
}

fn facts(nir: &Nir, attachments: &[Attachment]) -> WorkerFacts {
    use siseri_domain::access::{Period, WorkerAttachment};
    WorkerFacts {
        nir: nir.clone(),
        attachments: attachments
            .iter()
            .filter_map(|a| {
                a.current().map(|t| WorkerAttachment {
                    siret: a.siret.clone(),
                    period: Period::new(t.date_debut, t.date_fin),
                })
            })
            .collect(),
    }
}

/// Only physicians and their delegates write in records (403 for anyone else, whoever the
/// worker: the refusal tells nothing about him).
fn physician_role(sender: &SenderInfo) -> Result<(), WriteError> {
    use siseri_domain::Role;
    match sender.account.spec.role {
        Role::Mdt | Role::ProfessionnelSante => Ok(()),
        _ => Err(WriteError::Forbidden(
            "réservé aux médecins du travail et aux professionnels de santé délégués",
        )),
    }
}

fn justified(text: &str) -> Result<String, WriteError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(WriteError::Invalid(
            "justification : texte obligatoire".into(),
        ));
    }
    if t.chars().count() > 2000 || t.chars().any(|c| c.is_control() && c != '\n') {
        return Err(WriteError::Invalid(
            "justification : texte de 2000 caractères au plus, sans caractère de contrôle".into(),
        ));
    }
    Ok(t.to_owned())
}

fn check_values(v: &ResultValues, today: NaiveDate) -> Result<(), WriteError> {
    if v.date_fin < v.date_debut {
        return Err(WriteError::Invalid(
            "date_fin : date postérieure ou égale à date_debut attendue".into(),
        ));
    }
    if v.date_fin > today {
        return Err(WriteError::Invalid(
            "date_fin : date postérieure à la date du jour refusée".into(),
        ));
    }
    match (v.statut, v.dose_usv) {
        (ResultStatus::Measured, None) => Err(WriteError::Invalid(
            "dose_usv : obligatoire avec le statut MESURE".into(),
        )),
        (ResultStatus::Measured, Some(d)) if !(0..=100_000_000).contains(&d) => Err(
            WriteError::Invalid("dose_usv : entier entre 0 et 100000000 attendu".into()),
        ),
        (ResultStatus::BelowThreshold, Some(d)) if d != 0 => Err(WriteError::Invalid(
            "dose_usv : absent ou 0 avec le statut INF_SEUIL".into(),
        )),
        (ResultStatus::Absent | ResultStatus::Cancelled, Some(_)) => Err(WriteError::Invalid(
            "dose_usv : absent avec les statuts ABSENCE et ANNULE".into(),
        )),
        _ => Ok(()),
    }
}

fn event(sender: &SenderInfo, data_kind: &str, detail: String) -> JournalEvent {
    let mut e = JournalEvent::new(
        Utc::now(),
        &sender.account.spec.login,
        "ECRITURE",
        data_kind,
    );
    e.role = Some(sender.account.spec.role.code().to_owned());
    e.detail = Some(detail);
    e
}

async fn finish(
    mut tx: Box<dyn ImportTx>,
    worker: &Worker,
    attachments: &[Attachment],
    mut event: JournalEvent,
    today: NaiveDate,
) -> Result<(), WriteError> {
    let f = Facts {
        id: worker.id,
        nir: worker.nir.clone(),
        born: worker.date_naissance,
        lifetime: siseri_domain::limits::lifetime_limit_applies(
            attachments
                .iter()
                .flat_map(|a| a.versions.iter().map(|v| &v.terms)),
        ),
    };
    consolidate(tx.as_mut(), std::slice::from_ref(&f), Month::of(today)).await?;
    event.worker_ids = vec![worker.id];
    tx.finish(TransmissionEnd {
        report: String::new(),
        file_sha256: String::new(),
        file_bytes: 0,
        refused: false,
        event,
    })
    .await?;
    Ok(())
}

/// Adds a physician's result to `nir`'s record; returns its id and generated reference.
///
/// # Errors
/// [`WriteError`].
pub async fn add_result(
    store: &dyn Store,
    sender: &SenderInfo,
    nir: &Nir,
    entry: &NewEntry,
    today: NaiveDate,
) -> Result<(i64, String), WriteError> {
    physician_role(sender)?;
    let worker = store.worker(nir).await?.ok_or(WriteError::NotFound)?;
    let attachments = store.attachments(nir).await?;
    if !can_write(
        &sender.person,
        Some(&facts(nir, &attachments)),
        &WriteAction::AddResult,
        today,
    ) {
        return Err(WriteError::NotFound);
    }
    let rpps = sender
        .account
        .spec
        .rpps
        .clone()
        .ok_or(WriteError::Forbidden("compte sans numéro RPPS"))?;
    if !matches!(
        entry.nature,
        Nature::PhysicianEstimate | Nature::InternalInVivo | Nature::InternalInVitro
    ) {
        return Err(WriteError::Invalid(
            "nature : ESTIMATION_MDT, INTERNE_VIVO ou INTERNE_VITRO attendu".into(),
        ));
    }
    if !entry.nature.admits(entry.quantity) {
        return Err(WriteError::Invalid(format!(
            "grandeur : non admise pour la nature {}",
            entry.nature
        )));
    }
    if !entry.quantity.admits(entry.position) {
        return Err(WriteError::Invalid(format!(
            "position : non admise pour la grandeur {}",
            entry.quantity
        )));
    }
    if entry.values.statut == ResultStatus::Cancelled {
        return Err(WriteError::Invalid(
            "statut : MESURE, INF_SEUIL ou ABSENCE attendu".into(),
        ));
    }
    check_values(&entry.values, today)?;
    let justification = justified(&entry.justification)?;
    // The establishment: an attachment in force at DATE_FIN, preferably one the physician
    // is designated on.
    let mine: Vec<&Siret> = sender
        .person
        .designations
        .iter()
        .map(|d| &d.siret)
        .collect();
    let in_force: Vec<&Attachment> = attachments
        .iter()
        .filter(|a| a.current().is_some_and(|t| t.covers(entry.values.date_fin)))
        .collect();
    let siret = in_force
        .iter()
        .find(|a| mine.contains(&&a.siret))
        .or_else(|| in_force.first())
        .map(|a| a.siret.clone())
        .ok_or_else(|| {
            WriteError::Unprocessable(
                "date_fin : le travailleur n'a aucun rattachement à cette date".into(),
            )
        })?;
    let now = Utc::now();
    let reference = Reference::parse(&format!(
        "MDT-{}-{:06}",
        now.format("%Y%m%d%H%M%S"),
        now.timestamp_subsec_micros()
    ))
    .map_err(|_| WriteError::Invalid("référence".into()))?;
    let mut tx = store
        .begin_import(None, &sender.account.spec.login, now)
        .await?;
    let done = tx
        .apply(&[WriteOp::AddResult {
            sender: Sender::Physician(rpps),
            reference: reference.clone(),
            nir: nir.clone(),
            siret,
            nature: entry.nature,
            quantity: entry.quantity,
            position: entry.position,
            values: entry.values.clone(),
            justification: Some(justification),
        }])
        .await?;
    let id = done.first().map_or(0, |(id, _)| *id);
    if let Some(c) = contribution(entry.nature, entry.quantity, entry.position, &entry.values) {
        add_monthly(tx.as_mut(), worker.id, &c, 1).await?;
    }
    let e = event(
        sender,
        "RESULTAT",
        format!("résultat {id} ({})", entry.nature),
    );
    finish(tx, &worker, &attachments, e, today).await?;
    Ok((id, reference.as_str().to_owned()))
}

async fn add_monthly(
    tx: &mut dyn ImportTx,
    worker: i64,
    c: &siseri_domain::totals::Contribution,
    sign: i64,
) -> Result<(), StoreError> {
    let rows: Vec<_> = c
        .doses
        .iter()
        .enumerate()
        .map(|(i, (s, d))| {
            let absences = if i == 0 { c.absences } else { 0 };
            (worker, c.month, *s, sign * d, sign * absences)
        })
        .collect();
    tx.add_monthly(&rows).await
}

/// Writes a new version of result `id` (correction, completion or cancellation).
///
/// # Errors
/// [`WriteError`].
pub async fn add_version(
    store: &dyn Store,
    sender: &SenderInfo,
    id: i64,
    v: &NewVersion,
    today: NaiveDate,
) -> Result<u32, WriteError> {
    physician_role(sender)?;
    let result = store.result(id).await?.ok_or(WriteError::NotFound)?;
    let attachments = store.attachments(&result.nir).await?;
    if !can_write(
        &sender.person,
        Some(&facts(&result.nir, &attachments)),
        &WriteAction::CorrectResult,
        today,
    ) {
        return Err(WriteError::NotFound);
    }
    let worker = store
        .worker(&result.nir)
        .await?
        .ok_or(WriteError::NotFound)?;
    let current = result.current().ok_or(WriteError::NotFound)?;
    let values = ResultValues {
        date_debut: v.date_debut.unwrap_or(current.values.date_debut),
        date_fin: v.date_fin.unwrap_or(current.values.date_fin),
        statut: v.statut,
        dose_usv: v.dose_usv,
        seuil_usv: current.values.seuil_usv,
    };
    check_values(&values, today)?;
    let justification = justified(&v.justification)?;
    let mut tx = store
        .begin_import(None, &sender.account.spec.login, Utc::now())
        .await?;
    tx.apply(&[WriteOp::AddResultVersion {
        result_id: id,
        after_version: current.version,
        values: values.clone(),
        justification: Some(justification),
    }])
    .await?;
    let old = contribution(
        result.nature,
        result.quantity,
        result.position,
        &current.values,
    );
    let new = contribution(result.nature, result.quantity, result.position, &values);
    if let Some(c) = &old {
        add_monthly(tx.as_mut(), worker.id, c, -1).await?;
    }
    if let Some(c) = &new {
        add_monthly(tx.as_mut(), worker.id, c, 1).await?;
    }
    let e = event(
        sender,
        "RESULTAT",
        format!(
            "résultat {id} : version {} ({})",
            current.version + 1,
            values.statut
        ),
    );
    finish(tx, &worker, &attachments, e, today).await?;
    Ok(current.version + 1)
}

/// Declares a pregnancy of `nir` (sex F only); returns its id.
///
/// # Errors
/// [`WriteError`].
pub async fn declare_pregnancy(
    store: &dyn Store,
    sender: &SenderInfo,
    nir: &Nir,
    declared_on: NaiveDate,
    justification: &str,
    today: NaiveDate,
) -> Result<i64, WriteError> {
    physician_role(sender)?;
    let worker = store.worker(nir).await?.ok_or(WriteError::NotFound)?;
    let attachments = store.attachments(nir).await?;
    if !can_write(
        &sender.person,
        Some(&facts(nir, &attachments)),
        &WriteAction::Pregnancy,
        today,
    ) {
        return Err(WriteError::NotFound);
    }
    if worker.sexe != Sex::F {
        return Err(WriteError::Unprocessable(
            "grossesse : le travailleur n'est pas de sexe F".into(),
        ));
    }
    if declared_on > today {
        return Err(WriteError::Invalid(
            "date_declaration : date postérieure à la date du jour refusée".into(),
        ));
    }
    let justification = justified(justification)?;
    let mut tx = store
        .begin_import(None, &sender.account.spec.login, Utc::now())
        .await?;
    let done = tx
        .apply(&[WriteOp::Alert(AlertOp::DeclarePregnancy {
            worker_id: worker.id,
            declared_on,
            justification,
        })])
        .await?;
    let id = done.first().map_or(0, |(id, _)| *id);
    let e = event(
        sender,
        "GROSSESSE",
        format!("déclaration de grossesse {id}"),
    );
    finish(tx, &worker, &attachments, e, today).await?;
    Ok(id)
}

/// Declares the end of pregnancy `id`.
///
/// # Errors
/// [`WriteError`].
pub async fn end_pregnancy(
    store: &dyn Store,
    sender: &SenderInfo,
    id: i64,
    ended_on: NaiveDate,
    justification: &str,
    today: NaiveDate,
) -> Result<(), WriteError> {
    physician_role(sender)?;
    let worker = store
        .pregnancy_worker(id)
        .await?
        .ok_or(WriteError::NotFound)?;
    let attachments = store.attachments(&worker.nir).await?;
    if !can_write(
        &sender.person,
        Some(&facts(&worker.nir, &attachments)),
        &WriteAction::Pregnancy,
        today,
    ) {
        return Err(WriteError::NotFound);
    }
    let pregnancy = store
        .pregnancies(worker.id)
        .await?
        .into_iter()
        .find(|p| p.id == id)
        .ok_or(WriteError::NotFound)?;
    if ended_on < pregnancy.declared_on || ended_on > today {
        return Err(WriteError::Invalid(
            "date_fin : entre la déclaration et la date du jour attendue".into(),
        ));
    }
    let justification = justified(justification)?;
    let mut tx = store
        .begin_import(None, &sender.account.spec.login, Utc::now())
        .await?;
    tx.apply(&[WriteOp::Alert(AlertOp::EndPregnancy {
        pregnancy_id: id,
        ended_on,
    })])
    .await
    .map_err(|e| match e {
        StoreError::Conflict(m) => WriteError::Transition(m),
        other => WriteError::Store(other),
    })?;
    let e = event(
        sender,
        "GROSSESSE",
        format!("fin de grossesse {id} : {justification}"),
    );
    finish(tx, &worker, &attachments, e, today).await
}

/// Moves alert `id` to `to` with a text (`rules.md` §5).
///
/// # Errors
/// [`WriteError`]; [`WriteError::Transition`] for a transition the rules do not allow.
pub async fn alert_step(
    store: &dyn Store,
    sender: &SenderInfo,
    id: i64,
    to: &str,
    text: &str,
    today: NaiveDate,
) -> Result<String, WriteError> {
    physician_role(sender)?;
    let alert = store.alert(id).await?.ok_or(WriteError::NotFound)?;
    let worker = store
        .worker_by_id(alert.worker_id)
        .await?
        .ok_or(WriteError::NotFound)?;
    let attachments = store.attachments(&worker.nir).await?;
    let step = siseri_domain::alerts::parse_step(to).ok_or_else(|| {
        WriteError::Invalid("statut : EN_ANALYSE, CONFIRMEE, CORRIGEE ou ANNULEE attendu".into())
    })?;
    if !can_write(
        &sender.person,
        Some(&facts(&worker.nir, &attachments)),
        &WriteAction::MoveAlert { to: step },
        today,
    ) {
        return Err(WriteError::NotFound);
    }
    let text = justified(text).map_err(|_| WriteError::Invalid("texte : obligatoire".into()))?;
    let from = AlertStatus::parse(&alert.status).ok_or_else(|| {
        WriteError::Store(StoreError::Corrupt(format!("statut « {} »", alert.status)))
    })?;
    let actor = AlertActor::of_role(sender.account.spec.role).ok_or(WriteError::Forbidden(
        "seuls le médecin du travail et ses délégués font avancer une alerte",
    ))?;
    let next = transition(from, step, actor).map_err(|e| {
        WriteError::Transition(format!(
            "transition {} → {} non permise",
            e.from.code(),
            AlertStatus::from(e.to).code()
        ))
    })?;
    let mut tx = store
        .begin_import(None, &sender.account.spec.login, Utc::now())
        .await?;
    tx.apply(&[WriteOp::Alert(AlertOp::Step {
        alert_id: id,
        from: alert.status.clone(),
        to: next.code().to_owned(),
        text,
    })])
    .await
    .map_err(|e| match e {
        StoreError::Conflict(m) => WriteError::Transition(m),
        other => WriteError::Store(other),
    })?;
    let mut e = event(
        sender,
        "ALERTE",
        format!("alerte {id} : {} → {}", alert.status, next.code()),
    );
    e.worker_ids = vec![worker.id];
    tx.finish(TransmissionEnd {
        report: String::new(),
        file_sha256: String::new(),
        file_bytes: 0,
        refused: false,
        event: e,
    })
    .await?;
    Ok(next.code().to_owned())
}

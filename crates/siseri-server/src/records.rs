//! Reading a worker's record through the access policy: one function for the API and
//! the command line alike, which journals every read and every refusal before the
//! answer, and refuses exactly as it would for an unknown NIR.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::Serialize;
use siseri_domain::Clock;
use siseri_domain::access::{Period, ReadDecision, ReadKind, can_read};
use siseri_domain::codes::ResultStatus;
use siseri_domain::ids::{Nir, Siret};
use siseri_domain::result::{DoseResult, OperationalReading, ResultKind};
use siseri_domain::totals::{Month, MonthRange, MonthlySums, Totals, contribution};
use siseri_domain::worker::{Attachment, Worker};
use siseri_storage::{AlertRow, Store, StoreError};
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

/// One version of a result.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionView {
    version: u32,
    statut: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    dose_usv: Option<i64>,
    auteur: String,
    date: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    justification: Option<String>,
}

/// A result (its current version, and its history when the caller may read it).
#[derive(Debug, Serialize, ToSchema)]
pub struct ResultView {
    id: i64,
    reference: String,
    emetteur: String,
    nature: String,
    grandeur: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    position: Option<String>,
    date_debut: NaiveDate,
    date_fin: NaiveDate,
    statut: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    dose_usv: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seuil_usv: Option<i64>,
    siret: String,
    version: u32,
    annule: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    versions: Option<Vec<VersionView>>,
}

/// An operational reading.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadingView {
    id: i64,
    siret: String,
    site_inb: String,
    lieu: String,
    zone: String,
    type_mesure: String,
    type_dosimetre: String,
    date_debut_port: NaiveDateTime,
    date_fin_port: NaiveDateTime,
    dose_usv: i64,
    activite: String,
}

/// A step or note of an alert.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertStepView {
    statut: String,
    date: DateTime<Utc>,
    auteur: String,
    texte: String,
}

/// An alert (for an employer: the fact and the kind of limit, never a dose).
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertView {
    id: i64,
    limite: String,
    premier_mois: String,
    dernier_mois: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    dose_usv: Option<i64>,
    statut: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    etapes: Option<Vec<AlertStepView>>,
}

/// An indicator (for an advisor: the code and the month only).
#[derive(Debug, Serialize, ToSchema)]
pub struct IndicatorView {
    code: String,
    mois: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    siret: Option<String>,
}

/// A worker's record as the caller may see it: a field the caller may not see is absent.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkerRecord {
    nir: String,
    nom: String,
    prenom: String,
    date_naissance: NaiveDate,
    sexe: String,
    rattachements: Vec<AttachmentView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resultats: Option<Vec<ResultView>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dosimetrie_operationnelle: Option<Vec<ReadingView>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    totaux: Option<Totals>,
    #[serde(skip_serializing_if = "Option::is_none")]
    alertes: Option<Vec<AlertView>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    indicateurs: Option<Vec<IndicatorView>>,
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
        resultats: None,
        dosimetrie_operationnelle: None,
        totaux: None,
        alertes: None,
        indicateurs: None,
    }
}

/// Whether a decision lets an item dated `day` through (`None`: nothing of that kind).
fn admits(decision: &ReadDecision, day: NaiveDate) -> Option<bool> {
    match decision {
        ReadDecision::Full | ReadDecision::ExternalOnly | ReadDecision::TotalsWithoutDetail => {
            Some(true)
        }
        ReadDecision::WithinPeriods(p) | ReadDecision::TotalsWithinPeriods(p) => {
            Some(Period::any_covers(p, day))
        }
        _ => None,
    }
}

/// What the caller may see of each kind, decided once.
struct Decisions {
    external: ReadDecision,
    internal: ReadDecision,
    totals: ReadDecision,
    operational: ReadDecision,
    alerts: ReadDecision,
    indicators: ReadDecision,
    versions: ReadDecision,
}

fn result_view(r: &DoseResult, d: &Decisions) -> Option<ResultView> {
    let current = r.current()?;
    let kind = r.nature.kind();
    let decision = match kind {
        ResultKind::External => &d.external,
        ResultKind::Internal | ResultKind::PhysicianEstimate => &d.internal,
    };
    if admits(decision, current.values.date_fin) != Some(true) {
        return None;
    }
    let versions_visible = match &d.versions {
        ReadDecision::Full => true,
        ReadDecision::ExternalOnly => kind == ResultKind::External,
        ReadDecision::WithinPeriods(p) => {
            kind == ResultKind::External && Period::any_covers(p, current.values.date_fin)
        }
        _ => false,
    };
    Some(ResultView {
        id: r.id,
        reference: r.reference.as_str().to_owned(),
        emetteur: r.sender.key(),
        nature: r.nature.code().to_owned(),
        grandeur: r.quantity.code().to_owned(),
        position: r.position.map(|p| p.code().to_owned()),
        date_debut: current.values.date_debut,
        date_fin: current.values.date_fin,
        statut: current.values.statut.code().to_owned(),
        dose_usv: current.values.dose_usv,
        seuil_usv: current.values.seuil_usv,
        siret: r.siret.to_string(),
        version: current.version,
        annule: current.values.statut == ResultStatus::Cancelled,
        versions: versions_visible.then(|| {
            r.versions
                .iter()
                .map(|v| VersionView {
                    version: v.version,
                    statut: v.values.statut.code().to_owned(),
                    dose_usv: v.values.dose_usv,
                    auteur: v.author.clone(),
                    date: v.recorded_at,
                    justification: v.justification.clone(),
                })
                .collect()
        }),
    })
}

fn reading_view(r: &OperationalReading) -> Option<ReadingView> {
    let (_, v) = r.versions.last()?;
    Some(ReadingView {
        id: r.id,
        siret: r.key.siret.to_string(),
        site_inb: r.site_inb.to_string(),
        lieu: v.lieu.clone(),
        zone: v.zone.clone(),
        type_mesure: r.key.type_mesure.code().to_owned(),
        type_dosimetre: v.type_dosimetre.code().to_owned(),
        date_debut_port: r.key.debut_port,
        date_fin_port: r.key.fin_port,
        dose_usv: v.dose_usv,
        activite: v.activite.clone(),
    })
}

/// Totals at `au` from the current versions the decision lets through; an advisor also gets
/// the internal results and estimates of his periods as one figure.
pub(crate) fn totals(results: &[DoseResult], decision: &ReadDecision, au: Month) -> Option<Totals> {
    admits(decision, NaiveDate::MIN)?;
    let mut sums = MonthlySums::new();
    let mut others = MonthlySums::new();
    for r in results {
        let Some(v) = r.current() else { continue };
        if admits(decision, v.values.date_fin) != Some(true) {
            continue;
        }
        if let Some(c) = contribution(r.nature, r.quantity, r.position, &v.values) {
            sums.add_contribution(&c);
            if r.nature.kind() != ResultKind::External {
                others.add_contribution(&c);
            }
        }
    }
    let mut t = sums.totals_at(au);
    if matches!(decision, ReadDecision::TotalsWithinPeriods(_)) {
        t.autres_contributions_usv = Some(others.rolling_e(au));
    }
    Some(t)
}

fn alert_view(a: &AlertRow, decision: &ReadDecision) -> Option<AlertView> {
    let full = match decision {
        ReadDecision::Full => true,
        ReadDecision::FactOnly => false,
        _ => return None,
    };
    Some(AlertView {
        id: a.id,
        limite: a.kind.clone(),
        premier_mois: Month(a.first_month).label(),
        dernier_mois: Month(a.last_month).label(),
        dose_usv: full.then_some(a.dose_usv),
        statut: a.status.clone(),
        etapes: full.then(|| {
            a.steps
                .iter()
                .map(|s| AlertStepView {
                    statut: s.status.clone(),
                    date: s.at,
                    auteur: s.author.clone(),
                    texte: s.text.clone(),
                })
                .collect()
        }),
    })
}

/// The indicators: the classification advisory by month, and the gaps between reference
/// and operational dosimetry by month and establishment.
pub(crate) fn indicators(
    results: &[DoseResult],
    readings: &[OperationalReading],
    attachments: &[Attachment],
    decision: &ReadDecision,
) -> Option<Vec<IndicatorView>> {
    let with_siret = match decision {
        ReadDecision::Full => true,
        ReadDecision::CodesOnly => false,
        _ => return None,
    };
    let mut sums = MonthlySums::new();
    let mut reference = Vec::new();
    for r in results {
        let Some(v) = r.current() else { continue };
        if let Some(c) = contribution(r.nature, r.quantity, r.position, &v.values) {
            sums.add_contribution(&c);
        }
        if siseri_domain::indicators::feeds_reference_hp10(r.nature, r.quantity) {
            reference.push((
                (Month::of(v.values.date_fin), r.siret.clone()),
                v.values.counted_usv(),
            ));
        }
    }
    let operational: Vec<((Month, Siret), i64)> = readings
        .iter()
        .filter(|r| r.key.type_mesure == siseri_domain::codes::OperationalQuantity::Hp10Photon)
        .filter_map(|r| {
            let (_, v) = r.versions.last()?;
            Some((
                (Month::of(r.key.fin_port.date()), r.key.siret.clone()),
                v.dose_usv,
            ))
        })
        .collect();
    let mut out = Vec::new();
    let terms: Vec<_> = attachments
        .iter()
        .filter_map(|a| a.current().cloned())
        .collect();
    if let (Some(first), Some(last)) = (sums.first_month(), sums.last_month()) {
        let range = MonthRange::new(first, last.plus(11));
        for m in siseri_domain::limits::classification_review_months(&terms, &sums, range) {
            out.push(IndicatorView {
                code: "CLASSEMENT_A_REVOIR".into(),
                mois: m.label(),
                siret: None,
            });
        }
    }
    for (m, siret) in siseri_domain::indicators::passive_operational_gaps(reference, operational) {
        out.push(IndicatorView {
            code: "ECART_PASSIF_OPERATIONNEL".into(),
            mois: m.label(),
            siret: with_siret.then(|| siret.to_string()),
        });
    }
    Some(out)
}

/// Reads `nir`'s record as `caller` may see it, totals at the current month.
pub async fn read_worker(
    store: &dyn Store,
    clock: Clock,
    caller: &Caller,
    nir: &Nir,
) -> Result<Result<WorkerRecord, Refusal>, StoreError> {
    read_worker_at(store, clock, caller, nir, Month::of(clock.today())).await
}

/// Reads `nir`'s record as `caller` may see it, with totals at month `au`, and journals the
/// read or the refusal.
pub async fn read_worker_at(
    store: &dyn Store,
    clock: Clock,
    caller: &Caller,
    nir: &Nir,
    au: Month,
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
    let mut event = caller.event(Utc::now(), "LECTURE", "DOSSIER");
    event.worker_ids = worker.iter().map(|w| w.id).collect();
    let answer = match (&worker, &decision) {
        (Some(w), ReadDecision::Full) => Ok(record(w, &attachments, None)),
        (Some(w), ReadDecision::AttachmentsInScope(scope)) => {
            Ok(record(w, &attachments, Some(scope)))
        }
        (_, ReadDecision::MissionRequired) => Err(Refusal::MissionRequired),
        _ => Err(Refusal::NotFound),
    };
    let answer = match (answer, &worker) {
        (Ok(mut rec), Some(w)) => {
            let facts = worker_facts(nir, &attachments);
            let today = clock.today();
            let decide = |kind| can_read(&person, &facts, kind, today);
            let d = Decisions {
                external: decide(ReadKind::ExternalResults),
                internal: decide(ReadKind::InternalResults),
                totals: decide(ReadKind::EffectiveDoseTotals),
                operational: decide(ReadKind::OperationalDosimetry),
                alerts: decide(ReadKind::Alerts),
                indicators: decide(ReadKind::Indicators),
                versions: decide(ReadKind::Versions),
            };
            let results = store.results(nir).await?;
            let readings = store.readings(nir).await?;
            if admits(&d.external, NaiveDate::MIN).is_some()
                || admits(&d.internal, NaiveDate::MIN).is_some()
            {
                rec.resultats = Some(results.iter().filter_map(|r| result_view(r, &d)).collect());
            }
            if admits(&d.operational, NaiveDate::MIN).is_some() {
                rec.dosimetrie_operationnelle = Some(
                    readings
                        .iter()
                        .filter(|r| admits(&d.operational, r.key.fin_port.date()) == Some(true))
                        .filter_map(reading_view)
                        .collect(),
                );
            }
            rec.totaux = match &d.totals {
                // The registry's monthly sums, kept by every write (rules.md §3)...
                ReadDecision::Full | ReadDecision::TotalsWithoutDetail => {
                    let rows = store.monthly_doses(nir).await?;
                    Some(MonthlySums::from_rows(rows).totals_at(au))
                }
                // ...except for an advisor, whose totals cover his periods only: those are
                // summed from the results of his periods.
                other => totals(&results, other, au),
            };
            if matches!(d.alerts, ReadDecision::Full | ReadDecision::FactOnly) {
                let alerts = store.alerts(w.id).await?;
                rec.alertes = Some(
                    alerts
                        .iter()
                        .filter_map(|a| alert_view(a, &d.alerts))
                        .collect(),
                );
            }
            rec.indicateurs = indicators(&results, &readings, &attachments, &d.indicators);
            Ok(rec)
        }
        (other, _) => other,
    };
    if answer.is_err() {
        event.action = "LECTURE_REFUSEE".into();
        event.outcome = "REFUSE".into();
    }
    store.append_journal(&[event]).await?;
    Ok(answer)
}

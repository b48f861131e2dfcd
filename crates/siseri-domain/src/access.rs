//! The access policy of `access.md`: who may see what of a worker, and who may do what.
//!
//! Two pure functions carry the whole policy: [`can_read`] says how much of one kind of a
//! worker's data a person may see, [`can_write`] whether a person may perform one action.
//! Both depend only on their arguments (the person and everything that ties them to
//! workers, the worker's attachments, the kind of data or action, and today's date), so the
//! pages, the API, the exports and the command line apply one and the same policy, and the
//! tests below can walk it exhaustively. The policy is evaluated at today's date, whatever
//! month a record's totals are computed at (`rules.md`).
//!
//! The default answer is no: every grant is spelt out, every `match` on a role or a kind
//! lists its cases without a catch-all, so that a new role or kind of data is refused until
//! someone decides otherwise.
//!
//! Conventions the callers rely on:
//! - [`ReadDecision::Denied`] is answered exactly like an unknown NIR (404 `INTROUVABLE`),
//!   so that a refusal does not reveal that the worker exists.
//! - Alerts: whoever may see the dose gets [`ReadDecision::Full`] (the alert with its dose);
//!   the employer gets [`ReadDecision::FactOnly`]. There is no separate "with dose" answer.
//! - Versions of results are only ever shown for results the person may read: the CRP's
//!   [`ReadDecision::WithinPeriods`] and the inspector's [`ReadDecision::ExternalOnly`]
//!   say so for that kind.
//! - The physician's alert transitions themselves (`OUVERTE` → `EN_ANALYSE` → …, `rules.md`
//!   §5) are checked where alerts live; [`can_write`] only says whether the person may move
//!   an alert to a given status.

use chrono::NaiveDate;

use crate::account::Role;
use crate::codes::Nature;
use crate::ids::{Nir, Siren, Siret};
use crate::worker::{AttachmentTerms, Designation, DesignationRole};

/// An inclusive period of days; `to: None` = ongoing.
///
/// A period whose end comes before its start covers no day; the policy treats it as absent
/// rather than failing, since a malformed record must never widen anyone's access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period {
    /// First day.
    pub from: NaiveDate,
    /// Last day; `None` while ongoing.
    pub to: Option<NaiveDate>,
}

impl Period {
    /// The period `from..=to` (`to: None` = ongoing).
    pub fn new(from: NaiveDate, to: Option<NaiveDate>) -> Self {
        Period { from, to }
    }

    /// An ongoing period starting on `from`.
    pub fn ongoing(from: NaiveDate) -> Self {
        Period { from, to: None }
    }

    /// Whether the period covers no day at all (its end is before its start).
    pub fn is_empty(&self) -> bool {
        self.to.is_some_and(|to| to < self.from)
    }

    /// Whether the period covers `day` (both ends included).
    pub fn covers(&self, day: NaiveDate) -> bool {
        self.from <= day && self.to.is_none_or(|to| day <= to)
    }

    /// Whether two periods share at least one day.
    pub fn overlaps(&self, other: &Period) -> bool {
        !self.is_empty()
            && !other.is_empty()
            && self.from <= other.last_day()
            && other.from <= self.last_day()
    }

    /// Whether any of `periods` covers `day`: how a caller filters items by DATE_FIN or
    /// DATE_FIN_PORT under [`ReadDecision::WithinPeriods`] or
    /// [`ReadDecision::TotalsWithinPeriods`].
    pub fn any_covers(periods: &[Period], day: NaiveDate) -> bool {
        periods.iter().any(|p| p.covers(day))
    }

    /// The last day, an ongoing period lasting until the end of the calendar.
    fn last_day(&self) -> NaiveDate {
        self.to.unwrap_or(NaiveDate::MAX)
    }
}

impl From<&AttachmentTerms> for Period {
    fn from(terms: &AttachmentTerms) -> Self {
        Period::new(terms.date_debut, terms.date_fin)
    }
}

impl From<&Designation> for Period {
    fn from(designation: &Designation) -> Self {
        Period::new(designation.date_debut, designation.date_fin)
    }
}

/// A worker's attachment to an establishment, as the policy sees it (the terms in force).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerAttachment {
    /// The establishment.
    pub siret: Siret,
    /// When the worker is attached to it.
    pub period: Period,
}

/// What the policy needs to know about a worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerFacts {
    /// The worker's NIR.
    pub nir: Nir,
    /// Every attachment, past, present and future.
    pub attachments: Vec<WorkerAttachment>,
}

/// A designation of an MDT or a CRP on an establishment, over a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesignationFact {
    /// MDT or CRP: only designations of the person's own function count.
    pub role: DesignationRole,
    /// The establishment.
    pub siret: Siret,
    /// When the designation holds.
    pub period: Period,
}

/// A delegation from an MDT to a health professional: acts within that MDT's reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delegation {
    /// The delegating MDT's designations (only `MDT` designations count).
    pub mdt_designations: Vec<DesignationFact>,
    /// Read and write (`true`) or read only (`false`).
    pub write: bool,
    /// A revoked delegation grants nothing.
    pub revoked: bool,
}

/// A designated doctor's grant on one worker (`MEDECIN_DESIGNE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoctorGrant {
    /// The worker the grant is on.
    pub nir: Nir,
    /// A revoked grant grants nothing.
    pub revoked: bool,
}

/// The person asking, with everything that ties them to workers.
///
/// Each role reads only its own fields (listed below); the others are ignored, so that a
/// stray value on an account can never widen another role's access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// The account's role.
    pub role: Role,
    /// TRAVAILLEUR: his own NIR.
    pub nir: Option<Nir>,
    /// EMPLOYEUR: its company, the scope when `sirets` is empty.
    pub siren: Option<Siren>,
    /// EMPLOYEUR: the establishments its scope is limited to (empty = the whole company).
    pub sirets: Vec<Siret>,
    /// EMPLOYEUR correspondent: may declare, may not designate.
    pub correspondent: bool,
    /// ORGANISME: the natures it is accredited for.
    pub natures: Vec<Nature>,
    /// MDT / CRP: its designations on establishments.
    pub designations: Vec<DesignationFact>,
    /// PROFESSIONNEL_SANTE: the delegations it received.
    pub delegations: Vec<Delegation>,
    /// MEDECIN_DESIGNE: its grants on workers.
    pub grants: Vec<DoctorGrant>,
    /// AGENT_CONTROLE: the mission reference stated for this consultation (blank = none).
    pub mission: Option<String>,
}

impl Person {
    /// A person of `role` with no tie to anyone yet; fill the fields of the role.
    pub fn new(role: Role) -> Self {
        Person {
            role,
            nir: None,
            siren: None,
            sirets: Vec::new(),
            correspondent: false,
            natures: Vec::new(),
            designations: Vec::new(),
            delegations: Vec::new(),
            grants: Vec::new(),
            mission: None,
        }
    }
}

/// The kinds of data about a worker, one per row of the reading table of `access.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReadKind {
    /// Identity, attachments, classification.
    Identity,
    /// Results of NATURE `EXTERNE` and `COSMIQUE`.
    ExternalResults,
    /// Results of NATURE `INTERNE_VIVO`, `INTERNE_VITRO`, `RADON`, and physician estimates
    /// (`ESTIMATION_MDT`).
    InternalResults,
    /// Effective dose totals: rolling, yearly, career.
    EffectiveDoseTotals,
    /// Operational dosimetry readings.
    OperationalDosimetry,
    /// Alerts (limit exceedances).
    Alerts,
    /// Indicators (`CLASSEMENT_A_REVOIR`, `ECART_PASSIF_OPERATIONNEL`).
    Indicators,
    /// Versions of results and justifications of corrections.
    Versions,
    /// The journal of who read the worker's data.
    ReadJournal,
}

impl ReadKind {
    /// Every kind, in the order of the reading table.
    pub const ALL: &'static [ReadKind] = &[
        ReadKind::Identity,
        ReadKind::ExternalResults,
        ReadKind::InternalResults,
        ReadKind::EffectiveDoseTotals,
        ReadKind::OperationalDosimetry,
        ReadKind::Alerts,
        ReadKind::Indicators,
        ReadKind::Versions,
        ReadKind::ReadJournal,
    ];
}

/// How much of one kind of a worker's data a person may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadDecision {
    /// Nothing: the edge answers 404 `INTROUVABLE`, exactly like an unknown NIR.
    Denied,
    /// AGENT_CONTROLE without a mission reference: 403 `MISSION_REQUISE`.
    MissionRequired,
    /// Everything of that kind (for alerts: with the dose).
    Full,
    /// CRP: only the items dated within these periods (sorted, disjoint, never empty):
    /// external results whose DATE_FIN lies in them, operational readings whose
    /// DATE_FIN_PORT lies in them, and for versions, the versions of those external results.
    WithinPeriods(Vec<Period>),
    /// CRP totals: computed from the results whose DATE_FIN lies in these periods, the
    /// internal results and estimates of those periods given as one figure
    /// `autres_contributions_usv`, without their detail.
    TotalsWithinPeriods(Vec<Period>),
    /// AGENT_CONTROLE totals: including the internal and estimate contributions, without
    /// their detail.
    TotalsWithoutDetail,
    /// AGENT_CONTROLE versions: the versions of external results only, since it may not read
    /// internal results or estimates.
    ExternalOnly,
    /// EMPLOYEUR identity: identity and classification, and only the attachments to these
    /// establishments (the worker's establishments within its scope, sorted, never empty).
    AttachmentsInScope(Vec<Siret>),
    /// EMPLOYEUR alerts: the fact and the kind of limit, never a dose.
    FactOnly,
    /// CRP indicators: the code and the month, without figures.
    CodesOnly,
}

/// Says how much of `kind` of `worker`'s data `person` may see on `today`.
///
/// See the reading table of `access.md`; anything it does not grant is [`ReadDecision::Denied`].
pub fn can_read(
    person: &Person,
    worker: &WorkerFacts,
    kind: ReadKind,
    today: NaiveDate,
) -> ReadDecision {
    match person.role {
        Role::Admin => ReadDecision::Full,
        Role::Travailleur => {
            if is_self(person, worker) {
                ReadDecision::Full
            } else {
                ReadDecision::Denied
            }
        }
        Role::MedecinDesigne | Role::Mdt | Role::ProfessionnelSante => {
            if medically_follows(person, worker, today) {
                medical_view(kind)
            } else {
                ReadDecision::Denied
            }
        }
        Role::Crp => advisor_view(person, worker, kind, today),
        Role::Employeur => employer_view(person, worker, kind),
        Role::AgentControle => inspector_view(person, kind),
        // Nominative reads are not theirs: bodies see their transmissions, operators send,
        // the ministry and researchers get anonymous or pseudonymous figures elsewhere.
        Role::Organisme | Role::ExploitantInb | Role::Ministere | Role::Chercheur => {
            ReadDecision::Denied
        }
    }
}

/// A status a person may move an alert to (`rules.md` §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlertStep {
    /// `EN_ANALYSE`.
    EnAnalyse,
    /// `CONFIRMEE`.
    Confirmee,
    /// `CORRIGEE`.
    Corrigee,
    /// `ANNULEE`.
    Annulee,
}

impl AlertStep {
    /// Every target status, in the order of `rules.md` §5.
    pub const ALL: &'static [AlertStep] = &[
        AlertStep::EnAnalyse,
        AlertStep::Confirmee,
        AlertStep::Corrigee,
        AlertStep::Annulee,
    ];

    /// The status code, as stored and shown.
    pub fn code(self) -> &'static str {
        match self {
            AlertStep::EnAnalyse => "EN_ANALYSE",
            AlertStep::Confirmee => "CONFIRMEE",
            AlertStep::Corrigee => "CORRIGEE",
            AlertStep::Annulee => "ANNULEE",
        }
    }
}

/// An action of the writing table of `access.md`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteAction {
    /// Declare or update a worker and his attachment to this establishment.
    DeclareWorker {
        /// The attachment's establishment.
        siret: Siret,
    },
    /// Designate an MDT, a CRP or a correspondent on this establishment.
    Designate {
        /// The establishment.
        siret: Siret,
    },
    /// Send results (`resultats`) of this nature.
    SendResults {
        /// NATURE of the results.
        nature: Nature,
    },
    /// Send operational dosimetry for this establishment.
    SendOperational {
        /// The establishment the readings are for.
        siret: Siret,
        /// Whether that establishment holds an INB.
        siret_is_inb: bool,
    },
    /// Add a result (`ESTIMATION_MDT`, internal E50) for the worker.
    AddResult,
    /// Correct or cancel one of the worker's results.
    CorrectResult,
    /// Declare or end the worker's pregnancy.
    Pregnancy,
    /// Move one of the worker's alerts to a status.
    MoveAlert {
        /// The target status.
        to: AlertStep,
    },
    /// Delegate to a health professional.
    Delegate,
    /// Designate a doctor for the worker of this NIR.
    DesignateDoctor {
        /// The worker the doctor is designated for.
        nir: Nir,
    },
    /// Resolve the reconciliation queue, manage accounts and accreditations, purge.
    Administer,
}

/// Says whether `person` may perform `action` on `today`.
///
/// `worker` is the worker the action is about, when there is one: adding or correcting a
/// result, a pregnancy and an alert need him (refused without him); designating a doctor is
/// refused when he is given and is not the worker of the action's NIR. The other actions are
/// decided by their establishment or nature alone. The justification required with
/// medical writes is checked by the caller.
pub fn can_write(
    person: &Person,
    worker: Option<&WorkerFacts>,
    action: &WriteAction,
    today: NaiveDate,
) -> bool {
    match action {
        WriteAction::DeclareWorker { siret } => {
            // Correspondents included: declaring is what they are appointed for.
            person.role == Role::Employeur && employer_scope_has(person, siret)
        }
        WriteAction::Designate { siret } => {
            person.role == Role::Employeur
                && !person.correspondent
                && employer_scope_has(person, siret)
        }
        WriteAction::SendResults { nature } => {
            // Estimates are physicians' own: never accreditable, even if an account says so.
            person.role == Role::Organisme
                && nature.is_accreditable()
                && person.natures.contains(nature)
        }
        WriteAction::SendOperational {
            siret,
            siret_is_inb,
        } => match person.role {
            // A host INB operator sends for its contractors' workers too, whose
            // establishment is not itself an INB: any known SIRET.
            Role::ExploitantInb => true,
            Role::Employeur => *siret_is_inb && employer_scope_has(person, siret),
            Role::Crp => *siret_is_inb && advisor_designated_on(person, siret, today),
            Role::Travailleur
            | Role::MedecinDesigne
            | Role::Mdt
            | Role::ProfessionnelSante
            | Role::Organisme
            | Role::AgentControle
            | Role::Admin
            | Role::Ministere
            | Role::Chercheur => false,
        },
        WriteAction::AddResult | WriteAction::CorrectResult | WriteAction::Pregnancy => {
            worker.is_some_and(|w| medical_writer(person, w, today))
        }
        WriteAction::MoveAlert { to } => worker.is_some_and(|w| {
            // A delegate may only open the analysis; concluding is the physician's.
            medical_writer(person, w, today)
                && (person.role == Role::Mdt || *to == AlertStep::EnAnalyse)
        }),
        WriteAction::Delegate => person.role == Role::Mdt,
        WriteAction::DesignateDoctor { nir } => {
            let consistent = worker.is_none_or(|w| &w.nir == nir);
            let allowed = match person.role {
                Role::Travailleur => person.nir.as_ref() == Some(nir),
                // For the heirs, after the worker's death or incapacity.
                Role::Admin => true,
                Role::MedecinDesigne
                | Role::Mdt
                | Role::ProfessionnelSante
                | Role::Crp
                | Role::Employeur
                | Role::Organisme
                | Role::ExploitantInb
                | Role::AgentControle
                | Role::Ministere
                | Role::Chercheur => false,
            };
            consistent && allowed
        }
        WriteAction::Administer => person.role == Role::Admin,
    }
}

// ---------------------------------------------------------------------------------------------
// Ties between a person and a worker
// ---------------------------------------------------------------------------------------------

/// The TRAVAILLEUR's own record.
fn is_self(person: &Person, worker: &WorkerFacts) -> bool {
    person.nir.as_ref() == Some(&worker.nir)
}

/// The designations of `function` through which their holder follows `worker` today: the
/// designation covers today, and the worker has an attachment to that establishment that
/// covers today too.
fn following_designations<'a>(
    designations: &'a [DesignationFact],
    function: DesignationRole,
    worker: &'a WorkerFacts,
    today: NaiveDate,
) -> impl Iterator<Item = &'a DesignationFact> + 'a {
    designations.iter().filter(move |d| {
        d.role == function
            && d.period.covers(today)
            && worker
                .attachments
                .iter()
                .any(|a| a.siret == d.siret && a.period.covers(today))
    })
}

/// Whether an MDT with these designations follows `worker` today.
fn physician_follows(
    designations: &[DesignationFact],
    worker: &WorkerFacts,
    today: NaiveDate,
) -> bool {
    following_designations(designations, DesignationRole::Physician, worker, today)
        .next()
        .is_some()
}

/// The medical roles' reach for reading: the designated doctor's grant, the MDT's own
/// designations, or a health professional's delegation (read or write) from an MDT who
/// follows the worker.
fn medically_follows(person: &Person, worker: &WorkerFacts, today: NaiveDate) -> bool {
    match person.role {
        Role::MedecinDesigne => person
            .grants
            .iter()
            .any(|g| !g.revoked && g.nir == worker.nir),
        Role::Mdt => physician_follows(&person.designations, worker, today),
        Role::ProfessionnelSante => person
            .delegations
            .iter()
            .any(|d| !d.revoked && physician_follows(&d.mdt_designations, worker, today)),
        Role::Travailleur
        | Role::Crp
        | Role::Employeur
        | Role::Organisme
        | Role::ExploitantInb
        | Role::AgentControle
        | Role::Admin
        | Role::Ministere
        | Role::Chercheur => false,
    }
}

/// The medical roles' reach for writing: the MDT who follows, or a health professional
/// holding a write delegation from an MDT who follows.
fn medical_writer(person: &Person, worker: &WorkerFacts, today: NaiveDate) -> bool {
    match person.role {
        Role::Mdt => physician_follows(&person.designations, worker, today),
        Role::ProfessionnelSante => person.delegations.iter().any(|d| {
            !d.revoked && d.write && physician_follows(&d.mdt_designations, worker, today)
        }),
        Role::Travailleur
        | Role::MedecinDesigne
        | Role::Crp
        | Role::Employeur
        | Role::Organisme
        | Role::ExploitantInb
        | Role::AgentControle
        | Role::Admin
        | Role::Ministere
        | Role::Chercheur => false,
    }
}

/// Whether a CRP holds a designation on `siret` covering today: its scope for sending
/// operational dosimetry.
/// Whether a role may send a transmission format at all (`FORMAT_NON_AUTORISE` otherwise);
/// each line is then checked with [`can_write`].
pub fn may_send(role: Role, format: crate::codes::TransmissionFormat) -> bool {
    use crate::codes::TransmissionFormat as F;
    match format {
        F::Workers => role == Role::Employeur,
        F::Results => role == Role::Organisme,
        F::OperationalDosimetry => {
            matches!(role, Role::ExploitantInb | Role::Employeur | Role::Crp)
        }
    }
}

fn advisor_designated_on(person: &Person, siret: &Siret, today: NaiveDate) -> bool {
    person
        .designations
        .iter()
        .any(|d| d.role == DesignationRole::Advisor && &d.siret == siret && d.period.covers(today))
}

/// Whether `siret` lies in an employer's scope: its listed establishments, or else every
/// establishment of its company. Without either, nothing does.
fn employer_scope_has(person: &Person, siret: &Siret) -> bool {
    if person.sirets.is_empty() {
        person.siren.as_ref().is_some_and(|s| &siret.siren() == s)
    } else {
        person.sirets.contains(siret)
    }
}

// ---------------------------------------------------------------------------------------------
// Views, one per column of the reading table
// ---------------------------------------------------------------------------------------------

/// The designated doctor, the MDT and its delegates, once they reach the worker: everything
/// but the journal of reads.
fn medical_view(kind: ReadKind) -> ReadDecision {
    match kind {
        ReadKind::Identity
        | ReadKind::ExternalResults
        | ReadKind::InternalResults
        | ReadKind::EffectiveDoseTotals
        | ReadKind::OperationalDosimetry
        | ReadKind::Alerts
        | ReadKind::Indicators
        | ReadKind::Versions => ReadDecision::Full,
        ReadKind::ReadJournal => ReadDecision::Denied,
    }
}

/// The CRP: nominative but restricted in time to the worker's attachments to the companies
/// through which it follows him (R4451‑69 I), and never internal detail.
fn advisor_view(
    person: &Person,
    worker: &WorkerFacts,
    kind: ReadKind,
    today: NaiveDate,
) -> ReadDecision {
    let companies: Vec<Siren> = following_designations(
        &person.designations,
        DesignationRole::Advisor,
        worker,
        today,
    )
    .map(|d| d.siret.siren())
    .collect();
    if companies.is_empty() {
        return ReadDecision::Denied;
    }
    // Every attachment to the company counts, not only to the designated establishment and
    // not cut by the designation's dates: the contract with the employer is what bounds it.
    let periods = || {
        union(
            worker
                .attachments
                .iter()
                .filter(|a| companies.contains(&a.siret.siren()))
                .map(|a| a.period),
        )
    };
    match kind {
        // R4451‑79 I: the advisor is told of an exceedance with the dose.
        ReadKind::Identity | ReadKind::Alerts => ReadDecision::Full,
        ReadKind::ExternalResults | ReadKind::OperationalDosimetry | ReadKind::Versions => {
            ReadDecision::WithinPeriods(periods())
        }
        ReadKind::EffectiveDoseTotals => ReadDecision::TotalsWithinPeriods(periods()),
        ReadKind::Indicators => ReadDecision::CodesOnly,
        ReadKind::InternalResults | ReadKind::ReadJournal => ReadDecision::Denied,
    }
}

/// The employer: administrative data of its own workers, never a dose (R4451‑79, R4451‑75).
fn employer_view(person: &Person, worker: &WorkerFacts, kind: ReadKind) -> ReadDecision {
    // Any attachment in scope, past or future: the employer keeps the administrative record
    // of whoever it declared, while the doses stay out of its reach anyway.
    let mut sirets: Vec<Siret> = worker
        .attachments
        .iter()
        .filter(|a| !a.period.is_empty() && employer_scope_has(person, &a.siret))
        .map(|a| a.siret.clone())
        .collect();
    sirets.sort();
    sirets.dedup();
    if sirets.is_empty() {
        return ReadDecision::Denied;
    }
    match kind {
        ReadKind::Identity => ReadDecision::AttachmentsInScope(sirets),
        ReadKind::Alerts => ReadDecision::FactOnly,
        ReadKind::ExternalResults
        | ReadKind::InternalResults
        | ReadKind::EffectiveDoseTotals
        | ReadKind::OperationalDosimetry
        | ReadKind::Indicators
        | ReadKind::Versions
        | ReadKind::ReadJournal => ReadDecision::Denied,
    }
}

/// The inspector: national scope, but each consultation needs a mission; effective doses
/// and external results (R4451‑71), no internal detail.
fn inspector_view(person: &Person, kind: ReadKind) -> ReadDecision {
    let has_mission = person
        .mission
        .as_deref()
        .is_some_and(|m| !m.trim().is_empty());
    if !has_mission {
        return ReadDecision::MissionRequired;
    }
    match kind {
        ReadKind::Identity
        | ReadKind::ExternalResults
        | ReadKind::Alerts
        | ReadKind::Indicators => ReadDecision::Full,
        ReadKind::EffectiveDoseTotals => ReadDecision::TotalsWithoutDetail,
        ReadKind::Versions => ReadDecision::ExternalOnly,
        ReadKind::InternalResults | ReadKind::OperationalDosimetry | ReadKind::ReadJournal => {
            ReadDecision::Denied
        }
    }
}

/// The union of periods as the fewest sorted, disjoint, non-empty periods covering the same
/// days, so that callers and tests compare one canonical answer.
fn union(periods: impl Iterator<Item = Period>) -> Vec<Period> {
    let mut sorted: Vec<Period> = periods.filter(|p| !p.is_empty()).collect();
    sorted.sort_by_key(|p| (p.from, p.last_day()));
    let mut merged: Vec<Period> = Vec::with_capacity(sorted.len());
    for p in sorted {
        if let Some(last) = merged.last_mut()
            && continues(last, &p)
        {
            last.to = match (last.to, p.to) {
                (Some(a), Some(b)) => Some(a.max(b)),
                _ => None,
            };
        } else {
            merged.push(p);
        }
    }
    merged
}

/// Whether `next` (starting no earlier than `last`) overlaps `last` or starts the day after
/// it ends.
fn continues(last: &Period, next: &Period) -> bool {
    match last.to {
        None => true,
        // The last representable day has no successor: nothing can start after it.
        Some(end) => end.succ_opt().is_none_or(|after| next.from <= after),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::BTreeSet;

    #[test]
    fn only_the_senders_of_each_format_may_send_it() {
        use crate::codes::TransmissionFormat as F;
        for role in Role::ALL {
            assert_eq!(super::may_send(*role, F::Workers), *role == Role::Employeur);
            assert_eq!(super::may_send(*role, F::Results), *role == Role::Organisme);
            assert_eq!(
                super::may_send(*role, F::OperationalDosimetry),
                matches!(role, Role::ExploitantInb | Role::Employeur | Role::Crp)
            );
        }
    }

    use chrono::Days;
    use proptest::prelude::*;

    use super::*;

    // ---- fixtures

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    /// The date every table case is evaluated at.
    fn today() -> NaiveDate {
        d(2025, 6, 15)
    }

    // ACME (SIREN 732829320) has establishments A1, A2, A3; BETA (443061841) has B1, B2;
    // CHARLIE (552100554) has C1.
    const A1: &str = "73282932000017";
    const A2: &str = "73282932000025";
    const A3: &str = "73282932000074";
    const B1: &str = "44306184100013";
    const B2: &str = "44306184100021";
    const C1: &str = "55210055400013";
    const ACME: &str = "732829320";
    /// The worker every case is about.
    const WORKER: &str = "1850578006084";
    /// Somebody else.
    const OTHER: &str = "2900175123456";

    fn siret(s: &str) -> Siret {
        Siret::parse(s).unwrap()
    }

    fn nir(s: &str) -> Nir {
        Nir::parse(s).unwrap()
    }

    fn named_siret(name: &str) -> Siret {
        match name {
            "A1" => siret(A1),
            "A2" => siret(A2),
            "B1" => siret(B1),
            _ => panic!("unknown establishment {name}"),
        }
    }

    fn at(s: &str, from: NaiveDate, to: Option<NaiveDate>) -> WorkerAttachment {
        WorkerAttachment {
            siret: siret(s),
            period: Period::new(from, to),
        }
    }

    fn des(
        role: DesignationRole,
        s: &str,
        from: NaiveDate,
        to: Option<NaiveDate>,
    ) -> DesignationFact {
        DesignationFact {
            role,
            siret: siret(s),
            period: Period::new(from, to),
        }
    }

    fn worker(attachments: Vec<WorkerAttachment>) -> WorkerFacts {
        WorkerFacts {
            nir: nir(WORKER),
            attachments,
        }
    }

    fn person(role: Role, fill: impl FnOnce(&mut Person)) -> Person {
        let mut p = Person::new(role);
        fill(&mut p);
        p
    }

    /// A worker's situation, with the periods a CRP designated on A1 since 2025-01-01 gets.
    struct Scenario {
        name: &'static str,
        attachments: Vec<WorkerAttachment>,
        crp_periods: Vec<Period>,
    }

    /// Every worker situation the tables walk. The MDT and CRP personas are designated on A1
    /// from 2025-01-01, ongoing; today is 2025-06-15.
    fn scenarios() -> Vec<Scenario> {
        let s = |name, attachments, crp_periods| Scenario {
            name,
            attachments,
            crp_periods,
        };
        let since_2024 = d(2024, 1, 1);
        vec![
            // At A1 since before the designations began, ongoing: followed, and the CRP's
            // period starts with the attachment, not with its designation.
            s(
                "follows",
                vec![at(A1, since_2024, None)],
                vec![Period::ongoing(since_2024)],
            ),
            // At A1 until today included: still followed.
            s(
                "ends_today",
                vec![at(A1, d(2025, 1, 1), Some(today()))],
                vec![Period::new(d(2025, 1, 1), Some(today()))],
            ),
            // Left A1 before the designations began.
            s(
                "before",
                vec![at(A1, d(2023, 1, 1), Some(d(2024, 12, 31)))],
                vec![],
            ),
            // At A1 during the designations, but left before today.
            s(
                "during",
                vec![at(A1, d(2025, 2, 1), Some(d(2025, 5, 31)))],
                vec![],
            ),
            // Joins A1 after today.
            s("after", vec![at(A1, d(2025, 9, 1), None)], vec![]),
            // At the other establishment of the same company.
            s("sister", vec![at(A2, since_2024, None)], vec![]),
            // At another company.
            s("elsewhere", vec![at(B1, since_2024, None)], vec![]),
            // At A1 now; before that at BETA and, long ago, at A2 (same company as A1).
            s(
                "history",
                vec![
                    at(A1, d(2025, 3, 1), None),
                    at(B1, d(2020, 1, 1), Some(d(2025, 2, 28))),
                    at(A2, d(2019, 1, 1), Some(d(2019, 12, 31))),
                ],
                vec![
                    Period::new(d(2019, 1, 1), Some(d(2019, 12, 31))),
                    Period::ongoing(d(2025, 3, 1)),
                ],
            ),
            // No attachment at all.
            s("unattached", vec![], vec![]),
        ]
    }

    /// Every persona the tables walk: each role at least once, with its ties.
    #[rustfmt::skip]
    fn personas() -> Vec<(&'static str, Person)> {
        use DesignationRole::{Advisor, Physician};
        let since = d(2025, 1, 1);
        let yesterday = Some(d(2025, 6, 14));
        let on_a1 = || vec![des(Physician, A1, since, None)];
        let delegation = |write, revoked| Delegation {
            mdt_designations: on_a1(),
            write,
            revoked,
        };
        let grant = |n, revoked| DoctorGrant {
            nir: nir(n),
            revoked,
        };
        let acme = || Some(Siren::parse(ACME).unwrap());
        vec![
            ("TRAVAILLEUR self", person(Role::Travailleur, |p| p.nir = Some(nir(WORKER)))),
            ("TRAVAILLEUR other", person(Role::Travailleur, |p| p.nir = Some(nir(OTHER)))),
            ("MEDECIN_DESIGNE", person(Role::MedecinDesigne, |p| p.grants = vec![grant(WORKER, false)])),
            ("MEDECIN_DESIGNE revoked", person(Role::MedecinDesigne, |p| p.grants = vec![grant(WORKER, true)])),
            ("MEDECIN_DESIGNE other", person(Role::MedecinDesigne, |p| p.grants = vec![grant(OTHER, false)])),
            ("MDT", person(Role::Mdt, |p| p.designations = on_a1())),
            ("MDT ended", person(Role::Mdt, |p| p.designations = vec![des(Physician, A1, d(2024, 1, 1), yesterday)])),
            ("MDT as CRP", person(Role::Mdt, |p| p.designations = vec![des(Advisor, A1, since, None)])),
            ("PS write", person(Role::ProfessionnelSante, |p| p.delegations = vec![delegation(true, false)])),
            ("PS read", person(Role::ProfessionnelSante, |p| p.delegations = vec![delegation(false, false)])),
            ("PS revoked", person(Role::ProfessionnelSante, |p| p.delegations = vec![delegation(true, true)])),
            ("CRP", person(Role::Crp, |p| p.designations = vec![des(Advisor, A1, since, None)])),
            ("CRP ended", person(Role::Crp, |p| p.designations = vec![des(Advisor, A1, d(2024, 1, 1), yesterday)])),
            ("EMPLOYEUR company", person(Role::Employeur, |p| p.siren = acme())),
            ("EMPLOYEUR A1", person(Role::Employeur, |p| {
                p.siren = acme();
                p.sirets = vec![siret(A1)];
            })),
            ("EMPLOYEUR correspondent", person(Role::Employeur, |p| {
                p.siren = acme();
                p.correspondent = true;
            })),
            ("ORGANISME", person(Role::Organisme, |p| {
                p.siren = acme();
                p.natures = vec![Nature::External, Nature::PhysicianEstimate];
            })),
            ("EXPLOITANT_INB", person(Role::ExploitantInb, |p| {
                p.siren = acme();
                p.sirets = vec![siret(A1)];
            })),
            ("AGENT_CONTROLE mission", person(Role::AgentControle, |p| p.mission = Some("IT-75-2025-042".into()))),
            ("AGENT_CONTROLE", person(Role::AgentControle, |_| {})),
            ("AGENT_CONTROLE blank", person(Role::AgentControle, |p| p.mission = Some("  ".into()))),
            ("ADMIN", person(Role::Admin, |_| {})),
            ("MINISTERE", person(Role::Ministere, |_| {})),
            ("CHERCHEUR", person(Role::Chercheur, |_| {})),
        ]
    }

    // ---- the reading table

    /// Expected reads, one row per (persona, scenario); `*` = every scenario.
    ///
    /// Columns, in the order of `ReadKind::ALL`: identity, external results, internal
    /// results, totals, operational dosimetry, alerts, indicators, versions, read journal.
    /// `D` Denied, `M` MissionRequired, `F` Full, `P` WithinPeriods and `T`
    /// TotalsWithinPeriods (with the scenario's CRP periods), `W` TotalsWithoutDetail,
    /// `X` ExternalOnly, `S:A1+A2` AttachmentsInScope([A1, A2]), `O` FactOnly, `C` CodesOnly.
    #[rustfmt::skip]
    const READS: &[(&str, &str, &str)] = &[
        // persona                    scenario       Id   Ext Int Tot Ope Alr Ind Ver Jnl
        ("TRAVAILLEUR self",          "*",          "F    F   F   F   F   F   F   F   F"),
        ("TRAVAILLEUR other",         "*",          "D    D   D   D   D   D   D   D   D"),
        ("MEDECIN_DESIGNE",           "*",          "F    F   F   F   F   F   F   F   D"),
        ("MEDECIN_DESIGNE revoked",   "*",          "D    D   D   D   D   D   D   D   D"),
        ("MEDECIN_DESIGNE other",     "*",          "D    D   D   D   D   D   D   D   D"),
        ("MDT",                       "follows",    "F    F   F   F   F   F   F   F   D"),
        ("MDT",                       "ends_today", "F    F   F   F   F   F   F   F   D"),
        ("MDT",                       "before",     "D    D   D   D   D   D   D   D   D"),
        ("MDT",                       "during",     "D    D   D   D   D   D   D   D   D"),
        ("MDT",                       "after",      "D    D   D   D   D   D   D   D   D"),
        ("MDT",                       "sister",     "D    D   D   D   D   D   D   D   D"),
        ("MDT",                       "elsewhere",  "D    D   D   D   D   D   D   D   D"),
        ("MDT",                       "history",    "F    F   F   F   F   F   F   F   D"),
        ("MDT",                       "unattached", "D    D   D   D   D   D   D   D   D"),
        ("MDT ended",                 "*",          "D    D   D   D   D   D   D   D   D"),
        ("MDT as CRP",                "*",          "D    D   D   D   D   D   D   D   D"),
        ("PS write",                  "follows",    "F    F   F   F   F   F   F   F   D"),
        ("PS write",                  "ends_today", "F    F   F   F   F   F   F   F   D"),
        ("PS write",                  "before",     "D    D   D   D   D   D   D   D   D"),
        ("PS write",                  "during",     "D    D   D   D   D   D   D   D   D"),
        ("PS write",                  "after",      "D    D   D   D   D   D   D   D   D"),
        ("PS write",                  "sister",     "D    D   D   D   D   D   D   D   D"),
        ("PS write",                  "elsewhere",  "D    D   D   D   D   D   D   D   D"),
        ("PS write",                  "history",    "F    F   F   F   F   F   F   F   D"),
        ("PS write",                  "unattached", "D    D   D   D   D   D   D   D   D"),
        ("PS read",                   "follows",    "F    F   F   F   F   F   F   F   D"),
        ("PS read",                   "ends_today", "F    F   F   F   F   F   F   F   D"),
        ("PS read",                   "before",     "D    D   D   D   D   D   D   D   D"),
        ("PS read",                   "during",     "D    D   D   D   D   D   D   D   D"),
        ("PS read",                   "after",      "D    D   D   D   D   D   D   D   D"),
        ("PS read",                   "sister",     "D    D   D   D   D   D   D   D   D"),
        ("PS read",                   "elsewhere",  "D    D   D   D   D   D   D   D   D"),
        ("PS read",                   "history",    "F    F   F   F   F   F   F   F   D"),
        ("PS read",                   "unattached", "D    D   D   D   D   D   D   D   D"),
        ("PS revoked",                "*",          "D    D   D   D   D   D   D   D   D"),
        ("CRP",                       "follows",    "F    P   D   T   P   F   C   P   D"),
        ("CRP",                       "ends_today", "F    P   D   T   P   F   C   P   D"),
        ("CRP",                       "before",     "D    D   D   D   D   D   D   D   D"),
        ("CRP",                       "during",     "D    D   D   D   D   D   D   D   D"),
        ("CRP",                       "after",      "D    D   D   D   D   D   D   D   D"),
        ("CRP",                       "sister",     "D    D   D   D   D   D   D   D   D"),
        ("CRP",                       "elsewhere",  "D    D   D   D   D   D   D   D   D"),
        ("CRP",                       "history",    "F    P   D   T   P   F   C   P   D"),
        ("CRP",                       "unattached", "D    D   D   D   D   D   D   D   D"),
        ("CRP ended",                 "*",          "D    D   D   D   D   D   D   D   D"),
        ("EMPLOYEUR company",         "follows",    "S:A1    D D D D O D D D"),
        ("EMPLOYEUR company",         "ends_today", "S:A1    D D D D O D D D"),
        ("EMPLOYEUR company",         "before",     "S:A1    D D D D O D D D"),
        ("EMPLOYEUR company",         "during",     "S:A1    D D D D O D D D"),
        ("EMPLOYEUR company",         "after",      "S:A1    D D D D O D D D"),
        ("EMPLOYEUR company",         "sister",     "S:A2    D D D D O D D D"),
        ("EMPLOYEUR company",         "elsewhere",  "D       D D D D D D D D"),
        ("EMPLOYEUR company",         "history",    "S:A1+A2 D D D D O D D D"),
        ("EMPLOYEUR company",         "unattached", "D       D D D D D D D D"),
        ("EMPLOYEUR A1",              "follows",    "S:A1    D D D D O D D D"),
        ("EMPLOYEUR A1",              "ends_today", "S:A1    D D D D O D D D"),
        ("EMPLOYEUR A1",              "before",     "S:A1    D D D D O D D D"),
        ("EMPLOYEUR A1",              "during",     "S:A1    D D D D O D D D"),
        ("EMPLOYEUR A1",              "after",      "S:A1    D D D D O D D D"),
        ("EMPLOYEUR A1",              "sister",     "D       D D D D D D D D"),
        ("EMPLOYEUR A1",              "elsewhere",  "D       D D D D D D D D"),
        ("EMPLOYEUR A1",              "history",    "S:A1    D D D D O D D D"),
        ("EMPLOYEUR A1",              "unattached", "D       D D D D D D D D"),
        ("EMPLOYEUR correspondent",   "follows",    "S:A1    D D D D O D D D"),
        ("EMPLOYEUR correspondent",   "ends_today", "S:A1    D D D D O D D D"),
        ("EMPLOYEUR correspondent",   "before",     "S:A1    D D D D O D D D"),
        ("EMPLOYEUR correspondent",   "during",     "S:A1    D D D D O D D D"),
        ("EMPLOYEUR correspondent",   "after",      "S:A1    D D D D O D D D"),
        ("EMPLOYEUR correspondent",   "sister",     "S:A2    D D D D O D D D"),
        ("EMPLOYEUR correspondent",   "elsewhere",  "D       D D D D D D D D"),
        ("EMPLOYEUR correspondent",   "history",    "S:A1+A2 D D D D O D D D"),
        ("EMPLOYEUR correspondent",   "unattached", "D       D D D D D D D D"),
        ("ORGANISME",                 "*",          "D    D   D   D   D   D   D   D   D"),
        ("EXPLOITANT_INB",            "*",          "D    D   D   D   D   D   D   D   D"),
        ("AGENT_CONTROLE mission",    "*",          "F    F   D   W   D   F   F   X   D"),
        ("AGENT_CONTROLE",            "*",          "M    M   M   M   M   M   M   M   M"),
        ("AGENT_CONTROLE blank",      "*",          "M    M   M   M   M   M   M   M   M"),
        ("ADMIN",                     "*",          "F    F   F   F   F   F   F   F   F"),
        ("MINISTERE",                 "*",          "D    D   D   D   D   D   D   D   D"),
        ("CHERCHEUR",                 "*",          "D    D   D   D   D   D   D   D   D"),
    ];

    fn expected_read(token: &str, scenario: &Scenario) -> ReadDecision {
        let periods = || {
            assert!(
                !scenario.crp_periods.is_empty(),
                "{}: no CRP periods",
                scenario.name
            );
            scenario.crp_periods.clone()
        };
        match token {
            "D" => ReadDecision::Denied,
            "M" => ReadDecision::MissionRequired,
            "F" => ReadDecision::Full,
            "P" => ReadDecision::WithinPeriods(periods()),
            "T" => ReadDecision::TotalsWithinPeriods(periods()),
            "W" => ReadDecision::TotalsWithoutDetail,
            "X" => ReadDecision::ExternalOnly,
            "O" => ReadDecision::FactOnly,
            "C" => ReadDecision::CodesOnly,
            _ => match token.strip_prefix("S:") {
                Some(list) => {
                    ReadDecision::AttachmentsInScope(list.split('+').map(named_siret).collect())
                }
                None => panic!("unknown token {token}"),
            },
        }
    }

    /// The one row of `rows` for (persona, context), `*` standing for any context.
    fn row_for<'a, T>(rows: &'a [(&str, &str, T)], persona: &str, context: &str) -> &'a T {
        let found: Vec<_> = rows
            .iter()
            .filter(|(p, c, _)| *p == persona && (*c == context || *c == "*"))
            .collect();
        assert_eq!(
            found.len(),
            1,
            "{persona} / {context}: expected exactly one row"
        );
        &found[0].2
    }

    #[test]
    fn reading_table_every_persona_every_kind_every_scenario() {
        let personas = personas();
        let scenarios = scenarios();
        // The table must speak of known personas and scenarios only, and cover every role.
        for (p, c, _) in READS {
            assert!(
                personas.iter().any(|(name, _)| name == p),
                "unknown persona {p}"
            );
            assert!(
                *c == "*" || scenarios.iter().any(|s| s.name == *c),
                "unknown scenario {c}"
            );
        }
        for role in Role::ALL {
            assert!(
                personas.iter().any(|(_, p)| p.role == *role),
                "{role} not walked"
            );
        }
        let mut checked = 0;
        let mut failures = Vec::new();
        for (name, p) in &personas {
            for scenario in &scenarios {
                let tokens: Vec<&str> = row_for(READS, name, scenario.name)
                    .split_whitespace()
                    .collect();
                assert_eq!(
                    tokens.len(),
                    ReadKind::ALL.len(),
                    "{name} / {}",
                    scenario.name
                );
                let w = worker(scenario.attachments.clone());
                for (kind, token) in ReadKind::ALL.iter().zip(tokens) {
                    let want = expected_read(token, scenario);
                    let got = can_read(p, &w, *kind, today());
                    if got != want {
                        failures.push(format!(
                            "{name} / {} / {kind:?}: got {got:?}, want {want:?}",
                            scenario.name
                        ));
                    }
                    checked += 1;
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        assert_eq!(checked, 24 * 9 * 9);
    }

    // ---- the writing table

    fn actions() -> Vec<(String, WriteAction)> {
        let mut all = vec![
            (
                "declare A1".to_string(),
                WriteAction::DeclareWorker { siret: siret(A1) },
            ),
            (
                "declare A2".into(),
                WriteAction::DeclareWorker { siret: siret(A2) },
            ),
            (
                "declare B1".into(),
                WriteAction::DeclareWorker { siret: siret(B1) },
            ),
            (
                "designate A1".into(),
                WriteAction::Designate { siret: siret(A1) },
            ),
            (
                "designate A2".into(),
                WriteAction::Designate { siret: siret(A2) },
            ),
            (
                "designate B1".into(),
                WriteAction::Designate { siret: siret(B1) },
            ),
        ];
        for nature in Nature::ALL {
            all.push((
                format!("send {nature}"),
                WriteAction::SendResults { nature: *nature },
            ));
        }
        for (label, s, inb) in [
            ("ope A1 INB", A1, true),
            ("ope A1 not INB", A1, false),
            ("ope A2 INB", A2, true),
            ("ope B1 INB", B1, true),
        ] {
            all.push((
                label.into(),
                WriteAction::SendOperational {
                    siret: siret(s),
                    siret_is_inb: inb,
                },
            ));
        }
        all.push(("add".into(), WriteAction::AddResult));
        all.push(("correct".into(), WriteAction::CorrectResult));
        all.push(("pregnancy".into(), WriteAction::Pregnancy));
        for step in AlertStep::ALL {
            all.push((
                format!("alert {}", step.code()),
                WriteAction::MoveAlert { to: *step },
            ));
        }
        all.push(("delegate".into(), WriteAction::Delegate));
        all.push((
            "doctor WORKER".into(),
            WriteAction::DesignateDoctor { nir: nir(WORKER) },
        ));
        all.push((
            "doctor OTHER".into(),
            WriteAction::DesignateDoctor { nir: nir(OTHER) },
        ));
        all.push(("administer".into(), WriteAction::Administer));
        all
    }

    /// Expected writes: per (persona, worker context), the actions allowed; every other
    /// action must be refused. Contexts: `follows` and `elsewhere` (the scenarios of the
    /// reading table, the worker's NIR being WORKER), `none` (no worker given), `*` = all.
    #[rustfmt::skip]
    const WRITES: &[(&str, &str, &[&str])] = &[
        ("TRAVAILLEUR self",        "*",         &["doctor WORKER"]),
        ("TRAVAILLEUR other",       "follows",   &[]),
        ("TRAVAILLEUR other",       "elsewhere", &[]),
        ("TRAVAILLEUR other",       "none",      &["doctor OTHER"]),
        ("MEDECIN_DESIGNE",         "*",         &[]),
        ("MEDECIN_DESIGNE revoked", "*",         &[]),
        ("MEDECIN_DESIGNE other",   "*",         &[]),
        ("MDT",                     "follows",   &["add", "correct", "pregnancy", "alert EN_ANALYSE",
                                                   "alert CONFIRMEE", "alert CORRIGEE", "alert ANNULEE",
                                                   "delegate"]),
        ("MDT",                     "elsewhere", &["delegate"]),
        ("MDT",                     "none",      &["delegate"]),
        ("MDT ended",               "*",         &["delegate"]),
        ("MDT as CRP",              "*",         &["delegate"]),
        ("PS write",                "follows",   &["add", "correct", "pregnancy", "alert EN_ANALYSE"]),
        ("PS write",                "elsewhere", &[]),
        ("PS write",                "none",      &[]),
        ("PS read",                 "*",         &[]),
        ("PS revoked",              "*",         &[]),
        ("CRP",                     "*",         &["ope A1 INB"]),
        ("CRP ended",               "*",         &[]),
        ("EMPLOYEUR company",       "*",         &["declare A1", "declare A2", "designate A1", "designate A2",
                                                   "ope A1 INB", "ope A2 INB"]),
        ("EMPLOYEUR A1",            "*",         &["declare A1", "designate A1", "ope A1 INB"]),
        ("EMPLOYEUR correspondent", "*",         &["declare A1", "declare A2", "ope A1 INB", "ope A2 INB"]),
        ("ORGANISME",               "*",         &["send EXTERNE"]),
        ("EXPLOITANT_INB",          "*",         &["ope A1 INB", "ope A1 not INB", "ope A2 INB", "ope B1 INB"]),
        ("AGENT_CONTROLE mission",  "*",         &[]),
        ("AGENT_CONTROLE",          "*",         &[]),
        ("AGENT_CONTROLE blank",    "*",         &[]),
        ("ADMIN",                   "follows",   &["doctor WORKER", "administer"]),
        ("ADMIN",                   "elsewhere", &["doctor WORKER", "administer"]),
        ("ADMIN",                   "none",      &["doctor WORKER", "doctor OTHER", "administer"]),
        ("MINISTERE",               "*",         &[]),
        ("CHERCHEUR",               "*",         &[]),
    ];

    #[test]
    fn writing_table_every_persona_every_action() {
        let personas = personas();
        let actions = actions();
        for (p, _, allowed) in WRITES {
            assert!(
                personas.iter().any(|(name, _)| name == p),
                "unknown persona {p}"
            );
            for a in *allowed {
                assert!(
                    actions.iter().any(|(label, _)| label == a),
                    "unknown action {a}"
                );
            }
        }
        let scenarios = scenarios();
        let in_scenario = |name: &str| {
            worker(
                scenarios
                    .iter()
                    .find(|s| s.name == name)
                    .unwrap()
                    .attachments
                    .clone(),
            )
        };
        let contexts = [
            ("follows", Some(in_scenario("follows"))),
            ("elsewhere", Some(in_scenario("elsewhere"))),
            ("none", None),
        ];
        let mut checked = 0;
        let mut failures = Vec::new();
        for (name, p) in &personas {
            for (context, w) in &contexts {
                let allowed = row_for(WRITES, name, context);
                for (label, action) in &actions {
                    let want = allowed.contains(&label.as_str());
                    let got = can_write(p, w.as_ref(), action, today());
                    if got != want {
                        failures.push(format!(
                            "{name} / {context} / {label}: got {got}, want {want}"
                        ));
                    }
                    checked += 1;
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        assert_eq!(checked, 24 * 3 * 27);
    }

    // ---- targeted cases

    #[test]
    fn periods_cover_overlap_and_convert() {
        let p = Period::new(d(2025, 1, 1), Some(d(2025, 1, 31)));
        assert!(p.covers(d(2025, 1, 1)) && p.covers(d(2025, 1, 31)));
        assert!(!p.covers(d(2024, 12, 31)) && !p.covers(d(2025, 2, 1)));
        let open = Period::ongoing(d(2025, 1, 31));
        assert!(p.overlaps(&open) && open.overlaps(&p));
        assert!(!p.overlaps(&Period::ongoing(d(2025, 2, 1))));
        assert!(open.covers(NaiveDate::MAX));
        let inverted = Period::new(d(2025, 2, 1), Some(d(2025, 1, 1)));
        assert!(inverted.is_empty() && !p.is_empty() && !open.is_empty());
        assert!(!inverted.covers(d(2025, 1, 15)) && !inverted.overlaps(&open));
        assert!(Period::any_covers(&[p, open], d(2030, 1, 1)));
        assert!(!Period::any_covers(&[], d(2030, 1, 1)));
        let designation = Designation {
            id: 1,
            login: "crp".into(),
            role: DesignationRole::Advisor,
            siret: siret(A1),
            date_debut: d(2025, 1, 1),
            date_fin: None,
        };
        assert_eq!(Period::from(&designation), Period::ongoing(d(2025, 1, 1)));
        assert_eq!(ReadKind::ALL.len(), 9);
        assert_eq!(
            AlertStep::ALL.iter().map(|s| s.code()).collect::<Vec<_>>(),
            ["EN_ANALYSE", "CONFIRMEE", "CORRIGEE", "ANNULEE"]
        );
    }

    #[test]
    fn crp_periods_are_the_union_over_the_companies_it_follows_through() {
        let w = worker(vec![
            at(A1, d(2024, 1, 1), None),
            at(B1, d(2022, 1, 1), Some(d(2022, 12, 31))),
            at(B2, d(2025, 4, 1), None),
            at(C1, d(2010, 1, 1), None),
        ]);
        // Designated on A1 only: ACME's periods only, although BETA and CHARLIE employ him too.
        let on_a1 = person(Role::Crp, |p| {
            p.designations = vec![des(DesignationRole::Advisor, A1, d(2025, 1, 1), None)];
        });
        assert_eq!(
            can_read(&on_a1, &w, ReadKind::ExternalResults, today()),
            ReadDecision::WithinPeriods(vec![Period::ongoing(d(2024, 1, 1))])
        );
        // Designated on A1 and on B2: BETA's past attachment to B1 counts too; B2's current
        // one merges into A1's. A designation on C1 that ended yesterday adds nothing.
        let both = person(Role::Crp, |p| {
            p.designations = vec![
                des(DesignationRole::Advisor, A1, d(2025, 1, 1), None),
                des(DesignationRole::Advisor, B2, d(2025, 6, 1), None),
                des(
                    DesignationRole::Advisor,
                    C1,
                    d(2010, 1, 1),
                    Some(d(2025, 6, 14)),
                ),
            ];
        });
        let periods = vec![
            Period::new(d(2022, 1, 1), Some(d(2022, 12, 31))),
            Period::ongoing(d(2024, 1, 1)),
        ];
        assert_eq!(
            can_read(&both, &w, ReadKind::OperationalDosimetry, today()),
            ReadDecision::WithinPeriods(periods.clone())
        );
        assert_eq!(
            can_read(&both, &w, ReadKind::EffectiveDoseTotals, today()),
            ReadDecision::TotalsWithinPeriods(periods)
        );
    }

    #[test]
    fn crp_periods_merge_back_to_back_attachments_and_skip_inverted_ones() {
        let w = worker(vec![
            at(A2, d(2024, 7, 1), None),
            at(A1, d(2024, 1, 1), Some(d(2024, 6, 30))),
            at(A1, d(2025, 1, 1), None),
            at(A3, d(2023, 5, 1), Some(d(2023, 4, 1))),
        ]);
        let crp = person(Role::Crp, |p| {
            p.designations = vec![des(DesignationRole::Advisor, A1, today(), Some(today()))];
        });
        assert_eq!(
            can_read(&crp, &w, ReadKind::Versions, today()),
            ReadDecision::WithinPeriods(vec![Period::ongoing(d(2024, 1, 1))])
        );
    }

    #[test]
    fn designations_and_attachments_count_on_their_first_and_last_days() {
        let mdt = |from, to| {
            person(Role::Mdt, |p| {
                p.designations = vec![des(DesignationRole::Physician, A1, from, to)];
            })
        };
        let w = worker(vec![at(A1, today(), Some(today()))]);
        let kind = ReadKind::InternalResults;
        assert_eq!(
            can_read(&mdt(today(), None), &w, kind, today()),
            ReadDecision::Full
        );
        assert_eq!(
            can_read(&mdt(d(2020, 1, 1), Some(today())), &w, kind, today()),
            ReadDecision::Full
        );
        let tomorrow = d(2025, 6, 16);
        assert_eq!(
            can_read(&mdt(tomorrow, None), &w, kind, today()),
            ReadDecision::Denied
        );
        assert_eq!(
            can_read(&mdt(today(), None), &w, kind, tomorrow),
            ReadDecision::Denied
        );
    }

    #[test]
    fn a_delegation_counts_only_the_mdt_designations_and_only_unrevoked() {
        let w = worker(vec![at(A1, d(2024, 1, 1), None)]);
        let through = |role, revoked| {
            person(Role::ProfessionnelSante, |p| {
                p.delegations = vec![
                    Delegation {
                        mdt_designations: vec![des(role, A1, d(2024, 1, 1), None)],
                        write: true,
                        revoked,
                    },
                    // A live delegation from an MDT of another company adds nothing here.
                    Delegation {
                        mdt_designations: vec![des(
                            DesignationRole::Physician,
                            B1,
                            d(2024, 1, 1),
                            None,
                        )],
                        write: true,
                        revoked: false,
                    },
                ];
            })
        };
        let read = |p: &Person| can_read(p, &w, ReadKind::Identity, today());
        let write = |p: &Person| can_write(p, Some(&w), &WriteAction::AddResult, today());
        let live = through(DesignationRole::Physician, false);
        assert_eq!(read(&live), ReadDecision::Full);
        assert!(write(&live));
        for p in [
            through(DesignationRole::Advisor, false),
            through(DesignationRole::Physician, true),
        ] {
            assert_eq!(read(&p), ReadDecision::Denied);
            assert!(!write(&p));
        }
    }

    #[test]
    fn an_employer_without_scope_reaches_nobody() {
        let p = person(Role::Employeur, |_| {});
        let w = worker(vec![at(A1, d(2024, 1, 1), None)]);
        for kind in ReadKind::ALL {
            assert_eq!(can_read(&p, &w, *kind, today()), ReadDecision::Denied);
        }
        for (_, action) in actions() {
            assert!(!can_write(&p, Some(&w), &action, today()));
        }
    }

    #[test]
    fn designating_a_doctor_needs_a_consistent_worker() {
        let other = WorkerFacts {
            nir: nir(OTHER),
            attachments: vec![],
        };
        let action = WriteAction::DesignateDoctor { nir: nir(OTHER) };
        let admin = Person::new(Role::Admin);
        assert!(can_write(&admin, Some(&other), &action, today()));
        assert!(!can_write(&admin, Some(&worker(vec![])), &action, today()));
        let himself = person(Role::Travailleur, |p| p.nir = Some(nir(OTHER)));
        assert!(can_write(&himself, Some(&other), &action, today()));
    }

    // ---- property tests

    const POOL: &[&str] = &[A1, A2, A3, B1, B2, C1];

    fn any_day() -> impl Strategy<Value = NaiveDate> {
        prop_oneof![
            30 => (0u64..200).prop_map(|n| d(2024, 12, 1).checked_add_days(Days::new(n)).unwrap()),
            1 => Just(NaiveDate::MIN),
            1 => Just(NaiveDate::MAX),
        ]
    }

    fn any_period() -> impl Strategy<Value = Period> {
        (any_day(), prop::option::of(any_day())).prop_map(|(from, to)| Period::new(from, to))
    }

    fn any_siret() -> impl Strategy<Value = Siret> {
        prop::sample::select(POOL).prop_map(siret)
    }

    fn any_nir() -> impl Strategy<Value = Nir> {
        prop::sample::select(&[WORKER, OTHER][..]).prop_map(nir)
    }

    fn any_designation() -> impl Strategy<Value = DesignationFact> {
        (
            prop::sample::select(&[DesignationRole::Physician, DesignationRole::Advisor][..]),
            any_siret(),
            any_period(),
        )
            .prop_map(|(role, siret, period)| DesignationFact {
                role,
                siret,
                period,
            })
    }

    fn any_worker() -> impl Strategy<Value = WorkerFacts> {
        (
            any_nir(),
            prop::collection::vec(
                (any_siret(), any_period())
                    .prop_map(|(siret, period)| WorkerAttachment { siret, period }),
                0..5,
            ),
        )
            .prop_map(|(nir, attachments)| WorkerFacts { nir, attachments })
    }

    /// A person of one of `roles`, with every field filled at random whatever the role.
    fn any_person(roles: &'static [Role]) -> impl Strategy<Value = Person> {
        let delegation = (
            prop::collection::vec(any_designation(), 0..3),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(mdt_designations, write, revoked)| Delegation {
                mdt_designations,
                write,
                revoked,
            });
        let grant =
            (any_nir(), any::<bool>()).prop_map(|(nir, revoked)| DoctorGrant { nir, revoked });
        (
            prop::sample::select(roles),
            prop::option::of(any_nir()),
            prop::option::of(any_siret().prop_map(|s| s.siren())),
            prop::collection::vec(any_siret(), 0..3),
            any::<bool>(),
            prop::sample::subsequence(Nature::ALL, 0..=Nature::ALL.len()),
            prop::collection::vec(any_designation(), 0..4),
            prop::collection::vec(delegation, 0..3),
            prop::collection::vec(grant, 0..3),
            prop::option::of(
                prop::sample::select(&["", "  ", "IT-75-1"][..]).prop_map(String::from),
            ),
        )
            .prop_map(
                |(
                    role,
                    nir,
                    siren,
                    sirets,
                    correspondent,
                    natures,
                    designations,
                    delegations,
                    grants,
                    mission,
                )| {
                    Person {
                        role,
                        nir,
                        siren,
                        sirets,
                        correspondent,
                        natures,
                        designations,
                        delegations,
                        grants,
                        mission,
                    }
                },
            )
    }

    fn any_action() -> impl Strategy<Value = WriteAction> {
        prop_oneof![
            any_siret().prop_map(|siret| WriteAction::DeclareWorker { siret }),
            any_siret().prop_map(|siret| WriteAction::Designate { siret }),
            prop::sample::select(Nature::ALL)
                .prop_map(|nature| WriteAction::SendResults { nature }),
            (any_siret(), any::<bool>()).prop_map(|(siret, siret_is_inb)| {
                WriteAction::SendOperational {
                    siret,
                    siret_is_inb,
                }
            }),
            Just(WriteAction::AddResult),
            Just(WriteAction::CorrectResult),
            Just(WriteAction::Pregnancy),
            prop::sample::select(AlertStep::ALL).prop_map(|to| WriteAction::MoveAlert { to }),
            Just(WriteAction::Delegate),
            any_nir().prop_map(|nir| WriteAction::DesignateDoctor { nir }),
            Just(WriteAction::Administer),
        ]
    }

    /// Written independently of the code under test: whether `p` covers `day`.
    fn ref_covers(p: &Period, day: NaiveDate) -> bool {
        match p.to {
            Some(to) => p.from <= day && day <= to,
            None => p.from <= day,
        }
    }

    /// Every day a property inspects: the whole generated range, a margin, and the extremes.
    fn inspected_days() -> Vec<NaiveDate> {
        let start = d(2024, 11, 25);
        (0..215)
            .map(|n| start.checked_add_days(Days::new(n)).unwrap())
            .chain([NaiveDate::MIN, NaiveDate::MAX])
            .collect()
    }

    const DOSE_KINDS: &[ReadKind] = &[
        ReadKind::ExternalResults,
        ReadKind::InternalResults,
        ReadKind::EffectiveDoseTotals,
        ReadKind::OperationalDosimetry,
    ];

    proptest! {
        /// (1) A CRP's periods cover exactly the days of the worker's attachments to the
        /// companies it follows him through today, hence never a day outside his attachments
        /// to its designations' companies; they are canonical, and the same for every kind.
        #[test]
        fn prop_crp_periods_stay_within_the_attachments(
            mut p in any_person(&[Role::Crp]),
            mut w in any_worker(),
            today in any_day(),
            anchors in prop::collection::vec(any_siret(), 0..3),
        ) {
            // Random ties rarely meet on today's date: most cases get one or two that do, so
            // that the periods are exercised against every other random attachment.
            for s in anchors {
                p.designations.push(DesignationFact {
                    role: DesignationRole::Advisor,
                    siret: s.clone(),
                    period: Period::ongoing(NaiveDate::MIN),
                });
                w.attachments.push(WorkerAttachment { siret: s, period: Period::new(today, Some(today)) });
            }
            let mut following = BTreeSet::new();
            for des in p.designations.iter().filter(|d| d.role == DesignationRole::Advisor) {
                let attached_today = w.attachments.iter()
                    .any(|a| a.siret == des.siret && ref_covers(&a.period, today));
                if ref_covers(&des.period, today) && attached_today {
                    following.insert(des.siret.siren());
                }
            }
            let designated: BTreeSet<Siren> = p.designations.iter()
                .filter(|d| d.role == DesignationRole::Advisor)
                .map(|d| d.siret.siren())
                .collect();
            let decisions: Vec<ReadDecision> =
                ReadKind::ALL.iter().map(|k| can_read(&p, &w, *k, today)).collect();
            if following.is_empty() {
                prop_assert!(decisions.iter().all(|d| *d == ReadDecision::Denied));
                return Ok(());
            }
            let ReadDecision::WithinPeriods(periods) = &decisions[1] else {
                return Err(TestCaseError::fail(format!("external results: {:?}", decisions[1])));
            };
            prop_assert!(!periods.is_empty());
            for (kind, decision) in ReadKind::ALL.iter().zip(&decisions) {
                match kind {
                    ReadKind::ExternalResults | ReadKind::OperationalDosimetry | ReadKind::Versions => {
                        prop_assert_eq!(decision, &ReadDecision::WithinPeriods(periods.clone()));
                    }
                    ReadKind::EffectiveDoseTotals => {
                        prop_assert_eq!(decision, &ReadDecision::TotalsWithinPeriods(periods.clone()));
                    }
                    _ => prop_assert!(!matches!(
                        decision,
                        ReadDecision::WithinPeriods(_) | ReadDecision::TotalsWithinPeriods(_)
                    )),
                }
            }
            // Sorted, non-empty, neither overlapping nor back to back.
            for pair in periods.windows(2) {
                let end = pair[0].to.unwrap();
                prop_assert!(end.succ_opt().unwrap() < pair[1].from);
            }
            for period in periods {
                prop_assert!(!period.is_empty());
            }
            for day in inspected_days() {
                let granted = Period::any_covers(periods, day);
                let of_company = |companies: &BTreeSet<Siren>| w.attachments.iter()
                    .any(|a| companies.contains(&a.siret.siren()) && ref_covers(&a.period, day));
                prop_assert!(!granted || of_company(&designated), "{day} outside the attachments");
                prop_assert_eq!(granted, of_company(&following), "{}", day);
            }
        }

        /// (2) An employer never gets a dose nor anything but its three answers.
        #[test]
        fn prop_employer_never_sees_a_dose(
            p in any_person(&[Role::Employeur]),
            w in any_worker(),
            today in any_day(),
        ) {
            for kind in ReadKind::ALL {
                let decision = can_read(&p, &w, *kind, today);
                match &decision {
                    ReadDecision::Denied => {}
                    ReadDecision::AttachmentsInScope(sirets) => {
                        prop_assert_eq!(*kind, ReadKind::Identity);
                        prop_assert!(!sirets.is_empty());
                        for s in sirets {
                            prop_assert!(w.attachments.iter().any(|a| &a.siret == s));
                            let in_scope = if p.sirets.is_empty() {
                                p.siren.as_ref() == Some(&s.siren())
                            } else {
                                p.sirets.contains(s)
                            };
                            prop_assert!(in_scope);
                        }
                    }
                    ReadDecision::FactOnly => prop_assert_eq!(*kind, ReadKind::Alerts),
                    other => prop_assert!(false, "{:?}: {:?}", kind, other),
                }
                if DOSE_KINDS.contains(kind) {
                    prop_assert_eq!(decision, ReadDecision::Denied);
                }
            }
        }

        /// (3) Once every delegation and grant is revoked, delegates and designated doctors
        /// get nothing at all.
        #[test]
        fn prop_revoking_everything_denies_everything(
            mut p in any_person(&[Role::ProfessionnelSante, Role::MedecinDesigne]),
            w in any_worker(),
            today in any_day(),
            actions in prop::collection::vec(any_action(), 1..8),
        ) {
            for delegation in &mut p.delegations {
                delegation.revoked = true;
            }
            for grant in &mut p.grants {
                grant.revoked = true;
            }
            for kind in ReadKind::ALL {
                prop_assert_eq!(can_read(&p, &w, *kind, today), ReadDecision::Denied);
            }
            for action in &actions {
                prop_assert!(!can_write(&p, Some(&w), action, today));
                prop_assert!(!can_write(&p, None, action, today));
            }
        }

        /// (4) The roles the reading table does not list never read a worker's data.
        #[test]
        fn prop_roles_outside_the_table_are_denied(
            p in any_person(&[Role::Ministere, Role::Chercheur, Role::Organisme, Role::ExploitantInb]),
            w in any_worker(),
            today in any_day(),
        ) {
            for kind in ReadKind::ALL {
                prop_assert_eq!(can_read(&p, &w, *kind, today), ReadDecision::Denied);
            }
        }

        /// (5) The policy never panics, whatever the dates (extremes and inverted periods
        /// included), and answers the same question the same way.
        #[test]
        fn prop_never_panics_and_is_deterministic(
            p in any_person(Role::ALL),
            w in any_worker(),
            today in any_day(),
            action in any_action(),
        ) {
            for kind in ReadKind::ALL {
                prop_assert_eq!(can_read(&p, &w, *kind, today), can_read(&p, &w, *kind, today));
            }
            prop_assert_eq!(
                can_write(&p, Some(&w), &action, today),
                can_write(&p, Some(&w), &action, today)
            );
            prop_assert!(!can_write(&p, None, &WriteAction::AddResult, today));
        }

        /// (6) National roles do not depend on any tie: the administrator sees everything,
        /// and the inspector sees the same of every worker.
        #[test]
        fn prop_national_roles_ignore_ties(
            p in any_person(&[Role::Admin, Role::AgentControle]),
            w1 in any_worker(),
            w2 in any_worker(),
            today in any_day(),
        ) {
            for kind in ReadKind::ALL {
                let first = can_read(&p, &w1, *kind, today);
                prop_assert_eq!(&first, &can_read(&p, &w2, *kind, today));
                if p.role == Role::Admin {
                    prop_assert_eq!(first, ReadDecision::Full);
                }
            }
        }
    }
}

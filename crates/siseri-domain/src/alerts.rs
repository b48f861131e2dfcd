//! Exceedance episodes, their alerts, and the alert lifecycle (`rules.md` §5).
//!
//! For one worker and one limit (one kind; for the unborn child, one pregnancy), the months
//! at which the limit is exceeded form episodes: runs of consecutive months. [`reconcile`]
//! compares the current episodes with the existing alerts of that limit and says what to do
//! so that each episode is covered by exactly one alert: reuse an overlapping alert (its
//! months extended, a note added), or raise a new one. Alerts are never deleted; the plan
//! reports the alerts whose exceedance no longer exists, so that a note can be added.
//! Applying a plan and reconciling again with the same episodes changes nothing.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::access::AlertStep;
use crate::account::Role;
use crate::totals::{Month, MonthRange};

/// The episodes of a set of months: the maximal runs of consecutive months, in order
/// (duplicates are ignored).
pub fn episodes(months: impl IntoIterator<Item = Month>) -> Vec<MonthRange> {
    let months: BTreeSet<Month> = months.into_iter().collect();
    let mut out: Vec<MonthRange> = Vec::new();
    for m in months {
        match out.last_mut() {
            Some(run) if run.last.plus(1) == m => run.last = m,
            _ => out.push(MonthRange::single(m)),
        }
    }
    out
}

/// An existing alert of the limit being reconciled: its id and its months.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AlertSpan<Id> {
    /// The alert's id.
    pub id: Id,
    /// Its first and last months (`premier_mois`, `dernier_mois`).
    pub months: MonthRange,
}

/// The alert that covers an episode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CoveringAlert<Id> {
    /// An existing alert, reused.
    Existing(Id),
    /// The new alert at this index of [`AlertPlan::raised`].
    Raised(usize),
}

/// An existing alert whose months grow (a note is added to it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AlertExtension<Id> {
    /// The alert.
    pub id: Id,
    /// Its months before.
    pub before: MonthRange,
    /// Its months after: the smallest range holding them and the episodes it covers.
    pub after: MonthRange,
}

/// What [`reconcile`] decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertPlan<Id> {
    /// Each current episode, in order, with the one alert that covers it.
    pub coverage: Vec<(MonthRange, CoveringAlert<Id>)>,
    /// The alerts to raise, each with its months (one episode each).
    pub raised: Vec<MonthRange>,
    /// The existing alerts whose months grow, by id.
    pub extended: Vec<AlertExtension<Id>>,
    /// Existing alerts that overlap a current episode covered by another alert (two
    /// episodes joined by a correction): kept, a note can say so.
    pub redundant: Vec<Id>,
    /// Existing alerts that no current episode overlaps: their exceedance no longer exists;
    /// kept, a note is added.
    pub stale: Vec<Id>,
}

impl<Id> AlertPlan<Id> {
    /// Whether the plan raises nothing and extends nothing.
    pub fn changes_nothing(&self) -> bool {
        self.raised.is_empty() && self.extended.is_empty()
    }
}

/// Reconciles the current `episodes` of one limit (see [`episodes`]) with the existing
/// alerts of that limit for the same worker.
///
/// An episode that overlaps (shares at least one month with) existing alerts reuses the one
/// with the earliest first month (then the smallest id), whose months become the smallest
/// range holding its months and every episode it covers; an episode that overlaps none
/// raises a new alert over its months. Every existing alert is either covering, redundant
/// or stale. The plan only depends on its inputs, and reconciling the applied plan's alerts
/// with the same episodes changes nothing.
pub fn reconcile<Id: Copy + Ord>(
    alerts: &[AlertSpan<Id>],
    episodes: &[MonthRange],
) -> AlertPlan<Id> {
    let mut ordered: Vec<&AlertSpan<Id>> = alerts.iter().collect();
    ordered.sort_by_key(|a| (a.months.first, a.id));
    let mut episodes = episodes.to_vec();
    episodes.sort();

    let mut coverage = Vec::new();
    let mut raised = Vec::new();
    let mut grown: BTreeMap<Id, MonthRange> = BTreeMap::new();
    let mut overlapping: BTreeSet<Id> = BTreeSet::new();
    for episode in episodes {
        let mut candidates = ordered.iter().filter(|a| a.months.overlaps(&episode));
        match candidates.next() {
            Some(chosen) => {
                let range = grown.entry(chosen.id).or_insert(chosen.months);
                *range = range.hull(&episode);
                overlapping.insert(chosen.id);
                overlapping.extend(candidates.map(|a| a.id));
                coverage.push((episode, CoveringAlert::Existing(chosen.id)));
            }
            None => {
                coverage.push((episode, CoveringAlert::Raised(raised.len())));
                raised.push(episode);
            }
        }
    }

    let mut extended = Vec::new();
    let mut redundant = Vec::new();
    let mut stale = Vec::new();
    for a in &ordered {
        match grown.get(&a.id) {
            Some(after) if *after != a.months => extended.push(AlertExtension {
                id: a.id,
                before: a.months,
                after: *after,
            }),
            Some(_) => {}
            None if overlapping.contains(&a.id) => redundant.push(a.id),
            None => stale.push(a.id),
        }
    }
    AlertPlan {
        coverage,
        raised,
        extended,
        redundant,
        stale,
    }
}

/// Applies a plan to an in-memory list of alerts: extends the extended ones and appends the
/// raised ones with ids from `new_id`; returns the new ids, in the order of
/// [`AlertPlan::raised`]. Nothing is ever removed.
pub fn apply_plan<Id: Copy + Eq>(
    alerts: &mut Vec<AlertSpan<Id>>,
    plan: &AlertPlan<Id>,
    mut new_id: impl FnMut() -> Id,
) -> Vec<Id> {
    for ext in &plan.extended {
        for a in alerts.iter_mut().filter(|a| a.id == ext.id) {
            a.months = ext.after;
        }
    }
    plan.raised
        .iter()
        .map(|months| {
            let id = new_id();
            alerts.push(AlertSpan {
                id,
                months: *months,
            });
            id
        })
        .collect()
}

/// The largest total over `range` among `exceedances` (month → total µSv): a figure for an
/// alert's `dose_usv`.
pub fn peak_usv(exceedances: &BTreeMap<Month, i64>, range: MonthRange) -> Option<i64> {
    exceedances
        .range(range.first..=range.last)
        .map(|(_, v)| *v)
        .max()
}

/// The status of an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum AlertStatus {
    /// Raised, not yet looked at.
    #[serde(rename = "OUVERTE")]
    Ouverte,
    /// Being analysed.
    #[serde(rename = "EN_ANALYSE")]
    EnAnalyse,
    /// Confirmed by the physician.
    #[serde(rename = "CONFIRMEE")]
    Confirmee,
    /// The dose was wrong and has been corrected.
    #[serde(rename = "CORRIGEE")]
    Corrigee,
    /// Cancelled by the physician.
    #[serde(rename = "ANNULEE")]
    Annulee,
}

impl AlertStatus {
    /// Every status, in the order of `rules.md` §5.
    pub const ALL: &'static [AlertStatus] = &[
        AlertStatus::Ouverte,
        AlertStatus::EnAnalyse,
        AlertStatus::Confirmee,
        AlertStatus::Corrigee,
        AlertStatus::Annulee,
    ];

    /// The status code, as stored and shown.
    pub fn code(self) -> &'static str {
        match self {
            AlertStatus::Ouverte => "OUVERTE",
            AlertStatus::EnAnalyse => "EN_ANALYSE",
            AlertStatus::Confirmee => "CONFIRMEE",
            AlertStatus::Corrigee => "CORRIGEE",
            AlertStatus::Annulee => "ANNULEE",
        }
    }

    /// Parses a code, ignoring case and surrounding spaces.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        Self::ALL
            .iter()
            .copied()
            .find(|v| v.code().eq_ignore_ascii_case(s))
    }

    /// The step that moves an alert to this status; `None` for `OUVERTE`, which no one
    /// moves an alert to.
    pub fn as_step(self) -> Option<AlertStep> {
        match self {
            AlertStatus::Ouverte => None,
            AlertStatus::EnAnalyse => Some(AlertStep::EnAnalyse),
            AlertStatus::Confirmee => Some(AlertStep::Confirmee),
            AlertStatus::Corrigee => Some(AlertStep::Corrigee),
            AlertStatus::Annulee => Some(AlertStep::Annulee),
        }
    }

    /// Whether the physician has closed the alert (`CONFIRMEE`, `CORRIGEE`, `ANNULEE`).
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            AlertStatus::Confirmee | AlertStatus::Corrigee | AlertStatus::Annulee
        )
    }
}

impl From<AlertStep> for AlertStatus {
    fn from(step: AlertStep) -> Self {
        match step {
            AlertStep::EnAnalyse => AlertStatus::EnAnalyse,
            AlertStep::Confirmee => AlertStatus::Confirmee,
            AlertStep::Corrigee => AlertStatus::Corrigee,
            AlertStep::Annulee => AlertStatus::Annulee,
        }
    }
}

impl std::fmt::Display for AlertStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// Parses the target status of a step (`EN_ANALYSE`, `CONFIRMEE`, `CORRIGEE`, `ANNULEE`),
/// ignoring case.
pub fn parse_step(s: &str) -> Option<AlertStep> {
    AlertStatus::parse(s).and_then(AlertStatus::as_step)
}

/// Who moves an alert. Whether that person may act on this worker at all (designation,
/// delegation in force) is [`crate::access::can_write`]'s question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlertActor {
    /// The occupational physician (MDT).
    Physician,
    /// A health professional with write delegation.
    Delegate,
}

impl AlertActor {
    /// The actor a role acts as: `MDT` the physician, `PROFESSIONNEL_SANTE` a delegate;
    /// nobody else moves alerts.
    pub fn of_role(role: Role) -> Option<Self> {
        match role {
            Role::Mdt => Some(AlertActor::Physician),
            Role::ProfessionnelSante => Some(AlertActor::Delegate),
            Role::Travailleur
            | Role::MedecinDesigne
            | Role::Crp
            | Role::Employeur
            | Role::Organisme
            | Role::ExploitantInb
            | Role::AgentControle
            | Role::Admin
            | Role::Ministere
            | Role::Chercheur => None,
        }
    }
}

/// A refused transition (409 `TRANSITION_INVALIDE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("TRANSITION_INVALIDE : {} → {} n'est pas permis", from.code(), to.code())]
pub struct TransitionInvalid {
    /// The alert's status.
    pub from: AlertStatus,
    /// The status asked for.
    pub to: AlertStep,
}

impl TransitionInvalid {
    /// The error code of the API.
    pub const CODE: &'static str = "TRANSITION_INVALIDE";
}

/// Moves an alert from `from` to `to` (`rules.md` §5): the physician may do `OUVERTE` →
/// `EN_ANALYSE` and `EN_ANALYSE` → `CONFIRMEE` | `CORRIGEE` | `ANNULEE`; a delegate only
/// `OUVERTE` → `EN_ANALYSE`. Anything else is refused.
pub fn transition(
    from: AlertStatus,
    to: AlertStep,
    actor: AlertActor,
) -> Result<AlertStatus, TransitionInvalid> {
    let allowed = match (from, to) {
        (AlertStatus::Ouverte, AlertStep::EnAnalyse) => true,
        (
            AlertStatus::EnAnalyse,
            AlertStep::Confirmee | AlertStep::Corrigee | AlertStep::Annulee,
        ) => actor == AlertActor::Physician,
        _ => false,
    };
    if allowed {
        Ok(to.into())
    } else {
        Err(TransitionInvalid { from, to })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn m(n: i32) -> Month {
        Month(2025 * 12 + n)
    }

    fn r(a: i32, b: i32) -> MonthRange {
        MonthRange::new(m(a), m(b))
    }

    fn span(id: i64, a: i32, b: i32) -> AlertSpan<i64> {
        AlertSpan {
            id,
            months: r(a, b),
        }
    }

    #[test]
    fn episodes_are_runs_of_consecutive_months() {
        assert!(episodes([]).is_empty());
        assert_eq!(episodes([m(3)]), vec![r(3, 3)]);
        assert_eq!(
            episodes([m(5), m(1), m(2), m(2), m(3), m(7), m(8)]),
            vec![r(1, 3), r(5, 5), r(7, 8)]
        );
        // December and January are consecutive.
        let dec = Month::parse("2024-12").unwrap();
        let jan = Month::parse("2025-01").unwrap();
        assert_eq!(episodes([jan, dec]), vec![MonthRange::new(dec, jan)]);
    }

    #[test]
    fn first_exceedance_raises_one_alert_per_episode() {
        let plan = reconcile::<i64>(&[], &[r(0, 2), r(5, 5)]);
        assert_eq!(plan.raised, vec![r(0, 2), r(5, 5)]);
        assert_eq!(
            plan.coverage,
            vec![
                (r(0, 2), CoveringAlert::Raised(0)),
                (r(5, 5), CoveringAlert::Raised(1))
            ]
        );
        assert!(plan.extended.is_empty() && plan.stale.is_empty() && plan.redundant.is_empty());
        assert!(!plan.changes_nothing());
        assert!(reconcile::<i64>(&[], &[]).changes_nothing());
    }

    #[test]
    fn an_overlapping_episode_reuses_and_extends_the_alert() {
        let alerts = [span(7, 0, 2)];
        // Inside: reused as is, no note.
        let plan = reconcile(&alerts, &[r(1, 2)]);
        assert_eq!(plan.coverage, vec![(r(1, 2), CoveringAlert::Existing(7))]);
        assert!(plan.changes_nothing());
        // Sharing one month: extended both ways as needed.
        let plan = reconcile(&alerts, &[r(2, 6)]);
        assert_eq!(
            plan.extended,
            vec![AlertExtension {
                id: 7,
                before: r(0, 2),
                after: r(0, 6)
            }]
        );
        let plan = reconcile(&alerts, &[r(-3, 0)]);
        assert_eq!(plan.extended[0].after, r(-3, 2));
        assert!(plan.raised.is_empty());
    }

    #[test]
    fn an_adjacent_episode_does_not_overlap() {
        let alerts = [span(7, 0, 2)];
        let plan = reconcile(&alerts, &[r(3, 4)]);
        assert_eq!(plan.raised, vec![r(3, 4)]);
        assert_eq!(plan.stale, vec![7]);
    }

    #[test]
    fn an_exceedance_that_disappears_keeps_its_alert_and_is_reported() {
        let alerts = [span(1, 0, 2), span(2, 6, 8)];
        let plan = reconcile(&alerts, &[r(7, 7)]);
        assert_eq!(plan.stale, vec![1]);
        assert_eq!(plan.coverage, vec![(r(7, 7), CoveringAlert::Existing(2))]);
        assert!(plan.changes_nothing(), "an alert never shrinks");
        let plan = reconcile(&alerts, &[]);
        assert_eq!(plan.stale, vec![1, 2]);
    }

    #[test]
    fn joined_episodes_keep_the_earliest_alert_and_report_the_other() {
        // Two alerts, then a correction fills the gap between their episodes.
        let alerts = [span(9, 5, 6), span(4, 0, 2)];
        let plan = reconcile(&alerts, &[r(0, 6)]);
        assert_eq!(plan.coverage, vec![(r(0, 6), CoveringAlert::Existing(4))]);
        assert_eq!(plan.extended[0].after, r(0, 6));
        assert_eq!(plan.redundant, vec![9]);
        assert!(plan.stale.is_empty());
        // Same first month: the smaller id.
        let alerts = [span(9, 0, 1), span(4, 0, 3)];
        let plan = reconcile(&alerts, &[r(0, 0)]);
        assert_eq!(plan.coverage, vec![(r(0, 0), CoveringAlert::Existing(4))]);
    }

    #[test]
    fn one_alert_may_cover_two_episodes_split_by_a_correction() {
        let alerts = [span(3, 0, 11)];
        let plan = reconcile(&alerts, &[r(0, 2), r(6, 8)]);
        assert_eq!(
            plan.coverage,
            vec![
                (r(0, 2), CoveringAlert::Existing(3)),
                (r(6, 8), CoveringAlert::Existing(3))
            ]
        );
        assert!(plan.changes_nothing());
    }

    #[test]
    fn applying_then_reconciling_again_changes_nothing() {
        let mut alerts = vec![span(1, 0, 2), span(2, 10, 10)];
        let eps = episodes([m(2), m(3), m(4), m(20)]);
        let plan = reconcile(&alerts, &eps);
        let mut next = 100;
        let ids = apply_plan(&mut alerts, &plan, || {
            next += 1;
            next
        });
        assert_eq!(ids, vec![101]);
        assert_eq!(
            alerts,
            vec![span(1, 0, 4), span(2, 10, 10), span(101, 20, 20)]
        );
        let again = reconcile(&alerts, &eps);
        assert!(again.changes_nothing());
        assert_eq!(again.stale, vec![2]);
    }

    #[test]
    fn peak_over_a_range() {
        let totals = BTreeMap::from([(m(0), 5), (m(1), 9), (m(4), 7)]);
        assert_eq!(peak_usv(&totals, r(0, 2)), Some(9));
        assert_eq!(peak_usv(&totals, r(2, 4)), Some(7));
        assert_eq!(peak_usv(&totals, r(2, 3)), None);
    }

    #[test]
    fn status_codes() {
        for s in AlertStatus::ALL {
            assert_eq!(AlertStatus::parse(s.code()), Some(*s));
            assert_eq!(
                serde_json::to_string(s).unwrap(),
                format!("\"{}\"", s.code())
            );
            if let Some(step) = s.as_step() {
                assert_eq!(step.code(), s.code());
                assert_eq!(AlertStatus::from(step), *s);
                assert_eq!(parse_step(&s.code().to_lowercase()), Some(step));
            }
        }
        assert_eq!(parse_step("OUVERTE"), None);
        assert_eq!(parse_step("X"), None);
        assert!(!AlertStatus::Ouverte.is_closed() && !AlertStatus::EnAnalyse.is_closed());
        assert!(AlertStatus::Confirmee.is_closed() && AlertStatus::Corrigee.is_closed());
        assert!(AlertStatus::Annulee.is_closed());
    }

    #[test]
    fn transitions_table() {
        use AlertActor::*;
        use AlertStatus as S;
        use AlertStep as T;
        let allowed = [
            (S::Ouverte, T::EnAnalyse, Physician),
            (S::Ouverte, T::EnAnalyse, Delegate),
            (S::EnAnalyse, T::Confirmee, Physician),
            (S::EnAnalyse, T::Corrigee, Physician),
            (S::EnAnalyse, T::Annulee, Physician),
        ];
        for from in AlertStatus::ALL {
            for to in AlertStep::ALL {
                for actor in [Physician, Delegate] {
                    let result = transition(*from, *to, actor);
                    if allowed.contains(&(*from, *to, actor)) {
                        assert_eq!(result, Ok(AlertStatus::from(*to)));
                    } else {
                        let e = result.unwrap_err();
                        assert_eq!(
                            e,
                            TransitionInvalid {
                                from: *from,
                                to: *to
                            }
                        );
                        assert!(e.to_string().starts_with(TransitionInvalid::CODE));
                    }
                }
            }
        }
        // The delegate's rule agrees with the access policy: only ever to EN_ANALYSE.
        for from in AlertStatus::ALL {
            for to in AlertStep::ALL {
                if transition(*from, *to, Delegate).is_ok() {
                    assert_eq!(*to, AlertStep::EnAnalyse);
                }
            }
        }
    }

    #[test]
    fn actors_by_role() {
        for role in Role::ALL {
            let expected = match role {
                Role::Mdt => Some(AlertActor::Physician),
                Role::ProfessionnelSante => Some(AlertActor::Delegate),
                _ => None,
            };
            assert_eq!(AlertActor::of_role(*role), expected, "{role:?}");
        }
    }

    // ------------------------------------------------------------------------------------
    // Property: reconciliation against a naive scan, over a sequence of exceedance sets.
    // ------------------------------------------------------------------------------------

    fn month_set() -> impl Strategy<Value = BTreeSet<i32>> {
        prop_oneof![
            // Sparse or dense sets over four years.
            prop::collection::btree_set(0i32..48, 0..30),
            // Mostly contiguous blocks.
            prop::collection::vec((0i32..48, 1i32..10), 0..4).prop_map(|blocks| {
                blocks
                    .into_iter()
                    .flat_map(|(a, n)| a..(a + n).min(48))
                    .collect()
            }),
        ]
    }

    fn initial_alerts() -> impl Strategy<Value = Vec<AlertSpan<i64>>> {
        prop::collection::vec((0i32..48, 0i32..8), 0..5).prop_map(|v| {
            v.into_iter()
                .enumerate()
                .map(|(i, (a, n))| span(i as i64 + 1, a, a + n))
                .collect()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        #[test]
        fn reconciliation_matches_a_naive_scan(
            start in initial_alerts(),
            sets in prop::collection::vec(month_set(), 1..8),
        ) {
            let mut alerts = start;
            let mut next_id = 1_000i64;
            for set in sets {
                let eps = episodes(set.iter().map(|n| m(*n)));
                // Episodes partition the set into maximal runs.
                let covered: BTreeSet<i32> = eps
                    .iter()
                    .flat_map(|e| e.months())
                    .map(|x| x.0 - m(0).0)
                    .collect();
                prop_assert_eq!(&covered, &set);
                for w in eps.windows(2) {
                    prop_assert!(w[0].last.plus(1) < w[1].first);
                }

                let before = alerts.clone();
                let plan = reconcile(&before, &eps);

                // Naive scan, episode by episode.
                prop_assert_eq!(plan.coverage.len(), eps.len());
                let mut covering_ids = BTreeSet::new();
                for ((ep, cover), expected_ep) in plan.coverage.iter().zip(&eps) {
                    prop_assert_eq!(ep, expected_ep);
                    let overlapping: Vec<&AlertSpan<i64>> =
                        before.iter().filter(|a| a.months.overlaps(ep)).collect();
                    match cover {
                        CoveringAlert::Existing(id) => {
                            let best = overlapping
                                .iter()
                                .min_by_key(|a| (a.months.first, a.id))
                                .unwrap();
                            prop_assert_eq!(*id, best.id);
                            covering_ids.insert(*id);
                        }
                        CoveringAlert::Raised(i) => {
                            prop_assert!(overlapping.is_empty());
                            prop_assert_eq!(plan.raised[*i], *ep);
                        }
                    }
                }
                let naive_stale: BTreeSet<i64> = before
                    .iter()
                    .filter(|a| !eps.iter().any(|e| a.months.overlaps(e)))
                    .map(|a| a.id)
                    .collect();
                prop_assert_eq!(plan.stale.iter().copied().collect::<BTreeSet<_>>(), naive_stale.clone());
                let naive_redundant: BTreeSet<i64> = before
                    .iter()
                    .map(|a| a.id)
                    .filter(|id| !naive_stale.contains(id) && !covering_ids.contains(id))
                    .collect();
                prop_assert_eq!(plan.redundant.iter().copied().collect::<BTreeSet<_>>(), naive_redundant);

                // Apply: nothing disappears, nothing shrinks, each episode inside its alert.
                let new_ids = apply_plan(&mut alerts, &plan, || {
                    next_id += 1;
                    next_id
                });
                prop_assert_eq!(alerts.len(), before.len() + plan.raised.len());
                for (old, new) in before.iter().zip(&alerts) {
                    prop_assert_eq!(old.id, new.id);
                    prop_assert!(new.months.contains_range(&old.months));
                    if new.months != old.months {
                        prop_assert!(covering_ids.contains(&old.id));
                    }
                }
                let id_of = |c: &CoveringAlert<i64>| match c {
                    CoveringAlert::Existing(id) => *id,
                    CoveringAlert::Raised(i) => new_ids[*i],
                };
                for (ep, cover) in &plan.coverage {
                    let id = id_of(cover);
                    let alert = alerts.iter().find(|a| a.id == id).unwrap();
                    prop_assert!(alert.months.contains_range(ep));
                }
                for ext in &plan.extended {
                    let alert = alerts.iter().find(|a| a.id == ext.id).unwrap();
                    prop_assert_eq!(alert.months, ext.after);
                    let hull = plan
                        .coverage
                        .iter()
                        .filter(|(_, c)| *c == CoveringAlert::Existing(ext.id))
                        .fold(ext.before, |h, (ep, _)| h.hull(ep));
                    prop_assert_eq!(ext.after, hull);
                }

                // Running again on the same episodes changes nothing.
                let again = reconcile(&alerts, &eps);
                prop_assert!(again.changes_nothing());
                let first_ids: Vec<i64> = plan.coverage.iter().map(|(_, c)| id_of(c)).collect();
                let again_ids: Vec<i64> = again
                    .coverage
                    .iter()
                    .map(|(_, c)| match c {
                        CoveringAlert::Existing(id) => Ok(*id),
                        CoveringAlert::Raised(_) => Err(()),
                    })
                    .collect::<Result<_, _>>()
                    .unwrap();
                prop_assert_eq!(again_ids, first_ids);
                prop_assert_eq!(&again.stale, &plan.stale);
                prop_assert_eq!(&again.redundant, &plan.redundant);
                let mut third = alerts.clone();
                apply_plan(&mut third, &again, || unreachable!());
                prop_assert_eq!(&third, &alerts);
            }
        }
    }
}

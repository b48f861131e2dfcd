//! Dose limits and the classification advisory (`rules.md` §4).
//!
//! A limit is exceeded at month M when the relevant total at M is **greater than** the limit,
//! except for the unborn child, where it is exceeded when the total **reaches** 1 mSv. The
//! rolling limits are resolved month by month from the worker's age on the last day of M.
//!
//! Everything here is computed from a worker's [`MonthlySums`], except the unborn child's
//! limit, which needs the date of each effective-dose result (a pregnancy starts and ends on
//! a day, not a month): it takes a list of `(DATE_FIN, E µSv)` items.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::codes::{Classification, Nature, Position, Quantity};
use crate::result::ResultValues;
use crate::totals::{Month, MonthRange, MonthlySums, contribution};
use crate::worker::{AttachmentTerms, age_on};

/// The kinds of limit an alert is raised for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum LimitKind {
    /// Effective dose over 12 rolling months.
    #[serde(rename = "E")]
    E,
    /// Lens of the eye (larger eye) over 12 rolling months.
    #[serde(rename = "CRISTALLIN")]
    Cristallin,
    /// Skin over 12 rolling months.
    #[serde(rename = "PEAU")]
    Peau,
    /// Extremities (largest position) over 12 rolling months.
    #[serde(rename = "EXTREMITES")]
    Extremites,
    /// Unborn child: 1 mSv from the declaration of pregnancy to its end; each pregnancy is
    /// its own limit.
    #[serde(rename = "ENFANT_A_NAITRE")]
    EnfantANaitre,
    /// Lifetime 1 Sv of emergency responders (`SUR_GRP_1`, `SUR_GRP_2`).
    #[serde(rename = "VIE_ENTIERE")]
    VieEntiere,
}

impl LimitKind {
    /// Every kind, in the order of `rules.md` §4.
    pub const ALL: &'static [LimitKind] = &[
        LimitKind::E,
        LimitKind::Cristallin,
        LimitKind::Peau,
        LimitKind::Extremites,
        LimitKind::EnfantANaitre,
        LimitKind::VieEntiere,
    ];

    /// The four kinds computed on rolling 12-month totals.
    pub const ROLLING: &'static [LimitKind] = &[
        LimitKind::E,
        LimitKind::Cristallin,
        LimitKind::Peau,
        LimitKind::Extremites,
    ];

    /// The code, as stored and shown.
    pub fn code(self) -> &'static str {
        match self {
            LimitKind::E => "E",
            LimitKind::Cristallin => "CRISTALLIN",
            LimitKind::Peau => "PEAU",
            LimitKind::Extremites => "EXTREMITES",
            LimitKind::EnfantANaitre => "ENFANT_A_NAITRE",
            LimitKind::VieEntiere => "VIE_ENTIERE",
        }
    }

    /// Parses a code, ignoring case and surrounding spaces.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        Self::ALL
            .iter()
            .copied()
            .find(|k| k.code().eq_ignore_ascii_case(s))
    }

    /// Whether the kind is computed on a rolling 12-month total.
    pub fn is_rolling(self) -> bool {
        Self::ROLLING.contains(&self)
    }

    /// Whether the limit is exceeded by `total_usv`: greater than the limit, except the
    /// unborn child's, exceeded when the total reaches it.
    pub fn is_exceeded(self, total_usv: i64, limit_usv: i64) -> bool {
        match self {
            LimitKind::EnfantANaitre => total_usv >= limit_usv,
            LimitKind::E
            | LimitKind::Cristallin
            | LimitKind::Peau
            | LimitKind::Extremites
            | LimitKind::VieEntiere => total_usv > limit_usv,
        }
    }
}

impl std::fmt::Display for LimitKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// The age from which the adult limits apply, on the last day of the month.
pub const ADULT_AGE: i32 = 18;

/// The unborn child's limit, reached (not exceeded) at 1 mSv.
pub const UNBORN_CHILD_LIMIT_USV: i64 = 1_000;

/// The lifetime limit of emergency responders: the career `E` must stay at or below 1 Sv.
pub const LIFETIME_LIMIT_USV: i64 = 1_000_000;

/// The four rolling 12-month figures of one population, in µSv.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RollingLimits {
    /// Effective dose.
    pub e_usv: i64,
    /// Lens of the eye.
    pub cristallin_usv: i64,
    /// Skin.
    pub peau_usv: i64,
    /// Extremities.
    pub extremites_usv: i64,
}

impl RollingLimits {
    /// Workers 18 years old or more: 20 / 20 / 500 / 500 mSv.
    pub const ADULT: RollingLimits = RollingLimits {
        e_usv: 20_000,
        cristallin_usv: 20_000,
        peau_usv: 500_000,
        extremites_usv: 500_000,
    };

    /// Workers under 18: 6 / 15 / 150 / 150 mSv.
    pub const MINOR: RollingLimits = RollingLimits {
        e_usv: 6_000,
        cristallin_usv: 15_000,
        peau_usv: 150_000,
        extremites_usv: 150_000,
    };

    /// The thresholds of the classification advisory (R4451‑57): a category-B worker going
    /// over 6 / 15 / 150 / 150 mSv (E without radon, lens, skin, extremities).
    pub const CATEGORY_B: RollingLimits = RollingLimits {
        e_usv: 6_000,
        cristallin_usv: 15_000,
        peau_usv: 150_000,
        extremites_usv: 150_000,
    };

    /// The figure of a rolling kind; `None` for the unborn child and the lifetime limit.
    pub fn of(&self, kind: LimitKind) -> Option<i64> {
        match kind {
            LimitKind::E => Some(self.e_usv),
            LimitKind::Cristallin => Some(self.cristallin_usv),
            LimitKind::Peau => Some(self.peau_usv),
            LimitKind::Extremites => Some(self.extremites_usv),
            LimitKind::EnfantANaitre | LimitKind::VieEntiere => None,
        }
    }
}

/// Whether the worker born on `birth` is under 18 on the last day of month `m`.
pub fn is_minor_at(birth: NaiveDate, m: Month) -> bool {
    age_on(birth, m.last_day()) < ADULT_AGE
}

/// The rolling limits that apply at `m` to a worker born on `birth`.
pub fn rolling_limits_at(birth: NaiveDate, m: Month) -> RollingLimits {
    if is_minor_at(birth, m) {
        RollingLimits::MINOR
    } else {
        RollingLimits::ADULT
    }
}

/// The limit of `kind` at `m` for a worker born on `birth`, in µSv.
pub fn limit_usv(kind: LimitKind, birth: NaiveDate, m: Month) -> i64 {
    match kind {
        LimitKind::EnfantANaitre => UNBORN_CHILD_LIMIT_USV,
        LimitKind::VieEntiere => LIFETIME_LIMIT_USV,
        LimitKind::E | LimitKind::Cristallin | LimitKind::Peau | LimitKind::Extremites => {
            let limits = rolling_limits_at(birth, m);
            match kind {
                LimitKind::E => limits.e_usv,
                LimitKind::Cristallin => limits.cristallin_usv,
                LimitKind::Peau => limits.peau_usv,
                _ => limits.extremites_usv,
            }
        }
    }
}

/// The total a kind's limit applies to at `m`: rolling `E`, larger eye, skin, largest
/// position, or career `E`. `None` for the unborn child (see [`Pregnancy::total_at`]).
pub fn relevant_total(kind: LimitKind, sums: &MonthlySums, m: Month) -> Option<i64> {
    match kind {
        LimitKind::E => Some(sums.rolling_e(m)),
        LimitKind::Cristallin => Some(sums.rolling_lens_max(m)),
        LimitKind::Peau => Some(sums.rolling_skin(m)),
        LimitKind::Extremites => Some(sums.rolling_extremities_max(m)),
        LimitKind::VieEntiere => Some(sums.career_e(m)),
        LimitKind::EnfantANaitre => None,
    }
}

/// A month at which a limit is exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Exceedance {
    /// The relevant total at that month.
    pub total_usv: i64,
    /// The limit at that month.
    pub limit_usv: i64,
}

/// The months at which one limit is exceeded, with the figures.
pub type Exceedances = BTreeMap<Month, Exceedance>;

/// Whether a worker falls under the lifetime limit: some attachment (any version, any
/// time) has the other exposure `SUR_GRP_1` or `SUR_GRP_2`.
pub fn lifetime_limit_applies<'a>(terms: impl IntoIterator<Item = &'a AttachmentTerms>) -> bool {
    terms
        .into_iter()
        .any(|t| t.autre_exposition.is_some_and(|o| o.is_emergency_group()))
}

/// The months from the first month with a stored sum through `through` at which `kind` is
/// exceeded, for a worker born on `birth`.
///
/// `VIE_ENTIERE` only applies when `lifetime_limit` is true (see
/// [`lifetime_limit_applies`]); `ENFANT_A_NAITRE` is never found here (see
/// [`pregnancy_exceedances`]). Rolling totals are all zero after the last month with a
/// result + 11, so passing [`MonthlySums::horizon`] of the current month gives every rolling
/// exceedance whatever the current month; the career total stays exceeded at every later
/// month, so the lifetime episode runs to `through`.
pub fn exceedances(
    kind: LimitKind,
    sums: &MonthlySums,
    birth: NaiveDate,
    lifetime_limit: bool,
    through: Month,
) -> Exceedances {
    let mut out = Exceedances::new();
    if kind == LimitKind::VieEntiere && !lifetime_limit {
        return out;
    }
    let Some(first) = sums.first_month() else {
        return out;
    };
    for m in first.through(through) {
        let Some(total) = relevant_total(kind, sums, m) else {
            return out;
        };
        let limit = limit_usv(kind, birth, m);
        if kind.is_exceeded(total, limit) {
            out.insert(
                m,
                Exceedance {
                    total_usv: total,
                    limit_usv: limit,
                },
            );
        }
    }
    out
}

/// A declared pregnancy: a declaration date and, once known, an end date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Pregnancy {
    /// The declaration date: results whose `DATE_FIN` is on or after it count.
    pub declared_on: NaiveDate,
    /// The end date: results whose `DATE_FIN` is on or before it count; `None` while ongoing.
    pub ended_on: Option<NaiveDate>,
}

impl Pregnancy {
    /// The months the limit is evaluated at: the declaration month to the end month, or to
    /// `current` while ongoing. `None` when that is no month (an end before the
    /// declaration, or a current month before the declaration's).
    pub fn months(&self, current: Month) -> Option<MonthRange> {
        let first = Month::of(self.declared_on);
        let last = self.ended_on.map_or(current, Month::of);
        let range = MonthRange { first, last };
        if range.is_empty() || self.ended_on.is_some_and(|e| e < self.declared_on) {
            None
        } else {
            Some(range)
        }
    }

    /// Whether a result of `date_fin` counts at month `m`: on or after the declaration and
    /// on or before the earlier of the end date and the last day of `m`.
    pub fn counts_at(&self, date_fin: NaiveDate, m: Month) -> bool {
        let until = self.ended_on.map_or(m.last_day(), |e| e.min(m.last_day()));
        self.declared_on <= date_fin && date_fin <= until
    }

    /// The sum at `m` of the effective-dose items `(DATE_FIN, µSv)` that count at `m`.
    pub fn total_at(&self, items: &[(NaiveDate, i64)], m: Month) -> i64 {
        items
            .iter()
            .filter(|(date_fin, _)| self.counts_at(*date_fin, m))
            .map(|(_, dose)| dose)
            .sum()
    }
}

/// The effective-dose item `(DATE_FIN, µSv)` of a result's current version, for the unborn
/// child's limit: `None` when the version is cancelled or does not feed `E` (§2).
pub fn effective_dose_item(
    nature: Nature,
    quantity: Quantity,
    position: Option<Position>,
    values: &ResultValues,
) -> Option<(NaiveDate, i64)> {
    let c = contribution(nature, quantity, position, values)?;
    let dose = c
        .doses
        .iter()
        .filter(|(s, _)| s.is_effective())
        .map(|(_, d)| d)
        .sum();
    c.doses
        .iter()
        .any(|(s, _)| s.is_effective())
        .then_some((values.date_fin, dose))
}

/// The months of the pregnancy (see [`Pregnancy::months`]) at which the unborn child's limit
/// is reached, from the current versions' effective-dose items `(DATE_FIN, µSv)`.
pub fn pregnancy_exceedances(
    pregnancy: &Pregnancy,
    items: &[(NaiveDate, i64)],
    current: Month,
) -> Exceedances {
    let mut out = Exceedances::new();
    let Some(range) = pregnancy.months(current) else {
        return out;
    };
    for m in range.months() {
        let total = pregnancy.total_at(items, m);
        if LimitKind::EnfantANaitre.is_exceeded(total, UNBORN_CHILD_LIMIT_USV) {
            out.insert(
                m,
                Exceedance {
                    total_usv: total,
                    limit_usv: UNBORN_CHILD_LIMIT_USV,
                },
            );
        }
    }
    out
}

/// Whether the worker's only classification at `m` is `B`: some attachment covering at
/// least one day of `m` is classified `B` and none is classified `A` (attachments without a
/// classification, for another exposure only, are ignored).
pub fn only_category_b_at<'a>(
    terms: impl IntoIterator<Item = &'a AttachmentTerms>,
    m: Month,
) -> bool {
    let (first, last) = (m.first_day(), m.last_day());
    let mut b = false;
    for t in terms {
        let covers_month = t.date_debut <= last && t.date_fin.is_none_or(|f| first <= f);
        if !covers_month {
            continue;
        }
        match t.classement {
            Some(Classification::A) => return false,
            Some(Classification::B) => b = true,
            None => {}
        }
    }
    b
}

/// The classification advisory `CLASSEMENT_A_REVOIR` at `m` (R4451‑57; not an exceedance):
/// for a worker whose only classification at `m` is `B` (see [`only_category_b_at`]), the
/// kinds whose rolling total at `m` goes over the category-B thresholds — `E` without radon
/// over 6 mSv, the larger eye over 15 mSv, skin over 150 mSv, the largest extremity over
/// 150 mSv. Empty: no advisory.
pub fn classification_to_review<'a>(
    terms: impl IntoIterator<Item = &'a AttachmentTerms>,
    sums: &MonthlySums,
    m: Month,
) -> Vec<LimitKind> {
    if !only_category_b_at(terms, m) {
        return Vec::new();
    }
    let t = RollingLimits::CATEGORY_B;
    [
        (LimitKind::E, sums.rolling_e_without_radon(m), t.e_usv),
        (
            LimitKind::Cristallin,
            sums.rolling_lens_max(m),
            t.cristallin_usv,
        ),
        (LimitKind::Peau, sums.rolling_skin(m), t.peau_usv),
        (
            LimitKind::Extremites,
            sums.rolling_extremities_max(m),
            t.extremites_usv,
        ),
    ]
    .into_iter()
    .filter(|(_, total, threshold)| total > threshold)
    .map(|(kind, _, _)| kind)
    .collect()
}

/// Whether the advisory holds at `m` (see [`classification_to_review`]).
pub fn is_classification_to_review(
    terms: &[AttachmentTerms],
    sums: &MonthlySums,
    m: Month,
) -> bool {
    !classification_to_review(terms, sums, m).is_empty()
}

/// The months of `range` at which the advisory holds: a transmission line "first makes it
/// true" when a month appears here after the line that was not there before it.
pub fn classification_review_months(
    terms: &[AttachmentTerms],
    sums: &MonthlySums,
    range: MonthRange,
) -> Vec<Month> {
    range
        .months()
        .filter(|m| is_classification_to_review(terms, sums, *m))
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::codes::{
        ActivityCharacter, ContractType, Nuisance, OtherExposure, Position::*, ResultStatus,
    };
    use crate::totals::{Series, contribution};

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn ym(y: i32, m: u32) -> Month {
        Month::of(d(y, m, 1))
    }

    fn measured(date_fin: NaiveDate, dose: i64) -> ResultValues {
        ResultValues {
            date_debut: date_fin,
            date_fin,
            statut: ResultStatus::Measured,
            dose_usv: Some(dose),
            seuil_usv: None,
        }
    }

    /// Sums holding one result of `dose` at `date_fin`.
    fn one(
        nature: Nature,
        quantity: Quantity,
        position: Option<Position>,
        date_fin: NaiveDate,
        dose: i64,
    ) -> MonthlySums {
        let mut sums = MonthlySums::new();
        let c = contribution(nature, quantity, position, &measured(date_fin, dose));
        sums.replace(None, c.as_ref());
        sums
    }

    const ADULT: NaiveDate = NaiveDate::from_ymd_opt(1980, 6, 15).unwrap();
    const MINOR: NaiveDate = NaiveDate::from_ymd_opt(2009, 6, 15).unwrap();

    fn exceeded_at(kind: LimitKind, sums: &MonthlySums, birth: NaiveDate, m: Month) -> bool {
        exceedances(kind, sums, birth, true, m).contains_key(&m)
    }

    #[test]
    fn codes_round_trip() {
        for k in LimitKind::ALL {
            assert_eq!(LimitKind::parse(k.code()), Some(*k));
            assert_eq!(
                serde_json::to_string(k).unwrap(),
                format!("\"{}\"", k.code())
            );
        }
        assert_eq!(
            LimitKind::parse(" enfant_a_naitre "),
            Some(LimitKind::EnfantANaitre)
        );
        assert_eq!(LimitKind::parse("X"), None);
        assert_eq!(LimitKind::VieEntiere.to_string(), "VIE_ENTIERE");
        assert!(LimitKind::Peau.is_rolling() && !LimitKind::VieEntiere.is_rolling());
    }

    /// Each rolling limit, for each population, at, just under and just over its value.
    #[test]
    fn rolling_limits_at_just_under_and_just_over() {
        let m = ym(2025, 3);
        let day = d(2025, 3, 10);
        let cases: &[(LimitKind, Nature, Quantity, Option<Position>)] = &[
            (LimitKind::E, Nature::External, Quantity::Hp10, None),
            (LimitKind::E, Nature::Radon, Quantity::E, None),
            (LimitKind::E, Nature::InternalInVivo, Quantity::E50, None),
            (LimitKind::Cristallin, Nature::External, Quantity::Hp3, None),
            (
                LimitKind::Cristallin,
                Nature::External,
                Quantity::Hp3,
                Some(RightEye),
            ),
            (LimitKind::Peau, Nature::External, Quantity::Hp007, None),
            (
                LimitKind::Extremites,
                Nature::PhysicianEstimate,
                Quantity::Hp007Extremity,
                Some(LeftWrist),
            ),
        ];
        for (birth, limits) in [(ADULT, RollingLimits::ADULT), (MINOR, RollingLimits::MINOR)] {
            for (kind, nature, quantity, position) in cases {
                let limit = limits.of(*kind).unwrap();
                assert_eq!(limit_usv(*kind, birth, m), limit);
                for (dose, expected) in [(limit - 1, false), (limit, false), (limit + 1, true)] {
                    let sums = one(*nature, *quantity, *position, day, dose);
                    assert_eq!(
                        relevant_total(*kind, &sums, m),
                        Some(dose),
                        "{kind} {quantity}"
                    );
                    assert_eq!(
                        exceeded_at(*kind, &sums, birth, m),
                        expected,
                        "{kind} {quantity} {dose} born {birth}"
                    );
                }
            }
        }
        assert_eq!(RollingLimits::ADULT.e_usv, 20_000);
        assert_eq!(RollingLimits::ADULT.cristallin_usv, 20_000);
        assert_eq!(RollingLimits::ADULT.peau_usv, 500_000);
        assert_eq!(RollingLimits::ADULT.extremites_usv, 500_000);
        assert_eq!(RollingLimits::MINOR.e_usv, 6_000);
        assert_eq!(RollingLimits::MINOR.cristallin_usv, 15_000);
        assert_eq!(RollingLimits::MINOR.peau_usv, 150_000);
        assert_eq!(RollingLimits::MINOR.extremites_usv, 150_000);
    }

    #[test]
    fn lens_and_extremity_limits_apply_to_the_largest_not_the_sum() {
        let m = ym(2025, 3);
        let mut sums = MonthlySums::new();
        for (q, p) in [
            (Quantity::Hp3, Some(LeftEye)),
            (Quantity::Hp3, Some(RightEye)),
            (Quantity::Hp007Extremity, Some(LeftHand)),
            (Quantity::Hp007Extremity, Some(RightHand)),
        ] {
            let dose = if q == Quantity::Hp3 { 15_000 } else { 400_000 };
            let c = contribution(Nature::External, q, p, &measured(d(2025, 3, 1), dose));
            sums.replace(None, c.as_ref());
        }
        assert!(!exceeded_at(LimitKind::Cristallin, &sums, ADULT, m));
        assert!(!exceeded_at(LimitKind::Extremites, &sums, ADULT, m));
        // A result without position counts for both eyes: each eye over, not twice.
        let c = contribution(
            Nature::External,
            Quantity::Hp3,
            None,
            &measured(d(2025, 3, 1), 5_001),
        );
        sums.replace(None, c.as_ref());
        assert_eq!(sums.rolling_lens_max(m), 20_001);
        assert!(exceeded_at(LimitKind::Cristallin, &sums, ADULT, m));
    }

    #[test]
    fn rolling_exceedance_lasts_while_the_window_holds_the_result() {
        let sums = one(
            Nature::External,
            Quantity::Hp10,
            None,
            d(2025, 3, 31),
            20_001,
        );
        let found = exceedances(LimitKind::E, &sums, ADULT, false, sums.horizon(ym(2025, 3)));
        let months: Vec<Month> = found.keys().copied().collect();
        assert_eq!(months, ym(2025, 3).through(ym(2026, 2)).collect::<Vec<_>>());
        assert_eq!(
            found[&ym(2025, 3)],
            Exceedance {
                total_usv: 20_001,
                limit_usv: 20_000
            }
        );
        // A later horizon changes nothing for a rolling limit.
        assert_eq!(
            exceedances(LimitKind::E, &sums, ADULT, false, ym(2040, 1)),
            found
        );
        // Nothing before the result, nothing for another kind.
        assert!(exceedances(LimitKind::Peau, &sums, ADULT, true, ym(2040, 1)).is_empty());
        assert!(exceedances(LimitKind::EnfantANaitre, &sums, ADULT, true, ym(2040, 1)).is_empty());
        assert!(
            exceedances(LimitKind::E, &MonthlySums::new(), ADULT, true, ym(2040, 1)).is_empty()
        );
    }

    #[test]
    fn age_is_taken_on_the_last_day_of_the_month() {
        // Birthday on the last day of the month: 18 on 31 March.
        let b = d(2007, 3, 31);
        assert!(is_minor_at(b, ym(2025, 2)));
        assert!(!is_minor_at(b, ym(2025, 3)));
        // Birthday on the first day of the next month: still 17 at the end of March.
        let b = d(2007, 4, 1);
        assert!(is_minor_at(b, ym(2025, 3)));
        assert!(!is_minor_at(b, ym(2025, 4)));
        // Born on 29 February: 17 on 28 February of a common year, 18 from March.
        let b = d(2008, 2, 29);
        assert!(is_minor_at(b, ym(2026, 2)));
        assert!(!is_minor_at(b, ym(2026, 3)));
        // (An eighteenth birthday after 29 February never falls in a leap year.)
        let b = d(2004, 2, 29);
        assert!(is_minor_at(b, ym(2022, 2)));
        assert!(!is_minor_at(b, ym(2022, 3)));
        // Reaching 18 on 28 February of a leap year: already 18 on the 29th.
        let b = d(2006, 2, 28);
        assert!(!is_minor_at(b, ym(2024, 2)));
        let b = d(2006, 3, 1);
        assert!(
            is_minor_at(b, ym(2024, 2)),
            "2024-02-29 is before the birthday"
        );
        assert_eq!(
            rolling_limits_at(d(2006, 3, 1), ym(2024, 2)),
            RollingLimits::MINOR
        );
        assert_eq!(
            rolling_limits_at(d(2006, 3, 1), ym(2024, 3)),
            RollingLimits::ADULT
        );
    }

    #[test]
    fn the_limit_changes_month_by_month_with_age() {
        // 10 mSv in January 2026 for a worker who turns 18 on 28 February 2026 (common
        // year: the birthday is the month's last day).
        let birth = d(2008, 2, 28);
        let sums = one(
            Nature::External,
            Quantity::Hp10,
            None,
            d(2026, 1, 5),
            10_000,
        );
        let found = exceedances(LimitKind::E, &sums, birth, false, ym(2027, 6));
        assert_eq!(found.keys().copied().collect::<Vec<_>>(), vec![ym(2026, 1)]);
        assert_eq!(found[&ym(2026, 1)].limit_usv, 6_000);
        // Born on 29 February 2008: still 17 at the end of February 2026.
        let birth = d(2008, 2, 29);
        let found = exceedances(LimitKind::E, &sums, birth, false, ym(2027, 6));
        assert_eq!(
            found.keys().copied().collect::<Vec<_>>(),
            vec![ym(2026, 1), ym(2026, 2)]
        );
    }

    #[test]
    fn unborn_child_limit_is_reached_at_one_msv() {
        assert!(!LimitKind::EnfantANaitre.is_exceeded(999, UNBORN_CHILD_LIMIT_USV));
        assert!(LimitKind::EnfantANaitre.is_exceeded(1_000, UNBORN_CHILD_LIMIT_USV));
        assert!(LimitKind::EnfantANaitre.is_exceeded(1_001, UNBORN_CHILD_LIMIT_USV));
        assert!(!LimitKind::E.is_exceeded(20_000, 20_000));
        let p = Pregnancy {
            declared_on: d(2025, 3, 10),
            ended_on: None,
        };
        for (dose, expected) in [(999, false), (1_000, true), (1_001, true)] {
            let found = pregnancy_exceedances(&p, &[(d(2025, 3, 10), dose)], ym(2025, 3));
            assert_eq!(found.contains_key(&ym(2025, 3)), expected, "{dose}");
        }
        assert_eq!(
            limit_usv(LimitKind::EnfantANaitre, ADULT, ym(2025, 3)),
            1_000
        );
    }

    #[test]
    fn pregnancy_counts_results_from_the_declaration_to_the_end_date() {
        let p = Pregnancy {
            declared_on: d(2025, 3, 10),
            ended_on: Some(d(2025, 6, 20)),
        };
        // The day before the declaration: not counted.
        assert!(!p.counts_at(d(2025, 3, 9), ym(2025, 3)));
        // On it: counted.
        assert!(p.counts_at(d(2025, 3, 10), ym(2025, 3)));
        // On the end date: counted; the day after: not.
        assert!(p.counts_at(d(2025, 6, 20), ym(2025, 6)));
        assert!(!p.counts_at(d(2025, 6, 21), ym(2025, 6)));
        // A result of April does not count at March.
        assert!(!p.counts_at(d(2025, 4, 1), ym(2025, 3)));
        assert!(p.counts_at(d(2025, 4, 1), ym(2025, 4)));

        let before = [(d(2025, 3, 9), 5_000)];
        assert!(pregnancy_exceedances(&p, &before, ym(2026, 1)).is_empty());
        let after = [(d(2025, 6, 21), 5_000)];
        assert!(pregnancy_exceedances(&p, &after, ym(2026, 1)).is_empty());
        let on_end = [(d(2025, 6, 20), 1_000)];
        assert_eq!(
            pregnancy_exceedances(&p, &on_end, ym(2026, 1))
                .keys()
                .copied()
                .collect::<Vec<_>>(),
            vec![ym(2025, 6)]
        );
        // Cumulative from the declaration: 600 + 400 reaches 1 mSv in May, to the end month.
        let items = [
            (d(2025, 3, 9), 900),
            (d(2025, 3, 10), 600),
            (d(2025, 5, 31), 400),
            (d(2025, 7, 1), 10_000),
        ];
        let found = pregnancy_exceedances(&p, &items, ym(2030, 1));
        assert_eq!(
            found.keys().copied().collect::<Vec<_>>(),
            vec![ym(2025, 5), ym(2025, 6)]
        );
        assert_eq!(p.total_at(&items, ym(2025, 4)), 600);
        assert_eq!(found[&ym(2025, 6)].total_usv, 1_000);
    }

    #[test]
    fn pregnancy_months() {
        let ongoing = Pregnancy {
            declared_on: d(2025, 3, 10),
            ended_on: None,
        };
        assert_eq!(
            ongoing.months(ym(2025, 8)),
            Some(MonthRange::new(ym(2025, 3), ym(2025, 8)))
        );
        assert_eq!(ongoing.months(ym(2025, 2)), None);
        let items = [(d(2025, 4, 2), 2_000), (d(2025, 12, 2), 2_000)];
        assert_eq!(
            pregnancy_exceedances(&ongoing, &items, ym(2025, 6))
                .keys()
                .copied()
                .collect::<Vec<_>>(),
            vec![ym(2025, 4), ym(2025, 5), ym(2025, 6)]
        );
        let same_month = Pregnancy {
            declared_on: d(2025, 3, 10),
            ended_on: Some(d(2025, 3, 12)),
        };
        assert_eq!(
            same_month.months(ym(2020, 1)),
            Some(MonthRange::single(ym(2025, 3)))
        );
        let inverted = Pregnancy {
            declared_on: d(2025, 3, 10),
            ended_on: Some(d(2025, 3, 9)),
        };
        assert_eq!(inverted.months(ym(2026, 1)), None);
        assert!(
            pregnancy_exceedances(&inverted, &[(d(2025, 3, 9), 9_000)], ym(2026, 1)).is_empty()
        );
    }

    #[test]
    fn effective_dose_items() {
        let v = measured(d(2025, 3, 10), 700);
        assert_eq!(
            effective_dose_item(Nature::External, Quantity::Hp10, None, &v),
            Some((d(2025, 3, 10), 700))
        );
        assert_eq!(
            effective_dose_item(Nature::Radon, Quantity::E, None, &v),
            Some((d(2025, 3, 10), 700))
        );
        assert_eq!(
            effective_dose_item(Nature::InternalInVitro, Quantity::E50, None, &v),
            Some((d(2025, 3, 10), 700))
        );
        assert_eq!(
            effective_dose_item(Nature::External, Quantity::Hp3, None, &v),
            None
        );
        assert_eq!(
            effective_dose_item(Nature::External, Quantity::Hp007, None, &v),
            None
        );
        let cancelled = ResultValues {
            statut: ResultStatus::Cancelled,
            ..v.clone()
        };
        assert_eq!(
            effective_dose_item(Nature::External, Quantity::Hp10, None, &cancelled),
            None
        );
        let below = ResultValues {
            statut: ResultStatus::BelowThreshold,
            dose_usv: Some(0),
            ..v
        };
        assert_eq!(
            effective_dose_item(Nature::External, Quantity::Hp10, None, &below),
            Some((d(2025, 3, 10), 0))
        );
    }

    #[test]
    fn lifetime_limit_for_emergency_groups_only() {
        let m = ym(2025, 3);
        for (dose, expected) in [(999_999, false), (1_000_000, false), (1_000_001, true)] {
            let mut sums = one(
                Nature::External,
                Quantity::Hp10,
                None,
                d(1990, 1, 1),
                dose - 1,
            );
            sums.add(ym(2025, 3), Series::EInternal, 1, 0);
            assert_eq!(relevant_total(LimitKind::VieEntiere, &sums, m), Some(dose));
            assert_eq!(
                exceeded_at(LimitKind::VieEntiere, &sums, ADULT, m),
                expected
            );
            assert!(exceedances(LimitKind::VieEntiere, &sums, ADULT, false, m).is_empty());
        }
        // Once over, the career total stays over at every later month through the horizon.
        let sums = one(
            Nature::External,
            Quantity::Hp10,
            None,
            d(2024, 11, 3),
            1_000_001,
        );
        let found = exceedances(LimitKind::VieEntiere, &sums, ADULT, true, ym(2025, 2));
        assert_eq!(
            found.keys().copied().collect::<Vec<_>>(),
            ym(2024, 11).through(ym(2025, 2)).collect::<Vec<_>>()
        );
        let mut t = terms(Some(Classification::A), d(2000, 1, 1), None);
        assert!(!lifetime_limit_applies([&t]));
        t.autre_exposition = Some(OtherExposure::Radon);
        assert!(!lifetime_limit_applies([&t]));
        t.autre_exposition = Some(OtherExposure::EmergencyGroup1);
        assert!(lifetime_limit_applies([&t]));
        t.autre_exposition = Some(OtherExposure::EmergencyGroup2);
        let other = terms(Some(Classification::B), d(2000, 1, 1), None);
        assert!(lifetime_limit_applies([&other, &t]));
    }

    fn terms(
        classement: Option<Classification>,
        date_debut: NaiveDate,
        date_fin: Option<NaiveDate>,
    ) -> AttachmentTerms {
        AttachmentTerms {
            date_debut,
            date_fin,
            classement,
            autre_exposition: None,
            caractere_activite: ActivityCharacter::Civil,
            code_domaine: "100000".into(),
            code_secteur: "101000".into(),
            code_metier: "MANIP".into(),
            nuisance: Nuisance::External,
            type_contrat: ContractType::Permanent,
            quotite_milliemes: 1000,
            groupe: None,
        }
    }

    #[test]
    fn only_category_b() {
        use Classification::{A, B};
        let m = ym(2025, 3);
        let b = terms(Some(B), d(2024, 1, 1), None);
        assert!(only_category_b_at([&b], m));
        assert!(!only_category_b_at([], m));
        // An A attachment during the month, even for one day, makes the worker A.
        let a_until_first = terms(Some(A), d(2020, 1, 1), Some(d(2025, 3, 1)));
        assert!(!only_category_b_at([&b, &a_until_first], m));
        let a_until_before = terms(Some(A), d(2020, 1, 1), Some(d(2025, 2, 28)));
        assert!(only_category_b_at([&b, &a_until_before], m));
        let a_from_last = terms(Some(A), d(2025, 3, 31), None);
        assert!(!only_category_b_at([&b, &a_from_last], m));
        // An attachment for another exposure only is not a classification.
        let mut other = terms(None, d(2020, 1, 1), None);
        other.autre_exposition = Some(OtherExposure::Radon);
        assert!(only_category_b_at([&b, &other], m));
        assert!(!only_category_b_at([&other], m));
        // B ended before the month.
        let b_ended = terms(Some(B), d(2020, 1, 1), Some(d(2025, 2, 28)));
        assert!(!only_category_b_at([&b_ended], m));
    }

    #[test]
    fn classification_advisory_thresholds() {
        let m = ym(2025, 3);
        let b = [terms(Some(Classification::B), d(2024, 1, 1), None)];
        let a = [terms(Some(Classification::A), d(2024, 1, 1), None)];
        let day = d(2025, 3, 3);
        let cases: &[(LimitKind, Nature, Quantity, Option<Position>, i64)] = &[
            (LimitKind::E, Nature::External, Quantity::Hp10, None, 6_000),
            (
                LimitKind::E,
                Nature::InternalInVivo,
                Quantity::E50,
                None,
                6_000,
            ),
            (
                LimitKind::Cristallin,
                Nature::External,
                Quantity::Hp3,
                Some(LeftEye),
                15_000,
            ),
            (
                LimitKind::Peau,
                Nature::External,
                Quantity::Hp007,
                None,
                150_000,
            ),
            (
                LimitKind::Extremites,
                Nature::External,
                Quantity::Hp007Extremity,
                Some(RightFoot),
                150_000,
            ),
        ];
        for (kind, nature, quantity, position, threshold) in cases {
            for (dose, expected) in [
                (threshold - 1, false),
                (*threshold, false),
                (threshold + 1, true),
            ] {
                let sums = one(*nature, *quantity, *position, day, dose);
                let found = classification_to_review(&b, &sums, m);
                assert_eq!(found == vec![*kind], expected, "{kind} {dose}");
                assert_eq!(is_classification_to_review(&b, &sums, m), expected);
                assert!(classification_to_review(&a, &sums, m).is_empty());
            }
        }
        // Radon is left out of E for the advisory.
        let sums = one(Nature::Radon, Quantity::E, None, day, 10_000);
        assert!(classification_to_review(&b, &sums, m).is_empty());
        // Several at once, in the order of the kinds.
        let mut sums = one(Nature::External, Quantity::Hp10, None, day, 6_001);
        let c = contribution(
            Nature::External,
            Quantity::Hp007,
            None,
            &measured(day, 150_001),
        );
        sums.replace(None, c.as_ref());
        assert_eq!(
            classification_to_review(&b, &sums, m),
            vec![LimitKind::E, LimitKind::Peau]
        );
        // The months at which it holds: the rolling window of the result.
        let sums = one(Nature::External, Quantity::Hp10, None, day, 6_001);
        let months =
            classification_review_months(&b, &sums, MonthRange::new(ym(2025, 1), ym(2026, 6)));
        assert_eq!(months, ym(2025, 3).through(ym(2026, 2)).collect::<Vec<_>>());
    }
}

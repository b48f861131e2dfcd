//! Which monthly sum a result feeds (rules.md §2–§3).
//!
//! The registry keeps, per worker, month and series, the sum of the current versions of the
//! results that belong to that month, so that no total ever re-reads the results. A result
//! belongs to the month of its `DATE_FIN`.
//!
//! [`MonthlySums`] holds those sums for one worker and computes every total of `rules.md` §3
//! (rolling 12 months, year, career) from them, and [`Totals`] is the `totaux` object of the
//! worker record (`api.md`).

use std::collections::BTreeMap;
use std::ops::Bound;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::codes::{Nature, Position, Quantity, ResultStatus};
use crate::result::ResultValues;

/// A calendar month, as `AAAA * 12 + (MM - 1)` so that windows are plain ranges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month(pub i32);

impl Month {
    /// The month containing `date`.
    pub fn of(date: NaiveDate) -> Self {
        Month(date.year() * 12 + date.month0() as i32)
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.0.div_euclid(12)
    }

    /// The month number, 1–12.
    pub fn month(self) -> u32 {
        self.0.rem_euclid(12).unsigned_abs() + 1
    }

    /// `AAAA-MM`.
    pub fn label(self) -> String {
        format!("{:04}-{:02}", self.year(), self.month())
    }

    /// Parses `AAAA-MM`.
    pub fn parse(s: &str) -> Option<Self> {
        let (y, m) = s.split_once('-')?;
        if y.len() != 4 || m.len() != 2 {
            return None;
        }
        let y: i32 = y.parse().ok()?;
        let m: u32 = m.parse().ok()?;
        (1..=12).contains(&m).then(|| Month(y * 12 + m as i32 - 1))
    }

    /// `n` months later (earlier when negative).
    pub fn plus(self, n: i32) -> Self {
        Month(self.0 + n)
    }

    /// The first day of the month (clamped to chrono's range for years it cannot represent).
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year(), self.month(), 1).unwrap_or(if self.0 < 0 {
            NaiveDate::MIN
        } else {
            NaiveDate::MAX
        })
    }

    /// The last day of the month: the day ages are taken at for the limits (`rules.md` §4).
    pub fn last_day(self) -> NaiveDate {
        let next = self.plus(1).first_day();
        next.pred_opt().unwrap_or(next)
    }

    /// January of the month's year: where the year total at this month starts.
    pub fn january(self) -> Self {
        Month(self.year() * 12)
    }

    /// Every month from `self` to `last`, both included (none when `last` is earlier).
    pub fn through(self, last: Month) -> impl Iterator<Item = Month> {
        (self.0..=last.0).map(Month)
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.label())
    }
}

/// Serialised as `AAAA-MM`.
impl Serialize for Month {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.label())
    }
}

/// Read from `AAAA-MM`.
impl<'de> Deserialize<'de> for Month {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Month::parse(&s).ok_or_else(|| serde::de::Error::custom("mois AAAA-MM attendu"))
    }
}

/// An inclusive run of months `first ..= last` (an alert's months, a window, an episode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MonthRange {
    /// First month.
    pub first: Month,
    /// Last month (not before `first` for a well-formed range).
    pub last: Month,
}

impl MonthRange {
    /// `first ..= last`, the two ends put in order.
    pub fn new(first: Month, last: Month) -> Self {
        MonthRange {
            first: first.min(last),
            last: first.max(last),
        }
    }

    /// The single month `m`.
    pub fn single(m: Month) -> Self {
        MonthRange { first: m, last: m }
    }

    /// The rolling 12-month window ending with `m`: `m − 11 ..= m` (`rules.md` §3).
    pub fn rolling(m: Month) -> Self {
        MonthRange {
            first: m.plus(-11),
            last: m,
        }
    }

    /// January … `m` of `m`'s year: the months of the year total at `m`.
    pub fn year_to(m: Month) -> Self {
        MonthRange {
            first: m.january(),
            last: m,
        }
    }

    /// Whether `m` is one of the months.
    pub fn contains(&self, m: Month) -> bool {
        self.first <= m && m <= self.last
    }

    /// Whether every month of `other` is one of these.
    pub fn contains_range(&self, other: &MonthRange) -> bool {
        self.first <= other.first && other.last <= self.last
    }

    /// Whether the two ranges share at least one month.
    pub fn overlaps(&self, other: &MonthRange) -> bool {
        self.first <= other.last && other.first <= self.last
    }

    /// The smallest range holding both (`first` = the earlier, `last` = the later).
    pub fn hull(&self, other: &MonthRange) -> MonthRange {
        MonthRange {
            first: self.first.min(other.first),
            last: self.last.max(other.last),
        }
    }

    /// The number of months.
    pub fn len(&self) -> usize {
        usize::try_from(i64::from(self.last.0) - i64::from(self.first.0) + 1).unwrap_or(0)
    }

    /// Whether the range holds no month (`last` before `first`).
    pub fn is_empty(&self) -> bool {
        self.last < self.first
    }

    /// Every month, in order.
    pub fn months(&self) -> impl Iterator<Item = Month> {
        self.first.through(self.last)
    }
}

/// One monthly series of a worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Series {
    /// Effective dose from external exposure (HP10, HP10_NEUTRON, cosmic E, estimated E).
    EExternal,
    /// Committed effective dose from internal monitoring (E50).
    EInternal,
    /// Effective dose from radon (E, kept apart: the classification advisory excludes it).
    ERadon,
    /// Lens of the eye, one series per eye (a result without position feeds both).
    Lens(Position),
    /// Skin (HP007).
    Skin,
    /// Extremities, one series per position.
    Extremity(Position),
}

impl Series {
    /// The stored code of the series.
    pub fn code(self) -> String {
        match self {
            Series::EExternal => "E_EXTERNE".into(),
            Series::EInternal => "E_INTERNE".into(),
            Series::ERadon => "E_RADON".into(),
            Series::Lens(p) => format!("CRISTALLIN_{}", p.code()),
            Series::Skin => "PEAU".into(),
            Series::Extremity(p) => format!("EXTREMITE_{}", p.code()),
        }
    }

    /// Reads a stored code back.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "E_EXTERNE" => Some(Series::EExternal),
            "E_INTERNE" => Some(Series::EInternal),
            "E_RADON" => Some(Series::ERadon),
            "PEAU" => Some(Series::Skin),
            _ => {
                if let Some(p) = s.strip_prefix("CRISTALLIN_") {
                    Position::parse(p).map(Series::Lens)
                } else {
                    s.strip_prefix("EXTREMITE_")
                        .and_then(Position::parse)
                        .map(Series::Extremity)
                }
            }
        }
    }

    /// Whether the series is part of the effective dose `E`.
    pub fn is_effective(self) -> bool {
        matches!(self, Series::EExternal | Series::EInternal | Series::ERadon)
    }
}

/// What one result version adds to its month: the series it feeds (with the dose counted),
/// and whether it marks the month incomplete (`ABSENCE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contribution {
    /// The month of `DATE_FIN`.
    pub month: Month,
    /// The series and the µSv added to each.
    pub doses: Vec<(Series, i64)>,
    /// 1 for an `ABSENCE`, else 0.
    pub absences: i64,
}

/// The contribution of one version of a result; `None` for a cancelled version.
pub fn contribution(
    nature: Nature,
    quantity: Quantity,
    position: Option<Position>,
    values: &ResultValues,
) -> Option<Contribution> {
    if values.statut == ResultStatus::Cancelled {
        return None;
    }
    let dose = values.counted_usv();
    let series: Vec<Series> = match quantity {
        Quantity::Hp10 | Quantity::Hp10Neutron => vec![Series::EExternal],
        Quantity::E50 => vec![Series::EInternal],
        Quantity::E if nature == Nature::Radon => vec![Series::ERadon],
        Quantity::E => vec![Series::EExternal],
        Quantity::Hp3 => match position {
            Some(p) => vec![Series::Lens(p)],
            None => vec![
                Series::Lens(Position::LeftEye),
                Series::Lens(Position::RightEye),
            ],
        },
        Quantity::Hp007 => vec![Series::Skin],
        Quantity::Hp007Extremity => position.map(Series::Extremity).into_iter().collect(),
    };
    Some(Contribution {
        month: Month::of(values.date_fin),
        doses: series.into_iter().map(|s| (s, dose)).collect(),
        absences: i64::from(values.statut == ResultStatus::Absent),
    })
}

/// The two eyes, in the order `cristallin_par_oeil` lists them.
pub const EYES: [Position; 2] = [Position::LeftEye, Position::RightEye];

/// One stored monthly sum of a worker for one series.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MonthlySum {
    /// The µSv of the current versions of the results that belong to the month.
    pub dose_usv: i64,
    /// How many of them are `ABSENCE` (counted on the first series of a contribution).
    pub absences: i64,
}

impl MonthlySum {
    /// Whether the cell holds nothing at all.
    pub fn is_zero(&self) -> bool {
        self.dose_usv == 0 && self.absences == 0
    }
}

/// A worker's monthly sums by (month, series), and every total of `rules.md` §3 computed
/// from them.
///
/// Changes are applied as (subtract the old version's [`Contribution`], add the new one's),
/// so that the sums always equal what a recomputation from the current versions would give;
/// a cell that comes back to (0 µSv, 0 absence) is dropped, so two sums built from the same
/// current versions in any order compare equal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MonthlySums {
    cells: BTreeMap<(Month, Series), MonthlySum>,
}

impl MonthlySums {
    /// No result at all.
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds the sums from stored rows `(month, series, dose µSv, absences)`; rows with the
    /// same month and series are added together.
    pub fn from_rows(rows: impl IntoIterator<Item = (Month, Series, i64, i64)>) -> Self {
        let mut sums = Self::new();
        for (month, series, dose, absences) in rows {
            sums.add(month, series, dose, absences);
        }
        sums
    }

    /// Adds `dose_usv` and `absences` (either may be negative) to one cell.
    pub fn add(&mut self, month: Month, series: Series, dose_usv: i64, absences: i64) {
        let cell = self.cells.entry((month, series)).or_default();
        cell.dose_usv += dose_usv;
        cell.absences += absences;
        if cell.is_zero() {
            self.cells.remove(&(month, series));
        }
    }

    /// Adds what one version contributes (absences on its first series, as stored).
    pub fn add_contribution(&mut self, contribution: &Contribution) {
        self.apply(contribution, 1);
    }

    /// Takes back what one version contributed.
    pub fn subtract_contribution(&mut self, contribution: &Contribution) {
        self.apply(contribution, -1);
    }

    /// Replaces the contribution of a result's previous current version (`None`: a new
    /// result, or a cancelled version) by that of its new one (`None`: cancelled).
    pub fn replace(&mut self, old: Option<&Contribution>, new: Option<&Contribution>) {
        if let Some(old) = old {
            self.subtract_contribution(old);
        }
        if let Some(new) = new {
            self.add_contribution(new);
        }
    }

    fn apply(&mut self, contribution: &Contribution, sign: i64) {
        for (i, (series, dose)) in contribution.doses.iter().enumerate() {
            let absences = if i == 0 { contribution.absences } else { 0 };
            self.add(contribution.month, *series, sign * dose, sign * absences);
        }
    }

    /// The sum stored for one month and series (zero when none).
    pub fn get(&self, month: Month, series: Series) -> MonthlySum {
        self.cells
            .get(&(month, series))
            .copied()
            .unwrap_or_default()
    }

    /// Every non-zero cell, by month then series: what storage keeps.
    pub fn rows(&self) -> impl Iterator<Item = (Month, Series, MonthlySum)> + '_ {
        self.cells.iter().map(|((m, s), sum)| (*m, *s, *sum))
    }

    /// Whether no cell holds anything.
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// The earliest month with a non-zero cell.
    pub fn first_month(&self) -> Option<Month> {
        self.cells.keys().next().map(|(m, _)| *m)
    }

    /// The latest month with a non-zero cell.
    pub fn last_month(&self) -> Option<Month> {
        self.cells.keys().next_back().map(|(m, _)| *m)
    }

    /// The last month worth evaluating limits at, given the current month: the later of
    /// `current` and the last month whose rolling window still holds a result (last month
    /// with a cell + 11). Past it, rolling totals are all zero.
    pub fn horizon(&self, current: Month) -> Month {
        self.last_month()
            .map_or(current, |last| current.max(last.plus(11)))
    }

    /// The cells of months `first ..= last` (`first: None` = since the beginning).
    fn cells_in(
        &self,
        first: Option<Month>,
        last: Month,
    ) -> impl Iterator<Item = (Month, Series, MonthlySum)> + '_ {
        // `Series::EExternal` is the smallest series: the range starts at `first`'s first cell.
        let start = first.map_or(Bound::Unbounded, |f| {
            Bound::Included((f, Series::EExternal))
        });
        self.cells
            .range((start, Bound::Unbounded))
            .take_while(move |((m, _), _)| *m <= last)
            .map(|((m, s), sum)| (*m, *s, *sum))
    }

    /// The µSv of the series accepted by `keep` over `range`.
    pub fn sum(&self, range: MonthRange, keep: impl Fn(Series) -> bool) -> i64 {
        self.cells_in(Some(range.first), range.last)
            .filter(|(_, s, _)| keep(*s))
            .map(|(_, _, sum)| sum.dose_usv)
            .sum()
    }

    /// The µSv of every series over `range`, series by series (series with a cell only).
    pub fn sum_by_series(&self, range: MonthRange) -> BTreeMap<Series, i64> {
        let mut out = BTreeMap::new();
        for (_, s, sum) in self.cells_in(Some(range.first), range.last) {
            *out.entry(s).or_insert(0) += sum.dose_usv;
        }
        out
    }

    /// The number of `ABSENCE` results over `range`, all series together.
    pub fn absences(&self, range: MonthRange) -> i64 {
        self.cells_in(Some(range.first), range.last)
            .map(|(_, _, sum)| sum.absences)
            .sum()
    }

    /// The rolling 12-month total of one series at `m`.
    pub fn rolling(&self, m: Month, series: Series) -> i64 {
        self.sum(MonthRange::rolling(m), |s| s == series)
    }

    /// The rolling 12-month effective dose `E` at `m` (external + internal + radon).
    pub fn rolling_e(&self, m: Month) -> i64 {
        self.sum(MonthRange::rolling(m), Series::is_effective)
    }

    /// The rolling 12-month `E` at `m` without radon results (classification advisory).
    pub fn rolling_e_without_radon(&self, m: Month) -> i64 {
        self.sum(MonthRange::rolling(m), |s| {
            matches!(s, Series::EExternal | Series::EInternal)
        })
    }

    /// The rolling 12-month lens total of each eye at `m`; both eyes are always present.
    pub fn rolling_lens_by_eye(&self, m: Month) -> BTreeMap<Position, i64> {
        EYES.iter()
            .map(|eye| (*eye, self.rolling(m, Series::Lens(*eye))))
            .collect()
    }

    /// The larger eye's rolling 12-month lens total at `m`: the figure the limit applies to.
    pub fn rolling_lens_max(&self, m: Month) -> i64 {
        max_value(&self.rolling_lens_by_eye(m))
    }

    /// The rolling 12-month skin total at `m`.
    pub fn rolling_skin(&self, m: Month) -> i64 {
        self.rolling(m, Series::Skin)
    }

    /// The rolling 12-month extremity total of each position at `m`; only positions with a
    /// non-zero total are listed.
    pub fn rolling_extremities_by_position(&self, m: Month) -> BTreeMap<Position, i64> {
        let mut out = BTreeMap::new();
        for (_, s, sum) in self.cells_in(Some(m.plus(-11)), m) {
            if let Series::Extremity(p) = s {
                *out.entry(p).or_insert(0) += sum.dose_usv;
            }
        }
        out.retain(|_, v| *v != 0);
        out
    }

    /// The largest position's rolling 12-month extremity total at `m` (0 when none).
    pub fn rolling_extremities_max(&self, m: Month) -> i64 {
        max_value(&self.rolling_extremities_by_position(m))
    }

    /// The year total of `E` at `m`: January … `m` of `m`'s year.
    pub fn year_e(&self, m: Month) -> i64 {
        self.sum(MonthRange::year_to(m), Series::is_effective)
    }

    /// The calendar-year total of `E` of `year` (the year total at its December).
    pub fn calendar_year_e(&self, year: i32) -> i64 {
        self.year_e(Month(year * 12 + 11))
    }

    /// The career total of `E` at `m`: every month up to `m`.
    pub fn career_e(&self, m: Month) -> i64 {
        self.cells_in(None, m)
            .filter(|(_, s, _)| s.is_effective())
            .map(|(_, _, sum)| sum.dose_usv)
            .sum()
    }

    /// Whether the rolling window at `m` is complete: no current `ABSENCE` result belongs
    /// to `m − 11 … m`.
    pub fn window_complete(&self, m: Month) -> bool {
        self.cells_in(Some(m.plus(-11)), m)
            .all(|(_, _, sum)| sum.absences <= 0)
    }

    /// The `totaux` of the worker record at `m` (`autres_contributions_usv` left out: it is
    /// the advisor's figure, computed from the results of his periods).
    pub fn totals_at(&self, m: Month) -> Totals {
        let cristallin_par_oeil = self.rolling_lens_by_eye(m);
        let extremites_par_position = self.rolling_extremities_by_position(m);
        Totals {
            au: m,
            e_12_mois_usv: self.rolling_e(m),
            e_annee_usv: self.year_e(m),
            e_carriere_usv: self.career_e(m),
            cristallin_12_mois_usv: max_value(&cristallin_par_oeil),
            cristallin_par_oeil,
            peau_12_mois_usv: self.rolling_skin(m),
            extremites_12_mois_usv: max_value(&extremites_par_position),
            extremites_par_position,
            autres_contributions_usv: None,
            complet: self.window_complete(m),
        }
    }
}

/// The largest value of a map, 0 when empty.
fn max_value(map: &BTreeMap<Position, i64>) -> i64 {
    map.values().copied().max().unwrap_or(0).max(0)
}

/// The `totaux` object of the worker record at one month (`api.md`, "The worker record").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// The month the totals are computed at, `AAAA-MM`.
    pub au: Month,
    /// Rolling 12-month effective dose.
    pub e_12_mois_usv: i64,
    /// Effective dose of January … `au`.
    pub e_annee_usv: i64,
    /// Effective dose of the whole career up to `au`.
    pub e_carriere_usv: i64,
    /// Rolling 12-month lens dose of the larger eye.
    pub cristallin_12_mois_usv: i64,
    /// Rolling 12-month lens dose of each eye (`OEIL_GAUCHE`, `OEIL_DROIT`).
    pub cristallin_par_oeil: BTreeMap<Position, i64>,
    /// Rolling 12-month skin dose.
    pub peau_12_mois_usv: i64,
    /// Rolling 12-month extremity dose of the largest position.
    pub extremites_12_mois_usv: i64,
    /// Rolling 12-month extremity dose of each position with a non-zero total.
    pub extremites_par_position: BTreeMap<Position, i64>,
    /// The advisor's "other contributions" figure (internal results and estimates of his
    /// periods); absent for everyone else.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autres_contributions_usv: Option<i64>,
    /// False when a current `ABSENCE` result belongs to one of the 12 months of the window.
    pub complet: bool,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn values(statut: ResultStatus, dose: Option<i64>) -> ResultValues {
        ResultValues {
            date_debut: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
            date_fin: NaiveDate::from_ymd_opt(2025, 3, 31).unwrap(),
            statut,
            dose_usv: dose,
            seuil_usv: None,
        }
    }

    #[test]
    fn months_are_ranges_and_labels_round_trip() {
        let m = Month::of(NaiveDate::from_ymd_opt(2025, 1, 15).unwrap());
        assert_eq!(m.label(), "2025-01");
        assert_eq!(m.plus(-1).label(), "2024-12");
        assert_eq!(m.plus(11).label(), "2025-12");
        assert_eq!(Month::parse("2025-01"), Some(m));
        assert_eq!(Month::parse("2025-13"), None);
        assert_eq!(Month::parse("25-01"), None);
    }

    #[test]
    fn each_quantity_feeds_its_series() {
        let v = values(ResultStatus::Measured, Some(250));
        let c = contribution(Nature::External, Quantity::Hp10, None, &v).unwrap();
        assert_eq!(c.month.label(), "2025-03");
        assert_eq!(c.doses, vec![(Series::EExternal, 250)]);
        let c = contribution(Nature::Radon, Quantity::E, None, &v).unwrap();
        assert_eq!(c.doses, vec![(Series::ERadon, 250)]);
        let c = contribution(Nature::InternalInVivo, Quantity::E50, None, &v).unwrap();
        assert_eq!(c.doses, vec![(Series::EInternal, 250)]);
        let c = contribution(Nature::External, Quantity::Hp3, None, &v).unwrap();
        assert_eq!(c.doses.len(), 2, "no position: both eyes");
        let c = contribution(
            Nature::External,
            Quantity::Hp007Extremity,
            Some(Position::LeftHand),
            &v,
        )
        .unwrap();
        assert_eq!(c.doses, vec![(Series::Extremity(Position::LeftHand), 250)]);
    }

    #[test]
    fn absence_counts_nothing_but_marks_the_month_and_cancelled_counts_nothing() {
        let c = contribution(
            Nature::External,
            Quantity::Hp10,
            None,
            &values(ResultStatus::Absent, None),
        )
        .unwrap();
        assert_eq!((c.doses[0].1, c.absences), (0, 1));
        assert!(
            contribution(
                Nature::External,
                Quantity::Hp10,
                None,
                &values(ResultStatus::Cancelled, None)
            )
            .is_none()
        );
    }

    #[test]
    fn series_codes_round_trip() {
        for s in [
            Series::EExternal,
            Series::EInternal,
            Series::ERadon,
            Series::Skin,
            Series::Lens(Position::LeftEye),
            Series::Extremity(Position::RightFoot),
        ] {
            assert_eq!(Series::parse(&s.code()), Some(s));
        }
        assert_eq!(Series::parse("X"), None);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod sums_tests {
    use super::*;
    use crate::codes::Position::*;

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

    fn add(
        sums: &mut MonthlySums,
        nature: Nature,
        quantity: Quantity,
        position: Option<Position>,
        values: &ResultValues,
    ) {
        let c = contribution(nature, quantity, position, values);
        sums.replace(None, c.as_ref());
    }

    #[test]
    fn month_days_and_serde() {
        assert_eq!(ym(2024, 2).first_day(), d(2024, 2, 1));
        assert_eq!(ym(2024, 2).last_day(), d(2024, 2, 29));
        assert_eq!(ym(2025, 2).last_day(), d(2025, 2, 28));
        assert_eq!(ym(2025, 12).last_day(), d(2025, 12, 31));
        assert_eq!(ym(2025, 7).january(), ym(2025, 1));
        assert_eq!(ym(2025, 1).january(), ym(2025, 1));
        assert_eq!(ym(2024, 11).through(ym(2025, 2)).count(), 4);
        assert_eq!(ym(2025, 2).through(ym(2024, 11)).count(), 0);
        assert_eq!(serde_json::to_string(&ym(2025, 3)).unwrap(), "\"2025-03\"");
        let back: Month = serde_json::from_str("\"2025-03\"").unwrap();
        assert_eq!(back, ym(2025, 3));
        assert!(serde_json::from_str::<Month>("\"2025-3\"").is_err());
        assert_eq!(ym(2025, 3).to_string(), "2025-03");
    }

    #[test]
    fn month_ranges() {
        let r = MonthRange::rolling(ym(2025, 3));
        assert_eq!(r.first, ym(2024, 4));
        assert_eq!(r.len(), 12);
        assert!(r.contains(ym(2024, 4)) && r.contains(ym(2025, 3)));
        assert!(!r.contains(ym(2024, 3)) && !r.contains(ym(2025, 4)));
        assert_eq!(MonthRange::year_to(ym(2025, 3)).len(), 3);
        let a = MonthRange::new(ym(2025, 5), ym(2025, 1));
        assert_eq!((a.first, a.last), (ym(2025, 1), ym(2025, 5)));
        let b = MonthRange::new(ym(2025, 5), ym(2025, 8));
        let c = MonthRange::new(ym(2025, 6), ym(2025, 8));
        assert!(a.overlaps(&b) && b.overlaps(&a));
        assert!(!a.overlaps(&c) && !c.overlaps(&a));
        assert_eq!(a.hull(&c), MonthRange::new(ym(2025, 1), ym(2025, 8)));
        assert!(b.contains_range(&c) && !c.contains_range(&b));
        assert!(!a.is_empty());
        let empty = MonthRange {
            first: ym(2025, 2),
            last: ym(2025, 1),
        };
        assert!(empty.is_empty());
        assert_eq!(empty.len(), 0);
        assert_eq!(empty.months().count(), 0);
    }

    #[test]
    fn rolling_window_is_eleven_months_back_inclusive() {
        let mut sums = MonthlySums::new();
        add(
            &mut sums,
            Nature::External,
            Quantity::Hp10,
            None,
            &measured(d(2024, 4, 1), 100),
        );
        add(
            &mut sums,
            Nature::External,
            Quantity::Hp10,
            None,
            &measured(d(2024, 3, 31), 1_000),
        );
        add(
            &mut sums,
            Nature::External,
            Quantity::Hp10,
            None,
            &measured(d(2025, 3, 31), 10),
        );
        assert_eq!(sums.rolling_e(ym(2025, 3)), 110, "2024-04 … 2025-03");
        assert_eq!(sums.rolling_e(ym(2025, 2)), 1_100, "2024-03 … 2025-02");
        assert_eq!(sums.rolling_e(ym(2025, 4)), 10);
        assert_eq!(sums.rolling_e(ym(2026, 2)), 10, "2025-03 … 2026-02");
        assert_eq!(sums.rolling_e(ym(2026, 3)), 0, "2025-04 … 2026-03");
        assert_eq!(sums.rolling_e(ym(2024, 2)), 0);
    }

    #[test]
    fn year_and_career_totals() {
        let mut sums = MonthlySums::new();
        add(
            &mut sums,
            Nature::External,
            Quantity::Hp10,
            None,
            &measured(d(2010, 6, 30), 7),
        );
        add(
            &mut sums,
            Nature::External,
            Quantity::Hp10,
            None,
            &measured(d(2024, 12, 31), 100),
        );
        add(
            &mut sums,
            Nature::Radon,
            Quantity::E,
            None,
            &measured(d(2025, 1, 1), 20),
        );
        add(
            &mut sums,
            Nature::InternalInVitro,
            Quantity::E50,
            None,
            &measured(d(2025, 3, 3), 3),
        );
        add(
            &mut sums,
            Nature::External,
            Quantity::Hp007,
            None,
            &measured(d(2025, 3, 3), 9_999),
        );
        assert_eq!(sums.year_e(ym(2024, 12)), 100);
        assert_eq!(sums.calendar_year_e(2024), 100);
        assert_eq!(sums.year_e(ym(2025, 1)), 20);
        assert_eq!(sums.year_e(ym(2025, 2)), 20);
        assert_eq!(sums.year_e(ym(2025, 3)), 23);
        assert_eq!(sums.calendar_year_e(2025), 23);
        assert_eq!(sums.career_e(ym(2010, 5)), 0);
        assert_eq!(sums.career_e(ym(2010, 6)), 7);
        assert_eq!(sums.career_e(ym(2025, 3)), 130);
        assert_eq!(sums.career_e(ym(2060, 1)), 130, "skin never counts in E");
        assert_eq!(sums.rolling_e(ym(2025, 3)), 123);
        assert_eq!(sums.rolling_e_without_radon(ym(2025, 3)), 103);
    }

    #[test]
    fn lens_per_eye_and_extremities_per_position() {
        let mut sums = MonthlySums::new();
        let v = measured(d(2025, 3, 31), 1_000);
        add(&mut sums, Nature::External, Quantity::Hp3, None, &v);
        add(
            &mut sums,
            Nature::External,
            Quantity::Hp3,
            Some(RightEye),
            &measured(d(2025, 2, 1), 500),
        );
        add(
            &mut sums,
            Nature::External,
            Quantity::Hp007Extremity,
            Some(LeftHand),
            &v,
        );
        add(
            &mut sums,
            Nature::PhysicianEstimate,
            Quantity::Hp007Extremity,
            Some(RightFoot),
            &measured(d(2025, 1, 2), 4_000),
        );
        add(
            &mut sums,
            Nature::External,
            Quantity::Hp007Extremity,
            Some(RightHand),
            &measured(d(2025, 1, 2), 0),
        );
        let m = ym(2025, 3);
        assert_eq!(
            sums.rolling_lens_by_eye(m),
            BTreeMap::from([(LeftEye, 1_000), (RightEye, 1_500)])
        );
        assert_eq!(sums.rolling_lens_max(m), 1_500);
        assert_eq!(
            sums.rolling_extremities_by_position(m),
            BTreeMap::from([(LeftHand, 1_000), (RightFoot, 4_000)])
        );
        assert_eq!(sums.rolling_extremities_max(m), 4_000);
        assert_eq!(sums.rolling_e(m), 0, "lens and extremities are not E");
        let empty = MonthlySums::new();
        assert_eq!(
            empty.rolling_lens_by_eye(m),
            BTreeMap::from([(LeftEye, 0), (RightEye, 0)])
        );
        assert_eq!(empty.rolling_extremities_max(m), 0);
    }

    #[test]
    fn absence_makes_the_window_incomplete_for_twelve_months() {
        let mut sums = MonthlySums::new();
        let absent = ResultValues {
            statut: ResultStatus::Absent,
            dose_usv: None,
            ..measured(d(2025, 3, 15), 0)
        };
        add(&mut sums, Nature::External, Quantity::Hp10, None, &absent);
        assert!(sums.window_complete(ym(2025, 2)));
        assert!(!sums.window_complete(ym(2025, 3)));
        assert!(!sums.window_complete(ym(2026, 2)));
        assert!(sums.window_complete(ym(2026, 3)));
        assert_eq!(sums.absences(MonthRange::rolling(ym(2025, 3))), 1);
        // Correcting the absence into a measure makes the window complete again.
        let c_old = contribution(Nature::External, Quantity::Hp10, None, &absent);
        let c_new = contribution(
            Nature::External,
            Quantity::Hp10,
            None,
            &measured(d(2025, 3, 15), 40),
        );
        sums.replace(c_old.as_ref(), c_new.as_ref());
        assert!(sums.window_complete(ym(2025, 3)));
        assert_eq!(sums.rolling_e(ym(2025, 3)), 40);
    }

    #[test]
    fn corrections_move_doses_between_months_and_cancellations_remove_them() {
        let mut sums = MonthlySums::new();
        let v1 = measured(d(2025, 1, 31), 300);
        let v2 = measured(d(2025, 2, 1), 250);
        let c1 = contribution(Nature::External, Quantity::Hp10, None, &v1);
        let c2 = contribution(Nature::External, Quantity::Hp10, None, &v2);
        sums.replace(None, c1.as_ref());
        sums.replace(c1.as_ref(), c2.as_ref());
        assert_eq!(
            sums.get(ym(2025, 1), Series::EExternal),
            MonthlySum::default()
        );
        assert_eq!(sums.get(ym(2025, 2), Series::EExternal).dose_usv, 250);
        let cancelled = ResultValues {
            statut: ResultStatus::Cancelled,
            ..v2.clone()
        };
        let c3 = contribution(Nature::External, Quantity::Hp10, None, &cancelled);
        sums.replace(c2.as_ref(), c3.as_ref());
        assert!(sums.is_empty(), "zero cells are dropped");
        assert_eq!(sums, MonthlySums::new());
    }

    #[test]
    fn rows_round_trip_and_horizon() {
        let mut sums = MonthlySums::new();
        add(
            &mut sums,
            Nature::External,
            Quantity::Hp3,
            None,
            &measured(d(2025, 3, 31), 8),
        );
        add(
            &mut sums,
            Nature::Radon,
            Quantity::E,
            None,
            &measured(d(2024, 1, 1), 5),
        );
        let rows: Vec<_> = sums
            .rows()
            .map(|(m, s, c)| (m, s, c.dose_usv, c.absences))
            .collect();
        assert_eq!(rows.len(), 3);
        assert_eq!(MonthlySums::from_rows(rows), sums);
        assert_eq!(sums.first_month(), Some(ym(2024, 1)));
        assert_eq!(sums.last_month(), Some(ym(2025, 3)));
        assert_eq!(sums.horizon(ym(2025, 4)), ym(2026, 2));
        assert_eq!(sums.horizon(ym(2030, 1)), ym(2030, 1));
        assert_eq!(MonthlySums::new().horizon(ym(2030, 1)), ym(2030, 1));
        assert_eq!(
            sums.sum_by_series(MonthRange::new(ym(2024, 1), ym(2025, 3))),
            BTreeMap::from([
                (Series::ERadon, 5),
                (Series::Lens(LeftEye), 8),
                (Series::Lens(RightEye), 8)
            ])
        );
    }

    #[test]
    fn totals_serialise_with_the_api_names() {
        let mut sums = MonthlySums::new();
        add(
            &mut sums,
            Nature::External,
            Quantity::Hp10,
            None,
            &measured(d(2024, 12, 31), 100),
        );
        add(
            &mut sums,
            Nature::External,
            Quantity::Hp10,
            None,
            &measured(d(2025, 3, 1), 50),
        );
        add(
            &mut sums,
            Nature::External,
            Quantity::Hp3,
            Some(LeftEye),
            &measured(d(2025, 3, 1), 7),
        );
        add(
            &mut sums,
            Nature::External,
            Quantity::Hp007,
            None,
            &measured(d(2025, 3, 1), 9),
        );
        add(
            &mut sums,
            Nature::External,
            Quantity::Hp007Extremity,
            Some(LeftWrist),
            &measured(d(2025, 3, 1), 11),
        );
        let t = sums.totals_at(ym(2025, 3));
        let json = serde_json::to_value(&t).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "au": "2025-03",
                "e_12_mois_usv": 150,
                "e_annee_usv": 50,
                "e_carriere_usv": 150,
                "cristallin_12_mois_usv": 7,
                "cristallin_par_oeil": {"OEIL_GAUCHE": 7, "OEIL_DROIT": 0},
                "peau_12_mois_usv": 9,
                "extremites_12_mois_usv": 11,
                "extremites_par_position": {"POIGNET_GAUCHE": 11},
                "complet": true
            })
        );
        let with_crp = Totals {
            autres_contributions_usv: Some(3),
            ..t
        };
        let json = serde_json::to_value(&with_crp).unwrap();
        assert_eq!(json["autres_contributions_usv"], 3);
        let back: Totals = serde_json::from_value(json).unwrap();
        assert_eq!(back, with_crp);
    }

    // ------------------------------------------------------------------------------------
    // Property: incremental monthly sums = naive recomputation from the current versions.
    // ------------------------------------------------------------------------------------

    use proptest::prelude::*;

    /// The admitted (nature, quantity, position) triples the generator draws from.
    const KINDS: &[(Nature, Quantity, Option<Position>)] = &[
        (Nature::External, Quantity::Hp10, None),
        (Nature::External, Quantity::Hp10Neutron, None),
        (Nature::External, Quantity::Hp3, None),
        (Nature::External, Quantity::Hp3, Some(LeftEye)),
        (Nature::External, Quantity::Hp3, Some(RightEye)),
        (Nature::External, Quantity::Hp007, None),
        (Nature::External, Quantity::Hp007Extremity, Some(LeftHand)),
        (Nature::External, Quantity::Hp007Extremity, Some(RightFoot)),
        (Nature::InternalInVivo, Quantity::E50, None),
        (Nature::InternalInVitro, Quantity::E50, None),
        (Nature::Radon, Quantity::E, None),
        (Nature::Cosmic, Quantity::E, None),
        (Nature::PhysicianEstimate, Quantity::E, None),
        (Nature::PhysicianEstimate, Quantity::Hp10, None),
        (Nature::PhysicianEstimate, Quantity::Hp3, Some(RightEye)),
        (Nature::PhysicianEstimate, Quantity::Hp007, None),
        (
            Nature::PhysicianEstimate,
            Quantity::Hp007Extremity,
            Some(LeftWrist),
        ),
    ];

    fn values_strategy(allow_cancel: bool) -> impl Strategy<Value = ResultValues> {
        let statuses: Vec<ResultStatus> = if allow_cancel {
            ResultStatus::ALL.to_vec()
        } else {
            vec![
                ResultStatus::Measured,
                ResultStatus::BelowThreshold,
                ResultStatus::Absent,
            ]
        };
        (0i64..1_600, prop::sample::select(statuses), 0i64..25_000).prop_map(
            |(day, statut, dose)| {
                let date_fin = d(2020, 1, 1) + chrono::Duration::days(day);
                let dose_usv = match statut {
                    ResultStatus::Measured => Some(dose),
                    ResultStatus::BelowThreshold => (dose % 2 == 0).then_some(0),
                    ResultStatus::Absent | ResultStatus::Cancelled => None,
                };
                ResultValues {
                    date_debut: date_fin,
                    date_fin,
                    statut,
                    dose_usv,
                    seuil_usv: None,
                }
            },
        )
    }

    #[derive(Debug, Clone)]
    enum Op {
        Add(usize, ResultValues),
        Correct(usize, ResultValues),
        Cancel(usize),
    }

    fn op_strategy() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (0..KINDS.len(), values_strategy(false)).prop_map(|(k, v)| Op::Add(k, v)),
            2 => (any::<usize>(), values_strategy(true)).prop_map(|(i, v)| Op::Correct(i, v)),
            1 => any::<usize>().prop_map(Op::Cancel),
        ]
    }

    /// A result: its kind and its current version.
    type Current = (Nature, Quantity, Option<Position>, ResultValues);

    /// The totals at `m` recomputed from scratch with the table of `rules.md` §2–§3,
    /// without monthly sums nor `contribution`.
    fn naive_totals(results: &[Current], m: Month) -> Totals {
        let in_window = |v: &ResultValues| MonthRange::rolling(m).contains(Month::of(v.date_fin));
        let counted = |v: &ResultValues| match v.statut {
            ResultStatus::Measured => v.dose_usv.unwrap_or(0),
            _ => 0,
        };
        let live = || {
            results
                .iter()
                .filter(|(_, _, _, v)| v.statut != ResultStatus::Cancelled)
        };
        let is_e = |q: Quantity| {
            matches!(
                q,
                Quantity::Hp10 | Quantity::Hp10Neutron | Quantity::E50 | Quantity::E
            )
        };
        let sum_e = |range: MonthRange| -> i64 {
            live()
                .filter(|(_, q, _, v)| is_e(*q) && range.contains(Month::of(v.date_fin)))
                .map(|(_, _, _, v)| counted(v))
                .sum()
        };
        let mut eyes = BTreeMap::from([(LeftEye, 0), (RightEye, 0)]);
        let mut extremities: BTreeMap<Position, i64> = BTreeMap::new();
        let mut skin = 0;
        let mut complete = true;
        for (_, q, p, v) in live() {
            if !in_window(v) {
                continue;
            }
            if v.statut == ResultStatus::Absent {
                complete = false;
            }
            match q {
                Quantity::Hp3 => {
                    for eye in [LeftEye, RightEye] {
                        if p.is_none_or(|p| p == eye) {
                            *eyes.entry(eye).or_insert(0) += counted(v);
                        }
                    }
                }
                Quantity::Hp007 => skin += counted(v),
                Quantity::Hp007Extremity => {
                    *extremities.entry(p.unwrap()).or_insert(0) += counted(v);
                }
                _ => {}
            }
        }
        extremities.retain(|_, v| *v != 0);
        Totals {
            au: m,
            e_12_mois_usv: sum_e(MonthRange::rolling(m)),
            e_annee_usv: sum_e(MonthRange::year_to(m)),
            e_carriere_usv: sum_e(MonthRange::new(Month(0), m)),
            cristallin_12_mois_usv: eyes.values().copied().max().unwrap_or(0),
            cristallin_par_oeil: eyes,
            peau_12_mois_usv: skin,
            extremites_12_mois_usv: extremities.values().copied().max().unwrap_or(0),
            extremites_par_position: extremities,
            autres_contributions_usv: None,
            complet: complete,
        }
    }

    fn contribution_of(r: &Current) -> Option<Contribution> {
        contribution(r.0, r.1, r.2, &r.3)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// Applying every change as (subtract old, add new) keeps the sums equal to a
        /// recomputation from the current versions, whatever the order of the changes.
        #[test]
        fn incremental_sums_match_naive_recomputation(
            ops in prop::collection::vec(op_strategy(), 1..60),
            months in prop::collection::vec(-8i32..72, 1..12),
            order in prop::collection::vec(any::<u32>(), 60),
        ) {
            let mut results: Vec<Current> = Vec::new();
            let mut sums = MonthlySums::new();
            for op in ops {
                match op {
                    Op::Add(k, values) => {
                        let (n, q, p) = KINDS[k];
                        let r = (n, q, p, values);
                        sums.replace(None, contribution_of(&r).as_ref());
                        results.push(r);
                    }
                    Op::Correct(..) | Op::Cancel(_) if results.is_empty() => {}
                    Op::Correct(i, values) => {
                        let i = i % results.len();
                        let old = contribution_of(&results[i]);
                        results[i].3 = values;
                        let new = contribution_of(&results[i]);
                        sums.replace(old.as_ref(), new.as_ref());
                    }
                    Op::Cancel(i) => {
                        let i = i % results.len();
                        let old = contribution_of(&results[i]);
                        results[i].3.statut = ResultStatus::Cancelled;
                        let new = contribution_of(&results[i]);
                        prop_assert!(new.is_none());
                        sums.replace(old.as_ref(), new.as_ref());
                    }
                }
            }
            for offset in months {
                let m = ym(2020, 1).plus(offset);
                prop_assert_eq!(sums.totals_at(m), naive_totals(&results, m));
                let without_radon: i64 = results
                    .iter()
                    .filter(|(n, q, _, v)| {
                        v.statut == ResultStatus::Measured
                            && *n != Nature::Radon
                            && matches!(q, Quantity::Hp10 | Quantity::Hp10Neutron | Quantity::E50 | Quantity::E)
                            && MonthRange::rolling(m).contains(Month::of(v.date_fin))
                    })
                    .map(|(_, _, _, v)| v.dose_usv.unwrap_or(0))
                    .sum();
                prop_assert_eq!(sums.rolling_e_without_radon(m), without_radon);
            }
            // The same current versions added in another order give the same sums.
            let mut shuffled: Vec<(u32, &Current)> = results
                .iter()
                .enumerate()
                .map(|(i, r)| (order[i % order.len()].wrapping_add(i as u32), r))
                .collect();
            shuffled.sort_by_key(|(k, _)| *k);
            let mut fresh = MonthlySums::new();
            for (_, r) in shuffled {
                fresh.replace(None, contribution_of(r).as_ref());
            }
            prop_assert_eq!(&fresh, &sums);
            // And storage rows read back give them too.
            let rows = sums.rows().map(|(m, s, c)| (m, s, c.dose_usv, c.absences));
            prop_assert_eq!(MonthlySums::from_rows(rows), sums);
        }
    }
}
